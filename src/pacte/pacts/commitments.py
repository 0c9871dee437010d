"""Commitments of a pact in force: each party files its evidence; the platform's clock marks
commitments due soon or missed."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action, Principal, actor_of
from pacte.errors import InvalidTransition, ValidationFailed
from pacte.links import clean_web_link
from pacte.pacts.events import pact_event
from pacte.pacts.lifecycles import COMMITMENT, LIVE
from pacte.pacts.models import Commitment
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
