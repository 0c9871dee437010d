"""Atom feeds (RFC 4287, through django.contrib.syndication): the registry, each project, each
institution and the public log. Every item is a journal entry: the log already versions everything
the public sees, so a feed is a filtered view of it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from pacte.accounts.models import Organisation
from pacte.errors import NotFound
from pacte.journal.models import Event
from pacte.pacts.models import Pact
from pacte.participation.notices import REGISTRY_PREFIXES, link_of, title_of
from pacte.projects.models import Project

ITEMS = 50


class JournalFeed(Feed):  # type: ignore[type-arg]
    """Base: the newest entries of a filtered journal, as Atom entries."""

    feed_type = Atom1Feed
    author_name = "Pacte"

    def events(self, obj: Any) -> QuerySet[Event]:
        return Event.objects.all()

    def items(self, obj: Any) -> list[Event]:
        return list(self.events(obj).order_by("-index")[:ITEMS])

    def item_title(self, item: Event) -> str:
        return title_of(item)

    def item_description(self, item: Event) -> str:
        data = json.loads(item.entry).get("data") or {}
        reason = data.get("reason")
        text = _("Entrée n° %(index)s du journal public (%(type)s).") % {
            "index": item.index,
            "type": item.type,
        }
        return f"{text} {reason}" if reason else text

    def item_link(self, item: Event) -> str:
        data = json.loads(item.entry).get("data") or {}
        return link_of(item, data)

    def item_guid(self, item: Event) -> str:
        return f"urn:pacte:journal:{item.entry_hash}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Event) -> datetime:
        return item.occurred_at

    def item_updateddate(self, item: Event) -> datetime:
        return item.occurred_at

    def item_author_name(self, item: Event) -> str:
        return item.organisation_slug or "Pacte"


class RegistryFeed(JournalFeed):
    def title(self) -> str:
        return _("Pacte — le registre : projets et pactes")

    def subtitle(self) -> str:
        return _("Nouveaux projets, décisions sur les pactes, consultations publiques.")

    def link(self) -> str:
        return reverse("web:projects")

    def events(self, obj: Any) -> QuerySet[Event]:
        q = Q()
        for prefix in REGISTRY_PREFIXES:
            q |= Q(type__startswith=prefix)
        return Event.objects.filter(q)


class LogFeed(JournalFeed):
    def title(self) -> str:
        return _("Pacte — le journal public")

    def subtitle(self) -> str:
        return _("Chaque décision de gouvernance, inscrite au journal vérifiable.")

    def link(self) -> str:
        return reverse("web:journal")


class ProjectFeed(JournalFeed):
    def get_object(self, request: HttpRequest, slug: str) -> Project:
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise NotFound(_("Projet inconnu."))
        return project

    def title(self, obj: Project) -> str:
        return _("Pacte — projet %(name)s") % {"name": obj.name}

    def link(self, obj: Project) -> str:
        return reverse("web:project", args=[obj.slug])

    def events(self, obj: Project) -> QuerySet[Event]:
        return Event.objects.filter(project_slug=obj.slug)


class InstitutionFeed(JournalFeed):
    def get_object(self, request: HttpRequest, slug: str) -> Organisation:
        org = Organisation.objects.filter(slug=slug).first()
        if org is None:
            raise NotFound(_("Organisation inconnue."))
        return org

    def title(self, obj: Organisation) -> str:
        return _("Pacte — %(name)s") % {"name": obj.name}

    def link(self, obj: Organisation) -> str:
        return reverse("web:organisation", args=[obj.slug])

    def events(self, obj: Organisation) -> QuerySet[Event]:
        """What the organisation did, and what happened to the pacts it signs."""
        refs = Pact.objects.filter(Q(institution=obj) | Q(project__carrier=obj)).values_list(
            "reference", flat=True
        )
        return Event.objects.filter(
            Q(organisation_slug=obj.slug) | Q(subject_type="pact", subject_id__in=list(refs))
        )
