"""The evidence lifecycles (evidence/lifecycles.py): each move of each table, allowed or refused by
the current state and by who asks — through the policy, with the platform (SYSTEM) refused — and
the move applied writes its state and its journal event together."""

from __future__ import annotations

import json

import pytest

from pacte.accounts import policy
from pacte.accounts.models import Role
from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.evidence import evaluations, experiments, feedback, lifecycles, panels, sheets
from pacte.evidence.models import AlgorithmSheet, Evaluation, Experiment, PanelCall
from pacte.journal.models import Event
from tests.conftest import _acting
from tests.evidence.conftest import REFERENCE
from tests.evidence.test_audits_sheets import SHEET
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def refused(lifecycle, who, action, obj, reason: str = "") -> type[Exception] | None:  # type: ignore[no-untyped-def]
    """The error class a move raises for this principal now (None: allowed); nothing is changed."""
    try:
        lifecycle.check(who, action, obj, reason)
    except (PermissionDenied, InvalidTransition, ValidationFailed) as exc:
        return type(exc)
    return None


@pytest.fixture
def other_evaluator(world):  # type: ignore[no-untyped-def]
    org = OrganisationFactory(
        slug="labo-2", name="Autre labo", kind="evaluator", legal_form="evaluation_body"
    )
    return _acting(org, [Role.EVALUATOR])


def test_the_tables_declare_every_move_once():
    rows = {(lc.name, r["action"]): r for lc in lifecycles.LIFECYCLES for r in lc.table()}
    assert {
        k: (v["from"], v["to"], v["who"], v["reason_required"], v["event"]) for k, v in rows.items()
    } == {
        ("evaluation", "publish"): (
            ["draft"],
            "published",
            "evaluation.own",
            False,
            "evaluation.published",
        ),
        ("algorithm_sheet", "publish"): (
            ["draft"],
            "published",
            "project.carrier_work",
            False,
            "algorithm_sheet.published",
        ),
        ("experiment", "preregister"): (
            ["draft"],
            "preregistered",
            "experiment.run",
            False,
            "experiment.preregistered",
        ),
        ("experiment", "assign"): (
            ["preregistered"],
            "assigned",
            "experiment.run",
            False,
            "experiment.assigned",
        ),
        ("panel_call", "draw"): (["open"], "drawn", "panel.draw", False, "panel.drawn"),
        ("feedback", "hide"): (
            ["visible"],
            "hidden",
            "project.partner_work",
            True,
            "feedback.hidden",
        ),
    }


# ---------------------------------------------------------------- evaluation: draft → published


def test_evaluation_publish_by_role_and_state(world, evaluator, other_evaluator, project):
    ev = evaluations.create_evaluation(evaluator, project, title="Essai", counts=REFERENCE)
    lc = lifecycles.EVALUATION
    assert refused(lc, evaluator, "publish", ev) is None
    for who in (other_evaluator, world.carrier_admin, world.reviewer, world.auditor, policy.SYSTEM):
        assert refused(lc, who, "publish", ev) is PermissionDenied
    assert [m.action for m in lc.available(evaluator, ev)] == ["publish"]
    assert lc.available(world.carrier_admin, ev) == [] and lc.available(None, ev) == []
    evaluations.publish_evaluation(evaluator, ev)
    ev.refresh_from_db()
    assert ev.status == Evaluation.State.PUBLISHED and ev.published_at and ev.published_on
    assert Event.objects.filter(type="evaluation.published", subject_id=str(ev.pk)).count() == 1
    with pytest.raises(InvalidTransition, match="déjà publiée"):
        lc.check(evaluator, "publish", ev)
    assert refused(lc, other_evaluator, "publish", ev) is PermissionDenied  # who before state


def test_evaluation_delete_only_a_draft_of_ones_own(world, evaluator, other_evaluator, project):
    ev = evaluations.create_evaluation(evaluator, project, title="Essai", counts=REFERENCE)
    with pytest.raises(PermissionDenied):
        evaluations.delete_evaluation(other_evaluator, ev)
    evaluations.publish_evaluation(evaluator, ev)
    with pytest.raises(InvalidTransition):
        evaluations.delete_evaluation(evaluator, ev)
    assert Evaluation.objects.filter(pk=ev.pk).exists()


# ---------------------------------------------------------------- algorithm sheet: draft → published


def test_sheet_publish_by_role_and_state(world, evaluator, project):
    sheet = sheets.create_sheet(world.carrier_admin, project, SHEET)
    lc = lifecycles.SHEET
    for who in (world.carrier_admin, world.carrier_member):
        assert refused(lc, who, "publish", sheet) is None
    for who in (world.reviewer, world.signatory, evaluator, world.auditor, policy.SYSTEM):
        assert refused(lc, who, "publish", sheet) is PermissionDenied
    sheets.publish_sheet(world.carrier_member, sheet)
    sheet.refresh_from_db()
    assert sheet.status == AlgorithmSheet.State.PUBLISHED and sheet.published_on
    assert (
        Event.objects.filter(type="algorithm_sheet.published", subject_id=str(sheet.pk)).count()
        == 1
    )
    with pytest.raises(InvalidTransition, match="déjà publiée"):
        sheets.publish_sheet(world.carrier_admin, sheet)
    assert Event.objects.filter(type="algorithm_sheet.published").count() == 1


# ---------------------------------------------------------------- experiment: draft → preregistered → assigned


def _experiment(world, project):  # type: ignore[no-untyped-def]
    return experiments.design_experiment(
        world.carrier_admin,
        project,
        hypothesis="La liste aide à candidater.",
        outcome="retour à l'emploi",
        baseline_rate=0.2,
        mde_points=2,
    )


def test_experiment_moves_by_state(world, project):
    exp = _experiment(world, project)
    lc = lifecycles.EXPERIMENT
    with pytest.raises(InvalidTransition, match="Pré-enregistrez"):
        lc.check(world.carrier_admin, "assign", exp)
    experiments.preregister(
        world.carrier_member, exp
    )  # the designing organisation, any of its members
    exp.refresh_from_db()
    assert exp.status == Experiment.State.PREREGISTERED and exp.preregistered_at and exp.plan_hash
    with pytest.raises(InvalidTransition, match="déjà pré-enregistrée"):
        experiments.preregister(world.carrier_admin, exp)
    experiments.assign_units(world.carrier_admin, exp, [f"u{i:03d}" for i in range(20)])
    exp.refresh_from_db()
    assert exp.status == Experiment.State.ASSIGNED and exp.assigned_at and exp.allocation_sha256
    with pytest.raises(InvalidTransition, match="déjà été faite"):
        experiments.assign_units(world.carrier_admin, exp, ["x1", "x2"])
    with pytest.raises(InvalidTransition, match="déjà pré-enregistrée"):
        lc.check(world.carrier_admin, "preregister", exp)
    assert [
        e.type
        for e in Event.objects.filter(subject_type="experiment", subject_id=exp.slug).order_by(
            "index"
        )
    ] == ["experiment.designed", "experiment.preregistered", "experiment.assigned"]


def test_experiment_moves_by_role(world, evaluator, project):
    exp = _experiment(world, project)
    lc = lifecycles.EXPERIMENT
    for who in (world.reviewer, evaluator, world.auditor, policy.SYSTEM):
        assert refused(lc, who, "preregister", exp) is PermissionDenied
    experiments.preregister(world.carrier_admin, exp)
    exp.refresh_from_db()
    for who in (world.reviewer, evaluator, policy.SYSTEM):
        assert refused(lc, who, "assign", exp) is PermissionDenied
    assert refused(lc, world.carrier_member, "assign", exp) is None


def test_designing_an_experiment_takes_the_carrier_or_an_evaluator(world, evaluator, project):
    assert _experiment(world, project).created_by == world.carrier
    exp = experiments.design_experiment(
        evaluator,
        project,
        hypothesis="La liste aide à candidater.",
        outcome="retour à l'emploi",
        baseline_rate=0.2,
        mde_points=2,
    )
    assert exp.created_by == world.evaluator_org
    with pytest.raises(PermissionDenied):
        experiments.design_experiment(
            world.reviewer,
            project,
            hypothesis="La liste aide à candidater.",
            outcome="retour à l'emploi",
            baseline_rate=0.2,
            mde_points=2,
        )


# ---------------------------------------------------------------- panel call: open → drawn


def test_panel_draw_by_role_and_state(world, project):
    call = panels.open_panel_call(
        world.reviewer, project, title="Panel", target_size=2, targets={"16-25": 2}
    )
    lc = lifecycles.PANEL_CALL
    for who in (world.reviewer, world.signatory):  # the opening organisation, any of its members
        assert refused(lc, who, "draw", call) is None
    for who in (world.carrier_admin, world.outsider_reviewer, policy.SYSTEM):
        assert refused(lc, who, "draw", call) is PermissionDenied
    panels.draw_panel(world.signatory, call)
    call.refresh_from_db()
    assert call.status == PanelCall.State.DRAWN and call.drawn_at
    assert Event.objects.filter(type="panel.drawn", subject_id=str(call.pk)).count() == 1
    with pytest.raises(InvalidTransition, match="déjà eu lieu"):
        panels.draw_panel(world.reviewer, call)


# ---------------------------------------------------------------- feedback: visible → hidden


def test_feedback_hide_by_role_state_and_reason(world, evaluator, project, active):
    f = feedback.give_feedback(UserFactory(), project, body="Publicité sans rapport.")
    lc = lifecycles.FEEDBACK
    reason = "Message publicitaire sans rapport (charte)."
    for who in (
        world.carrier_member,
        world.carrier_admin,
        world.reviewer,
    ):  # carrier or partner institution
        assert refused(lc, who, "hide", f, reason) is None
    for who in (world.outsider_reviewer, evaluator, policy.SYSTEM):
        assert refused(lc, who, "hide", f, reason) is PermissionDenied
    assert refused(lc, world.reviewer, "hide", f, "court") is ValidationFailed
    feedback.hide_feedback(world.reviewer, f, reason)
    f.refresh_from_db()
    assert f.hidden and f.hidden_reason == reason
    data = json.loads(Event.objects.get(type="feedback.hidden").entry)["data"]
    assert data["feedback"] == f.pk and data["reason"] == reason
    with pytest.raises(InvalidTransition, match="déjà masqué"):
        feedback.hide_feedback(world.carrier_admin, f, reason)
