from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from pacte.data import demo_data
from pacte.data.catalogue import publish_dataset
from pacte.data.demo import cohort_schema, hiring_schema
from pacte.data.gateway import engines
from pacte.data.grants import issue_token
from pacte.data.ingestion import add_version, file_sha256, normalise_parquet
from pacte.data.requests import approve_request, create_request, submit_request

ROWS = 4_000
HIRING_K = 3  # rows kept per person in DP aggregates (person unit)


@pytest.fixture(scope="session")
def spark() -> Iterator[engines.SparkEngine]:
    """One SparkSession for the whole test session (``local[2]``, UI off, few partitions)."""
    engine = engines.SparkEngine(master="local[2]", remote="")
    engine.session()
    yield engine
    engines.SparkEngine.stop()


@pytest.fixture(scope="session")
def parquet_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("datasets")
    hiring = demo_data.generate_hiring_declarations(ROWS, 11, base / "hiring.parquet")
    cohort = demo_data.generate_jobseeker_cohort(ROWS, 11, base / "cohort.parquet")
    for p in (hiring, cohort):
        normalise_parquet(p)
    return {"hiring": hiring, "cohort": cohort}


def _publish(
    world: Any,
    slug: str,
    path: Path,
    schema: dict[str, Any],
    sensitivity: int,
    enterprise: str = "",
    k: int = 1,
) -> Any:
    ds = publish_dataset(
        world.data_steward,
        publisher=world.institution,
        slug=slug,
        title=f"Jeu {slug}",
        description="Jeu de test",
        sensitivity=sensitivity,
        certified=True,
        keywords=["test"],
    )
    add_version(
        world.data_steward,
        ds,
        version="v1",
        paths=[str(path)],
        schema=schema,
        row_count=ROWS,
        person_column="person_id",
        enterprise_column=enterprise,
        sha256=file_sha256(path),
        byte_size=path.stat().st_size,
        rho_cap=1.0,
        max_contributions=k,
    )
    ds.refresh_from_db()
    return ds


@pytest.fixture
def hiring(world, parquet_files):  # type: ignore[no-untyped-def]
    return _publish(
        world,
        "embauches",
        parquet_files["hiring"],
        hiring_schema(),
        2,
        "establishment_id",
        k=HIRING_K,
    )


@pytest.fixture
def cohort(world, parquet_files):  # type: ignore[no-untyped-def]
    return _publish(world, "cohorte", parquet_files["cohort"], cohort_schema(), 3)


REQUEST_FIELDS = dict(
    purpose="Repérer les entreprises qui recrutent pour orienter les candidatures (mission du pacte).",
    legal_basis="Mission d'intérêt public",
    retention_months=12,
    recipients="Équipe projet",
    dpo_contact="dpo@example.org",
    volumetry="10 requêtes par semaine",
)


def request_for(
    world: Any,
    version: Any,
    dataset: Any,
    tier: int,
    columns: list[str] | None = None,
    acting: Any = None,
    **extra: Any,
) -> Any:
    req = create_request(
        acting or world.carrier_admin,
        version.pact,
        dataset,
        tier=tier,
        columns=columns or [],
        **(REQUEST_FIELDS | extra),
    )
    return submit_request(acting or world.carrier_admin, req)


def approve_all(world: Any, req: Any, population: int = 3_000_000, severity: int = 2) -> Any:
    outcome = None
    for reviewer in (world.reviewer, world.reviewer2, world.data_steward):
        outcome = approve_request(reviewer, req, population=population, severity=severity)
        if outcome.grant is not None or outcome.request.status == "refused":
            break
    return outcome


def grant_for(
    world: Any,
    version: Any,
    dataset: Any,
    tier: int,
    columns: list[str] | None = None,
    acting: Any = None,
) -> tuple[Any, str]:
    req = request_for(world, version, dataset, tier, columns, acting=acting)
    outcome = approve_all(world, req)
    assert outcome.grant is not None, outcome.request.last_reason
    token = issue_token(acting or world.carrier_admin, outcome.grant)
    return outcome.grant, token


DP_COLUMNS = ["region", "naf_sector", "contract_type", "monthly_salary_eur", "contract_days"]


@pytest.fixture
def dp_grant(world, active, hiring):  # type: ignore[no-untyped-def]
    return grant_for(world, active, hiring, 3, DP_COLUMNS)


def call(token: str, path: str, body: Any = None, method: str = "post") -> Any:
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "get":
        return client.get(path, **headers)
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **headers)
