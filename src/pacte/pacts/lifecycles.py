"""The pact's and the commitment's state machines, declared once as tables of moves.

Every move names who may make it (``pacte.accounts.policy``), whether a written reason is required
and the journal event it writes; use cases run them with ``PACT.apply`` (or ``check`` then ``enter``
when work happens in between, or when a move takes two steps: two approvals, two signatures).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pacte.accounts.policy import Action, Principal, actor_of
from pacte.pacts.events import pact_event, set_status
from pacte.pacts.models import Commitment, PactVersion, Status
from pacte.writes.lifecycle import Lifecycle, Move

S = Status
LIVE = (S.ACTIVE, S.BREACH_NOTIFIED, S.SUSPENDED)


def _record(version: PactVersion, event: str, principal: Principal, data: dict[str, Any]) -> None:
    pact_event(version, event, actor_of(principal), **data)


PACT: Lifecycle[PactVersion] = Lifecycle.declare(
    "pact",
    [
        # the carrier drafts and submits; the institution reviews (one or two approvals)
        Move.of(
            "submit",
            [S.DRAFT],
            S.SUBMITTED,
            Action.PACT_WRITE,
            "pact.submitted",
            wrong_state=_("Seul un brouillon peut être soumis."),
        ),
        Move.of(
            "withdraw",
            [S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED],
            S.WITHDRAWN,
            Action.PACT_WRITE,
            "pact.withdrawn",
            reason=True,
            wrong_state=_("Seul un pacte en brouillon ou en instruction peut être retiré."),
        ),
        Move.of(
            "request_changes",
            [S.SUBMITTED],
            S.CHANGES_REQUESTED,
            Action.PACT_REVIEW,
            "pact.changes_requested",
            reason=True,
            wrong_state=_("On ne peut demander des modifications que sur un pacte soumis."),
        ),
        Move.of(
            "approve",
            [S.SUBMITTED],
            S.APPROVED,
            Action.PACT_REVIEW,
            "pact.approved",
            wrong_state=_("Seul un pacte soumis peut être approuvé."),
        ),
        # both sides sign (approved → signing → active)
        Move.of(
            "sign",
            [S.APPROVED, S.SIGNING],
            S.ACTIVE,
            Action.PACT_SIGN,
            "pact.activated",
            wrong_state=_("Le pacte doit être approuvé avant d'être signé."),
        ),
        # the institution follows the pact in force (the compliance engine may too)
        Move.of(
            "notify_breach",
            [S.ACTIVE],
            S.BREACH_NOTIFIED,
            Action.PACT_SANCTION,
            "pact.breach_notified",
            reason=True,
        ),
        Move.of("cure", [S.BREACH_NOTIFIED], S.ACTIVE, Action.PACT_SANCTION, "pact.cured"),
        Move.of(
            "suspend",
            [S.BREACH_NOTIFIED],
            S.SUSPENDED,
            Action.PACT_SANCTION,
            "pact.suspended",
            reason=True,
        ),
        Move.of("reinstate", [S.SUSPENDED], S.ACTIVE, Action.PACT_SANCTION, "pact.reinstated"),
        Move.of("break", [S.SUSPENDED], S.BROKEN, Action.PACT_SANCTION, "pact.broken", reason=True),
        Move.of("complete", [S.ACTIVE], S.COMPLETED, Action.PACT_SANCTION, "pact.completed"),
    ],
    state_of=lambda v: str(v.status),
    set_state=set_status,
    record=_record,
    subject=lambda v: v.pact,
    state_label=lambda s: str(Status(s).label),
)

C = Commitment.State


def _set_commitment_state(commitment: Commitment, state: str, reason: str) -> None:
    commitment.status = state
    commitment.status_changed_at = timezone.now()
    commitment.save(update_fields=["status", "status_changed_at"])


def _record_commitment(
    commitment: Commitment, event: str, principal: Principal, data: dict[str, Any]
) -> None:
    pact_event(
        commitment.version,
        event,
        actor_of(principal),
        commitment=commitment.key,
        owner=commitment.owner,
        **data,
    )


COMMITMENT: Lifecycle[Commitment] = Lifecycle.declare(
    "commitment",
    [
        # the party that owns the commitment says it is met (with its evidence)
        # (evidence may be filed again on any commitment: a later proof replaces the earlier one)
        Move.of(
            "meet",
            [C.ON_TRACK, C.DUE_SOON, C.MISSED, C.MET, C.BREACHED],
            C.MET,
            Action.COMMITMENT_EVIDENCE,
            "commitment.evidence",
        ),
        # the platform's clock
        Move.of("due_soon", [C.ON_TRACK], C.DUE_SOON, Action.PLATFORM_CLOCK, "commitment.due_soon"),
        Move.of(
            "miss", [C.ON_TRACK, C.DUE_SOON], C.MISSED, Action.PLATFORM_CLOCK, "commitment.missed"
        ),
    ],
    state_of=lambda c: str(c.status),
    set_state=_set_commitment_state,
    record=_record_commitment,
    state_label=lambda s: str(Commitment.State(s).label),
)
