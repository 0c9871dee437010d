"""The funding rows of the permission matrix, with finance roles: who prepares, who approves
(never one's own order), who validates a window; conflicts of interest refused."""

from __future__ import annotations

import pytest

from pacte.accounts import policy
from pacte.accounts.models import Role
from pacte.accounts.policy import Action
from pacte.errors import PermissionDenied
from tests.accounts.test_policy import funding_objects
from tests.conftest import _acting
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

EXPECTED = {
    Action.FUNDING_PROGRAMME: {"finance_officer", "finance_and_approver"},
    Action.FUNDING_CONTRACT: {"finance_officer", "finance_and_approver"},
    Action.FUNDING_WINDOW_VALIDATE: {"evaluator"},
    Action.PAYMENT_PREPARE: {"finance_officer", "finance_and_approver", "SYSTEM"},
    Action.PAYMENT_APPROVE: {"payment_approver"},  # finance_and_approver prepared the order
    Action.PAYMENT_SANCTION: {"SYSTEM"},
}


@pytest.mark.parametrize("action", list(EXPECTED))
def test_funding_matrix(action, world, draft):  # type: ignore[no-untyped-def]
    both = _acting(world.institution, [Role.FINANCE_OFFICER, Role.PAYMENT_APPROVER])
    conflicted = _acting(world.institution, [Role.FINANCE_OFFICER, Role.PAYMENT_APPROVER])
    MembershipFactory(user=conflicted.user, organisation=world.carrier, roles=[Role.CARRIER_MEMBER])
    principals = {
        "finance_officer": _acting(world.institution, [Role.FINANCE_OFFICER]),
        "payment_approver": _acting(world.institution, [Role.PAYMENT_APPROVER]),
        "finance_and_approver": both,
        "conflicted": conflicted,
        "outsider_finance": _acting(
            world.other_institution, [Role.FINANCE_OFFICER, Role.PAYMENT_APPROVER]
        ),
        "reviewer": world.reviewer,
        "signatory": world.signatory,
        "carrier_admin": world.carrier_admin,
        "evaluator": _acting(world.evaluator_org, [Role.EVALUATOR]),
        "SYSTEM": policy.SYSTEM,
    }
    obj = funding_objects(world, draft.pact.project, prepared_by_id=both.user.pk)[action]
    allowed = set()
    for name, principal in principals.items():
        if policy.may(principal, action, obj):
            allowed.add(name)
        else:
            with pytest.raises(PermissionDenied):
                policy.require(principal, action, obj)
    if action == Action.FUNDING_PROGRAMME:  # opening a programme: no carrier behind it, no recusal
        assert allowed == EXPECTED[action] | {"conflicted"}
    else:
        assert allowed == EXPECTED[action]
