"""Declaring channels (the institution) and a service's coverage (the carrier)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Organisation
from pacte.accounts.policy import Action, Principal
from pacte.channels.events import channel_event
from pacte.channels.models import Channel, ServiceCoverage
from pacte.engines.channel_rules import RULES_VERSION, UnknownClause, normalise, parse_condition
from pacte.errors import ValidationFailed
from pacte.projects.models import Project
from pacte.writes.retry import retry_on_conflict

MAX_DELAY_DAYS = 365


@dataclass(frozen=True)
class ChannelIn:
    name: str
    kind: str
    clauses: list[str]
    description: str = ""
    territories: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    min_lower_bound: float = 0.0
    listing_delay_days: int = 0
    slug: str = ""  # chosen by the institution at declaration; else derived from the name


def _checked(data: ChannelIn) -> ChannelIn:
    errors: dict[str, list[str]] = {}
    if len(data.name.strip()) < 3:
        errors["name"] = [_("Donnez un nom au canal (3 caractères au moins).")]
    if data.kind not in Channel.Kind.values:
        errors["kind"] = [_("Type de canal inconnu.")]
    if not 0 <= data.listing_delay_days <= MAX_DELAY_DAYS:
        errors["listing_delay_days"] = [
            _("Le délai d'inscription est un nombre de jours entre 0 et %(max)s.")
            % {"max": MAX_DELAY_DAYS}
        ]
    try:
        parse_condition(data.clauses, min_lower_bound=data.min_lower_bound)
    except UnknownClause as exc:
        errors["clauses"] = [_("Clause inconnue : %(code)s.") % {"code": exc.code}]
    except ValueError:
        errors["min_lower_bound"] = [
            _("Le seuil de la borne basse est une part entre -1 et 1 (0,01 = 1 point).")
        ]
    if data.slug and (
        slugify(data.slug) != data.slug or Channel.objects.filter(slug=data.slug).exists()
    ):
        errors["slug"] = [
            _("Adresse déjà prise ou invalide (lettres minuscules, chiffres et tirets).")
        ]
    if errors:
        raise ValidationFailed(
            _("Le canal n'a pas été enregistré : vérifiez les champs signalés."),
            field_errors=errors,
        )
    return data


def _condition_data(channel: Channel) -> dict[str, Any]:
    return {
        "name": channel.name,
        "kind": channel.kind,
        "rules_version": channel.rules_version,
        "clauses": list(channel.clauses),
        "min_lower_bound": channel.min_lower_bound,
        "territories": list(channel.territories),
        "needs": list(channel.needs),
        "listing_delay_days": channel.listing_delay_days,
    }


def _apply(channel: Channel, data: ChannelIn) -> None:
    channel.name = data.name.strip()
    channel.kind = data.kind
    channel.description = data.description.strip()
    channel.territories = sorted(normalise(data.territories))
    channel.needs = sorted(normalise(data.needs))
    channel.clauses = sorted(set(data.clauses))
    channel.min_lower_bound = float(data.min_lower_bound)
    channel.listing_delay_days = data.listing_delay_days
    channel.rules_version = RULES_VERSION


def _free_slug(name: str) -> str:
    base = slugify(name)[:70] or "canal"
    slug, n = base, 2
    while Channel.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@retry_on_conflict
@transaction.atomic
def declare_channel(principal: Principal, institution: Organisation, data: ChannelIn) -> Channel:
    """An institution declares a channel with its condition (published in the journal)."""
    policy.require(principal, Action.CHANNEL_MANAGE, institution)
    data = _checked(data)
    channel = Channel(institution=institution, slug=data.slug or _free_slug(data.name))
    _apply(channel, data)
    channel.save()
    channel_event(
        "channel.declared",
        principal,
        "channel",
        channel.slug,
        institution=institution.slug,
        **_condition_data(channel),
    )
    return channel


@retry_on_conflict
@transaction.atomic
def edit_channel(principal: Principal, channel: Channel, data: ChannelIn) -> Channel:
    """A new condition applies from the next daily run (published in the journal)."""
    channel = (
        Channel.objects.select_for_update(of=("self",), no_key=True)
        .select_related("institution")
        .get(pk=channel.pk)
    )
    policy.require(principal, Action.CHANNEL_MANAGE, channel)
    data = _checked(replace(data, slug=""))  # the address never changes: embeds depend on it
    _apply(channel, data)
    channel.save()
    channel_event(
        "channel.updated",
        principal,
        "channel",
        channel.slug,
        institution=channel.institution.slug,
        **_condition_data(channel),
    )
    return channel


@retry_on_conflict
@transaction.atomic
def declare_coverage(
    principal: Principal, project: Project, territories: list[str], needs: list[str]
) -> ServiceCoverage:
    """The carrier declares the territories its service serves and the needs it meets."""
    policy.require(principal, Action.PROJECT_EDIT, project)
    coverage, _created = ServiceCoverage.objects.select_for_update().get_or_create(project=project)
    coverage.territories = sorted(normalise(territories))
    coverage.needs = sorted(normalise(needs))
    coverage.save()
    channel_event(
        "channel.coverage_declared",
        principal,
        "project",
        project.slug,
        project_slug=project.slug,
        territories=coverage.territories,
        needs=coverage.needs,
    )
    return coverage
