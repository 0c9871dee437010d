"""The comptoirs rows of the general permission matrix (tests/accounts/test_policy.py): the
objects each action judges and who may, with the principals of that matrix (the pact there is a
draft; tests/comptoirs/test_policy.py adds the states and the roles specific to this domain)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pacte.accounts.policy import Action

DESK = {"reviewer", "signatory"}

EXPECTED: dict[Action, set[str]] = {
    Action.COMPTOIR_ANSWER: {
        "reviewer",
        "conflicted",
    },  # the named contact role (no carrier behind)
    Action.COMPTOIR_MODERATE: set(),  # this institution's own admin never moderates its posts
    Action.COMPTOIR_ROUTE: {"platform_admin", "SYSTEM"},
    Action.EXPERT_PUBLISH: DESK | {"conflicted"},
    Action.EXPERT_ASK: set(),  # the pact is only a draft
    Action.EXPERT_ANSWER: DESK,  # the conflicted reviewer recuses
    Action.EXPERT_SUMMARY: {"carrier_admin", "carrier_member", "conflicted"} | DESK,
    Action.CHALLENGE_PUBLISH: DESK | {"conflicted"},
    Action.CHALLENGE_APPLY: {"carrier_admin", "carrier_member"},
    Action.CHALLENGE_JURY: DESK,
    # issue 12 (promises): the institution's signatories keep its rows of the routing table
    Action.COMPTOIR_ROUTE_KEEP: {"signatory", "conflicted", "platform_admin", "SYSTEM"},
}


def comptoir_objects(world: Any, project: Any) -> dict[Action, Any]:
    post = SimpleNamespace(organisation_id=world.institution.pk, contact_role="reviewer")
    exchange = SimpleNamespace(
        institution_id=world.institution.pk, carrier_id=world.carrier.pk, project=project
    )
    return {
        Action.COMPTOIR_ANSWER: post,
        Action.COMPTOIR_MODERATE: post,
        Action.COMPTOIR_ROUTE: None,
        Action.EXPERT_PUBLISH: world.institution,
        Action.EXPERT_ASK: project,
        Action.EXPERT_ANSWER: exchange,
        Action.EXPERT_SUMMARY: exchange,
        Action.CHALLENGE_PUBLISH: world.institution,
        Action.CHALLENGE_APPLY: world.carrier,
        Action.CHALLENGE_JURY: exchange,
        Action.COMPTOIR_ROUTE_KEEP: world.institution,
    }
