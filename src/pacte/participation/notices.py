"""In-app notices: the journal entries that concern a person, written by a fan-out job.

**Why read the journal rather than subscribe to appends.** Every governance change of every domain
is already a journal entry, written in the transaction of the change, with a dense, increasing
``index``; an append holds the log's lock until its transaction commits, so entries become visible
in index order and a reader that remembers "the next index to read" (:class:`JournalCursor`) can
never skip one. The fan-out reads the entries after its cursor, turns each into notices for the
people concerned and moves the cursor, all in one transaction: a crash replays the batch, and the
notice's unique (person, entry) makes the replay harmless. A hook on appends (on_commit) would lose
the notices of a process that dies between the commit and the hook, and would tie every domain to
this one. The job runs every five minutes (``participation.fan_out``) and right after a
participation write commits, so an answer reaches its reader within seconds when the worker runs.

Who is concerned by an entry: the author of the comment or reuse it is about; the followers of
its project, of its dataset, of the institution involved; for project and pact decisions, the
followers of the whole registry. Only entries after the follow was made count, and nobody is
told of their own act.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from pacte.accounts import policy
from pacte.accounts.models import User
from pacte.accounts.policy import Action
from pacte.journal.models import Event
from pacte.journal.services import personal_commitment
from pacte.pacts.models import Pact
from pacte.participation.models import Comment, Follow, JournalCursor, Notice, Reuse

BATCH = 500

# A few words per event type (others show their type); the subject is added after a dash.
TITLES = {
    "consultation.opened": gettext_noop("Consultation publique ouverte"),
    "consultation.closed": gettext_noop("Consultation publique close"),
    "consultation.comment_posted": gettext_noop("Nouveau commentaire en consultation"),
    "consultation.comment_answered": gettext_noop("Réponse publiée à un commentaire"),
    "participation.comment_hidden": gettext_noop("Commentaire masqué par la modération"),
    "participation.comment_kept": gettext_noop("Commentaire maintenu par la modération"),
    "participation.comment_restored": gettext_noop("Commentaire rétabli par la modération"),
    "participation.reuse_declared": gettext_noop("Nouvelle réutilisation déclarée"),
    "participation.reuse_hidden": gettext_noop("Réutilisation masquée par la modération"),
    "participation.reuse_kept": gettext_noop("Réutilisation maintenue par la modération"),
    "participation.reuse_restored": gettext_noop("Réutilisation rétablie par la modération"),
    "project.created": gettext_noop("Nouveau projet"),
    "pact.submitted": gettext_noop("Pacte soumis à l'instruction"),
    "pact.changes_requested": gettext_noop("Modifications demandées sur un pacte"),
    "pact.approved": gettext_noop("Pacte approuvé"),
    "pact.activated": gettext_noop("Pacte en vigueur"),
    "pact.breach_notified": gettext_noop("Manquement notifié"),
    "pact.suspended": gettext_noop("Pacte suspendu"),
    "pact.broken": gettext_noop("Pacte rompu"),
    "pact.completed": gettext_noop("Pacte arrivé à terme"),
    "dataset.published": gettext_noop("Nouveau jeu de données"),
    "dataset.version_added": gettext_noop("Nouvelle version d'un jeu de données"),
}
REGISTRY_PREFIXES = ("project.", "pact.", "consultation.opened", "consultation.closed")
OWN_COMMENT_TYPES = (
    "consultation.comment_answered",
    "participation.comment_hidden",
    "participation.comment_kept",
    "participation.comment_restored",
)
OWN_REUSE_TYPES = (
    "participation.reuse_hidden",
    "participation.reuse_kept",
    "participation.reuse_restored",
)


def title_of(event: Event) -> str:
    words = TITLES.get(event.type)
    label = _(words) if words else event.type
    return f"{label} — {event.subject_id}"


def link_of(event: Event, data: dict[str, Any]) -> str:
    if event.subject_type == "pact" and data.get("consultation"):
        anchor = f"#commentaire-{data['comment']}" if "comment" in data else ""
        return reverse("participation:consultation", args=[data["consultation"]]) + anchor
    if event.subject_type == "pact" and "version" in data:
        anchor = f"#commentaire-{data['comment']}" if "comment" in data else ""
        return reverse("web:version", args=[event.subject_id, data["version"]]) + anchor
    if event.subject_type == "dataset":
        return reverse("data:dataset", args=[event.subject_id])
    if data.get("dataset"):
        return reverse("data:dataset", args=[data["dataset"]])
    if event.project_slug:
        return reverse("web:project", args=[event.project_slug])
    return reverse("web:journal")


@dataclass
class _Context:
    """Lookups shared by one batch (pact → institution, follows by target)."""

    follows: dict[tuple[str, str], list[Follow]]
    pact_institutions: dict[str, str]

    @classmethod
    def load(cls, events: list[Event]) -> _Context:
        refs = {e.subject_id for e in events if e.subject_type == "pact"}
        institutions = dict(
            Pact.objects.filter(reference__in=refs).values_list("reference", "institution__slug")
        )
        follows: dict[tuple[str, str], list[Follow]] = {}
        for f in Follow.objects.select_related("user"):
            follows.setdefault((f.target, f.key), []).append(f)
        return cls(follows, institutions)

    def followers(self, target: str, key: str) -> list[Follow]:
        return self.follows.get((target, key), []) if key or target == "registry" else []


def _concerned(event: Event, data: dict[str, Any], ctx: _Context) -> list[tuple[User, str]]:
    """(person, why) for one entry, the most specific reason first."""
    out: list[tuple[User, str]] = []
    if event.type in OWN_COMMENT_TYPES and data.get("comment"):
        comment = Comment.objects.filter(pk=data["comment"]).select_related("author").first()
        if comment is not None and comment.author is not None:
            out.append((comment.author, _("Votre commentaire")))
    if event.type in OWN_REUSE_TYPES:
        reuse = Reuse.objects.filter(pk=event.subject_id).select_related("author").first()
        if reuse is not None and reuse.author is not None:
            out.append((reuse.author, _("Votre réutilisation déclarée")))
    project = event.project_slug
    dataset = (
        event.subject_id if event.subject_type == "dataset" else str(data.get("dataset") or "")
    )
    institution = (
        ctx.pact_institutions.get(event.subject_id, "") if event.subject_type == "pact" else ""
    )
    reasons: list[tuple[str, str, str]] = [
        ("project", project, _("Vous suivez le projet %(key)s")),
        ("dataset", dataset, _("Vous suivez le jeu de données %(key)s")),
        ("institution", institution, _("Vous suivez l'institution %(key)s")),
        ("institution", event.organisation_slug, _("Vous suivez l'institution %(key)s")),
    ]
    if event.type.startswith(REGISTRY_PREFIXES):
        reasons.append(("registry", "", _("Vous suivez tout le registre")))
    for target, key, why in reasons:
        for f in ctx.followers(target, key):
            if f.created_at <= event.occurred_at:
                out.append((f.user, why % {"key": key}))
    return out


def _notices_for(event: Event, ctx: _Context) -> Iterable[Notice]:
    entry = json.loads(event.entry)
    data: dict[str, Any] = entry.get("data") or {}
    acting_person = (entry.get("actor") or {}).get("person")
    seen: set[int] = set()
    for user, why in _concerned(event, data, ctx):
        if user.pk in seen or (
            acting_person and personal_commitment(f"user:{user.pk}") == acting_person
        ):
            continue
        seen.add(user.pk)
        yield Notice(
            user=user,
            event_index=event.index,
            event_type=event.type,
            title=title_of(event)[:300],
            why=why[:300],
            link=link_of(event, data)[:300],
        )


def fan_out(limit: int = BATCH) -> int:
    """Read up to ``limit`` new journal entries and write their notices; return how many were read."""
    with transaction.atomic():
        cursor, _created = JournalCursor.objects.select_for_update().get_or_create(id=1)
        events = list(Event.objects.filter(index__gte=cursor.next_index).order_by("index")[:limit])
        if not events:
            return 0
        ctx = _Context.load(events)
        notices = [n for e in events for n in _notices_for(e, ctx)]
        Notice.objects.bulk_create(notices, ignore_conflicts=True)
        cursor.next_index = events[-1].index + 1
        cursor.save(update_fields=["next_index"])
    return len(events)


def fan_out_all() -> int:
    """Catch up with the whole journal, batch after batch (one transaction each)."""
    total = 0
    while read := fan_out():
        total += read
    return total


@transaction.atomic
def mark_read(user: User, notice_ids: Iterable[int] | None = None) -> int:
    from django.utils import timezone

    qs = Notice.objects.filter(user=user, read_at__isnull=True)
    if notice_ids is not None:
        qs = qs.filter(pk__in=list(notice_ids))
    return qs.update(read_at=timezone.now())


@transaction.atomic
def purge_old_notices(principal: policy.Principal, now: datetime | None = None) -> int:
    """Daily (``participation.purge_notices``): forget the notices older than
    ``NOTICE_RETENTION_DAYS``, read or not (they repeat public journal entries, but who follows
    what is personal); by then every digest has carried them. Housekeeping, not a decision:
    nothing is logged. Returns how many were deleted."""
    policy.require(principal, Action.PLATFORM_CLOCK, None)
    cutoff = (now or timezone.now()) - timedelta(days=settings.NOTICE_RETENTION_DAYS)
    deleted, _by_model = Notice.objects.filter(created_at__lt=cutoff).delete()
    return deleted
