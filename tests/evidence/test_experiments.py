"""Experiments: sample size, pre-registration before assignment, replay from the log alone."""

from __future__ import annotations

import json

import pytest

from pacte.engines.impact import required_sample_size
from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.evidence import evaluations, experiments, replay
from pacte.evidence.models import Assignment
from pacte.journal.models import Event
from tests.evidence.conftest import bearer, outcomes_csv, post

pytestmark = pytest.mark.django_db


def design(world, project, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault(
        "hypothesis", "Montrer les entreprises qui recrutent accélère le retour à l'emploi."
    )
    kw.setdefault("outcome", "Retour à l'emploi durable à 6 mois")
    kw.setdefault("baseline_rate", 0.20)
    kw.setdefault("mde_points", 2.0)
    return experiments.design_experiment(world.carrier_admin, project, **kw)


def test_platform_computes_the_sample_size(world, project):
    exp = design(world, project)
    assert exp.required_per_arm == required_sample_size(0.20, 0.02).n_control
    assert 6000 < exp.required_per_arm < 6600  # ~6,500 per arm for 20 % → 22 % at 80 % power


def test_audience_outcome_refused(world, project):
    with pytest.raises(ValidationFailed, match="audience"):
        design(world, project, outcome="Nombre de téléchargements de l'application")


def test_assignment_requires_preregistration_first(world, project):
    exp = design(world, project)
    with pytest.raises(InvalidTransition, match="Pré-enregistrez"):
        experiments.assign_units(world.carrier_admin, exp, ["a", "b"])


def test_preregistration_is_logged_before_assignment_and_replay_matches(world, project):
    exp = design(world, project)
    exp = experiments.preregister(world.carrier_admin, exp)
    units = [f"pseudo-{i:05d}" for i in range(1000)]
    allocation = experiments.assign_units(world.carrier_admin, exp, units)
    types = list(
        Event.objects.filter(subject_type="experiment", subject_id=exp.slug)
        .order_by("index")
        .values_list("type", flat=True)
    )
    assert types.index("experiment.preregistered") < types.index("experiment.assigned")
    pre = json.loads(Event.objects.get(type="experiment.preregistered").entry)["data"]
    assert "seed" not in pre and len(pre["seed_commitment"]) == 64 and len(pre["plan_hash"]) == 64
    done = json.loads(Event.objects.get(type="experiment.assigned").entry)["data"]
    assert done["units"] == {"range": {"prefix": "pseudo-", "start": 0, "count": 1000, "width": 5}}
    assert sorted(done["counts"].values()) == [500, 500]
    report = replay.replay_from_log(exp.slug)
    assert report.ok, report.checks
    assert report.counts == {"control": 500, "treatment": 500}
    assert dict(Assignment.objects.values_list("unit_id", "arm")) == allocation


def test_replay_detects_a_tampered_assignment(world, project):
    exp = experiments.preregister(world.carrier_admin, design(world, project))
    experiments.assign_units(world.carrier_admin, exp, ["u1", "x7", "k3", "z9"])
    a = Assignment.objects.filter(experiment=exp).first()
    a.arm = "treatment" if a.arm == "control" else "control"
    a.save()
    report = replay.replay_from_log(exp.slug)
    assert not report.ok
    assert ("affectation enregistrée identique au recalcul", False) in report.checks


def test_cli_replay_exit_codes(world, project, capsys):
    from pacte.cli import main

    exp = experiments.preregister(world.carrier_admin, design(world, project))
    experiments.assign_units(world.carrier_admin, exp, [f"u{i}" for i in range(50)])
    assert main(["evidence", "replay", exp.slug]) == 0
    assert "vérifiée" in capsys.readouterr().out
    Assignment.objects.filter(experiment=exp, arm="control").update(arm="treatment")
    assert main(["evidence", "replay", exp.slug]) == 1
    assert main(["evidence", "replay", "inconnue"]) == 2


def test_evaluation_checks_outcomes_against_the_published_assignment(world, evaluator, project):
    exp = experiments.preregister(world.carrier_admin, design(world, project))
    units = [f"u{i}" for i in range(40)]
    allocation = experiments.assign_units(world.carrier_admin, exp, units)
    good = "unit_id,arm,outcome\n" + "\n".join(
        f"{u},{allocation[u]},{i % 2}" for i, u in enumerate(units)
    )
    ev = evaluations.create_evaluation(
        evaluator, project, title="Essai lié", csv_data=good.encode(), experiment=exp
    )
    assert ev.n_treatment == ev.n_control == 20 and ev.experiment == exp
    flipped = {u: ("control" if a == "treatment" else "treatment") for u, a in allocation.items()}
    bad = "unit_id,arm,outcome\n" + "\n".join(f"{u},{flipped[u]},1" for u in units)
    with pytest.raises(ValidationFailed) as exc:
        evaluations.create_evaluation(
            evaluator, project, title="Essai faux", csv_data=bad.encode(), experiment=exp
        )
    assert "intention de traiter" in " ".join(exc.value.field_errors["fichier"])


def test_only_the_designer_runs_the_experiment(world, project):
    exp = design(world, project)
    with pytest.raises(PermissionDenied):
        experiments.preregister(world.reviewer, exp)


def test_experiment_api_flow(client, world, project):
    h = bearer(world.carrier_admin)
    r = post(
        client,
        "/api/v1/experiments",
        {
            "project": project.slug,
            "hypothesis": "Une hypothèse testable ici.",
            "outcome": "Retour à l'emploi",
            "baseline_rate": 0.2,
            "mde_points": 5,
        },
        h,
    )
    assert r.status_code == 201, r.content
    slug = r.json()["slug"]
    assert r.json()["required_per_arm"] > 0 and r.json()["seed"] is None
    assert post(client, f"/api/v1/experiments/{slug}/preregister", {}, h).status_code == 200
    r = post(
        client, f"/api/v1/experiments/{slug}/assign", {"unit_ids": [f"p{i}" for i in range(10)]}, h
    )
    assert r.status_code == 200 and r.json()["seed"] and sum(r.json()["counts"].values()) == 10
    assert client.get(f"/api/v1/experiments/{slug}/replay").json()["ok"] is True
    _ = outcomes_csv  # shared helper
