"""Reads of the participation domain (what the public sees is filtered here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from pacte.accounts.models import User
from pacte.errors import NotFound
from pacte.pacts.models import PactVersion
from pacte.participation.models import (
    Comment,
    Consultation,
    Contribution,
    Follow,
    Notice,
    Reuse,
    Section,
)


@dataclass(frozen=True)
class ConsultationSummary:
    consultation: Consultation
    comments: int
    answered: int
    unanswered: int
    hidden: int
    flagged: int
    by_section: list[tuple[str, int, int, int]]  # (section label, comments, answered, unanswered)
    accepts_comments: bool
    closes_at: datetime


def consultation_of(version: PactVersion) -> Consultation | None:
    return (
        Consultation.objects.filter(version=version)
        .select_related("version__pact__project", "version__pact__institution", "opened_by")
        .first()
    )


def get_consultation(pk: int) -> Consultation:
    consultation = (
        Consultation.objects.filter(pk=pk)
        .select_related("version__pact__project", "version__pact__institution")
        .first()
    )
    if consultation is None:
        raise NotFound(_("Consultation introuvable."))
    return consultation


def get_comment(pk: int) -> Comment:
    comment = (
        Comment.objects.filter(pk=pk)
        .select_related("consultation__version__pact__project", "author", "answered_by")
        .first()
    )
    if comment is None:
        raise NotFound(_("Commentaire introuvable."))
    return comment


def comments_of(consultation: Consultation) -> QuerySet[Comment]:
    """Every comment, hidden ones included (the page shows the moderation reason, not the text)."""
    return (
        consultation.comments.select_related("author", "answered_by")
        .prefetch_related("revisions")
        .annotate(open_flags=Count("flags", filter=Q(flags__resolved_at__isnull=True)))
    )


def summary(consultation: Consultation) -> ConsultationSummary:
    rows = list(consultation.comments.values_list("section", "state"))
    visible = [(s, st) for s, st in rows if st != Contribution.State.HIDDEN]
    answered = sum(1 for _s, st in visible if st == Contribution.State.ANSWERED)
    by_section = []
    for value, label in Section.choices:
        n = sum(1 for s, _st in visible if s == value)
        done = sum(1 for s, st in visible if s == value and st == Contribution.State.ANSWERED)
        by_section.append((str(label), n, done, n - done))
    flagged = (
        consultation.comments.filter(flags__isnull=False, flags__resolved_at__isnull=True)
        .distinct()
        .count()
    )
    return ConsultationSummary(
        consultation=consultation,
        comments=len(visible),
        answered=answered,
        unanswered=len(visible) - answered,
        hidden=len(rows) - len(visible),
        flagged=flagged,
        by_section=by_section,
        accepts_comments=consultation.accepts_comments(),
        closes_at=consultation.closes_at,
    )


def open_consultations() -> QuerySet[Consultation]:
    return Consultation.objects.filter(state=Consultation.State.OPEN).select_related(
        "version__pact__project", "version__pact__institution"
    )


# ------------------------------------------------------------------ moderation


def flagged_comments() -> QuerySet[Comment]:
    return (
        Comment.objects.filter(flags__isnull=False, flags__resolved_at__isnull=True)
        .distinct()
        .exclude(state=Contribution.State.HIDDEN)
        .annotate(open_flags=Count("flags", filter=Q(flags__resolved_at__isnull=True)))
        .select_related("consultation__version__pact__project", "author")
        .order_by("-open_flags", "created_at")
    )


def flagged_reuses() -> QuerySet[Reuse]:
    return (
        Reuse.objects.filter(flags__isnull=False, flags__resolved_at__isnull=True)
        .distinct()
        .exclude(state=Contribution.State.HIDDEN)
        .annotate(open_flags=Count("flags", filter=Q(flags__resolved_at__isnull=True)))
        .select_related("dataset", "project", "author")
        .order_by("-open_flags", "created_at")
    )


# ------------------------------------------------------------------ reuses


def public_reuses(*, dataset: str = "", project: str = "", kind: str = "") -> QuerySet[Reuse]:
    qs = (
        Reuse.objects.exclude(state=Contribution.State.HIDDEN)
        .select_related("dataset", "project", "author")
        .order_by("-created_at", "-id")
    )
    if dataset:
        qs = qs.filter(dataset__slug=dataset)
    if project:
        qs = qs.filter(project__slug=project)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def get_reuse(pk: int) -> Reuse:
    reuse = Reuse.objects.filter(pk=pk).select_related("dataset", "project", "author").first()
    if reuse is None:
        raise NotFound(_("Réutilisation introuvable."))
    return reuse


# ------------------------------------------------------------------ follows and notices


def follows_of(user: User) -> QuerySet[Follow]:
    return Follow.objects.filter(user=user)


def is_following(user: User | None, target: str, key: str = "") -> bool:
    if user is None or not user.is_authenticated:
        return False
    return Follow.objects.filter(user=user, target=target, key=key).exists()


def notices_of(user: User) -> QuerySet[Notice]:
    return Notice.objects.filter(user=user).order_by("-event_index")


def unread_count(user: User) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).count()
