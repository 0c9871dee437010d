"""Writers mixing the API's write endpoints at once: no server error, nothing half-done."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from django.db import connection, connections
from django.test import Client

from pacte.accounts.services import create_api_token
from pacte.data.models import Reservation
from pacte.journal.services import verify_log
from pacte.pacts.models import Pact
from tests.data.conftest import DP_COLUMNS, grant_for, hiring, parquet_files  # noqa: F401 (fixtures)

REGIONS = ["11", "24", "27", "28", "32", "44", "52", "53"]


def _mixed(world, active, hiring, writers: int) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _, dp_token = grant_for(world, active, hiring, 3, DP_COLUMNS)
    _, raw = create_api_token(world.carrier_admin.user, world.carrier_admin.organisation, "t")
    carrier = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    ref, number = active.pact.reference, active.number
    commitment = active.commitments.filter(owner="carrier").order_by("id").first().key
    project = active.pact.project.slug
    barrier = threading.Barrier(writers)
    answers: list[tuple[str, int]] = []
    lock = threading.Lock()

    def post(client: Client, what: str, path: str, body: object, auth: dict[str, str]) -> dict:
        r = client.post(path, data=json.dumps(body), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()), **auth)
        with lock:
            answers.append((what, r.status_code))
        return r.json()

    def worker(i: int) -> None:
        try:
            client = Client()
            barrier.wait()
            drafted = post(client, "draft", "/api/v1/pacts",
                           {"project": project, "institution": "agence", "content": {"title": f"Brouillon {i}"}},
                           carrier)
            post(client, "evidence", f"/api/v1/pacts/{ref}/versions/{number}/commitments/{commitment}/evidence",
                 {"progress": 10 + i, "note": f"Preuve concurrente {i}"}, carrier)
            post(client, "dp", "/api/v1/data/embauches/aggregates",
                 {"group_by": ["naf_sector"], "filters": [{"column": "region", "op": "eq", "value": REGIONS[i % len(REGIONS)]}],
                  "rho": 0.001}, {"HTTP_AUTHORIZATION": f"Bearer {dp_token}"})
            if "pact" in drafted:
                post(client, "withdraw", f"/api/v1/pacts/{drafted['pact']}/versions/1/transitions/withdraw",
                     {"reason": "Retrait pendant le test de concurrence"}, carrier)
        finally:
            connections.close_all()

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(writers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(answers) == 4 * writers, answers
    assert all(status < 500 for _, status in answers), answers
    assert all(status in (200, 201) for what, status in answers if what != "dp"), answers
    assert all(status in (200, 429) for what, status in answers if what == "dp"), answers
    drafts = Pact.objects.filter(versions__content__title__startswith="Brouillon ")
    assert drafts.count() == writers and drafts.filter(versions__status="withdrawn").count() == writers
    assert not Reservation.objects.filter(state=Reservation.State.RESERVED).exists()
    report = verify_log()
    assert report.ok, report.problems


@pytest.mark.parametrize("writers", [8, 32])
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL variant")
def test_mixed_writers_postgresql(world, active, hiring, writers):  # noqa: F811
    _mixed(world, active, hiring, writers)


@pytest.mark.parametrize("writers", [8, 32])
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite variant")
def test_mixed_writers_sqlite(world, active, hiring, writers):  # noqa: F811
    _mixed(world, active, hiring, writers)
