"""Running one query: validation, calibration (closed-form scales), the OpenDP context, execution."""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import opendp.prelude as dp
import polars as pl
import pyarrow.parquet as pq
from opendp.extras.polars import SortBy as _SortBy

from pacte.engines.privacy.limits import (
    _SAFETY,
    ALPHA,
    DEFAULT_RHO,
    DISCRETE_ACCURACY_MAX_SCALE,
    MAX_AGGREGATES,
    MAX_CELLS,
    MAX_FILTERS,
    MAX_GROUP_BY,
    MAX_IN_VALUES,
    MAX_NOISE_SCALE,
    MAX_RHO,
    MIN_RHO,
    TRUNCATION_META_KEY,
    TRUNCATION_SEED,
    Calibration,
    Executor,
    Scalar,
    _dp,
    _widen,
)
from pacte.engines.privacy.query import (
    ColumnRole,
    Filter,
    Query,
    QueryError,
    fingerprint,
    normalise_query,
    parse_query,
    rho_cost,
)
from pacte.engines.privacy.release import AggregateInfo, DatasetSpec, PrivacyUnit, Release
from pacte.engines.privacy.truncation import _files_fingerprint

# --------------------------------------------------------------------------- engine


@dataclass(frozen=True, slots=True)
class _Primitive:
    kind: Literal["len", "count", "sum"]
    column: str | None

    @property
    def alias(self) -> str:
        return "__len" if self.kind == "len" else f"__{self.kind}_{self.column}"


def _primitives(query: Query) -> tuple[_Primitive, ...]:
    out: dict[_Primitive, None] = {}
    for a in query.aggregates:
        if a.op == "count":
            out[_Primitive("len", None)] = None
        elif a.op == "sum":
            out[_Primitive("sum", a.column)] = None
        else:
            out[_Primitive("sum", a.column)] = None
            out[_Primitive("count", a.column)] = None
    return tuple(out)


def l2_sensitivity(kind: str, contributions: int, bounds: tuple[int, int] | None = None) -> float:
    """Δ₂ of one grouped statistic under add/remove of one person (``contributions`` rows)."""
    if kind in ("len", "count"):
        return float(contributions)
    if bounds is None:
        raise ValueError("a sum needs bounds")
    return float(contributions * max(abs(bounds[0]), abs(bounds[1])))


def noise_scale(sensitivity: float, rho: float) -> float:
    """Gaussian mechanism under zCDP: ρ = Δ²/(2σ²)  ⇒  σ = Δ/√(2ρ)."""
    return sensitivity / math.sqrt(2.0 * rho)


def _validate(spec: DatasetSpec, query: Query, schema: pl.Schema) -> None:
    def known(col: str, where: str) -> None:
        if col not in spec.columns or col not in schema:
            raise QueryError(f"{where} : colonne inconnue « {col} » dans le jeu {spec.version_id}.")

    cells = 1
    for col in query.group_by:
        known(col, "group_by")
        if col not in spec.key_sets:
            raise QueryError(
                f"group_by : la colonne « {col} » n'a pas de jeu de clés enregistré "
                "(nomenclature publique) ; on ne peut pas regrouper par elle."
            )
        if spec.columns[col] is ColumnRole.DIRECT_IDENTIFIER:
            raise QueryError(f"group_by : « {col} » est un identifiant direct.")
        cells *= len(spec.key_sets[col])
    if cells > MAX_CELLS:
        raise QueryError(f"group_by : {cells} cellules, au-delà du maximum ({MAX_CELLS}).")
    for a in query.aggregates:
        if a.column is None:
            continue
        known(a.column, f"aggregates.{a.op}")
        if spec.columns[a.column] is not ColumnRole.MEASURE:
            raise QueryError(f"aggregates.{a.op} : « {a.column} » n'est pas une mesure.")
        if a.column not in spec.bounds:
            raise QueryError(
                f"aggregates.{a.op} : la mesure « {a.column} » n'a pas de bornes publiques "
                "d'écrêtage ; impossible de calibrer le bruit."
            )
        if not schema[a.column].is_integer():
            raise QueryError(
                f"aggregates.{a.op} : « {a.column} » doit être stockée en entiers (euros)."
            )
    for f in query.filters:
        known(f.column, "filters")
        if spec.columns[f.column] is ColumnRole.DIRECT_IDENTIFIER:
            raise QueryError(f"filters : impossible de filtrer sur l'identifiant « {f.column} ».")
        registered = spec.key_sets.get(f.column)
        if registered is not None:
            bad = [v for v in f.values if v not in set(registered)]
            if bad:
                raise QueryError(
                    f"filters : valeur(s) {bad!r} absente(s) du jeu de clés de « {f.column} »."
                )


def _lit_for(value: Scalar, dtype: pl.DataType, column: str) -> pl.Expr:
    try:
        return pl.lit(pl.Series([value]).cast(dtype, strict=True)[0], dtype=dtype)
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
        raise QueryError(
            f"filters : la valeur {value!r} n'a pas le type de la colonne « {column} »."
        ) from None


def _filter_expr(f: Filter, dtype: pl.DataType) -> pl.Expr:
    # OpenDP 0.16 does not support is_in: "in" compiles to a disjunction of equalities.
    exprs = [pl.col(f.column) == _lit_for(v, dtype, f.column) for v in dict.fromkeys(f.values)]
    out = exprs[0]
    for e in exprs[1:]:
        out = out | e
    return out


def _keys_frame(spec: DatasetSpec, group_by: tuple[str, ...], schema: pl.Schema) -> pl.DataFrame:
    frame: pl.DataFrame | None = None
    for col in group_by:
        try:
            part = pl.DataFrame({col: pl.Series(col, list(spec.key_sets[col])).cast(schema[col])})
        except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
            raise QueryError(
                f"group_by : le jeu de clés de « {col} » n'a pas le type de la colonne."
            ) from None
        frame = part if frame is None else frame.join(part, how="cross")
    assert frame is not None
    return frame


# Facts read from Parquet footers (row counts, schemas, the view's check) are cached per file
# *state*: path, inode, size and modification time. A rewritten file (ingestion writes to a
# temporary name and renames) has another inode or mtime, so it is read again.
_FileState = tuple[tuple[str, int, int, int], ...]


def _file_state(paths: Sequence[str]) -> _FileState:
    out = []
    for raw in paths:
        st = os.stat(raw)
        out.append((str(raw), st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)


@functools.lru_cache(maxsize=256)
def _row_count_of(state: _FileState) -> int:
    return sum(int(pq.read_metadata(path).num_rows) for path, *_ in state)


def _row_count(paths: tuple[str, ...]) -> int:
    return _row_count_of(_file_state(paths))


@functools.lru_cache(maxsize=256)
def _schema_of(state: _FileState) -> pl.Schema:
    """The files' schema as stored (validation) — callers must not modify it."""
    return pl.scan_parquet([path for path, *_ in state]).collect_schema()


@functools.lru_cache(maxsize=256)
def _widened_schema_of(state: _FileState) -> pl.Schema:
    """The schema OpenDP and the exact query see: small integers widened (see :func:`_widen`)."""
    schema = _schema_of(state)
    lf = pl.LazyFrame(schema=schema)
    return lf.select([_widen(c, schema[c]) for c in schema.names()]).collect_schema()


class _ViewMismatch(RuntimeError):
    pass


@functools.lru_cache(maxsize=256)
def _view_checked(source: _FileState, view: _FileState, k: int, person: str | None) -> bool:
    """Run the check once per state of the files (a failure raises, so is never cached)."""
    fingerprint = _files_fingerprint([path for path, *_ in source])
    for path, *_ in view:
        raw = (pq.read_schema(path).metadata or {}).get(TRUNCATION_META_KEY)
        meta = json.loads(raw) if raw else {}
        if (
            meta.get("k") != k
            or meta.get("person_column") != person
            or meta.get("source_fingerprint") != fingerprint
        ):
            raise _ViewMismatch(path)
    return True


def _check_view(spec: DatasetSpec) -> None:
    """The view must be ours, for these very files, with this k and person column."""
    try:
        _view_checked(
            _file_state(spec.paths),
            _file_state(spec.dp_paths),
            spec.max_contributions,
            spec.person_column,
        )
    except _ViewMismatch as e:
        raise RuntimeError(
            f"vue tronquée {e.args[0]} incohérente avec la version {spec.version_id} "
            f"(k, colonne personne ou fichiers source) : recalculez-la"
        ) from None


def _needed(spec: DatasetSpec, q: Query, schema: pl.Schema, identifier: bool) -> list[str]:
    cols: dict[str, None] = {}
    for c in q.group_by:
        cols[c] = None
    for f in q.filters:
        cols[f.column] = None
    for a in q.aggregates:
        if a.column is not None:
            cols[a.column] = None
    if identifier:
        assert spec.person_column is not None
        cols[spec.person_column] = None
    if not cols:  # an ungrouped count: any one column carries the row count
        cols[next(iter(schema.names()))] = None
    return list(cols)


def _context(
    lf: pl.LazyFrame,
    margins: list[Any],
    unit: tuple[Any, int],
    rho: float,
    *,
    fast: bool,
) -> Any:
    """A fresh single-query compositor holding exactly ``rho``.

    ``unit`` is ``(metric, d_in)``: ``(symmetric_distance, k)`` for rows or a truncated
    view, ``(symmetric_id_distance(person), 1)`` for OpenDP's identifier unit.
    ``Context.compositor`` binary-searches the split of the budget (~40 ms per call even
    for one part); under zCDP one part is simply ``[rho]``, so with ``fast`` we build the
    same adaptive-composition accountant directly and only check its map.
    """
    metric, d_in = unit
    if not fast:
        return _dp.Context.compositor(
            data=lf,
            privacy_unit=unit,
            privacy_loss=_dp.loss_of(rho=rho),
            split_evenly_over=1,
            margins=margins,
        )
    domain = _dp.domain_of(lf, infer=True)
    for margin in margins:
        domain = _dp.with_margin(domain, margin)
    accountant = _dp.c.make_adaptive_composition(
        input_domain=domain,
        input_metric=metric,
        output_measure=_dp.zero_concentrated_divergence(),
        d_in=d_in,
        d_mids=[rho],
    )
    if not accountant.check(d_in, rho):  # pragma: no cover - zCDP composition is additive
        raise RuntimeError("compositor does not hold the requested rho")
    return _dp.Context(accountant=accountant, queryable=accountant(lf), d_in=d_in, d_mids=[rho])


def accuracy_95(scale: float) -> float:
    """Half-width of the 95 % interval of discrete-Gaussian noise of scale σ, in bounded time.

    OpenDP's exact discrete computation up to :data:`DISCRETE_ACCURACY_MAX_SCALE`; above, the
    continuous closed form (OpenDP's ``gaussian_scale_to_accuracy``) rounded up plus one.
    """
    if not math.isfinite(scale) or scale < 0:
        raise ValueError(f"noise scale must be finite and >= 0, got {scale!r}")
    if scale <= DISCRETE_ACCURACY_MAX_SCALE:
        return float(_dp.discrete_gaussian_scale_to_accuracy(scale, ALPHA))
    return float(math.ceil(_dp.gaussian_scale_to_accuracy(scale, ALPHA)) + 1)


_accuracy = accuracy_95


def published_limits() -> dict[str, Any]:
    """The public limits of one DP query (rules page, API schema)."""
    return {
        "min_rho": MIN_RHO,
        "max_rho": MAX_RHO,
        "default_rho": DEFAULT_RHO,
        "max_noise_scale": MAX_NOISE_SCALE,
        "max_group_by": MAX_GROUP_BY,
        "max_cells": MAX_CELLS,
        "max_aggregates": MAX_AGGREGATES,
        "max_filters": MAX_FILTERS,
        "max_in_values": MAX_IN_VALUES,
    }


def _check_scales(scales: Mapping[_Primitive, float], rho: float) -> None:
    """Refuse, before any noise is drawn, a σ beyond :data:`MAX_NOISE_SCALE`."""
    worst = max(scales.items(), key=lambda item: item[1])
    primitive, scale = worst
    if not math.isfinite(scale) or scale > MAX_NOISE_SCALE:
        what = "le comptage" if primitive.kind == "len" else f"« {primitive.column} »"
        needed = rho * (scale / MAX_NOISE_SCALE) ** 2 if math.isfinite(scale) else math.inf
        raise QueryError(
            f"rho = {rho:g} demanderait pour {what} un bruit d'écart type {scale:.3g}, au-delà du "
            f"maximum publié ({MAX_NOISE_SCALE:g}) ; il faudrait rho ≥ {needed:.3g} ou moins "
            "d'agrégats dans la requête."
        )


@dataclass(frozen=True)
class _Source:
    """The columns one query reads, widened for OpenDP, and how persons are bounded."""

    frame: pl.LazyFrame
    schema: pl.Schema
    identifier: bool  # True: OpenDP truncates per person itself (no precomputed view)


def _open_source(spec: DatasetSpec, q: Query) -> _Source:
    identifier = spec.person_column is not None and not spec.dp_paths
    if spec.dp_paths:
        _check_view(spec)
    files = list(spec.dp_paths or spec.paths)
    raw = pl.scan_parquet(files)
    file_schema = _schema_of(_file_state(files))
    _validate(spec, q, file_schema)
    if identifier and spec.person_column not in file_schema:
        raise QueryError(f"colonne personne « {spec.person_column} » absente du fichier.")
    # Only the columns the query needs, small integers widened: OpenDP types only these.
    lf = raw.select([_widen(c, file_schema[c]) for c in _needed(spec, q, file_schema, identifier)])
    return _Source(lf, lf.collect_schema(), identifier)


def _scales(
    spec: DatasetSpec, prims: tuple[_Primitive, ...], rho_value: float
) -> dict[_Primitive, float]:
    """Closed-form Gaussian scale of each primitive statistic (ρ split evenly between them)."""
    share = rho_value / len(prims)
    scales = {
        p: noise_scale(
            l2_sensitivity(
                p.kind, spec.max_contributions, spec.bounds.get(p.column) if p.column else None
            ),
            share,
        )
        * _SAFETY
        for p in prims
    }
    _check_scales(scales, rho_value)
    return scales


def _privacy_context(
    spec: DatasetSpec, q: Query, source: _Source, rho_value: float, calibration: Calibration
) -> tuple[Any, Any]:
    """The single-query OpenDP context holding exactly ρ, and the unit's input distance."""
    margins = [_dp.polars.Margin(by=[], max_length=spec.max_rows)]
    if q.group_by:
        n_cells = math.prod(len(spec.key_sets[c]) for c in q.group_by)
        margins.append(
            _dp.polars.Margin(by=list(q.group_by), max_length=spec.max_rows, max_groups=n_cells)
        )
    if source.identifier:
        assert spec.person_column is not None
        privacy_unit: tuple[Any, int] = _dp.unit_of(
            contributions=1, identifier=pl.col(spec.person_column)
        )
    else:
        privacy_unit = _dp.unit_of(contributions=spec.max_contributions)
    context = _context(
        source.frame, margins, privacy_unit, rho_value, fast=calibration == "closed_form"
    )
    return context, privacy_unit[1]


def _plan(
    spec: DatasetSpec,
    q: Query,
    source: _Source,
    context: Any,
    prims: tuple[_Primitive, ...],
    scales: Mapping[_Primitive, float] | None,
) -> Any:
    """The OpenDP query: truncation (without a view), filters, then grouped or global statistics."""
    exprs: list[Any] = []
    for p in prims:
        s = scales[p] if scales is not None else None
        if p.kind == "len":
            e = _dp.len(scale=s, signed=True)
        elif p.kind == "count":
            assert p.column is not None
            e = cast(Any, pl.col(p.column)).dp.count(scale=s, signed=True)
        else:
            assert p.column is not None
            lo, hi = spec.bounds[p.column]
            e = cast(Any, pl.col(p.column)).dp.sum((lo, hi), scale=s)
        exprs.append(e.alias(p.alias))
    dpq: Any = context.query()
    if source.identifier:
        # Same truncation as the view: ≤ k rows per person, by the seeded row hash, before
        # filters; OpenDP derives the k-row bound from this expression itself.
        dpq = dpq.truncate_per_group(
            spec.max_contributions,
            keep=_SortBy(
                by=pl.struct([pl.col(c) for c in source.schema.names()]).hash(seed=TRUNCATION_SEED)
            ),
        )
    for f in q.filters:
        dpq = dpq.filter(_filter_expr(f, source.schema[f.column]))
    if q.group_by:
        keys = _keys_frame(spec, q.group_by, source.schema)
        return dpq.group_by(*q.group_by).agg(*exprs).with_keys(keys)
    return dpq.select(*exprs)


def _measurement(
    dpq: Any,
    d_in: Any,
    rho_value: float,
    prims: tuple[_Primitive, ...],
    scales: dict[_Primitive, float],
    closed: bool,
) -> tuple[Any, float]:
    """Closed form: build the measurement with the given scales (OpenDP checks, it does not
    search). Otherwise OpenDP resolves the scales, which are read back into ``scales``."""
    if closed:
        input_domain, input_metric = dpq._query._chain
        meas: Any = _dp.m.make_private_lazyframe(
            input_domain,
            input_metric,
            dp.zero_concentrated_divergence(),
            object.__getattribute__(dpq, "polars_plan"),
            global_scale=None,
        )
        spent = float(meas.map(d_in))
        if spent > rho_value:  # pragma: no cover - would be a bug in the closed form
            raise RuntimeError(f"closed-form scale spends ρ={spent} > {rho_value}")
        return meas, spent
    meas = dpq.resolve()
    spent = float(meas.map(d_in))
    summary = _dp.summarize_polars_measurement(meas)
    for p, row in zip(prims, summary.iter_rows(named=True), strict=True):
        scales[p] = float(row["scale"])
    _check_scales(scales, rho_value)
    return meas, spent


def run_query(
    spec: DatasetSpec,
    query: Query | Mapping[str, Any] | str,
    rho: float | None = None,
    *,
    calibration: Calibration = "closed_form",
    executor: Executor = "polars",
) -> Release:
    """Compute one DP release. The caller must have reserved :func:`rho_cost` already."""
    q = parse_query(query)
    rho_value = rho_cost(q, rho)
    if rho_value > spec.max_rho:
        raise QueryError(
            f"rho = {rho_value} dépasse le maximum de ce jeu de données ({spec.max_rho})."
        )
    source = _open_source(spec, q)
    prims = _primitives(q)
    scales = _scales(spec, prims, rho_value)
    context, d_in = _privacy_context(spec, q, source, rho_value, calibration)
    closed = calibration == "closed_form"
    dpq = _plan(spec, q, source, context, prims, scales if closed else None)
    meas, spent = _measurement(dpq, d_in, rho_value, prims, scales, closed)

    once = context(meas)  # the compositor checks ρ; raises if over budget
    out = once.lazy().collect(engine="streaming") if executor == "polars" else once.collect()
    if q.group_by:
        out = out.sort(list(q.group_by))

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
        calibration=calibration,
        executor=executor,
        privacy_unit=PrivacyUnit.of(spec),
    )


def _assemble(
    spec: DatasetSpec,
    q: Query,
    prims: tuple[_Primitive, ...],
    scales: Mapping[_Primitive, float],
    out: pl.DataFrame,
) -> tuple[list[dict[str, Any]], tuple[AggregateInfo, ...]]:
    by_key = {p.alias: p for p in prims}
    infos: list[AggregateInfo] = []
    for a in q.aggregates:
        if a.op == "count":
            s = scales[by_key["__len"]]
            infos.append(
                AggregateInfo(a.name, a.op, None, s, _accuracy(s), "opendp_discrete_gaussian")
            )
        elif a.op == "sum":
            s = scales[by_key[f"__sum_{a.column}"]]
            infos.append(
                AggregateInfo(a.name, a.op, a.column, s, _accuracy(s), "opendp_discrete_gaussian")
            )
        else:
            ss = scales[by_key[f"__sum_{a.column}"]]
            sc = scales[by_key[f"__count_{a.column}"]]
            infos.append(
                AggregateInfo(
                    a.name,
                    a.op,
                    a.column,
                    None,
                    None,
                    "propagation_delta_method_per_cell (approximation: 1.96·√(σ_sum² + "
                    "moyenne²·σ_count²)/count ; peu fiable quand count est petit)",
                    {"sum_noise_scale": ss, "count_noise_scale": sc},
                )
            )

    cells: list[dict[str, Any]] = []
    for row in out.iter_rows(named=True):
        cell: dict[str, Any] = {c: row[c] for c in q.group_by}
        for a, info in zip(q.aggregates, infos, strict=True):
            if a.op == "count":
                cell[a.name] = int(row["__len"])
            elif a.op == "sum":
                cell[a.name] = int(row[f"__sum_{a.column}"])
            else:
                assert a.column is not None
                total = float(row[f"__sum_{a.column}"])
                count = float(row[f"__count_{a.column}"])
                lo, hi = spec.bounds[a.column]
                if count < 1:
                    cell[a.name] = None
                    cell[f"{a.name}_margin_95"] = None
                    continue
                mean = min(float(hi), max(float(lo), total / count))
                ss, sc = info.components["sum_noise_scale"], info.components["count_noise_scale"]
                cell[a.name] = mean
                cell[f"{a.name}_margin_95"] = 1.96 * math.sqrt(ss**2 + mean**2 * sc**2) / count
        cells.append(cell)
    return cells, tuple(infos)
