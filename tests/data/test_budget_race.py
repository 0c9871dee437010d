"""Concurrent DP requests against one grant can never spend more than its budget."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from pacte.data.models import Grant, Release, Reservation
from tests.data.conftest import DP_COLUMNS, call, grant_for

THREADS = 8
PER_THREAD = 3


def _race(world, active, hiring):
    grant, token = grant_for(world, active, hiring, 3, DP_COLUMNS)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for j in range(PER_THREAD):
                # distinct fingerprints (no cache): same cost ρ_query, different filters
                region = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93"][
                    (i * PER_THREAD + j) % 12
                ]
                body = {
                    "group_by": ["naf_sector"],
                    "filters": [
                        {
                            "column": "contract_type",
                            "op": "in",
                            "value": ["CDI", "CDD", "MIS"][: 1 + (i + j) % 3],
                        },
                        {"column": "region", "op": "eq", "value": region},
                    ],
                    "rho": grant.rho_query,
                }
                r = call(token, "/api/v1/data/embauches/aggregates", body)
                with lock:
                    results.append((r.status_code, r.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    grant = Grant.objects.get(pk=grant.pk)
    statuses = [s for s, _ in results]
    assert len(results) == THREADS * PER_THREAD
    assert set(statuses) <= {200, 429}, results
    fresh = [b for s, b in results if s == 200 and not b["cached"]]
    spent = sum(b["rho_spent"] for b in fresh)
    assert spent <= grant.rho_grant + 1e-9
    assert grant.rho_spent == pytest.approx(spent)
    assert sum(r.rho for r in Release.objects.filter(grant=grant)) == pytest.approx(grant.rho_spent)
    assert not Reservation.objects.filter(grant=grant, state=Reservation.State.RESERVED).exists()
    refused = [b for s, b in results if s == 429]
    assert refused and all("épuisé" in b["message"] for b in refused)
    # the budget was used up to the last query that fits
    assert grant.rho_grant - grant.rho_spent < grant.rho_query


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SELECT … FOR UPDATE race: PostgreSQL"
)
def test_budget_race_postgresql(world, active, hiring):
    _race(world, active, hiring)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite variant")
def test_budget_race_sqlite(world, active, hiring, settings):
    name = str(connection.settings_dict["NAME"])
    if ":memory:" in name or "mode=memory" in name:
        pytest.skip(
            "in-memory SQLite test database: shared-cache locks are not BEGIN IMMEDIATE locks"
        )
    _race(world, active, hiring)
