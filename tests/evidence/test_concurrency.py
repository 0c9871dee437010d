"""Issue 9: numbers handed out in evidence never collide under concurrent writers — algorithm
sheet versions (the project row is locked, a unique constraint backs it) and experiment slugs
(the next free suffix is taken in a savepoint) — and no writer gets a server error."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client

from pacte.accounts.services import create_api_token
from pacte.evidence.models import AlgorithmSheet, Experiment
from tests.evidence.test_audits_sheets import SHEET

EXPERIMENT = {
    "hypothesis": "La liste d'entreprises augmente le retour à l'emploi.",
    "outcome": "retour à l'emploi",
    "baseline_rate": 0.2,
    "mde_points": 2,
    "slug": "essai-simultane",
}


def _posts_at_once(acting, url: str, body: dict, threads: int, per_thread: int) -> list[int]:  # type: ignore[no-untyped-def]
    """``threads`` clients released together by a barrier, each posting ``per_thread`` times."""
    _, raw = create_api_token(acting.user, acting.organisation, "t")
    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            client = Client()
            barrier.wait()
            for _ in range(per_thread):
                r = client.post(
                    url,
                    data=json.dumps(body),
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {raw}",
                )
                with lock:
                    statuses.append(r.status_code)
        finally:
            connections.close_all()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return statuses


def _sheets_at_once(world, threads: int, per_thread: int) -> None:  # type: ignore[no-untyped-def]
    project = world.project()
    statuses = _posts_at_once(
        world.carrier_admin,
        "/api/v1/algorithm-sheets",
        {**SHEET, "project": project.slug},
        threads,
        per_thread,
    )
    assert statuses == [201] * (threads * per_thread)
    versions = sorted(
        AlgorithmSheet.objects.filter(project=project, title=SHEET["title"]).values_list(
            "version", flat=True
        )
    )
    assert versions == list(range(1, threads * per_thread + 1))


def _designs_at_once(world, threads: int) -> None:  # type: ignore[no-untyped-def]
    project = world.project()
    statuses = _posts_at_once(
        world.carrier_admin,
        "/api/v1/experiments",
        {**EXPERIMENT, "project": project.slug},
        threads,
        1,
    )
    assert statuses == [201] * threads
    slugs = set(Experiment.objects.filter(project=project).values_list("slug", flat=True))
    assert slugs == {"essai-simultane"} | {f"essai-simultane-{n}" for n in range(2, threads + 1)}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL variant")
def test_two_sheets_created_at_once_get_versions_1_and_2_postgresql(world):
    _sheets_at_once(world, 2, 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL variant")
def test_many_sheets_created_at_once_get_consecutive_versions_postgresql(world):
    _sheets_at_once(world, 8, 3)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite variant")
def test_many_sheets_created_at_once_get_consecutive_versions_sqlite(world):
    _sheets_at_once(world, 8, 3)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL variant")
def test_experiments_designed_at_once_with_one_slug_get_distinct_slugs_postgresql(world):
    _designs_at_once(world, 6)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite variant")
def test_experiments_designed_at_once_with_one_slug_get_distinct_slugs_sqlite(world):
    _designs_at_once(world, 6)


@pytest.mark.django_db
def test_the_database_refuses_two_sheets_with_one_version(world, project):
    AlgorithmSheet.objects.create(project=project, version=1, **{k: v for k, v in SHEET.items()})
    with pytest.raises(IntegrityError), transaction.atomic():
        AlgorithmSheet.objects.create(
            project=project, version=1, **{k: v for k, v in SHEET.items()}
        )
