"""Compliance engine on a simulated clock: due soon → missed → breached → breach notified →
suspended → broken, and the cure / reinstatement paths when evidence arrives."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from pacte.evidence import evaluations, panels
from pacte.evidence.compliance import BREACH_GRACE_DAYS, run_compliance
from pacte.evidence.models import ComplianceCase
from pacte.journal.models import Event
from pacte.pacts.models import Commitment, Status
from tests.conftest import activate
from tests.evidence.conftest import REFERENCE
from tests.queue import run_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def pact(world, content):  # type: ignore[no-untyped-def]
    """A pact whose only dated commitments are the impact evaluation (carrier) and the State's."""
    from pacte.pacts.drafting import create_pact

    for c in content["commitments"]:
        if c["principle"]:
            c["due_date"] = None  # recurring principle commitments, measured elsewhere
    version = create_pact(world.carrier_admin, world.project(), world.institution, content)
    return activate(world, version)


def due(version, key):  # type: ignore[no-untyped-def]
    return version.commitments.get(key=key).due_date


def status(version, key):  # type: ignore[no-untyped-def]
    return version.commitments.get(key=key).status


def refreshed(version):  # type: ignore[no-untyped-def]
    version.refresh_from_db()
    return version


def test_full_breach_path_to_broken(pact):
    d = due(pact, "impact-evaluation")
    run_compliance(d - timedelta(days=20))
    assert status(pact, "impact-evaluation") == "on_track"
    run_compliance(d - timedelta(days=10))
    assert status(pact, "impact-evaluation") == "due_soon"
    run_compliance(d + timedelta(days=1))
    assert status(pact, "impact-evaluation") == "missed" and refreshed(pact).status == Status.ACTIVE
    breach_day = d + timedelta(days=BREACH_GRACE_DAYS + 1)
    report = run_compliance(breach_day)
    assert status(pact, "impact-evaluation") == "breached"
    assert refreshed(pact).status == Status.BREACH_NOTIFIED
    assert pact.cure_deadline == breach_day + timedelta(days=30)
    assert any(t.endswith("breach_notified") for t in report.transitions)
    run_compliance(breach_day)  # idempotent
    assert ComplianceCase.objects.count() == 1
    run_compliance(pact.cure_deadline)  # the deadline day itself is still within the cure period
    assert refreshed(pact).status == Status.BREACH_NOTIFIED
    suspension_day = pact.cure_deadline + timedelta(days=1)
    run_compliance(suspension_day)
    assert refreshed(pact).status == Status.SUSPENDED
    run_compliance(suspension_day + timedelta(days=30))
    assert refreshed(pact).status == Status.SUSPENDED
    run_compliance(suspension_day + timedelta(days=31))
    assert refreshed(pact).status == Status.BROKEN
    entries = [
        json.loads(e)
        for e in Event.objects.filter(subject_id=pact.pact.reference)
        .order_by("index")
        .values_list("entry", flat=True)
    ]
    types = [
        e["type"]
        for e in entries
        if not e["type"].startswith("commitment.")
        or e["data"].get("commitment") == "impact-evaluation"
    ]
    order = [
        "commitment.due_soon",
        "commitment.missed",
        "commitment.breached",
        "pact.breach_notified",
        "pact.suspended",
        "sanction.applied",
        "pact.broken",
    ]
    assert [types.index(t) for t in order] == sorted(types.index(t) for t in order)
    breach = json.loads(
        Event.objects.get(type="pact.breach_notified", subject_id=pact.pact.reference).entry
    )
    assert breach["actor"]["role"] == "system" and "impact-evaluation" in breach["data"]["reason"]


def test_evidence_during_cure_period_cures_the_pact(pact, evaluator):
    d = due(pact, "impact-evaluation")
    breach_day = d + timedelta(days=BREACH_GRACE_DAYS + 1)
    run_compliance(breach_day)
    assert refreshed(pact).status == Status.BREACH_NOTIFIED
    ev = evaluations.create_evaluation(
        evaluator, pact.pact.project, title="Évaluation tardive", counts=REFERENCE
    )
    evaluations.publish_evaluation(
        evaluator, ev, today=breach_day + timedelta(days=5)
    )  # recomputes on new evidence
    assert status(pact, "impact-evaluation") == "met"
    assert refreshed(pact).status == Status.ACTIVE and pact.cure_deadline is None
    assert ComplianceCase.objects.get().status == "cured"
    assert Event.objects.filter(type="pact.cured", subject_id=pact.pact.reference).exists()


def test_evidence_while_suspended_reinstates(pact, evaluator):
    d = due(pact, "impact-evaluation")
    breach_day = d + timedelta(days=BREACH_GRACE_DAYS + 1)
    run_compliance(breach_day)
    run_compliance(breach_day + timedelta(days=31))
    assert refreshed(pact).status == Status.SUSPENDED
    ev = evaluations.create_evaluation(
        evaluator, pact.pact.project, title="Évaluation très tardive", counts=REFERENCE
    )
    evaluations.publish_evaluation(evaluator, ev, today=breach_day + timedelta(days=40))
    assert refreshed(pact).status == Status.ACTIVE
    assert Event.objects.filter(type="pact.reinstated", subject_id=pact.pact.reference).exists()


def test_evidence_published_before_the_due_date_meets_the_commitment(pact, evaluator):
    d = due(pact, "impact-evaluation")
    ev = evaluations.create_evaluation(
        evaluator, pact.pact.project, title="À l'heure", counts=REFERENCE
    )
    evaluations.publish_evaluation(evaluator, ev, today=d - timedelta(days=3))
    run_compliance(d + timedelta(days=100))
    assert status(pact, "impact-evaluation") == "met"
    assert refreshed(pact).status == Status.ACTIVE


def test_state_side_breach_is_recorded_and_notified_without_sanctioning_the_carrier(
    pact, world, mailoutbox, django_capture_on_commit_callbacks
):
    d = due(pact, "state-panel")
    with django_capture_on_commit_callbacks(execute=True):
        report = run_compliance(d + timedelta(days=BREACH_GRACE_DAYS + 1))
    run_queue()  # the notices are delivered by the worker
    assert status(pact, "state-panel") == "breached"
    assert f"{pact.pact.reference}:state-panel" in report.state_breaches
    assert (
        refreshed(pact).status == Status.ACTIVE
    )  # the State's failure does not sanction the carrier
    e = json.loads(Event.objects.filter(type="commitment.breached").last().entry)
    assert e["data"]["owner"] in ("institution",)
    assert any("institution" in m.subject for m in mailoutbox)
    panels.open_panel_call(
        world.reviewer,
        pact.pact.project,
        title="Panel enfin ouvert",
        target_size=10,
        targets={"16-25": 10},
        today=d + timedelta(days=20),
    )
    assert status(pact, "state-panel") == "met"


def test_grant_commitment_without_grant_stays_on_track_before_due(pact):
    # works whether or not the data domain's Grant model is installed (skipped gracefully when absent)
    run_compliance(due(pact, "state-data-access") - timedelta(days=30))
    assert status(pact, "state-data-access") == "on_track"


def test_cli_and_task(pact, capsys):
    from pacte.cli import main
    from pacte.evidence.tasks import run_compliance_task

    d = due(pact, "impact-evaluation")
    assert main(["compliance", "run", "--today", (d + timedelta(days=2)).isoformat()]) == 0
    assert "missed : " in capsys.readouterr().out
    assert main(["compliance", "run", "--today", "demain"]) == 2
    result = run_compliance_task.call((d + timedelta(days=BREACH_GRACE_DAYS + 1)).isoformat())
    assert any(t.endswith("breach_notified") for t in result["transitions"])
    assert status(pact, "impact-evaluation") == Commitment.State.BREACHED
    _ = date
