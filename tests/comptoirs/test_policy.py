"""The comptoirs rows of the permission matrix with their states: asking an expert depends on
the pact's state; a contribution offer is answered by the carrier; moderation belongs to an
administrator outside the addressed institution."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pacte.accounts import policy
from pacte.accounts.models import Role
from pacte.accounts.policy import Action
from pacte.errors import PermissionDenied
from tests.conftest import _acting, activate
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db


def allowed(principals, action, obj):  # type: ignore[no-untyped-def]
    names = set()
    for name, principal in principals.items():
        if policy.may(principal, action, obj):
            names.add(name)
        else:
            with pytest.raises(PermissionDenied):
                policy.require(principal, action, obj)
    return names


@pytest.fixture
def principals(world):  # type: ignore[no-untyped-def]
    return {
        "carrier_admin": world.carrier_admin,
        "carrier_member": world.carrier_member,
        "reviewer": world.reviewer,
        "signatory": world.signatory,
        "data_steward": world.data_steward,
        "own_admin": _acting(world.institution, [Role.PLATFORM_ADMIN]),
        "outside_admin": _acting(InstitutionFactory(), [Role.PLATFORM_ADMIN]),
        "outsider": world.outsider_reviewer,
        "SYSTEM": policy.SYSTEM,
    }


def test_expert_ask_by_pact_state(world, draft, principals):  # type: ignore[no-untyped-def]
    project = draft.pact.project
    assert allowed(principals, Action.EXPERT_ASK, project) == set()  # draft
    activate(world, draft)
    assert allowed(principals, Action.EXPERT_ASK, project) == {"carrier_admin", "carrier_member"}
    from pacte.pacts import sanctions

    sanctions.notify_breach(world.reviewer, draft, "Le rapport semestriel manque toujours.")
    draft.refresh_from_db()
    assert draft.status == "breach_notified"
    assert allowed(principals, Action.EXPERT_ASK, project) == set()


@pytest.mark.parametrize(
    ("contact_role", "expected"),
    [
        ("reviewer", {"reviewer"}),
        ("data_steward", {"data_steward"}),
        ("carrier_member", {"carrier_admin", "carrier_member"}),  # a contribution offer
    ],
)
def test_comptoir_answer_by_routed_contact(world, principals, contact_role, expected):  # type: ignore[no-untyped-def]
    org = world.carrier if contact_role.startswith("carrier") else world.institution
    post = SimpleNamespace(organisation_id=org.pk, contact_role=contact_role)
    assert allowed(principals, Action.COMPTOIR_ANSWER, post) == expected


def test_moderation_and_routing_table(world, principals):  # type: ignore[no-untyped-def]
    post = SimpleNamespace(organisation_id=world.institution.pk, contact_role="reviewer")
    assert allowed(principals, Action.COMPTOIR_MODERATE, post) == {"outside_admin"}
    assert allowed(principals, Action.COMPTOIR_ROUTE, None) == {
        "own_admin",
        "outside_admin",
        "SYSTEM",
    }


def test_challenge_rows(world, principals):  # type: ignore[no-untyped-def]
    application = SimpleNamespace(institution_id=world.institution.pk, carrier_id=world.carrier.pk)
    assert allowed(principals, Action.CHALLENGE_JURY, application) == {"reviewer", "signatory"}
    assert allowed(principals, Action.CHALLENGE_PUBLISH, world.institution) == {
        "reviewer",
        "signatory",
    }
    assert allowed(principals, Action.CHALLENGE_APPLY, world.carrier) == {
        "carrier_admin",
        "carrier_member",
    }
