"""Tier 3, issue 8 and 9: a tiny ρ is refused at once; no budget reservation outlives its request."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from pacte.data.gateway import aggregates
from pacte.data.gateway.aggregates import (
    STALE_RESERVATION_MINUTES,
    _give_back,
    dp_aggregates,
    release_stale_reservations,
)
from pacte.data.models import Grant, Release, Reservation
from pacte.engines import privacy
from pacte.journal.models import Event
from tests.data.conftest import call

AGG = "/api/v1/data/embauches/aggregates"
QUERY = {
    "group_by": ["region"],
    "aggregates": [{"op": "count"}, {"op": "mean", "column": "monthly_salary_eur"}],
    "rho": 0.005,
}


def _data(event: Event) -> dict[str, Any]:
    return json.loads(event.entry)["data"]


def _budget_intact(grant: Grant, hiring: Any) -> None:
    grant.refresh_from_db()
    dv = hiring.current_version
    dv.refresh_from_db()
    assert grant.rho_spent == 0 and dv.rho_spent == 0
    assert not Reservation.objects.filter(state=Reservation.State.RESERVED).exists()
    assert not Release.objects.exists()


def _bounded_call(token: str, body: Any, seconds: float = 120.0) -> Any:
    """The request runs in a thread joined with a timeout: a regression (a spinning noise or
    margin computation) fails the test instead of hanging it. A guard, not a synchronisation."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["response"] = call(token, AGG, body)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            box["error"] = e
        finally:
            connections.close_all()

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"the request did not answer within {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["response"]


@pytest.mark.django_db(transaction=True)
def test_tiny_rho_is_a_clear_400_that_reserves_nothing(world, active, hiring):
    """Issue 8: ρ = 1e-300 or 1e-40 never answered and left its reservation `reserved`."""
    from tests.data.conftest import DP_COLUMNS, grant_for

    grant, token = grant_for(world, active, hiring, 3, DP_COLUMNS)
    for rho in (1e-300, 1e-40, privacy.MIN_RHO / 2):
        r = _bounded_call(token, QUERY | {"rho": rho})
        assert r.status_code == 400, r.content
        body = r.json()
        assert body["error"] == "query_refused" and "minimum" in body["message"]
        assert f"{privacy.MIN_RHO:g}" in body["message"]
    _budget_intact(grant, hiring)
    refused = Event.objects.filter(type="data.query", subject_id=grant.reference)
    assert refused.count() == 3 and all(_data(e)["outcome"] == "refused" for e in refused)


def test_failed_engine_input_gives_the_reservation_back(dp_grant, hiring):
    """A real input that passes the cheap checks but fails inside the engine (a text value for an
    integer column): 400, and the ρ reserved for it is given back in the failure's transaction."""
    grant, token = dp_grant
    body = {
        "aggregates": [{"op": "count"}],
        "filters": [{"column": "contract_days", "op": "eq", "value": "trente"}],
        "rho": 0.005,
    }
    r = call(token, AGG, body)
    assert r.status_code == 400 and "type" in r.json()["message"], r.content
    _budget_intact(grant, hiring)
    res = Reservation.objects.get(grant=grant)
    assert res.state == Reservation.State.RELEASED and "type" in res.reason
    failed = [
        e
        for e in Event.objects.filter(type="data.query", subject_id=grant.reference)
        if _data(e).get("outcome") == "failed"
    ]
    assert len(failed) == 1 and _data(failed[0])["budget_released"] == pytest.approx(0.005)


def test_failure_while_publishing_gives_the_reservation_back(dp_grant, hiring, monkeypatch):
    """The engine answers, but what it answers cannot be stored: the publishing transaction rolls
    back, and the reservation is released (not left `reserved`)."""
    grant, token = dp_grant
    real = aggregates.compute_release

    def unstorable(*args: Any, **kwargs: Any) -> privacy.Release:
        release = real(*args, **kwargs)
        cells = [dict(c, extra={object()}) for c in release.cells]  # not JSON: the INSERT fails
        return privacy.Release(
            **{**{f: getattr(release, f) for f in release.__dataclass_fields__}, "cells": cells}
        )

    monkeypatch.setattr(aggregates, "compute_release", unstorable)
    r = call(token, AGG, QUERY)
    assert r.status_code == 503 and "rendu" in r.json()["message"]
    _budget_intact(grant, hiring)
    assert Reservation.objects.get(grant=grant).state == Reservation.State.RELEASED


def test_interrupted_worker_gives_the_reservation_back(dp_grant, hiring, monkeypatch):
    """SystemExit / KeyboardInterrupt (a worker told to stop) during the computation: the
    reservation is released on the way out and the interruption propagates."""
    grant, _token = dp_grant

    def stopped(*args: Any, **kwargs: Any) -> Any:
        raise SystemExit("worker stopping")

    monkeypatch.setattr(aggregates, "compute_release", stopped)
    with pytest.raises(SystemExit):
        dp_aggregates(Grant.objects.get(pk=grant.pk), "embauches", QUERY)
    _budget_intact(grant, hiring)
    assert Reservation.objects.get(grant=grant).reason == "worker stopping"


def test_give_back_is_idempotent(dp_grant, hiring):
    grant, token = dp_grant
    assert call(token, AGG, QUERY).status_code == 200
    res = Reservation.objects.get(grant=grant)
    assert res.state == Reservation.State.SPENT
    assert _give_back(res, "ne doit rien rendre") is False
    grant.refresh_from_db()
    assert grant.rho_spent == pytest.approx(0.005)
    assert Reservation.objects.get(pk=res.pk).state == Reservation.State.SPENT


def _orphan(grant: Grant, rho: float, age: timedelta) -> Reservation:
    """What a killed process leaves: ρ reserved on the grant and the version, no release."""
    g = Grant.objects.get(pk=grant.pk)
    dv = g.dataset_version
    g.rho_spent += rho
    dv.rho_spent += rho
    g.save(update_fields=["rho_spent"])
    dv.save(update_fields=["rho_spent"])
    res = Reservation.objects.create(grant=g, rho=rho, fingerprint="f" * 64)
    Reservation.objects.filter(pk=res.pk).update(at=timezone.now() - age)
    return res


def test_sweep_releases_stale_reservations_only(dp_grant, hiring):
    grant, token = dp_grant
    old = _orphan(grant, 0.004, timedelta(minutes=STALE_RESERVATION_MINUTES + 5))
    young = _orphan(grant, 0.002, timedelta(minutes=1))
    assert release_stale_reservations() == 1
    assert Reservation.objects.get(pk=old.pk).state == Reservation.State.RELEASED
    assert "balayage" in Reservation.objects.get(pk=old.pk).reason
    assert Reservation.objects.get(pk=young.pk).state == Reservation.State.RESERVED
    grant.refresh_from_db()
    assert grant.rho_spent == pytest.approx(0.002)
    assert release_stale_reservations() == 0  # idempotent
    assert release_stale_reservations(timedelta(seconds=0)) == 1
    grant.refresh_from_db()
    hiring.current_version.refresh_from_db()
    assert grant.rho_spent == pytest.approx(
        0
    ) and hiring.current_version.rho_spent == pytest.approx(0)
    swept = [
        e
        for e in Event.objects.filter(type="data.query", subject_id=grant.reference)
        if _data(e).get("outcome") == "failed"
    ]
    assert len(swept) == 2
    # the budget freed by the sweep is usable again
    assert call(token, AGG, QUERY).status_code == 200


def test_sweep_task_and_command(dp_grant, hiring, capsys):
    from pacte.data import cli, tasks

    grant, _ = dp_grant
    _orphan(grant, 0.001, timedelta(hours=1))
    assert tasks.release_stale_reservations_task.call() == 1
    _orphan(grant, 0.001, timedelta(hours=1))
    import argparse

    assert (
        cli.cmd_reservations(argparse.Namespace(action="release-stale", older_than_minutes=30)) == 0
    )
    assert "rendues : 1" in capsys.readouterr().out
    assert not Reservation.objects.filter(state=Reservation.State.RESERVED).exists()


def test_limits_are_published_on_the_rules_page_and_in_the_api(db):
    from django.urls import reverse

    client = Client()
    page = client.get(reverse("data:rules"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-limit="min_rho">0,000001<' in html and 'data-limit="max_rho">0,1<' in html
    rules = client.get("/api/v1/proportionality").json()
    assert (
        rules["dp_limits"]["min_rho"] == privacy.MIN_RHO
        and rules["dp_limits"]["max_rho"] == privacy.MAX_RHO
    )
    schema = client.get("/api/v1/openapi.json").json()
    body = schema["paths"]["/api/v1/data/{dataset}/aggregates"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    rho = body["schema"]["properties"]["rho"]
    assert rho["minimum"] == privacy.MIN_RHO and rho["maximum"] == privacy.MAX_RHO
