"""The noise of a DP release drawn while the engine scans (issue 15, branch dp4).

OpenDP's discrete Gaussian releases x + Z with Z independent of x: the gateway draws Z with the
same OpenDP measurement applied to the zero vector, in a thread that overlaps the exact scan, then
adds it (saturating to 64-bit integers as OpenDP does). These tests check the distribution of
what is drawn, the saturation, that the draw really happens during the scan, and that an error
on either side reaches the caller with no thread left behind.
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl
import pytest

from pacte.data.gateway.engines import DuckDBEngine
from pacte.engines import privacy
from pacte.engines.privacy import exact
from pacte.engines.privacy.engine import _Primitive

REGIONS = ["R1", "R2", "R3"]
duckdb_query = DuckDBEngine().query


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Any:
    rng = np.random.default_rng(4)
    folder = tmp_path_factory.mktemp("overlap")
    source = folder / "rows.parquet"
    pl.DataFrame({"region": rng.choice(REGIONS, 3000)}).write_parquet(source)
    return privacy.DatasetSpec(
        paths=(str(source),),
        version_id="overlap@t",
        columns={"region": privacy.ColumnRole.PUBLIC_KEY},
        key_sets={"region": REGIONS},
        max_rows=10**6,
        max_contributions=1,
    )


QUERY = {"group_by": ["region"], "aggregates": [{"op": "count"}]}


def _noise_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pacte-dp-noise"]


def test_the_noise_drawn_on_the_zero_vector_is_opendps_discrete_gaussian(spec: Any) -> None:
    sigma = 10.0
    z, spent = exact._noise(_Primitive("len", None), spec, sigma, 1.0, 20_000)
    assert all(isinstance(v, int) for v in z)
    # ρ = Δ²/(2σ²) for Δ = 1 (one row per person): OpenDP's own map
    assert spent == pytest.approx(1 / (2 * sigma**2), rel=1e-9)
    # mean 0 and standard deviation σ: 20,000 draws put both within a few standard errors
    # (a wrong scale, an offset or a zero vector fails by far)
    assert abs(statistics.fmean(z)) < 5 * sigma / 20_000**0.5
    assert statistics.pstdev(z) == pytest.approx(sigma, rel=0.05)


def test_adding_the_noise_saturates_like_opendp() -> None:
    assert exact.add_noise([5, 0, -3], [2, -7, 0]) == [7, -7, -3]
    assert exact.add_noise([exact.I64_MAX - 1], [5]) == [exact.I64_MAX]
    assert exact.add_noise([exact.I64_MIN + 1], [-5]) == [exact.I64_MIN]
    with pytest.raises(ValueError):
        exact.add_noise([1, 2], [3])


def test_the_noise_is_drawn_while_the_engine_scans(
    spec: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = threading.Event()
    real = exact._noise

    def noise_then_signal(*args: Any) -> tuple[list[int], float]:
        out = real(*args)
        drawn.set()
        return out

    monkeypatch.setattr(exact, "_noise", noise_then_signal)
    seen: list[bool] = []

    def scan_waiting_for_the_noise(
        sql: str, tables: Mapping[str, Sequence[str]]
    ) -> list[tuple[Any, ...]]:
        # the scan does not return before the noise exists: only a concurrent draw sets it
        seen.append(drawn.wait(timeout=60))
        return duckdb_query(sql, tables)

    release = privacy.run_query_on(spec, QUERY, 0.05, scan_waiting_for_the_noise, "duckdb")
    assert seen == [True]
    assert [c["region"] for c in release.cells] == REGIONS
    assert not _noise_threads()


def test_a_failed_scan_is_reported_and_leaves_no_noise_thread(spec: Any) -> None:
    def failing(sql: str, tables: Mapping[str, Sequence[str]]) -> list[tuple[Any, ...]]:
        raise OSError("disque illisible")

    with pytest.raises(OSError, match="disque illisible"):
        privacy.run_query_on(spec, QUERY, 0.05, failing, "duckdb")
    assert not _noise_threads()


def test_a_failed_noise_draw_is_reported(spec: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> tuple[list[int], float]:
        raise RuntimeError("échantillonneur indisponible")

    monkeypatch.setattr(exact, "_noise", broken)
    with pytest.raises(RuntimeError, match="échantillonneur indisponible"):
        privacy.run_query_on(spec, QUERY, 0.05, duckdb_query, "duckdb")
    assert not _noise_threads()


def test_the_release_is_the_exact_count_plus_the_drawn_noise(
    spec: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[list[int]] = []
    real = exact._noise

    def keep(*args: Any) -> tuple[list[int], float]:
        out = real(*args)
        drawn.append(out[0])
        return out

    monkeypatch.setattr(exact, "_noise", keep)
    q = privacy.parse_query(QUERY)
    truth = privacy.exact_cells(spec, q, duckdb_query)[0]["__len"].to_list()
    release = privacy.run_query_on(spec, q, 0.05, duckdb_query, "duckdb")
    assert len(drawn) == 1 and len(drawn[0]) == len(REGIONS)
    assert [c["count"] for c in release.cells] == [
        t + z for t, z in zip(truth, drawn[0], strict=True)
    ]


# --------------------------------------------------------------------------- the view's writer


def test_the_truncated_view_is_written_by_duckdb_with_its_facts(tmp_path: Any) -> None:
    import datetime as dt

    import pyarrow.parquet as pq

    from pacte.engines.privacy.limits import TRUNCATION_META_KEY

    source = tmp_path / "s.parquet"
    frame = pl.DataFrame(
        {
            "person_id": [1, 1, 1, 2, 3],
            "region": ["R1", "R2", "R1", None, "R3"],
            "day": [dt.date(2026, 1, d) for d in range(1, 6)],
            "salary": pl.Series([10, None, 30, 40, 50], dtype=pl.Int16),
            "share": [0.5, 1.5, None, 2.5, 3.5],
            "flag": [True, False, None, True, False],
        }
    )
    frame.write_parquet(source)
    view = privacy.truncate_per_person([source], "person_id", 2, tmp_path / "v.parquet")
    meta = pq.read_metadata(view.path)
    assert "DuckDB" in str(meta.created_by)
    facts = pq.read_schema(view.path).metadata[TRUNCATION_META_KEY]
    assert b'"k": 2' in facts and b'"person_column": "person_id"' in facts
    written = pl.read_parquet(view.path)
    # the person column is left out, small integers widened, every other type as it was
    assert written.schema == {
        "region": pl.String,
        "day": pl.Date,
        "salary": pl.Int32,
        "share": pl.Float64,
        "flag": pl.Boolean,
    }
    assert written.height == view.rows_out == 4  # person 1 keeps 2 of its 3 rows
    # the gateway trusts the view: its check (k, person column, source fingerprint) passes
    spec = privacy.DatasetSpec(
        paths=(str(source),),
        version_id="v@t",
        columns={"region": privacy.ColumnRole.PUBLIC_KEY},
        key_sets={"region": ["R1", "R2", "R3"]},
        max_rows=100,
        max_contributions=2,
        person_column="person_id",
        dp_paths=(view.path,),
    )
    cells, _ = privacy.exact_cells(spec, privacy.parse_query(QUERY), duckdb_query)
    assert cells["__len"].sum() == 3  # the row without a region falls in no cell


def test_a_type_duckdb_would_change_is_written_by_pyarrow(tmp_path: Any) -> None:
    import datetime as dt

    import pyarrow.parquet as pq

    source = tmp_path / "s.parquet"
    stamps = [dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)] * 2
    pl.DataFrame(
        {"person_id": [1, 2], "at": pl.Series(stamps).dt.convert_time_zone("Europe/Paris")}
    ).write_parquet(source)
    view = privacy.truncate_per_person([source], "person_id", 1, tmp_path / "v.parquet")
    assert pl.read_parquet(view.path).schema["at"] == pl.Datetime("us", "Europe/Paris")
    assert "DuckDB" not in str(pq.read_metadata(view.path).created_by)
