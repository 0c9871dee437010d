"""A DP query on any SQL engine: the exact aggregate there, the noise here (issue 15, part 5).

The engine (DuckDB embedded, or Spark on a cluster) only computes the *exact* per-cell
statistics of the truncated view (≤ k rows per person, written at ingestion): ``COUNT(*)``,
``COUNT(x)`` and ``SUM`` of ``x`` clipped to its public bounds, filtered, grouped by the query's
keys. This module then completes the cells from the public key sets (an absent cell is a zero,
as with OpenDP's ``with_keys``) and adds the noise with OpenDP's discrete Gaussian measurement
(``make_gaussian`` over integer vectors, one per statistic), at the same closed-form scales as
:func:`pacte.engines.privacy.run_query`; OpenDP's privacy map checks that each statistic spends
at most its share of ρ. The noise step never depends on the engine: the same exact aggregate
gives the same distribution of releases on DuckDB and on Spark.

Since issue 15 (branch ``dp2``) this is the gateway's path on **every** engine, DuckDB included:
OpenDP's Polars plan (:func:`pacte.engines.privacy.run_query`) is kept as the reference the tests
compare against, and as the route when no truncated view exists.

**Why the guarantee is the same as OpenDP's plan** (privacy unit = one person, zCDP):

* *Input distance.* The exact query reads the truncated view T(D), checked by
  :func:`pacte.engines.privacy.engine._check_view` (its ``k``, person column and source
  fingerprint), exactly as the Polars plan does: adding or removing one person changes T(D) by at
  most k rows. The plan gives OpenDP the same d_in (``unit_of(contributions=k)``).
* *Sensitivity.* The cells are the cross product of the public key sets (fixed, data-independent,
  sorted), so the released vector has a fixed length and order, as with ``with_keys``. The k rows
  of a person fall in cells c₁…c_g with Σcᵢ ≤ k: the L2 change of the count vector is
  √Σcᵢ² ≤ k, and of a sum vector whose values are clipped to [lo, hi] (a missing value imputed
  to the midpoint, also in [lo, hi]) ≤ k·max(|lo|, |hi|). Filters are row-wise and public, so they
  only remove rows. These are :func:`pacte.engines.privacy.l2_sensitivity`, the Δ₂ the plan's
  closed-form scales use; OpenDP's own stability maps derive the same for the plan (the tests check
  that both paths report the same ρ spent at the same σ, and that the plan's exact values, drawn at
  a vanishing scale, equal this SQL's).
* *Mechanism.* Each statistic's vector gets OpenDP's discrete Gaussian (``make_gaussian`` over
  ``vector_domain(atom_domain(i64))`` with ``l2_distance``) at σ = Δ₂/√(2ρ/m); OpenDP's privacy
  map, given Δ₂, returns the ρ spent (≤ ρ/m, checked), and zCDP composition over the m statistics
  gives ≤ ρ. Same sampler, same scale, same accounting as the plan's noise plugin.
* *What the engine learns.* Nothing is released before the noise: the exact cells stay in this
  process, as the plan's exact aggregates stay inside Polars.

The SQL is written in DuckDB's dialect over one table named :data:`TABLE`; an engine transpiles it
(sqlglot) if it speaks another one. Pure module: no Django.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import polars as pl
from sqlglot import exp

from pacte.engines.privacy.engine import (
    _assemble,
    _check_view,
    _file_state,
    _keys_frame,
    _Primitive,
    _primitives,
    _row_count,
    _scales,
    _schema_of,
    _validate,
    _widened_schema_of,
    l2_sensitivity,
    run_query,
)
from pacte.engines.privacy.limits import _SAFETY, Executor, _dp
from pacte.engines.privacy.query import (
    Filter,
    Query,
    QueryError,
    fingerprint,
    normalise_query,
    parse_query,
    rho_cost,
)
from pacte.engines.privacy.release import DatasetSpec, PrivacyUnit, Release

#: The name the exact query reads the dataset's files under.
TABLE: Final = "__pacte_dp"

#: Runs one DuckDB-dialect statement over ``tables`` (name → Parquet paths), returns its rows.
Execute = Callable[[str, Mapping[str, Sequence[str]]], list[tuple[Any, ...]]]


def _ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def _literal(f: Filter, dtype: pl.DataType, value: Any) -> str:
    try:
        typed = pl.Series([value]).cast(dtype, strict=True)[0]
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
        raise QueryError(
            f"filters : la valeur {value!r} n'a pas le type de la colonne « {f.column} »."
        ) from None
    return exp.convert(typed).sql(dialect="duckdb")


def null_imputation(lo: int, hi: int) -> int:
    """The value OpenDP's clipped integer sum gives a missing value: the midpoint of the bounds,
    rounded toward zero (``(lo + hi) / 2`` in integer arithmetic; checked against OpenDP's plan
    in tests/engines/test_privacy_exact.py)."""
    total = int(lo) + int(hi)
    half = abs(total) // 2
    return half if total >= 0 else -half


def exact_sql(spec: DatasetSpec, q: Query, schema: pl.Schema) -> str:
    """The exact statistics of every non-empty cell, one row per cell, keys first."""
    keys = [_ident(c) for c in q.group_by]
    items = list(keys)
    for p in _primitives(q):
        if p.kind == "len":
            value = "COUNT(*)"
        elif p.kind == "count":
            assert p.column is not None
            value = f"COUNT({_ident(p.column)})"
        else:
            assert p.column is not None
            lo, hi = spec.bounds[p.column]
            column = f"CAST({_ident(p.column)} AS BIGINT)"
            # clipped to the public bounds; a missing value counts as the bounds' midpoint, as
            # OpenDP's clipped sum imputes it (both stay within the bounds: same sensitivity)
            # (GREATEST/LEAST skip NULLs: the missing value is tested first)
            clipped = f"LEAST(GREATEST({column}, {int(lo)}), {int(hi)})"
            imputed = null_imputation(lo, hi)
            value = (
                f"CAST(SUM(CASE WHEN {column} IS NULL THEN {imputed} ELSE {clipped} END) AS BIGINT)"
            )
        items.append(f"{value} AS {_ident(p.alias)}")
    where = [
        "("
        + " OR ".join(
            f"{_ident(f.column)} = {_literal(f, schema[f.column], v)}"
            for v in dict.fromkeys(f.values)
        )
        + ")"
        for f in q.filters
    ]
    sql = f"SELECT {', '.join(items)} FROM {_ident(TABLE)}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if keys:
        sql += " GROUP BY " + ", ".join(keys)
    return sql


I64_MIN: Final = -(2**63)
I64_MAX: Final = 2**63 - 1


def _measurement(p: _Primitive, spec: DatasetSpec, scale: float, share: float) -> tuple[Any, float]:
    """OpenDP's discrete Gaussian over one statistic's vector of cells, and the ρ it spends."""
    sensitivity = l2_sensitivity(
        p.kind, spec.max_contributions, spec.bounds.get(p.column) if p.column else None
    )
    measurement = _dp.m.make_gaussian(
        _dp.vector_domain(_dp.atom_domain(T=_dp.i64)), _dp.l2_distance(T=_dp.i64), scale
    )
    spent = float(measurement.map(int(math.ceil(sensitivity))))
    if spent > share * (1.0 + 1e-9):  # pragma: no cover - would be a bug in the closed form
        raise RuntimeError(f"closed-form scale spends ρ={spent} > {share}")
    return measurement, spent


def _noise(
    p: _Primitive, spec: DatasetSpec, scale: float, share: float, cells: int
) -> tuple[list[int], float]:
    """One draw of OpenDP's discrete Gaussian noise for a vector of ``cells`` cells: the measurement
    applied to the zero vector (see :func:`add_noise`); returns (noise, ρ spent)."""
    measurement, spent = _measurement(p, spec, scale, share)
    return [int(v) for v in measurement([0] * cells)], spent


def add_noise(exact: Sequence[int], noise: Sequence[int]) -> list[int]:
    """``exact + noise`` per cell, saturated to the 64-bit integers as OpenDP's integer
    mechanism saturates its sum: OpenDP's discrete Gaussian releases x + Z, Z drawn independently
    of x; Z drawn by the same measurement on the zero vector is the same Z."""
    return [min(I64_MAX, max(I64_MIN, int(e) + int(z))) for e, z in zip(exact, noise, strict=True)]


class _NoiseDraw:
    """The noise of every statistic, drawn in a thread while the engine scans (issue 15, dp4).

    The noise depends on the public cell count and scales only, never on the data: drawing it
    before the exact values exist gives the same distribution as drawing it after (OpenDP's
    mechanism is x + Z, Z independent of x). OpenDP's sampler (a ctypes call into its Rust
    library) and DuckDB's scan both release the GIL, so the 10–15 ms of sampling overlap the
    scan instead of following it."""

    def __init__(
        self,
        spec: DatasetSpec,
        prims: tuple[_Primitive, ...],
        scales: Mapping[_Primitive, float],
        share: float,
        cells: int,
    ) -> None:
        self._out: dict[_Primitive, tuple[list[int], float]] = {}
        self._error: BaseException | None = None

        def draw() -> None:
            try:
                for p in prims:
                    self._out[p] = _noise(p, spec, scales[p], share, cells)
            except BaseException as e:  # noqa: BLE001 - handed to the caller by result()
                self._error = e

        self._thread = threading.Thread(target=draw, name="pacte-dp-noise", daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join()

    def result(self) -> dict[_Primitive, tuple[list[int], float]]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._out


_Prepared = tuple[
    list[str], pl.Schema, tuple[_Primitive, ...], pl.DataFrame | None, list[tuple[Any, ...]]
]
"""The files, their schema, the primitive statistics, the keys frame and the cells."""


def _prepare(spec: DatasetSpec, q: Query) -> _Prepared:
    """What the exact query needs before any row is read: the files (the view checked), their
    schema, the primitive statistics, and every cell of the public key sets, sorted."""
    if spec.dp_paths:
        _check_view(spec)
    files = list(spec.dp_paths or spec.paths)
    state = _file_state(files)
    _validate(spec, q, _schema_of(state))
    schema = _widened_schema_of(state)  # the types OpenDP's plan sees (small integers widened)
    prims = _primitives(q)
    if not q.group_by:
        return files, schema, prims, None, [()]
    keys = _keys_frame(spec, q.group_by, schema).sort(list(q.group_by))
    return files, schema, prims, keys, [tuple(k) for k in keys.iter_rows()]


def _scan(
    spec: DatasetSpec,
    q: Query,
    execute: Execute,
    prepared: _Prepared,
) -> pl.DataFrame:
    files, schema, prims, keys, cells = prepared
    rows = execute(exact_sql(spec, q, schema), {TABLE: files})
    n = len(q.group_by)
    found = {tuple(r[:n]): r[n:] for r in rows}
    columns: dict[str, list[int]] = {p.alias: [] for p in prims}
    for cell in cells:
        stats = found.get(cell)
        for i, p in enumerate(prims):
            columns[p.alias].append(int(stats[i] or 0) if stats is not None else 0)
    frame = pl.DataFrame({a: pl.Series(a, v, dtype=pl.Int64) for a, v in columns.items()})
    if keys is not None:
        frame = pl.concat([keys, frame], how="horizontal")
    return frame


def exact_cells(
    spec: DatasetSpec, q: Query, execute: Execute
) -> tuple[pl.DataFrame, tuple[_Primitive, ...]]:
    """Every cell of the public key sets with its exact statistics (zeros where no row falls),
    sorted by the keys: what the engine computed, before any noise."""
    prepared = _prepare(spec, q)
    return _scan(spec, q, execute, prepared), prepared[2]


def run_query_on(
    spec: DatasetSpec,
    query: Query | Mapping[str, Any] | str,
    rho: float | None,
    execute: Execute,
    engine: Executor,
) -> Release:
    """Compute one DP release with the exact aggregate on ``execute``'s engine.

    Without a truncated view (a person column but no ``dp_paths``) the per-person truncation is
    OpenDP's own (:func:`run_query`, Polars), whatever the engine.
    """
    q = parse_query(query)
    rho_value = rho_cost(q, rho)
    if rho_value > spec.max_rho:
        raise QueryError(
            f"rho = {rho_value} dépasse le maximum de ce jeu de données ({spec.max_rho})."
        )
    if spec.person_column is not None and not spec.dp_paths:
        return run_query(spec, q, rho_value)
    prepared = _prepare(spec, q)
    prims, n_cells = prepared[2], len(prepared[4])
    scales = _scales(spec, prims, rho_value)
    share = rho_value / len(prims)
    noise = _NoiseDraw(spec, prims, scales, share, n_cells)  # overlaps the scan
    try:
        exact = _scan(spec, q, execute, prepared)
    except BaseException:
        noise.join()  # the scan's error is the one to report; no thread left behind
        raise
    draws = noise.result()
    spent = 0.0
    out = exact
    for p in prims:
        z, used = draws[p]
        spent += used
        out = out.with_columns(
            pl.Series(p.alias, add_noise(exact[p.alias].to_list(), z), dtype=pl.Int64)
        )
    if spent > rho_value * _SAFETY:  # pragma: no cover - sum of shares
        raise RuntimeError(f"the release would spend ρ={spent} > {rho_value}")
    cells, infos = _assemble(spec, q, prims, scales, out)
    return Release(
        fingerprint=fingerprint(q, spec.version_id, rho_value),
        dataset_version=spec.version_id,
        query=normalise_query(q),
        group_by=q.group_by,
        cells=cells,
        aggregates=infos,
        rho_spent=spent,
        rho_requested=rho_value,
        rows_considered=_row_count(spec.paths),
        calibration="closed_form",
        executor=engine,
        privacy_unit=PrivacyUnit.of(spec),
    )
