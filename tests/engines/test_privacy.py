from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import opendp.prelude as dp
import polars as pl
import pytest

from pacte.engines.privacy import (
    ColumnRole,
    DatasetSpec,
    QueryError,
    fingerprint,
    l2_sensitivity,
    noise_scale,
    parse_query,
    rho_cost,
    run_query,
)

REGIONS = [f"R{i:02d}" for i in range(6)]  # R05 never occurs in the data
CONTRACTS = ["CDI", "CDD", "INTERIM"]
N = 4000
BOUNDS = (0, 100_000)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[DatasetSpec, pl.DataFrame]:
    rng = np.random.default_rng(42)
    df = pl.DataFrame(
        {
            "person_id": np.arange(N),
            "region": rng.choice(REGIONS[:5], N),
            "contract_type": rng.choice(CONTRACTS, N, p=[0.6, 0.3, 0.1]),
            "salary": rng.integers(15_000, 90_000, N),
            "age": rng.integers(18, 65, N),
        }
    )
    path = Path(tmp_path_factory.mktemp("dp")) / "jobs.parquet"
    df.write_parquet(path)
    spec = DatasetSpec(
        paths=(str(path),),
        version_id="jobs@v1",
        columns={
            "person_id": ColumnRole.DIRECT_IDENTIFIER,
            "region": ColumnRole.PUBLIC_KEY,
            "contract_type": ColumnRole.QUASI_IDENTIFIER,
            "salary": ColumnRole.MEASURE,
            "age": ColumnRole.MEASURE,
        },
        bounds={"salary": BOUNDS},  # age deliberately has no bounds
        key_sets={"region": REGIONS, "contract_type": CONTRACTS},
        max_rows=100_000,
    )
    return spec, df


def _by_region(cells: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["region"]: c for c in cells}


def test_closed_form_scale() -> None:
    assert noise_scale(1.0, 0.5) == pytest.approx(1.0)
    assert noise_scale(1.0, 0.005) == pytest.approx(10.0)
    assert l2_sensitivity("len", 1) == 1.0
    assert l2_sensitivity("sum", 2, (-5, 3)) == 10.0


def test_grouped_count_within_margin_and_scale_is_closed_form(
    data: tuple[DatasetSpec, pl.DataFrame],
) -> None:
    spec, df = data
    rho = 0.005
    r = run_query(spec, {"group_by": ["region"], "aggregates": [{"op": "count"}]}, rho)
    info = r.aggregates[0]
    sigma = 1.0 / math.sqrt(2 * rho)  # one aggregate gets all of rho
    assert info.noise_scale == pytest.approx(sigma, rel=1e-6)
    assert info.margin_95 is not None and 1.9 * sigma <= info.margin_95 <= 2.1 * sigma
    truth = dict(df.group_by("region").len().iter_rows())
    cells = _by_region(r.cells)
    assert list(cells) == REGIONS  # every registered key, in sorted order
    for region in REGIONS:
        assert abs(cells[region]["count"] - truth.get(region, 0)) <= 6 * sigma
    assert r.rho_spent <= rho and r.rho_spent == pytest.approx(rho, rel=1e-6)
    assert r.rows_considered == N
    assert r.calibration == "closed_form"


def test_missing_key_still_appears(data: tuple[DatasetSpec, pl.DataFrame]) -> None:
    spec, _ = data
    r = run_query(spec, {"group_by": ["region"]}, 0.01)
    cells = _by_region(r.cells)
    assert "R05" in cells  # never occurs in the data: noise around zero
    assert abs(cells["R05"]["count"]) <= 6 / math.sqrt(0.02)


def test_sum_mean_filters_two_keys(data: tuple[DatasetSpec, pl.DataFrame]) -> None:
    spec, df = data
    rho = 0.05
    q = {
        "group_by": ["region", "contract_type"],
        "aggregates": [
            {"op": "count"},
            {"op": "sum", "column": "salary"},
            {"op": "mean", "column": "salary"},
        ],
        "filters": [{"column": "contract_type", "op": "in", "value": ["CDI", "CDD"]}],
    }
    r = run_query(spec, q, rho)
    # 4 primitives: len, sum(salary), count(salary) — sum shared by sum and mean
    share = rho / 3
    infos = {a.name: a for a in r.aggregates}
    assert infos["count"].noise_scale == pytest.approx(1 / math.sqrt(2 * share), rel=1e-6)
    assert infos["sum_salary"].noise_scale == pytest.approx(
        100_000 / math.sqrt(2 * share), rel=1e-6
    )
    assert infos["mean_salary"].noise_scale is None
    assert set(infos["mean_salary"].components) == {"sum_noise_scale", "count_noise_scale"}
    assert len(r.cells) == len(REGIONS) * len(CONTRACTS)
    truth = {
        (row["region"], row["contract_type"]): row
        for row in df.filter(pl.col("contract_type").is_in(["CDI", "CDD"]))
        .group_by("region", "contract_type")
        .agg(pl.len().alias("n"), pl.col("salary").sum().alias("s"))
        .iter_rows(named=True)
    }
    s_count = infos["count"].noise_scale
    s_sum = infos["sum_salary"].noise_scale
    assert s_count is not None and s_sum is not None
    for c in r.cells:
        t = truth.get((c["region"], c["contract_type"]), {"n": 0, "s": 0})
        assert abs(c["count"] - t["n"]) <= 6 * s_count
        assert abs(c["sum_salary"] - t["s"]) <= 6 * s_sum
        if c["contract_type"] == "INTERIM":  # filtered out: pure noise around 0
            assert abs(c["count"]) <= 6 * s_count
        elif c["region"] != "R05" and c["mean_salary"] is not None:
            assert BOUNDS[0] <= c["mean_salary"] <= BOUNDS[1]
            assert c["mean_salary_margin_95"] > 0
            true_mean = t["s"] / t["n"]
            assert abs(c["mean_salary"] - true_mean) <= 3 * c["mean_salary_margin_95"] + 1


def test_eq_filter_and_no_group_by(data: tuple[DatasetSpec, pl.DataFrame]) -> None:
    spec, df = data
    rho = 0.01
    r = run_query(
        spec,
        {"filters": [{"column": "contract_type", "op": "eq", "value": "INTERIM"}]},
        rho,
    )
    assert len(r.cells) == 1
    true = df.filter(pl.col("contract_type") == "INTERIM").height
    assert abs(r.cells[0]["count"] - true) <= 6 / math.sqrt(2 * rho)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"group_by": ["age"]}, "jeu de clés enregistré"),
        ({"group_by": ["nope"]}, "colonne inconnue"),
        ({"aggregates": [{"op": "sum", "column": "age"}]}, "bornes publiques"),
        ({"aggregates": [{"op": "sum", "column": "ghost"}]}, "colonne inconnue"),
        ({"aggregates": [{"op": "median", "column": "salary"}]}, "opération inconnue"),
        ({"aggregates": [{"op": "sum", "column": "region"}]}, "n'est pas une mesure"),
        ({"filters": [{"column": "region", "op": "like", "value": "R%"}]}, "opérateur inconnu"),
        ({"filters": [{"column": "region", "op": "eq", "value": "ZZ"}]}, "absente"),
        ({"filters": [{"column": "person_id", "op": "eq", "value": 3}]}, "identifiant"),
        ({"group_by": ["person_id"]}, "jeu de clés"),
        ({"polars_plan": "..."}, "champ(s) inconnu(s)"),
        ({"aggregates": []}, "non vide"),
    ],
)
def test_invalid_queries(
    data: tuple[DatasetSpec, pl.DataFrame], query: dict[str, Any], message: str
) -> None:
    spec, _ = data
    with pytest.raises(QueryError) as exc:
        run_query(spec, query, 0.005)
    assert message in str(exc.value)
    assert isinstance(exc.value, ValueError)


@pytest.mark.parametrize("rho", [0.0, -0.1, 1.0, float("nan")])
def test_bad_rho(data: tuple[DatasetSpec, pl.DataFrame], rho: float) -> None:
    spec, _ = data
    with pytest.raises(QueryError, match="rho"):
        run_query(spec, {"group_by": ["region"]}, rho)
    with pytest.raises(QueryError):
        rho_cost({"group_by": ["region"]}, rho)


def test_rho_cost() -> None:
    assert rho_cost({"group_by": ["region"]}) == 0.005
    assert rho_cost({"group_by": ["region"], "rho": 0.02}) == 0.02
    assert rho_cost({"rho": 0.02}, 0.01) == 0.01


def test_fingerprints(data: tuple[DatasetSpec, pl.DataFrame]) -> None:
    spec, _ = data
    q1 = {
        "group_by": ["region", "contract_type"],
        "aggregates": [{"op": "count"}, {"op": "sum", "column": "salary"}],
        "filters": [{"column": "contract_type", "op": "in", "value": ["CDI", "CDD"]}],
    }
    q2 = {  # same query, different order
        "group_by": ["contract_type", "region"],
        "aggregates": [{"op": "sum", "column": "salary"}, {"op": "count"}],
        "filters": [{"column": "contract_type", "op": "in", "value": ["CDD", "CDI"]}],
    }
    f1 = fingerprint(q1, "jobs@v1", 0.005)
    assert f1 == fingerprint(q2, "jobs@v1", 0.005)
    assert len(f1) == 64
    assert f1 != fingerprint(q1, "jobs@v2", 0.005)
    assert f1 != fingerprint(q1, "jobs@v1", 0.01)
    assert f1 != fingerprint({**q1, "group_by": ["region"]}, "jobs@v1", 0.005)
    assert fingerprint({"filters": [{"column": "x", "op": "eq", "value": 1}]}, "v", 0.1) != (
        fingerprint({"filters": [{"column": "x", "op": "eq", "value": "1"}]}, "v", 0.1)
    )
    r1 = run_query(spec, q1, 0.005)
    r2 = run_query(spec, q2, 0.005)
    assert r1.fingerprint == r2.fingerprint == f1


def test_parse_query_json_text() -> None:
    q = parse_query('{"group_by": ["region"], "aggregates": [{"op": "count"}], "rho": 0.005}')
    assert q.group_by == ("region",) and q.rho == 0.005
    with pytest.raises(QueryError, match="JSON invalide"):
        parse_query("{not json")


def test_generic_resolution_gives_same_scale(data: tuple[DatasetSpec, pl.DataFrame]) -> None:
    spec, _ = data
    q = {"group_by": ["region"], "aggregates": [{"op": "count"}, {"op": "sum", "column": "salary"}]}
    fast = run_query(spec, q, 0.005)
    slow = run_query(spec, q, 0.005, calibration="resolve", executor="opendp")
    for a, b in zip(fast.aggregates, slow.aggregates, strict=True):
        assert a.noise_scale == pytest.approx(b.noise_scale, rel=1e-6)
    assert slow.rho_spent <= 0.005


def test_compositor_cannot_be_reused_hence_fresh_context(
    data: tuple[DatasetSpec, pl.DataFrame],
) -> None:
    """Why the engine builds a fresh OpenDP context per request.

    Measured with opendp 0.16.0: a compositor refuses a query whose privacy map exceeds
    its allowance (and, in this version, still accepts an affordable one afterwards);
    once its allowance has been used it refuses everything, however small. So a
    context can never serve a second request: the engine builds one per call.
    """
    spec, _ = data
    ctx: Any = dp.Context.compositor(
        data=pl.scan_parquet(spec.paths[0]),
        privacy_unit=dp.unit_of(contributions=1),
        privacy_loss=dp.loss_of(rho=0.01),
        split_evenly_over=1,
        margins=[dp.polars.Margin(by=[], max_length=100_000)],  # type: ignore[attr-defined]
    )

    def measurement(scale: float) -> Any:
        q = ctx.query().select(dp.len(scale=scale, signed=True))  # type: ignore[attr-defined]
        domain, metric = q._query._chain
        return dp.m.make_private_lazyframe(
            domain,
            metric,
            dp.zero_concentrated_divergence(),
            object.__getattribute__(q, "polars_plan"),
            global_scale=None,
        )

    m_ok, m_big, m_tiny = measurement(10.0), measurement(1.0), measurement(1000.0)
    assert m_big.map(1) > 0.01 >= m_ok.map(1)
    with pytest.raises(dp.OpenDPException):
        ctx(m_big)
    ctx(m_ok).collect()
    with pytest.raises(dp.OpenDPException):  # allowance used: even a tiny query is refused
        ctx(m_tiny)
    # the engine is unaffected: each call builds a fresh context
    for _ in range(3):
        assert run_query(spec, {"group_by": ["region"]}, 0.01).rho_spent <= 0.01


def test_spec_validation(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        DatasetSpec(paths=(), version_id="v", columns={})
    with pytest.raises(ValueError):
        DatasetSpec(paths=("x",), version_id="v", columns={}, bounds={"a": (5, 1)})
    with pytest.raises(ValueError):
        DatasetSpec(paths=("x",), version_id="v", columns={}, key_sets={"a": ["x", "x"]})


def test_max_contributions_scales_noise(data: tuple[DatasetSpec, pl.DataFrame]) -> None:
    spec, _ = data
    from dataclasses import replace

    spec2 = replace(spec, max_contributions=2)
    r = run_query(spec2, {"group_by": ["region"]}, 0.005)
    assert r.aggregates[0].noise_scale == pytest.approx(2 / math.sqrt(0.01), rel=1e-6)
    assert r.rho_spent <= 0.005


# --------------------------------------------------------------------------- person unit

K = 3


def _people(heavy: bool) -> pl.DataFrame:
    rng = np.random.default_rng(7)
    n = 3000
    df = pl.DataFrame(
        {
            "person_id": [f"p{i}" for i in rng.integers(0, 800, n)],
            "region": rng.choice(REGIONS[:5], n),
            "salary": rng.integers(15_000, 90_000, n),
        }
    )
    if heavy:  # one person with 100 declarations, spread over the regions
        df = pl.concat(
            [
                df,
                pl.DataFrame(
                    {
                        "person_id": ["heavy"] * 100,
                        "region": [REGIONS[i % 5] for i in range(100)],
                        "salary": list(range(20_000, 20_100)),
                    }
                ),
            ]
        )
    return df


def _person_spec(
    tmp: Path, df: pl.DataFrame, name: str, view: bool = True, k: int = K
) -> DatasetSpec:
    from pacte.engines.privacy import truncate_per_person

    path = tmp / f"{name}.parquet"
    df.write_parquet(path)
    dp_paths: tuple[str, ...] = ()
    if view:
        dp_paths = (truncate_per_person([path], "person_id", k, tmp / f"{name}.dp.parquet").path,)
    return DatasetSpec(
        paths=(str(path),),
        version_id=f"{name}@v1",
        columns={
            "person_id": ColumnRole.DIRECT_IDENTIFIER,
            "region": ColumnRole.PUBLIC_KEY,
            "salary": ColumnRole.MEASURE,
        },
        bounds={"salary": BOUNDS},
        key_sets={"region": REGIONS},
        max_rows=100_000,
        max_contributions=k,
        person_column="person_id",
        dp_paths=dp_paths,
    )


def test_truncated_view_keeps_at_most_k_rows_per_person(tmp_path: Path) -> None:
    from pacte.engines.privacy import person_rank

    df = _people(heavy=True)
    kept = df.filter(person_rank("person_id", df.columns) <= K)
    assert kept.group_by("person_id").len()["len"].max() == K
    spec = _person_spec(tmp_path, df, "with")
    view = pl.read_parquet(spec.dp_paths[0])
    assert "person_id" not in view.columns  # the view carries no identifier
    assert view.height == kept.height
    # deterministic: same rows kept when rebuilt
    assert _person_spec(tmp_path, df, "again").dp_paths
    assert pl.read_parquet(tmp_path / "again.dp.parquet").equals(view)


def test_a_heavy_person_moves_the_counts_by_at_most_k_before_noise(tmp_path: Path) -> None:
    """Neighbouring datasets (with / without a person with 100 rows): the truncated plan
    outputs differ by at most k rows in total (L1 ≥ L2), whatever their spread over cells."""
    with_p = _person_spec(tmp_path, _people(heavy=True), "with")
    without = _person_spec(tmp_path, _people(heavy=False), "without")

    def counts(spec: DatasetSpec) -> dict[str, int]:
        frame = pl.read_parquet(spec.dp_paths[0]).group_by("region").len()
        return dict(zip(frame["region"], frame["len"], strict=True))

    a, b = counts(with_p), counts(without)
    raw = _people(heavy=True).group_by("region").len()
    assert sum(abs(a.get(r, 0) - b.get(r, 0)) for r in REGIONS) <= K
    assert sum(raw["len"]) - sum(b.values()) > K  # …whereas untruncated it moves by 100
    salary_moves = (
        pl.read_parquet(with_p.dp_paths[0])["salary"].sum()
        - pl.read_parquet(without.dp_paths[0])["salary"].sum()
    )
    assert abs(salary_moves) <= K * BOUNDS[1]


def test_person_unit_scale_is_closed_form_for_k_and_published(tmp_path: Path) -> None:
    spec = _person_spec(tmp_path, _people(heavy=True), "with")
    rho = 0.005
    r = run_query(
        spec,
        {
            "group_by": ["region"],
            "aggregates": [{"op": "count"}, {"op": "sum", "column": "salary"}],
        },
        rho,
    )
    count, total = r.aggregates
    assert count.noise_scale == pytest.approx(K / math.sqrt(2 * rho / 2), rel=1e-6)
    assert total.noise_scale == pytest.approx(K * BOUNDS[1] / math.sqrt(2 * rho / 2), rel=1e-6)
    assert r.rho_spent <= rho
    unit = r.as_dict()["privacy_unit"]
    assert (
        unit["unit"] == "person"
        and unit["rows_per_unit"] == K
        and unit["person_column"] == "person_id"
    )


def test_opendp_identifier_route_agrees_with_the_view(tmp_path: Path) -> None:
    """Without a view, OpenDP's own identifier unit + truncate_per_group derive the same scale
    (its binary search finds k/√(2ρ) too)."""
    spec = _person_spec(tmp_path, _people(heavy=True), "ident", view=False)
    q = {"group_by": ["region"], "aggregates": [{"op": "count"}]}
    closed = run_query(spec, q, 0.01)
    searched = run_query(spec, q, 0.01, calibration="resolve")
    sigma = K / math.sqrt(2 * 0.01)
    assert closed.aggregates[0].noise_scale == pytest.approx(sigma, rel=1e-6)
    assert searched.aggregates[0].noise_scale == pytest.approx(sigma, rel=1e-3)
    assert closed.privacy_unit is not None and closed.privacy_unit.unit == "person"


def test_a_view_for_another_k_or_file_is_refused(tmp_path: Path) -> None:
    import dataclasses

    spec = _person_spec(tmp_path, _people(heavy=True), "with")
    with pytest.raises(RuntimeError, match="incohérente"):
        run_query(
            dataclasses.replace(spec, max_contributions=K + 1), {"group_by": ["region"]}, 0.01
        )
    other = _person_spec(tmp_path, _people(heavy=False), "other")
    with pytest.raises(RuntimeError, match="incohérente"):
        run_query(dataclasses.replace(spec, paths=other.paths), {"group_by": ["region"]}, 0.01)


def test_small_integer_columns_work(tmp_path: Path) -> None:
    df = pl.DataFrame(
        {
            "code": pl.Series([1, 2, 3, 1] * 50, dtype=pl.Int8),
            "flag": pl.Series([0, 1] * 100, dtype=pl.UInt8),
            "big": pl.Series(range(200), dtype=pl.Int16),
            "other": pl.Series([1] * 200, dtype=pl.Int16),  # never used by the query
        }
    )
    path = tmp_path / "small.parquet"
    df.write_parquet(path)
    spec = DatasetSpec(
        paths=(str(path),),
        version_id="small@v1",
        columns={
            "code": ColumnRole.PUBLIC_KEY,
            "flag": ColumnRole.MEASURE,
            "big": ColumnRole.MEASURE,
            "other": ColumnRole.MEASURE,
        },
        bounds={"flag": (0, 1), "big": (0, 300)},
        key_sets={"code": [1, 2, 3]},
        max_rows=1000,
    )
    r = run_query(
        spec,
        {
            "group_by": ["code"],
            "aggregates": [
                {"op": "count"},
                {"op": "sum", "column": "flag"},
                {"op": "mean", "column": "big"},
            ],
            "filters": [{"column": "code", "op": "in", "value": [1, 2]}],
        },
        0.05,
    )
    assert [c["code"] for c in r.cells] == [1, 2, 3]
    r2 = run_query(spec, {"aggregates": [{"op": "count"}]}, 0.05)
    assert abs(r2.cells[0]["count"] - 200) < 200


# --------------------------------------------------------------------------- bounded cost (issue 8)


def _bounded(fn: Any, seconds: float = 120.0) -> Any:
    """Run ``fn`` in a daemon thread and fail if it has not returned after ``seconds``.

    A guard so that a regression (a spinning OpenDP call) fails the test instead of hanging
    the suite; it is not a synchronisation sleep, and no timing is asserted.
    """
    import threading

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the test thread
            box["error"] = e

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s: the call spins"
    if "error" in box:
        raise box["error"]
    return box.get("value")


@pytest.mark.parametrize("rho", [1e-300, 1e-40, 1e-16, 9.9e-7])
def test_tiny_rho_is_refused_before_any_work(
    data: tuple[DatasetSpec, pl.DataFrame], rho: float
) -> None:
    """Issue 8: ρ = 1e-300 or 1e-40 made a worker spin for ever (σ ≈ 10¹⁵⁰ / 10¹⁹)."""
    from pacte.engines.privacy import MIN_RHO

    spec, _ = data
    with pytest.raises(QueryError, match="minimum") as exc:
        _bounded(lambda: run_query(spec, {"group_by": ["region"]}, rho))
    assert f"{MIN_RHO:g}" in str(exc.value)
    with pytest.raises(QueryError, match="minimum"):
        rho_cost({"group_by": ["region"], "rho": rho})


def test_min_rho_itself_is_served(data: tuple[DatasetSpec, pl.DataFrame]) -> None:
    from pacte.engines.privacy import MIN_RHO

    spec, _ = data
    r = _bounded(lambda: run_query(spec, {"group_by": ["region"]}, MIN_RHO))
    sigma = 1.0 / math.sqrt(2 * MIN_RHO)
    assert r.aggregates[0].noise_scale == pytest.approx(sigma, rel=1e-6)
    assert r.aggregates[0].margin_95 is not None and r.aggregates[0].margin_95 > 1.9 * sigma


def test_noise_scale_beyond_the_published_cap_is_refused(tmp_path: Path) -> None:
    """A legal ρ can still need a σ the noise machinery cannot honour (huge public bounds)."""
    from pacte.engines.privacy import MAX_NOISE_SCALE, MIN_RHO

    path = tmp_path / "big.parquet"
    pl.DataFrame({"g": ["a", "b"] * 50, "x": pl.Series(range(100), dtype=pl.Int64)}).write_parquet(
        path
    )
    spec = DatasetSpec(
        paths=(str(path),),
        version_id="big@1",
        columns={"g": ColumnRole.PUBLIC_KEY, "x": ColumnRole.MEASURE},
        bounds={"x": (0, 10**9)},
        key_sets={"g": ["a", "b"]},
        max_rows=1000,
    )
    query = {"group_by": ["g"], "aggregates": [{"op": "sum", "column": "x"}]}
    with pytest.raises(QueryError, match="maximum publié") as exc:
        _bounded(lambda: run_query(spec, query, MIN_RHO))
    assert f"{MAX_NOISE_SCALE:g}" in str(exc.value) and "« x »" in str(exc.value)


@pytest.mark.parametrize("scale", [50.0, 300.0, 1_000.0, 4_000.0, 10_000.0])
def test_closed_form_margin_agrees_with_opendp_discrete(scale: float) -> None:
    """Above DISCRETE_ACCURACY_MAX_SCALE the margin is the continuous one, ceil + 1: check that
    this bound is never below OpenDP's exact discrete accuracy, and at most 2 above it."""
    exact = dp.discrete_gaussian_scale_to_accuracy(scale, 0.05)
    closed = math.ceil(dp.gaussian_scale_to_accuracy(scale, 0.05)) + 1
    assert exact <= closed <= exact + 2


def test_margin_of_a_huge_scale_returns() -> None:
    from pacte.engines.privacy import accuracy_95

    value = _bounded(lambda: accuracy_95(7.07e19))
    assert value == pytest.approx(1.959964 * 7.07e19, rel=1e-5)
    with pytest.raises(ValueError):
        accuracy_95(float("inf"))


def test_published_limits_are_the_enforced_ones() -> None:
    from pacte.engines import privacy

    limits = privacy.published_limits()
    assert limits["min_rho"] == privacy.MIN_RHO and limits["max_rho"] == privacy.MAX_RHO
    assert limits["min_rho"] < limits["default_rho"] < limits["max_rho"]
    rho_cost({}, limits["min_rho"])
    rho_cost({}, limits["max_rho"])
    with pytest.raises(QueryError):
        rho_cost({}, limits["max_rho"] * 1.01)
