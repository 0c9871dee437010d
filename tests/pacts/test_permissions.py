"""Every transition tried by every actor who may not do it, and from every state it may not leave."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.pacts import actions as pact_actions
from pacte.pacts import drafting as pact_drafting
from pacte.pacts import review as pact_review
from pacte.pacts import sanctions as pact_sanctions
from pacte.pacts import signing as pact_signing
from pacte.pacts.lifecycles import PACT
from pacte.pacts.models import PactVersion, Status
from tests.conftest import activate

pytestmark = pytest.mark.django_db

REASON = "Un motif suffisamment détaillé."
ACTORS = [
    "carrier_admin",
    "carrier_member",
    "reviewer",
    "signatory",
    "data_steward",
    "outsider_reviewer",
    "auditor",
]
# action -> actors allowed to perform it (when the state allows)
ALLOWED = {
    "submit": {"carrier_admin", "carrier_member"},
    "withdraw": {"carrier_admin", "carrier_member"},
    "request_changes": {"reviewer"},
    "approve": {"reviewer"},
    "sign": {"carrier_admin", "signatory"},
    "notify_breach": {"reviewer"},
    "cure": {"reviewer"},
    "suspend": {"reviewer"},
    "reinstate": {"reviewer"},
    "break": {"reviewer"},
    "complete": {"reviewer"},
}
# action -> the state in which it is legal
LEGAL_STATE = {
    "submit": Status.DRAFT,
    "withdraw": Status.SUBMITTED,
    "request_changes": Status.SUBMITTED,
    "approve": Status.SUBMITTED,
    "sign": Status.APPROVED,
    "notify_breach": Status.ACTIVE,
    "cure": Status.BREACH_NOTIFIED,
    "suspend": Status.BREACH_NOTIFIED,
    "reinstate": Status.SUSPENDED,
    "break": Status.SUSPENDED,
    "complete": Status.ACTIVE,
}


def bring_to(world, version, state):  # type: ignore[no-untyped-def]
    s = SimpleNamespace(
        withdraw=pact_drafting.withdraw,
        submit=pact_drafting.submit,
        request_changes=pact_review.request_changes,
        approve=pact_review.approve,
        sign=pact_signing.sign,
        complete=pact_sanctions.complete,
        notify_breach=pact_sanctions.notify_breach,
        suspend=pact_sanctions.suspend,
        break_pact=pact_sanctions.break_pact,
    )
    if state == Status.DRAFT:
        return version
    if state == Status.WITHDRAWN:
        s.withdraw(world.carrier_admin, version, REASON)
        return version
    s.submit(world.carrier_admin, version)
    if state == Status.SUBMITTED:
        return version
    if state == Status.CHANGES_REQUESTED:
        s.request_changes(world.reviewer, version, REASON)
        return version
    s.approve(world.reviewer, version)
    if state == Status.APPROVED:
        return version
    s.sign(world.carrier_admin, version)
    if state == Status.SIGNING:
        return version
    s.sign(world.signatory, version)
    if state == Status.ACTIVE:
        return version
    if state == Status.COMPLETED:
        s.complete(world.reviewer, version, REASON)
        return version
    s.notify_breach(world.reviewer, version, REASON)
    if state == Status.BREACH_NOTIFIED:
        return version
    s.suspend(world.reviewer, version, REASON)
    if state == Status.SUSPENDED:
        return version
    s.break_pact(world.reviewer, version, REASON)
    return version


FORBIDDEN = [(a, actor) for a in ALLOWED for actor in ACTORS if actor not in ALLOWED[a]]


@pytest.mark.parametrize(("action", "actor"), FORBIDDEN)
def test_forbidden_actor(world, draft, action, actor):
    version = bring_to(world, draft, LEGAL_STATE[action])
    status_before = PactVersion.objects.get(pk=version.pk).status
    with pytest.raises(PermissionDenied):
        pact_actions.ACTIONS[action](getattr(world, actor), version, REASON)
    assert PactVersion.objects.get(pk=version.pk).status == status_before


ALL_STATES = [
    Status.DRAFT,
    Status.SUBMITTED,
    Status.CHANGES_REQUESTED,
    Status.APPROVED,
    Status.SIGNING,
    Status.ACTIVE,
    Status.BREACH_NOTIFIED,
    Status.SUSPENDED,
    Status.BROKEN,
    Status.COMPLETED,
    Status.WITHDRAWN,
]
LEGAL_FROM = {
    "submit": {Status.DRAFT},
    "withdraw": {Status.DRAFT, Status.SUBMITTED, Status.CHANGES_REQUESTED},
    "request_changes": {Status.SUBMITTED},
    "approve": {Status.SUBMITTED},
    "sign": {Status.APPROVED, Status.SIGNING},
    "notify_breach": {Status.ACTIVE},
    "cure": {Status.BREACH_NOTIFIED},
    "suspend": {Status.BREACH_NOTIFIED},
    "reinstate": {Status.SUSPENDED},
    "break": {Status.SUSPENDED},
    "complete": {Status.ACTIVE},
}


def test_the_pact_lifecycle_table_is_the_one_these_tests_expect():
    """The table in pacte.pacts.lifecycles is the single declaration; this independent list of
    legal moves (and the behaviour tests below) must agree with it, move by move."""
    assert {a: set(m.sources) for a, m in PACT.moves.items()} == {
        a: {str(s) for s in v} for a, v in LEGAL_FROM.items()
    }
    reasons = {a for a, m in PACT.moves.items() if m.reason_required}
    assert reasons == {"withdraw", "request_changes", "notify_breach", "suspend", "break"}


WRONG_STATE = [(a, s) for a in LEGAL_FROM for s in ALL_STATES if s not in LEGAL_FROM[a]]


@pytest.mark.parametrize(("action", "state"), WRONG_STATE)
def test_forbidden_state(world, draft, action, state):
    version = bring_to(world, draft, state)
    actor = {"sign": "signatory"}.get(action, sorted(ALLOWED[action])[0])
    with pytest.raises((InvalidTransition, ValidationFailed)):
        pact_actions.ACTIONS[action](getattr(world, actor), version, REASON)
    assert PactVersion.objects.get(pk=version.pk).status == state


def test_same_side_cannot_sign_twice(world, draft):
    version = bring_to(world, draft, Status.SIGNING)
    with pytest.raises(InvalidTransition):
        pact_signing.sign(world.carrier_admin, version)


def test_carrier_member_cannot_sign_for_the_carrier(world, draft):
    version = bring_to(world, draft, Status.APPROVED)
    with pytest.raises(PermissionDenied):
        pact_signing.sign(world.carrier_member, version)


def test_other_carrier_cannot_edit_or_submit(world, draft, content):
    from pacte.accounts.services import acting_for
    from tests.factories import MembershipFactory, OrganisationFactory

    other = OrganisationFactory()
    intruder = acting_for(
        MembershipFactory(organisation=other, roles=["carrier_admin"]).user, other
    )
    with pytest.raises(PermissionDenied):
        pact_drafting.update_draft(intruder, draft, content)
    with pytest.raises(PermissionDenied):
        pact_drafting.submit(intruder, draft)
    with pytest.raises(PermissionDenied):
        pact_drafting.new_version(intruder, draft.pact)


def test_new_version_only_after_changes_or_for_amendment(world, draft):
    with pytest.raises(InvalidTransition):
        pact_drafting.new_version(world.carrier_admin, draft.pact)  # a draft exists
    pact_drafting.submit(world.carrier_admin, draft)
    with pytest.raises(InvalidTransition):
        pact_drafting.new_version(world.carrier_admin, draft.pact)  # under review


def test_auditor_reads_drafts_but_public_does_not(world, draft):
    from pacte.errors import NotFound
    from pacte.pacts.selectors import get_version

    assert get_version(world.auditor, draft.pact.reference, 1) == draft
    assert get_version(world.reviewer, draft.pact.reference, 1) == draft
    with pytest.raises(NotFound):
        get_version(None, draft.pact.reference, 1)
    with pytest.raises(NotFound):
        get_version(world.outsider_reviewer, draft.pact.reference, 1)


def test_activation_helper_reaches_active(world, draft):
    assert activate(world, draft).status == Status.ACTIVE
