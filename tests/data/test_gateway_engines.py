"""Issue 15, part 5: the gateway's engines (DuckDB embedded, Apache Spark) give the same answers.

One SparkSession for the whole test session (the ``spark`` fixture of ``tests/data/conftest.py``).
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest

from pacte.data.gateway import engines
from pacte.data.gateway.aggregates import dataset_spec
from pacte.engines import privacy
from tests.data.conftest import DP_COLUMNS, call

AGG = "/api/v1/data/embauches/aggregates"

QUERIES: list[dict[str, Any]] = [
    {
        "group_by": ["region"],
        "aggregates": [{"op": "count"}, {"op": "mean", "column": "monthly_salary_eur"}],
    },
    {
        "group_by": ["region", "contract_type"],
        "aggregates": [{"op": "sum", "column": "contract_days"}],
        "filters": [{"column": "naf_sector", "op": "in", "value": ["C", "F", "G"]}],
    },
    {"aggregates": [{"op": "count"}, {"op": "sum", "column": "monthly_salary_eur"}]},
]


@pytest.mark.parametrize("query", QUERIES, ids=["grouped-mean", "filtered-sum", "global"])
def test_exact_aggregates_equal_on_duckdb_and_spark(
    spark: engines.SparkEngine, active: Any, hiring: Any, query: dict[str, Any]
) -> None:
    spec = dataset_spec(hiring.current_version, DP_COLUMNS)
    assert spec.dp_paths  # the truncated view written at ingestion
    q = privacy.parse_query(query)
    on_duckdb, prims = privacy.exact_cells(spec, q, engines.DuckDBEngine().query)
    on_spark, _ = privacy.exact_cells(spec, q, spark.query)
    assert on_duckdb.equals(on_spark)
    # and what they agree on is right: the exact count of the view, by Polars
    view = pl.read_parquet(list(spec.dp_paths))
    for f in q.filters:
        view = view.filter(pl.col(f.column).is_in(list(f.values)))
    if any(p.kind == "len" for p in prims):
        expected = (
            view.group_by(list(q.group_by)).len()
            if q.group_by
            else pl.DataFrame({"len": [len(view)]})
        )
        total = int(expected["len"].sum())
        assert int(on_duckdb["__len"].sum()) == total > 0
    else:  # clipped to the bounds, a missing value counted as their midpoint (OpenDP's sum)
        lo, hi = spec.bounds["contract_days"]
        assert view["contract_days"].null_count() > 0  # CDIs have no contract length
        assert int(on_duckdb["__sum_contract_days"].sum()) == int(
            view["contract_days"].clip(lo, hi).fill_null(math.trunc((lo + hi) / 2)).sum()
        )
    if q.group_by:  # every cell of the public key sets, absent ones as zeros
        assert on_duckdb.height == math.prod(len(spec.key_sets[c]) for c in q.group_by)


def test_the_sql_spark_runs_is_the_transpiled_duckdb_sql(active: Any, hiring: Any) -> None:
    spec = dataset_spec(hiring.current_version, DP_COLUMNS)
    q = privacy.parse_query(QUERIES[1])
    sql = privacy.exact_sql(spec, q, pl.scan_parquet(list(spec.dp_paths)).collect_schema())
    spark_sql = engines.SparkEngine.transpile(sql)
    assert "`region`" in spark_sql and "GROUP BY" in spark_sql and '"' not in spark_sql


def test_dp_release_through_the_api_on_each_engine(
    spark: engines.SparkEngine, dp_grant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant, token = dp_grant
    spec = dataset_spec(grant.dataset_version, DP_COLUMNS)
    exact, _ = privacy.exact_cells(
        spec, privacy.parse_query(QUERIES[0]), engines.DuckDBEngine().query
    )
    truth = dict(zip(exact["region"].to_list(), exact["__len"].to_list(), strict=True))
    for name, rho in (("duckdb", 0.005), ("spark", 0.006)):  # two releases, not the cache
        monkeypatch.setenv("PACTE_GATEWAY_ENGINE", name)
        r = call(token, AGG, QUERIES[0] | {"rho": rho})
        assert r.status_code == 200, r.content
        body = r.json()
        assert body["cached"] is False and len(body["cells"]) == 18
        assert body["rho_spent"] == pytest.approx(rho)
        sigma = body["noise_scale"]["count"]
        # the same noise step on either engine: every noisy count within 7 σ of the exact one
        for cell in body["cells"]:
            assert abs(cell["count"] - truth[cell["region"]]) <= 7 * sigma


def test_an_unknown_engine_is_a_clear_refusal(
    dp_grant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant, token = dp_grant
    monkeypatch.setenv("PACTE_GATEWAY_ENGINE", "oracle")
    r = call(token, AGG, QUERIES[0] | {"rho": 0.005})
    assert r.status_code == 422  # ValidationFailed: a 4xx with the variable named
    assert "PACTE_GATEWAY_ENGINE" in r.content.decode()
    grant.refresh_from_db()
    assert grant.rho_spent == 0
