"""Exact-then-noise (issue 15, branch dp2): the DuckDB exact aggregate plus OpenDP's noise gives
what OpenDP's own Polars plan gives — the same exact aggregate (the plan's, drawn at a vanishing
noise scale), the same noise scales and the same ρ spent — and the truncated aggregate equals an
independent pandas computation (Hypothesis).

OpenDP draws its noise from the operating system's randomness (no seed), so two releases of the
same query differ by construction: what must be equal is everything before the noise, and the
noise's distribution (scale, accounting).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacte.data.gateway.engines import DuckDBEngine
from pacte.engines import privacy
from pacte.engines.privacy import engine as plan
from pacte.engines.privacy.exact import null_imputation
from pacte.engines.privacy.limits import TRUNCATION_SEED

REGIONS = ["R1", "R2", "R3", "R4"]  # R4 never occurs in the data
CONTRACTS = ["CDI", "CDD", "INTERIM"]
BOUNDS = (500, 4_000)
K = 3
duckdb_query = DuckDBEngine().query


def _spec(source: Path, view: Path | None, k: int = K, bounds: tuple[int, int] = BOUNDS) -> Any:
    roles = privacy.ColumnRole
    return privacy.DatasetSpec(
        paths=(str(source),),
        version_id="embauches@t",
        columns={
            "person_id": roles.DIRECT_IDENTIFIER,
            "region": roles.PUBLIC_KEY,
            "contract_type": roles.QUASI_IDENTIFIER,
            "salary": roles.MEASURE,
        },
        bounds={"salary": bounds},
        key_sets={"region": REGIONS, "contract_type": CONTRACTS},
        max_rows=10**6,
        max_contributions=k,
        person_column="person_id" if view is not None else None,
        dp_paths=(str(view),) if view is not None else (),
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Persons with 1 to 7 rows each, salaries beyond both bounds and ~10 % missing."""
    rng = np.random.default_rng(15)
    n = 6000
    salary = rng.integers(-1_000, 6_000, n)
    df = pl.DataFrame(
        {
            "person_id": rng.integers(0, 1500, n),
            "region": rng.choice(REGIONS[:3], n),
            "contract_type": rng.choice(CONTRACTS, n, p=[0.6, 0.3, 0.1]),
            "salary": pl.Series(
                [None if m else int(v) for v, m in zip(salary, rng.random(n) < 0.1, strict=True)],
                dtype=pl.Int64,
            ),
        }
    )
    folder = tmp_path_factory.mktemp("exact")
    source = folder / "source.parquet"
    df.write_parquet(source)
    view = folder / "view.parquet"
    privacy.truncate_per_person([source], "person_id", K, view)
    return source, view


QUERIES: list[dict[str, Any]] = [
    {"group_by": ["region"], "aggregates": [{"op": "count"}]},
    {
        "group_by": ["region", "contract_type"],
        "aggregates": [{"op": "count"}, {"op": "mean", "column": "salary"}],
        "filters": [{"column": "contract_type", "op": "in", "value": ["CDI", "INTERIM"]}],
    },
    {"aggregates": [{"op": "count"}, {"op": "sum", "column": "salary"}]},
]
IDS = ["grouped-count", "filtered-mean", "global-sum"]

VANISHING = 1e-9
"""A noise scale at which OpenDP's discrete Gaussian returns 0 (P(≠ 0) ≈ 2·exp(−1/(2σ²)))."""


def _plan_without_noise(spec: Any, q: privacy.Query) -> pl.DataFrame:
    """OpenDP's own plan (truncation, filters, clipping, imputation, key sets), run at a vanishing
    noise scale under a huge ρ: the exact values that plan adds its noise to."""
    source = plan._open_source(spec, q)
    prims = plan._primitives(q)
    rho = 1e30
    context, d_in = plan._privacy_context(spec, q, source, rho, "closed_form")
    scales = dict.fromkeys(prims, VANISHING)
    dpq = plan._plan(spec, q, source, context, prims, scales)
    meas, _ = plan._measurement(dpq, d_in, rho, prims, scales, True)
    out = context(meas).lazy().collect()
    return out.sort(list(q.group_by)) if q.group_by else out


@pytest.mark.parametrize("query", QUERIES, ids=IDS)
def test_duckdb_exact_aggregate_equals_opendp_plans(
    files: tuple[Path, Path], query: dict[str, Any]
) -> None:
    source, view = files
    q = privacy.parse_query(query)
    for spec in (_spec(source, view), _spec(source, None)):  # person unit (view), row unit
        exact, prims = privacy.exact_cells(spec, q, duckdb_query)
        reference = _plan_without_noise(spec, q).select(exact.columns)
        assert exact.equals(reference), (exact, reference)
        if q.group_by:  # every key of the public sets, in order, absent ones as zeros
            assert exact.height == math.prod(len(spec.key_sets[c]) for c in q.group_by)
            assert exact.filter(pl.col("region") == "R4")[prims[0].alias].to_list() == [0] * (
                exact.height // len(REGIONS)
            )


def test_the_imputed_value_of_a_missing_measure_is_opendps(tmp_path: Path) -> None:
    source = tmp_path / "nulls.parquet"
    pl.DataFrame(
        {
            "person_id": [1, 2, 3],
            "region": ["R1", "R1", "R2"],
            "contract_type": ["CDI", "CDI", "CDD"],
            "salary": pl.Series([None, None, 7], dtype=pl.Int64),
        }
    ).write_parquet(source)
    q = privacy.parse_query({"aggregates": [{"op": "sum", "column": "salary"}]})
    for bounds in ((0, 1), (-101, 50), (-7, -4), (1, 4), (500, 4_000)):
        spec = _spec(source, None, k=1, bounds=bounds)
        exact, _ = privacy.exact_cells(spec, q, duckdb_query)
        clipped = min(max(7, bounds[0]), bounds[1])
        assert exact["__sum_salary"].item() == 2 * null_imputation(*bounds) + clipped
        assert exact["__sum_salary"].item() == _plan_without_noise(spec, q)["__sum_salary"].item()


@pytest.mark.parametrize("query", QUERIES, ids=IDS)
def test_same_noise_scales_and_same_rho_spent_as_opendps_plan(
    files: tuple[Path, Path], query: dict[str, Any]
) -> None:
    source, view = files
    spec = _spec(source, view)
    rho = 0.01
    reference = privacy.run_query(spec, query, rho)
    release = privacy.run_query_on(spec, query, rho, duckdb_query, "duckdb")
    assert release.executor == "duckdb" and reference.executor == "polars"
    # OpenDP's maps, given each path's sensitivity at the same σ, spend the same ρ: the
    # sensitivity the exact path claims is the one OpenDP derives for its plan
    assert release.rho_spent == pytest.approx(reference.rho_spent, rel=1e-12)
    assert release.rho_spent <= rho
    for mine, theirs in zip(release.aggregates, reference.aggregates, strict=True):
        assert mine.noise_scale == theirs.noise_scale
        assert mine.margin_95 == theirs.margin_95
        assert mine.components == theirs.components
    assert release.privacy_unit == reference.privacy_unit
    assert release.fingerprint == reference.fingerprint
    assert release.rows_considered == reference.rows_considered
    q = privacy.parse_query(query)
    keys = [tuple(c[k] for k in q.group_by) for c in release.cells]
    assert keys == [tuple(c[k] for k in q.group_by) for c in reference.cells]


def test_the_duckdb_release_is_noisy_around_the_exact_counts(files: tuple[Path, Path]) -> None:
    source, view = files
    spec = _spec(source, view)
    q = privacy.parse_query(QUERIES[1])
    exact, _ = privacy.exact_cells(spec, q, duckdb_query)
    release = privacy.run_query_on(spec, q, 0.01, duckdb_query, "duckdb")
    sigma = release.aggregates[0].noise_scale
    assert sigma is not None and sigma > 5
    counts = [c["count"] for c in release.cells]
    truth = exact["__len"].to_list()
    assert counts != truth  # noise was added (P(12 zero draws at σ ≈ 52) ≈ 1e-21)
    assert all(abs(a - b) <= 8 * sigma for a, b in zip(counts, truth, strict=True))


# --------------------------------------------------------------------------- Hypothesis

_rows = st.lists(
    st.tuples(
        st.integers(0, 7),  # person
        st.sampled_from(REGIONS[:3]),
        st.sampled_from(CONTRACTS),
        st.one_of(st.none(), st.integers(-3_000, 9_000)),
    ),
    min_size=1,
    max_size=60,
)


def _pandas_oracle(
    frame: pl.DataFrame, k: int, bounds: tuple[int, int], contracts: list[str]
) -> pd.DataFrame:
    """Truncation, filter, clipping, imputation and grouping done by pandas alone. The only input
    it borrows is the public order key of the truncation (the seeded hash of each row)."""
    order = frame.select(
        pl.struct([pl.col(c) for c in frame.columns]).hash(seed=TRUNCATION_SEED).alias("h")
    )["h"]
    df = frame.to_pandas()
    df["h"] = order.to_numpy()
    kept = df.sort_values(["person_id", "h"]).groupby("person_id", sort=False).head(k)
    kept = kept[kept["contract_type"].isin(contracts)]
    lo, hi = bounds
    middle = (lo + hi) / 2
    kept = kept.assign(
        clipped=kept["salary"].clip(lo, hi).fillna(math.trunc(middle)).astype("int64"),
        present=kept["salary"].notna().astype("int64"),
    )
    grouped = kept.groupby("region").agg(
        __len=("clipped", "size"),
        __sum_salary=("clipped", "sum"),
        __count_salary=("present", "sum"),
    )
    return grouped.reindex(REGIONS, fill_value=0).reset_index()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=_rows,
    k=st.integers(1, 3),
    bounds=st.tuples(st.integers(-500, 2_000), st.integers(0, 3_000)).filter(
        lambda b: b[0] <= b[1]
    ),
    contracts=st.lists(st.sampled_from(CONTRACTS), min_size=1, max_size=3, unique=True),
)
def test_truncated_exact_aggregate_equals_a_pandas_oracle(
    rows: list[tuple[int, str, str, int | None]],
    k: int,
    bounds: tuple[int, int],
    contracts: list[str],
) -> None:
    frame = pl.DataFrame(
        rows,
        schema={
            "person_id": pl.Int64,
            "region": pl.String,
            "contract_type": pl.String,
            "salary": pl.Int64,
        },
        orient="row",
    )
    with tempfile.TemporaryDirectory() as folder:
        source, view = Path(folder) / "s.parquet", Path(folder) / "v.parquet"
        frame.write_parquet(source)
        privacy.truncate_per_person([source], "person_id", k, view)
        spec = _spec(source, view, k=k, bounds=bounds)
        q = privacy.parse_query(
            {
                "group_by": ["region"],
                "aggregates": [{"op": "count"}, {"op": "mean", "column": "salary"}],
                "filters": [{"column": "contract_type", "op": "in", "value": contracts}],
            }
        )
        exact, _ = privacy.exact_cells(spec, q, duckdb_query)
    oracle = _pandas_oracle(frame, k, bounds, contracts)
    assert exact["region"].to_list() == oracle["region"].to_list()
    for column in ("__len", "__sum_salary", "__count_salary"):
        assert exact[column].to_list() == [int(v) for v in oracle[column]], column


def test_the_shared_duckdb_database_keeps_each_threads_tables_apart(
    files: tuple[Path, Path],
) -> None:
    """One database per process, one cursor per thread: two threads reading two different files
    under the same table name each get their own file's answer, and no view outlives a query."""
    from concurrent.futures import ThreadPoolExecutor

    source, view = files
    expected = {
        str(p): pl.scan_parquet(p).select(pl.len()).collect().item() for p in (source, view)
    }
    assert expected[str(source)] != expected[str(view)]
    engine = DuckDBEngine()

    def count(path: str) -> int:
        return int(engine.query('SELECT COUNT(*) FROM "t"', {"t": [path]})[0][0])

    with ThreadPoolExecutor(max_workers=2) as pool:
        paths = [str(source), str(view)] * 6
        assert list(pool.map(count, paths)) == [expected[p] for p in paths]
    with pytest.raises(Exception, match="t"):
        engine.query('SELECT COUNT(*) FROM "t"', {})
