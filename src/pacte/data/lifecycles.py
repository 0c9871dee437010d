"""The data domain's state machines, declared once: data requests and grants.

Every transition runs through ``REQUEST.apply`` / ``GRANT.apply`` (policy → reason → source state →
state → journal event) on a row the caller has locked, inside the caller's transaction. What a move
needs beyond the state (a review row, a grant, a deadline, a reminder) stays in the use case
(``data/requests.py``, ``data/grants.py``).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.data import events
from pacte.data.models import USABLE_STATES, DataRequest, Grant, GrantState, RequestStatus
from pacte.writes.lifecycle import Lifecycle, Move

R = RequestStatus
G = GrantState

#: A request may be edited (not a move: the state does not change) in these states.
EDITABLE_REQUEST_STATES = frozenset({R.DRAFT, R.CHANGES_REQUESTED})


def _set_request_state(req: DataRequest, state: str, reason: str) -> None:
    now = timezone.now()
    req.status, req.status_changed_at = state, now
    if state == R.SUBMITTED:
        req.submitted_at = now
    if reason:
        req.last_reason = reason
    req.save()


def _record_request(
    req: DataRequest, event: str, principal: policy.Principal, data: dict[str, Any]
) -> None:
    events.request_event(req, event, policy.actor_of(principal), **data)


REQUEST: Lifecycle[DataRequest] = Lifecycle.declare(
    "data_request",
    [
        Move.of(
            "submit",
            EDITABLE_REQUEST_STATES,
            R.SUBMITTED,
            Action.DATA_REQUEST_WRITE,
            "request.submitted",
        ),
        Move.of(
            "withdraw",
            {R.DRAFT, R.SUBMITTED, R.CHANGES_REQUESTED},
            R.WITHDRAWN,
            Action.DATA_REQUEST_WRITE,
            "request.withdrawn",
            reason=True,
        ),
        Move.of(
            "request_changes",
            {R.SUBMITTED},
            R.CHANGES_REQUESTED,
            Action.DATA_REQUEST_REVIEW,
            "request.changes_requested",
            reason=True,
        ),
        Move.of(
            "refuse",
            {R.SUBMITTED},
            R.REFUSED,
            Action.DATA_REQUEST_REVIEW,
            "request.refused",
            reason=True,
        ),
        Move.of(
            "approve", {R.SUBMITTED}, R.APPROVED, Action.DATA_REQUEST_REVIEW, "request.approved"
        ),
    ],
    state_of=lambda req: str(req.status),
    set_state=_set_request_state,
    record=_record_request,
    state_label=lambda state: str(RequestStatus(state).label),
)


def _set_grant_state(grant: Grant, state: str, reason: str) -> None:
    grant.state, grant.state_changed_at = state, timezone.now()
    if reason:
        grant.last_reason = reason
    grant.save(update_fields=["state", "state_changed_at", "last_reason"])


def _record_grant(
    grant: Grant, event: str, principal: policy.Principal, data: dict[str, Any]
) -> None:
    events.grant_event(grant, event, policy.actor_of(principal), **data)


ALL_GRANT_STATES = frozenset(GrantState.values)

GRANT: Lifecycle[Grant] = Lifecycle.declare(
    "grant",
    [
        Move.of(
            "suspend",
            USABLE_STATES,
            G.SUSPENDED,
            Action.GRANT_REVIEW,
            "grant.suspended",
            reason=True,
        ),
        Move.of(
            "revoke",
            ALL_GRANT_STATES - {G.REVOKED},
            G.REVOKED,
            Action.GRANT_REVIEW,
            "grant.revoked",
            reason=True,
        ),
        # reinstating a suspended grant lands where its expiry date says (see grants.reinstate_action)
        Move.of("reinstate", {G.SUSPENDED}, G.ACTIVE, Action.GRANT_REVIEW, "grant.reinstated"),
        Move.of(
            "reinstate_renewal_due",
            {G.SUSPENDED},
            G.RENEWAL_DUE,
            Action.GRANT_REVIEW,
            "grant.reinstated",
        ),
        Move.of(
            "reinstate_expired", {G.SUSPENDED}, G.EXPIRED, Action.GRANT_REVIEW, "grant.expired"
        ),
        Move.of(
            "renew",
            {G.ACTIVE, G.RENEWAL_DUE, G.EXPIRED},
            G.ACTIVE,
            Action.GRANT_REVIEW,
            "grant.renewed",
        ),
        # the daily refresh (policy.SYSTEM)
        Move.of(
            "mark_renewal_due", {G.ACTIVE}, G.RENEWAL_DUE, Action.GRANT_REVIEW, "grant.renewal_due"
        ),
        Move.of("expire", USABLE_STATES, G.EXPIRED, Action.GRANT_REVIEW, "grant.expired"),
    ],
    state_of=lambda grant: str(grant.state),
    set_state=_set_grant_state,
    record=_record_grant,
    state_label=lambda state: str(GrantState(state).label),
)
