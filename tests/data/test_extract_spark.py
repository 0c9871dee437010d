"""Issue 15: the pseudonymised extract (tier 2) on Spark gives the rows, order, report and file
fingerprint of the embedded engine (Polars), on the demo data.

One SparkSession for the whole test session (the ``spark`` fixture of ``tests/data/conftest.py``).
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import polars as pl
import pytest

from pacte.data.gateway import engines
from pacte.data.gateway.extracts import tier2_view
from pacte.engines import pseudonymise
from pacte.engines.pseudonymise_spark import spark_pseudonymised_extract
from tests.data.conftest import call, grant_for

COLUMNS = [
    "person_id",
    "establishment_id",
    "departement",
    "naf_sector",
    "age",
    "sex",
    "hire_date",
    "monthly_salary_eur",
    "contract_days",
]
QIS = ["departement", "age", "sex", "hire_date"]


def test_tier2_view_is_the_same_on_spark(
    spark: engines.SparkEngine,
    world: Any,
    active: Any,
    hiring: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grant, _ = grant_for(world, active, hiring, 2, COLUMNS)
    monkeypatch.setenv("PACTE_GATEWAY_ENGINE", "duckdb")
    embedded = tier2_view(grant, COLUMNS)
    monkeypatch.setenv("PACTE_GATEWAY_ENGINE", "spark")
    distributed = tier2_view(grant, COLUMNS)
    assert distributed.report == embedded.report
    assert embedded.report.rows_suppressed > 0  # the suppression path is exercised
    a, b = embedded.frame.collect(), distributed.frame.collect()
    assert b.height == embedded.report.rows_out > 0
    assert a.schema == b.schema
    assert a.equals(b)  # same rows, same order (the files' order), same pseudonyms
    # and what they agree on is k-anonymous in persons (independent check with pandas)
    assert b.to_pandas().groupby(QIS)["person_id"].nunique().min() >= 11


def test_spark_extract_without_person_column_or_quasi_identifiers(
    spark: engines.SparkEngine, hiring: Any
) -> None:
    paths = list(hiring.current_version.paths)
    key = b"0123456789abcdef-grant-key"
    by_rows = pseudonymise.ExtractSpec(
        direct_identifiers=["establishment_id"],
        pseudonymised=["person_id"],
        quasi_identifiers={
            "age": pseudonymise.age_hierarchy(),
            "sex": pseudonymise.suppress_only(),
        },
        kept=["region"],
    )
    no_qi = dataclasses.replace(by_rows, quasi_identifiers={}, person_column="person_id")
    for spec in (by_rows, no_qi):
        embedded = pseudonymise.pseudonymised_extract(paths, spec, key)
        distributed = spark_pseudonymised_extract(spark.session(), paths, spec, key)
        assert distributed.report == embedded.report
        assert distributed.frame.collect().equals(embedded.frame.collect())


def test_extract_through_the_api_has_the_same_fingerprint_on_each_engine(
    spark: engines.SparkEngine,
    world: Any,
    active: Any,
    hiring: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, token = grant_for(world, active, hiring, 2, COLUMNS)
    served = {}
    for name in ("duckdb", "spark"):
        monkeypatch.setenv("PACTE_GATEWAY_ENGINE", name)
        r = call(token, "/api/v1/data/embauches/extract", method="get")
        assert r.status_code == 200, r.content
        body = b"".join(r.streaming_content)
        served[name] = (r["X-Pacte-Output-SHA256"], r["X-Pacte-Rows"], body)
    assert served["spark"] == served["duckdb"]
    out = pl.read_csv(io.BytesIO(served["spark"][2]), infer_schema_length=0)
    assert out.height == int(served["spark"][1]) > 0
