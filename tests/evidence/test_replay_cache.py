"""The public replay endpoint computes the (expensive, deterministic) replay once and serves it."""

from __future__ import annotations

import pytest
from django.test import override_settings

from pacte.engines import assignment as asg
from pacte.evidence import experiments, replay
from pacte.evidence.models import Experiment
from pacte.evidence.replay import report_as_json
from tests.evidence.test_experiments import design

pytestmark = pytest.mark.django_db


@pytest.fixture
def assign_calls(monkeypatch):  # type: ignore[no-untyped-def]
    """Counts the real assignments computed (the engine still runs; only the calls are counted)."""
    calls: list[int] = []
    real = asg.assign

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(asg, "assign", counting)
    return calls


def assigned(world, project, n: int = 300) -> Experiment:  # type: ignore[no-untyped-def]
    exp = experiments.preregister(world.carrier_admin, design(world, project))
    experiments.assign_units(world.carrier_admin, exp, [f"pseudo-{i:04d}" for i in range(n)])
    return Experiment.objects.get(pk=exp.pk)


def test_second_anonymous_call_does_not_recompute(client, world, project, assign_calls):
    exp = assigned(world, project)
    assert exp.replay_report is None  # the worker has not run in this test
    before = len(assign_calls)
    first = client.get(f"/api/v1/experiments/{exp.slug}/replay")
    assert first.status_code == 200 and first.json()["ok"] is True
    assert len(assign_calls) == before + 1
    for _ in range(3):
        again = client.get(f"/api/v1/experiments/{exp.slug}/replay")
        assert again.json() == first.json()
    assert len(assign_calls) == before + 1  # served from the stored result
    exp.refresh_from_db()
    assert exp.replay_report == first.json() and first.json()["checked_at"]


def test_stored_result_equals_a_fresh_recomputation(client, world, project):
    exp = assigned(world, project)
    served = client.get(f"/api/v1/experiments/{exp.slug}/replay").json()
    fresh = report_as_json(replay.replay_from_log(exp.slug))
    assert {k: v for k, v in served.items() if k != "checked_at"} == fresh
    assert fresh["counts"] == {"control": 150, "treatment": 150}


@override_settings(
    TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
)
def test_the_worker_stores_the_replay_right_after_the_assignment(
    client, world, project, assign_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        exp = assigned(world, project)
    exp.refresh_from_db()
    assert exp.replay_report is not None and exp.replay_report["ok"] is True
    calls = len(assign_calls)
    assert client.get(f"/api/v1/experiments/{exp.slug}/replay").json() == exp.replay_report
    assert len(assign_calls) == calls


def test_nothing_is_stored_before_the_assignment(client, world, project):
    exp = experiments.preregister(world.carrier_admin, design(world, project))
    r = client.get(f"/api/v1/experiments/{exp.slug}/replay")
    assert r.status_code == 200 and r.json()["ok"] is False
    exp.refresh_from_db()
    assert exp.replay_report is None  # the answer will change once the units are assigned


def test_unknown_experiment_is_a_json_404(client, db):
    r = client.get("/api/v1/experiments/inconnue/replay")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
