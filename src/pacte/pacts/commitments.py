"""Commitments of a pact in force: each party files its evidence; the platform's clock marks
commitments due soon or missed."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action, Principal, actor_of
from pacte.errors import InvalidTransition, ValidationFailed
from pacte.links import clean_web_link
from pacte.pacts.events import pact_event
from pacte.pacts.lifecycles import COMMITMENT, LIVE
from pacte.pacts.models import Commitment, PactVersion
from pacte.writes.retry import retry_on_conflict


@retry_on_conflict
@transaction.atomic
def record_evidence(
    acting: Principal,
    commitment: Commitment,
    *,
    progress: int,
    note: str,
    url: str = "",
    met: bool = False,
) -> Commitment:
    commitment = (
        Commitment.objects.select_for_update(of=("self",), no_key=True)
        .select_related("version__pact__project", "version__pact__institution")
        .get(pk=commitment.pk)
    )
    policy.require(acting, Action.COMMITMENT_EVIDENCE, commitment)
    if commitment.version.status not in LIVE:
        raise InvalidTransition(_("Les preuves se déposent sur un pacte en vigueur."))
    if not 0 <= progress <= 100:
        raise ValidationFailed(_("La progression est un pourcentage entre 0 et 100."))
    if len(note.strip()) < 5:
        raise ValidationFailed(_("Décrivez la preuve déposée."))
    url = clean_web_link(url, "url")
    commitment.progress = 100 if met else progress
    commitment.evidence_note = note.strip()
    commitment.evidence_url = url
    commitment.save()
    evidence_sha256 = hashlib.sha256(note.encode()).hexdigest()
    if met:
        move, _reason = COMMITMENT.check(acting, "meet", commitment)
        COMMITMENT.enter(
            acting,
            move,
            commitment,
            commitment_status=Commitment.State.MET,
            progress=commitment.progress,
            evidence_sha256=evidence_sha256,
        )
    else:
        pact_event(
            commitment.version,
            "commitment.evidence",
            actor_of(acting),
            commitment=commitment.key,
            owner=commitment.owner,
            commitment_status=commitment.status,
            progress=commitment.progress,
            evidence_sha256=evidence_sha256,
        )
    return commitment


@retry_on_conflict
@transaction.atomic
def refresh_commitment_statuses(today: date | None = None) -> dict[str, int]:
    """Due-date engine: mark commitments due soon or missed on pacts in force."""
    today = today or date.today()
    soon = today + timedelta(days=settings.COMMITMENT_DUE_SOON_DAYS)
    counts = {"due_soon": 0, "missed": 0}
    live = (
        Commitment.objects.select_for_update(of=("self",), no_key=True)
        .select_related("version__pact__project")
        .filter(
            version__status__in=LIVE,
            due_date__isnull=False,
            status__in=(Commitment.State.ON_TRACK, Commitment.State.DUE_SOON),
        )
    )
    for c in live:
        assert c.due_date is not None
        if c.due_date < today:
            action, new = "miss", Commitment.State.MISSED
        elif c.due_date <= soon and c.status != Commitment.State.DUE_SOON:
            action, new = "due_soon", Commitment.State.DUE_SOON
        else:
            continue
        COMMITMENT.apply(policy.SYSTEM, action, c, due_date=c.due_date.isoformat())
        counts[new] += 1
    return counts


# ------------------------------------------------------------------ the State's tracked promises
# Another domain that holds the evidence of an institution's promise (funding: a payment due by a
# date) asks the pact to track it as one of its commitments, so that the compliance engine's clock
# marks it missed, then breached (a State-side breach, notified to both parties and shown as
# prominently as a carrier's), and settles it when the evidence arrives. The caller has already
# checked who may act; these run inside the caller's transaction (offered through pacts.ports).


def _live_version(version: PactVersion) -> PactVersion:
    """The pact's version in force (the commitment must be where the compliance engine looks)."""
    current = (
        PactVersion.objects.filter(pact_id=version.pact_id, is_current=True, status__in=LIVE)
        .select_related("pact__project")
        .first()
    )
    return current or version


def add_state_commitment(
    principal: Principal,
    version: PactVersion,
    *,
    key: str,
    text: str,
    due_date: date,
    evidence_kind: str,
    **event_data: object,
) -> Commitment:
    version = _live_version(version)
    commitment, created = Commitment.objects.get_or_create(
        version=version,
        key=key,
        defaults={
            "owner": Commitment.Owner.INSTITUTION,
            "text": text,
            "due_date": due_date,
            "evidence_kind": evidence_kind,
        },
    )
    if created:
        pact_event(
            version,
            "commitment.added",
            actor_of(principal),
            commitment=key,
            owner=commitment.owner,
            text=text,
            due_date=due_date.isoformat(),
            evidence_kind=evidence_kind,
            **event_data,
        )
    return commitment


def _state_commitment(version: PactVersion, key: str) -> Commitment | None:
    return (
        Commitment.objects.select_for_update(of=("self",), no_key=True)
        .select_related("version__pact__project")
        .filter(version__pact_id=version.pact_id, key=key, owner=Commitment.Owner.INSTITUTION)
        .order_by("-version__number")
        .first()
    )


def settle_state_commitment(
    principal: Principal, version: PactVersion, key: str, *, note: str, on: date
) -> None:
    """The evidence arrived (e.g. the payment was made on ``on``): the commitment is met. Met late,
    the public record keeps the lateness: the journal holds the missed/breached events, and the
    evidence note says when it was met against its due date."""
    commitment = _state_commitment(version, key)
    if commitment is None or commitment.status == Commitment.State.MET:
        return
    late = commitment.due_date is not None and on > commitment.due_date
    previous = commitment.status
    commitment.status = Commitment.State.MET
    commitment.progress = 100
    commitment.evidence_note = note
    commitment.status_changed_at = timezone.now()
    commitment.save(update_fields=["status", "progress", "evidence_note", "status_changed_at"])
    pact_event(
        commitment.version,
        "commitment.evidence",
        actor_of(principal),
        commitment=key,
        owner=commitment.owner,
        previous=previous,
        commitment_status=commitment.status,
        met_on=on.isoformat(),
        late=late,
        evidence=note,
    )


def reschedule_state_commitment(
    principal: Principal, version: PactVersion, key: str, *, due_date: date | None, reason: str
) -> None:
    """The clock of a tracked promise stops (``due_date`` None: e.g. a payment withheld while the
    pact is suspended) or restarts with a new due date."""
    commitment = _state_commitment(version, key)
    if commitment is None or commitment.status == Commitment.State.MET:
        return
    previous_due = commitment.due_date
    commitment.due_date = due_date
    fields = ["due_date"]
    if commitment.status == Commitment.State.DUE_SOON and due_date is None:
        commitment.status = Commitment.State.ON_TRACK
        commitment.status_changed_at = timezone.now()
        fields += ["status", "status_changed_at"]
    commitment.save(update_fields=fields)
    pact_event(
        commitment.version,
        "commitment.rescheduled",
        actor_of(principal),
        commitment=key,
        owner=commitment.owner,
        previous_due_date=previous_due.isoformat() if previous_due else None,
        due_date=due_date.isoformat() if due_date else None,
        reason=reason,
    )


def withdraw_state_commitment(
    principal: Principal, version: PactVersion, key: str, *, reason: str
) -> None:
    """Nothing is owed any more (the order was cancelled): a promise never late is withdrawn; one
    already missed or breached stays, so that the State's lateness remains on the record."""
    commitment = _state_commitment(version, key)
    if commitment is None or commitment.status in (
        Commitment.State.MET,
        Commitment.State.MISSED,
        Commitment.State.BREACHED,
    ):
        return
    pact_event(
        commitment.version,
        "commitment.withdrawn",
        actor_of(principal),
        commitment=key,
        owner=commitment.owner,
        reason=reason,
    )
    commitment.delete()
