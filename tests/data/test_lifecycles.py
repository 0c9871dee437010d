"""The data lifecycles' tables (data requests, grants): every move, allowed or refused by state and
by role, through the one policy; the declaration itself is checked against the table written here."""

from __future__ import annotations

from typing import Any

import pytest

from pacte.accounts import policy
from pacte.accounts.models import Membership, Role
from pacte.accounts.services import acting_for
from pacte.data.lifecycles import GRANT, REQUEST
from pacte.data.models import GrantState, RequestStatus
from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from tests.data.conftest import grant_for, request_for

REASON = "Motif écrit suffisamment long."

R, G = RequestStatus, GrantState

REQUEST_TABLE = {
    # action: (from, to, event, reason required)
    "submit": ({R.DRAFT, R.CHANGES_REQUESTED}, R.SUBMITTED, "request.submitted", False),
    "withdraw": (
        {R.DRAFT, R.SUBMITTED, R.CHANGES_REQUESTED},
        R.WITHDRAWN,
        "request.withdrawn",
        True,
    ),
    "request_changes": ({R.SUBMITTED}, R.CHANGES_REQUESTED, "request.changes_requested", True),
    "refuse": ({R.SUBMITTED}, R.REFUSED, "request.refused", True),
    "approve": ({R.SUBMITTED}, R.APPROVED, "request.approved", False),
}
GRANT_TABLE = {
    "suspend": ({G.ACTIVE, G.RENEWAL_DUE}, G.SUSPENDED, "grant.suspended", True),
    "revoke": ({G.ACTIVE, G.RENEWAL_DUE, G.EXPIRED, G.SUSPENDED}, G.REVOKED, "grant.revoked", True),
    "reinstate": ({G.SUSPENDED}, G.ACTIVE, "grant.reinstated", False),
    "reinstate_renewal_due": ({G.SUSPENDED}, G.RENEWAL_DUE, "grant.reinstated", False),
    "reinstate_expired": ({G.SUSPENDED}, G.EXPIRED, "grant.expired", False),
    "renew": ({G.ACTIVE, G.RENEWAL_DUE, G.EXPIRED}, G.ACTIVE, "grant.renewed", False),
    "mark_renewal_due": ({G.ACTIVE}, G.RENEWAL_DUE, "grant.renewal_due", False),
    "expire": ({G.ACTIVE, G.RENEWAL_DUE}, G.EXPIRED, "grant.expired", False),
}

CARRIER_SIDE = ("carrier_admin", "carrier_member")
REVIEWERS = ("reviewer", "reviewer2", "data_steward")
OTHERS = ("signatory", "outsider_reviewer", "auditor")


def _rows(table: dict[str, tuple[set[str], str, str, bool]]) -> list[dict[str, Any]]:
    return [
        {
            "action": a,
            "from": sorted(str(s) for s in src),
            "to": str(to),
            "event": ev,
            "reason_required": rr,
        }
        for a, (src, to, ev, rr) in table.items()
    ]


def _without_who(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "who"} for row in rows]


def test_the_declared_tables_are_the_reviewed_ones() -> None:
    assert _without_who(REQUEST.table()) == _rows(REQUEST_TABLE)
    assert _without_who(GRANT.table()) == _rows(GRANT_TABLE)
    assert {row["who"] for row in REQUEST.table() if row["action"] in ("submit", "withdraw")} == {
        str(policy.Action.DATA_REQUEST_WRITE)
    }
    assert {
        row["who"] for row in REQUEST.table() if row["action"] not in ("submit", "withdraw")
    } == {str(policy.Action.DATA_REQUEST_REVIEW)}
    assert {row["who"] for row in GRANT.table()} == {str(policy.Action.GRANT_REVIEW)}


@pytest.fixture
def data_request(world, active, hiring):  # type: ignore[no-untyped-def]
    return request_for(world, active, hiring, 3, ["region"])


@pytest.fixture
def grant(world, active, hiring):  # type: ignore[no-untyped-def]
    return grant_for(world, active, hiring, 3, ["region"])[0]


def _who_may(world: Any, lifecycle: Any, action: str, obj: Any) -> set[str]:
    allowed = set()
    for name in (*CARRIER_SIDE, *REVIEWERS, *OTHERS):
        try:
            lifecycle.check(getattr(world, name), action, obj, REASON)
        except PermissionDenied:
            continue
        allowed.add(name)
    return allowed


@pytest.mark.parametrize("action", sorted(REQUEST_TABLE))
def test_request_moves_by_state(world, data_request, action):  # type: ignore[no-untyped-def]
    sources = REQUEST_TABLE[action][0]
    who = world.carrier_admin if action in ("submit", "withdraw") else world.reviewer
    for state in RequestStatus.values:
        data_request.status = state
        if state in sources:
            move, _reason = REQUEST.check(who, action, data_request, REASON)
            assert move.target == REQUEST_TABLE[action][1]
        else:
            with pytest.raises(InvalidTransition):
                REQUEST.check(who, action, data_request, REASON)


@pytest.mark.parametrize("action", sorted(REQUEST_TABLE))
def test_request_moves_by_role(world, data_request, action):  # type: ignore[no-untyped-def]
    data_request.status = next(iter(REQUEST_TABLE[action][0]))
    expected = set(CARRIER_SIDE) if action in ("submit", "withdraw") else set(REVIEWERS)
    assert _who_may(world, REQUEST, action, data_request) == expected
    with pytest.raises(PermissionDenied):  # the platform never acts on a request
        REQUEST.check(policy.SYSTEM, action, data_request, REASON)


@pytest.mark.parametrize("action", sorted(GRANT_TABLE))
def test_grant_moves_by_state(world, grant, action):  # type: ignore[no-untyped-def]
    sources = GRANT_TABLE[action][0]
    for state in GrantState.values:
        grant.state = state
        for who in (world.reviewer, policy.SYSTEM):
            if state in sources:
                move, _reason = GRANT.check(who, action, grant, REASON)
                assert move.target == GRANT_TABLE[action][1]
            else:
                with pytest.raises(InvalidTransition):
                    GRANT.check(who, action, grant, REASON)


@pytest.mark.parametrize("action", sorted(GRANT_TABLE))
def test_grant_moves_by_role(world, grant, action):  # type: ignore[no-untyped-def]
    grant.state = next(iter(GRANT_TABLE[action][0]))
    assert _who_may(world, GRANT, action, grant) == set(REVIEWERS)
    GRANT.check(policy.SYSTEM, action, grant, REASON)  # scheduler, pact sanctions


@pytest.mark.parametrize(
    "action", [a for a, row in {**REQUEST_TABLE, **GRANT_TABLE}.items() if row[3]]
)
def test_negative_decisions_need_a_written_reason(world, data_request, grant, action):  # type: ignore[no-untyped-def]
    lifecycle, obj = (REQUEST, data_request) if action in REQUEST_TABLE else (GRANT, grant)
    who = world.carrier_admin if action in ("submit", "withdraw") else world.reviewer
    if lifecycle is REQUEST:
        obj.status = next(iter(REQUEST_TABLE[action][0]))
    else:
        obj.state = next(iter(GRANT_TABLE[action][0]))
    with pytest.raises(ValidationFailed):
        lifecycle.check(who, action, obj, "  court  ")  # under ten characters once stripped


def test_a_reviewer_who_is_a_carrier_member_recuses_herself(world, data_request, grant):  # type: ignore[no-untyped-def]
    Membership.objects.create(
        user=world.reviewer.user, organisation=world.carrier, roles=[Role.CARRIER_MEMBER]
    )
    reviewer = acting_for(world.reviewer.user, world.institution)
    with pytest.raises(PermissionDenied):
        REQUEST.check(reviewer, "approve", data_request)
    with pytest.raises(PermissionDenied):
        GRANT.check(reviewer, "suspend", grant, REASON)


def test_apply_sets_the_state_and_writes_the_event_with_the_reason(world, grant):  # type: ignore[no-untyped-def]
    GRANT.apply(world.reviewer, "suspend", grant, f"  {REASON}  ", pact="PCT-TEST")
    grant.refresh_from_db()
    assert grant.state == GrantState.SUSPENDED and grant.last_reason == REASON
    event = Event.objects.filter(type="grant.suspended", subject_id=grant.reference).get()
    assert REASON in event.entry and '"pact":"PCT-TEST"' in event.entry
