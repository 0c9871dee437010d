"""The permission matrix, run against the one policy module: for every action, every kind of
principal, allowed or refused. Objects of other domains are read by the policy through a few
attributes; the data and evidence tests exercise the same rules on real requests, grants and
evaluations."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pacte.accounts import policy
from pacte.accounts.models import Role
from pacte.accounts.policy import Action
from pacte.accounts.services import acting_for
from pacte.errors import PermissionDenied
from pacte.pacts.models import Commitment
from tests.comptoirs.matrix import EXPECTED as COMPTOIR_EXPECTED
from tests.comptoirs.matrix import comptoir_objects
from tests.factories import InstitutionFactory, MembershipFactory

pytestmark = pytest.mark.django_db

CARRIER = {"carrier_admin", "carrier_member"}
INSTITUTION = {"reviewer", "signatory", "data_steward", "platform_admin", "conflicted", "mediator"}
PEOPLE = (
    CARRIER
    | INSTITUTION
    | {"evaluator", "auditor", "outsider", "outsider_steward", "outsider_mediator"}
)

# action -> who may (SYSTEM is the platform itself)
EXPECTED: dict[Action, set[str]] = {
    Action.PROJECT_CREATE: CARRIER,
    Action.PROJECT_EDIT: CARRIER,
    Action.PACT_WRITE: CARRIER,
    Action.PACT_REVIEW: {"reviewer"},
    Action.PACT_SANCTION: {"reviewer", "SYSTEM"},
    Action.PACT_SIGN: {"carrier_admin", "signatory"},
    Action.COMMITMENT_EVIDENCE: CARRIER,  # a commitment the carrier owns
    Action.DATASET_PUBLISH: {"data_steward", "conflicted", "SYSTEM"},
    Action.DATA_REQUEST_WRITE: CARRIER,
    Action.DATA_REQUEST_REVIEW: {"reviewer", "data_steward"},
    Action.GRANT_REVIEW: {"reviewer", "data_steward", "SYSTEM"},
    Action.GRANT_ROTATE_TOKEN: {"carrier_admin", "platform_admin"},
    Action.GRANT_USE: CARRIER,  # issue 14 part 2: the grantee's team, signed in
    Action.PROJECT_CARRIER_WORK: CARRIER,
    Action.PROJECT_PARTNER_WORK: CARRIER | INSTITUTION - {"mediator"},
    Action.EXPERIMENT_RUN: CARRIER,
    Action.PROJECT_EVALUATE: {"evaluator"},
    Action.EVALUATION_OWN: {"evaluator"},
    Action.PLATFORM_CLOCK: {"SYSTEM"},
    Action.EXPERIMENT_DESIGN: CARRIER | {"evaluator"},
    Action.PANEL_DRAW: INSTITUTION,
    # funding: no principal here holds a finance role (tests/funding/test_policy.py has those)
    Action.FUNDING_PROGRAMME: set(),
    Action.FUNDING_CONTRACT: set(),
    Action.FUNDING_WINDOW_VALIDATE: {"evaluator"},
    Action.PAYMENT_PREPARE: {"SYSTEM"},
    Action.PAYMENT_APPROVE: set(),
    Action.PAYMENT_SANCTION: {"SYSTEM"},
    # channels and takeover (issue 12; tests/channels/test_policy.py has listings and states)
    Action.CHANNEL_MANAGE: {"signatory", "platform_admin", "conflicted", "SYSTEM"},
    Action.TAKEOVER_CONFIRM: {"signatory"},
    # participation (tests/participation/test_policy.py has the citizen's rows)
    Action.CONSULTATION_OPEN: {"reviewer"},
    Action.CONSULTATION_CLOSE: {"reviewer", "SYSTEM"},
    Action.COMMENT_WRITE: PEOPLE,
    Action.COMMENT_EDIT: set(),  # somebody else's comment
    Action.COMMENT_FLAG: PEOPLE,
    Action.COMMENT_ANSWER: CARRIER | INSTITUTION,
    Action.PARTICIPATION_MODERATE: {"reviewer", "data_steward", "platform_admin", "conflicted"},
    Action.FOLLOW: PEOPLE,
    Action.REUSE_DECLARE: PEOPLE,
    # assisted use (issue 13 part 7): a mediator of the structure, nobody else, not the platform
    Action.ASSISTED_ACT: {"mediator"},
    Action.ASSISTED_RECEIPT: {"mediator"},
    **COMPTOIR_EXPECTED,  # issue 12 parts 2-4
}


@pytest.fixture
def principals(world) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    def acting(org, roles):  # type: ignore[no-untyped-def]
        return acting_for(MembershipFactory(organisation=org, roles=roles).user, org)

    conflicted = acting(world.institution, [Role.REVIEWER, Role.SIGNATORY, Role.DATA_STEWARD])
    MembershipFactory(user=conflicted.user, organisation=world.carrier, roles=[Role.CARRIER_MEMBER])
    return {
        "carrier_admin": world.carrier_admin,
        "carrier_member": world.carrier_member,
        "reviewer": world.reviewer,
        "signatory": world.signatory,
        "data_steward": world.data_steward,
        "platform_admin": acting(world.institution, [Role.PLATFORM_ADMIN]),
        "evaluator": acting(world.evaluator_org, [Role.EVALUATOR]),
        "auditor": world.auditor,
        "outsider": world.outsider_reviewer,
        "outsider_steward": acting(
            InstitutionFactory(), [Role.DATA_STEWARD, Role.REVIEWER, Role.SIGNATORY]
        ),
        "conflicted": conflicted,  # a carrier member who also holds institution roles
        "mediator": acting(world.institution, [Role.MEDIATOR]),
        "outsider_mediator": acting(world.other_institution, [Role.MEDIATOR]),
        "SYSTEM": policy.SYSTEM,
    }


@pytest.fixture
def objects(world, draft) -> dict[Action, Any]:  # type: ignore[no-untyped-def]
    pact = draft.pact
    project = pact.project
    commitment = Commitment(version=draft, key="c1", owner=Commitment.Owner.CARRIER, text="t")
    request = SimpleNamespace(
        carrier_id=world.carrier.pk, dataset=SimpleNamespace(publisher_id=world.institution.pk)
    )
    grant = SimpleNamespace(request=request, project=project)
    evaluation = SimpleNamespace(project=project, evaluator_id=world.evaluator_org.pk)
    experiment = SimpleNamespace(created_by_id=world.carrier.pk)
    return {
        Action.PROJECT_EDIT: project,
        Action.PACT_WRITE: pact,
        Action.PACT_REVIEW: pact,
        Action.PACT_SANCTION: pact,
        Action.PACT_SIGN: pact,
        Action.COMMITMENT_EVIDENCE: commitment,
        Action.DATASET_PUBLISH: world.institution,
        Action.DATA_REQUEST_WRITE: request,
        Action.DATA_REQUEST_REVIEW: request,
        Action.GRANT_REVIEW: grant,
        Action.GRANT_ROTATE_TOKEN: grant,
        Action.GRANT_USE: grant,
        Action.PROJECT_CARRIER_WORK: project,
        Action.PROJECT_PARTNER_WORK: project,
        Action.EXPERIMENT_RUN: experiment,
        Action.PROJECT_EVALUATE: project,
        Action.EVALUATION_OWN: evaluation,
        Action.PLATFORM_CLOCK: pact,
        Action.EXPERIMENT_DESIGN: project,
        Action.PANEL_DRAW: SimpleNamespace(opened_by_id=world.institution.pk),
        **funding_objects(world, project),
        Action.CHANNEL_MANAGE: SimpleNamespace(institution_id=world.institution.pk),
        Action.TAKEOVER_CONFIRM: SimpleNamespace(
            takeover_institution_id=world.institution.pk, carrier_id=world.carrier.pk
        ),
        Action.ASSISTED_ACT: world.institution,
        Action.ASSISTED_RECEIPT: SimpleNamespace(organisation_id=world.institution.pk),
        **participation_objects(world, pact),
        **comptoir_objects(world, project),
    }


def participation_objects(world, pact) -> dict[Action, Any]:  # type: ignore[no-untyped-def]
    comment = SimpleNamespace(
        author_id=-1, pact=pact, moderating_organisation_id=world.institution.pk
    )
    return {
        Action.CONSULTATION_OPEN: pact,
        Action.CONSULTATION_CLOSE: pact,
        Action.COMMENT_WRITE: SimpleNamespace(pact=pact),
        Action.COMMENT_EDIT: comment,
        Action.COMMENT_FLAG: comment,
        Action.COMMENT_ANSWER: comment,
        Action.PARTICIPATION_MODERATE: comment,
        Action.FOLLOW: pact.project,
        Action.REUSE_DECLARE: pact.project,
    }


def funding_objects(world, project, prepared_by_id: int = 0) -> dict[Action, Any]:  # type: ignore[no-untyped-def]
    from pacte.accounts.models import User

    contract = SimpleNamespace(
        institution_id=world.institution.pk,
        carrier_id=world.carrier.pk,
        project=project,
        programme=SimpleNamespace(approvers=User.objects.none()),
    )
    order = SimpleNamespace(
        institution_id=world.institution.pk,
        carrier_id=world.carrier.pk,
        prepared_by_id=prepared_by_id,
        contract=contract,
    )
    return {
        Action.FUNDING_PROGRAMME: world.institution,
        Action.FUNDING_CONTRACT: contract,
        Action.FUNDING_WINDOW_VALIDATE: contract,
        Action.PAYMENT_PREPARE: contract,
        Action.PAYMENT_APPROVE: order,
        Action.PAYMENT_SANCTION: order,
    }


def test_every_action_has_a_rule_and_an_expectation():
    assert set(policy.RULES) == set(Action) == set(EXPECTED)


@pytest.mark.parametrize("action", list(Action))
def test_permission_matrix(action, principals, objects, world):  # type: ignore[no-untyped-def]
    allowed = set()
    for name, principal in principals.items():
        if (
            action == Action.PROJECT_CREATE
        ):  # one creates a project for the organisation one acts for
            obj = world.carrier if name == "SYSTEM" else principal.organisation
        else:
            obj = objects[action]
        if policy.may(principal, action, obj):
            allowed.add(name)
            policy.require(principal, action, obj)  # no exception
        else:
            with pytest.raises(PermissionDenied) as refused:
                policy.require(principal, action, obj)
            assert (
                refused.value.status == 403 and len(refused.value.message) > 20
            )  # a sentence, not a code
    assert allowed == EXPECTED[action]


def test_institution_owned_commitment_is_the_institutions_to_prove(world, draft, principals):  # type: ignore[no-untyped-def]
    commitment = Commitment(version=draft, key="s1", owner=Commitment.Owner.INSTITUTION, text="t")
    allowed = {
        n for n, p in principals.items() if policy.may(p, Action.COMMITMENT_EVIDENCE, commitment)
    }
    assert allowed == INSTITUTION


def test_partner_work_needs_a_pact_with_the_institution(world, principals):  # type: ignore[no-untyped-def]
    lone = world.project(name="Sans pacte")
    allowed = {n for n, p in principals.items() if policy.may(p, Action.PROJECT_PARTNER_WORK, lone)}
    assert allowed == CARRIER


def test_no_none_bypass(objects):  # type: ignore[no-untyped-def]
    """None is not a principal: use cases refuse it loudly; pages treat it as an anonymous visitor."""
    with pytest.raises(TypeError):
        policy.require(None, Action.PACT_SANCTION, objects[Action.PACT_SANCTION])  # type: ignore[arg-type]
    assert policy.may(None, Action.PACT_SANCTION, objects[Action.PACT_SANCTION]) is False


def test_actor_of_writes_the_platform_as_system(world):  # type: ignore[no-untyped-def]
    assert policy.actor_of(policy.SYSTEM).role == "system"
    actor = policy.actor_of(world.reviewer)
    assert (
        actor.organisation_slug == world.institution.slug
        and actor.person_id == world.reviewer.user.pk
    )
