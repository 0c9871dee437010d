"""Differentially private aggregates (tier 3) with OpenDP over Polars.

Pure module (no Django). The caller (the Django budget ledger) reserves
:func:`rho_cost` *before* calling :func:`run_query`; this module does no accounting
across requests. Each call builds a fresh OpenDP compositor from ``pl.scan_parquet``
(an OpenDP compositor that has refused one query refuses every later one, so a
context is never reused).

Queries are compiled from a small JSON grammar (:func:`parse_query`), never from a
user-supplied Polars plan::

    {"group_by": ["region"],
     "aggregates": [{"op": "count"}, {"op": "sum", "column": "salary"},
                    {"op": "mean", "column": "salary"}],
     "filters": [{"column": "contract_type", "op": "eq", "value": "CDI"}],
     "rho": 0.005}

Privacy model: zCDP, privacy unit = one person contributing at most
``DatasetSpec.max_contributions`` rows (add/remove neighbours). Grouping keys come from
registered (public) key sets joined with ``with_keys``: every key appears in the output,
with noise, whether or not it occurs in the data — pure DP, no threshold, no δ.

Calibration: a query with ``m`` primitive statistics (``count`` → frame length,
``sum(c)``, ``mean(c)`` → ``sum(c)`` and ``count(c)``) gives each ρ/m, and the Gaussian
scale is computed in closed form, ``σ = Δ₂ / √(2ρ/m)``, with ``Δ₂ = k`` for counts and
``Δ₂ = k·max(|lo|, |hi|)`` for clipped sums (k = max contributions). The scale is passed
into each OpenDP expression, so OpenDP only *checks* it (the measurement's privacy map
must not exceed ρ) instead of binary-searching a scale (``resolve()``, ~1 s).

Context: a fresh single-query zCDP compositor holding exactly ρ, built directly with
``make_adaptive_composition`` (``Context.compositor`` binary-searches the budget split,
~40 ms per call, for the same result). ``calibration="resolve"`` uses the stock
``Context.compositor`` + ``resolve()`` path (kept for the benchmark and as a cross-check).

Execution: the OpenDP measurement is submitted to the compositor (which checks the
budget) and the resulting plan (with OpenDP's noise plugin) is collected exactly once
by Polars' streaming engine (``executor="polars"``, needs OpenDP's "honest-but-curious"
feature: we are the trusted curator, we collect once and sort the output by keys so row
order reveals nothing). ``executor="opendp"`` collects inside OpenDP instead (about 4×
slower on 10 M rows).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Literal, cast

import opendp.prelude as dp
import polars as pl
import pyarrow.parquet as pq

__all__ = [
    "ENGINE_VERSION",
    "DEFAULT_RHO",
    "MAX_RHO",
    "MAX_GROUP_BY",
    "MAX_CELLS",
    "QueryError",
    "ColumnRole",
    "Aggregate",
    "Filter",
    "Query",
    "DatasetSpec",
    "AggregateInfo",
    "Release",
    "parse_query",
    "normalise_query",
    "fingerprint",
    "rho_cost",
    "noise_scale",
    "l2_sensitivity",
    "run_query",
]

dp.enable_features("contrib", "honest-but-curious")
_dp: Any = dp  # OpenDP's Python API is untyped: go through Any explicitly

ENGINE_VERSION: Final = "pacte-privacy/1"
DEFAULT_RHO: Final = 0.005
MAX_RHO: Final = 0.1
MAX_GROUP_BY: Final = 3
MAX_CELLS: Final = 100_000
MAX_AGGREGATES: Final = 10
MAX_FILTERS: Final = 10
MAX_IN_VALUES: Final = 100
ALPHA: Final = 0.05
_SAFETY: Final = 1.0 + 1e-9  # guards against OpenDP's conservative float rounding

AggOp = Literal["count", "sum", "mean"]
FilterOp = Literal["eq", "in"]
Scalar = str | int | bool
Calibration = Literal["closed_form", "resolve"]
Executor = Literal["polars", "opendp"]


class QueryError(ValueError):
    """An invalid query: the message is in French and names the offending part."""


class ColumnRole(StrEnum):
    DIRECT_IDENTIFIER = "direct_identifier"
    QUASI_IDENTIFIER = "quasi_identifier"
    SENSITIVE = "sensitive"
    MEASURE = "measure"
    PUBLIC_KEY = "public_key"


# --------------------------------------------------------------------------- grammar


@dataclass(frozen=True, slots=True)
class Aggregate:
    op: AggOp
    column: str | None = None

    @property
    def name(self) -> str:
        return "count" if self.op == "count" else f"{self.op}_{self.column}"


@dataclass(frozen=True, slots=True)
class Filter:
    column: str
    op: FilterOp
    value: Scalar | tuple[Scalar, ...]

    @property
    def values(self) -> tuple[Scalar, ...]:
        return self.value if isinstance(self.value, tuple) else (self.value,)


@dataclass(frozen=True, slots=True)
class Query:
    group_by: tuple[str, ...] = ()
    aggregates: tuple[Aggregate, ...] = (Aggregate("count"),)
    filters: tuple[Filter, ...] = ()
    rho: float | None = None


def _is_scalar(v: object) -> bool:
    return isinstance(v, str | int | bool) and not isinstance(v, float)


def _name(v: object, what: str) -> str:
    if not isinstance(v, str) or not v or len(v) > 128:
        raise QueryError(f"{what} : un nom de colonne (texte non vide) est attendu, reçu {v!r}.")
    return v


def parse_query(obj: Query | Mapping[str, Any] | str | bytes) -> Query:
    """Parse the JSON grammar (a dict or a JSON text) into a :class:`Query`.

    Only checks the *shape*; :func:`run_query` checks it against the dataset.
    """
    if isinstance(obj, Query):
        return obj
    if isinstance(obj, str | bytes):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as e:
            raise QueryError(f"Requête illisible : JSON invalide ({e.msg}).") from None
    if not isinstance(obj, Mapping):
        raise QueryError("Requête invalide : un objet JSON est attendu.")
    unknown = set(obj) - {"group_by", "aggregates", "filters", "rho"}
    if unknown:
        raise QueryError(
            f"Requête invalide : champ(s) inconnu(s) {sorted(unknown)} "
            "(autorisés : group_by, aggregates, filters, rho)."
        )

    gb_raw = obj.get("group_by", [])
    if not isinstance(gb_raw, list | tuple):
        raise QueryError("group_by : une liste de colonnes est attendue.")
    group_by = tuple(_name(c, "group_by") for c in gb_raw)
    if len(set(group_by)) != len(group_by):
        raise QueryError("group_by : une colonne est répétée.")
    if len(group_by) > MAX_GROUP_BY:
        raise QueryError(f"group_by : au plus {MAX_GROUP_BY} colonnes de regroupement.")

    aggs_raw = obj.get("aggregates", [{"op": "count"}])
    if not isinstance(aggs_raw, list | tuple) or not aggs_raw:
        raise QueryError("aggregates : une liste non vide d'agrégats est attendue.")
    if len(aggs_raw) > MAX_AGGREGATES:
        raise QueryError(f"aggregates : au plus {MAX_AGGREGATES} agrégats par requête.")
    aggs: list[Aggregate] = []
    for a in aggs_raw:
        if not isinstance(a, Mapping) or set(a) - {"op", "column"}:
            raise QueryError(
                f"aggregates : chaque agrégat est un objet {{op, column}}, reçu {a!r}."
            )
        op = a.get("op")
        if op == "count":
            if a.get("column") is not None:
                raise QueryError(
                    "aggregates : « count » compte les lignes et ne prend pas de colonne."
                )
            aggs.append(Aggregate("count"))
        elif op in ("sum", "mean"):
            aggs.append(Aggregate(cast(AggOp, op), _name(a.get("column"), f"aggregates.{op}")))
        else:
            raise QueryError(
                f"aggregates : opération inconnue {op!r} (autorisées : count, sum, mean)."
            )
    if len(set(aggs)) != len(aggs):
        raise QueryError("aggregates : un agrégat est demandé deux fois.")

    filters_raw = obj.get("filters", [])
    if not isinstance(filters_raw, list | tuple):
        raise QueryError("filters : une liste de filtres est attendue.")
    if len(filters_raw) > MAX_FILTERS:
        raise QueryError(f"filters : au plus {MAX_FILTERS} filtres.")
    filters: list[Filter] = []
    for f in filters_raw:
        if not isinstance(f, Mapping) or set(f) != {"column", "op", "value"}:
            raise QueryError(
                f"filters : chaque filtre est un objet {{column, op, value}}, reçu {f!r}."
            )
        col = _name(f["column"], "filters")
        fop, val = f["op"], f["value"]
        if fop == "eq":
            if not _is_scalar(val):
                raise QueryError(
                    f"filters : « eq » attend une valeur simple (texte, entier), reçu {val!r}."
                )
            filters.append(Filter(col, "eq", cast(Scalar, val)))
        elif fop == "in":
            if (
                not isinstance(val, list | tuple)
                or not val
                or len(val) > MAX_IN_VALUES
                or not all(_is_scalar(v) for v in val)
            ):
                raise QueryError(
                    f"filters : « in » attend une liste non vide (au plus {MAX_IN_VALUES}) "
                    f"de valeurs simples, reçu {val!r}."
                )
            filters.append(Filter(col, "in", tuple(cast(list[Scalar], val))))
        else:
            raise QueryError(f"filters : opérateur inconnu {fop!r} (autorisés : eq, in).")

    rho = obj.get("rho")
    if rho is not None and (isinstance(rho, bool) or not isinstance(rho, int | float)):
        raise QueryError(f"rho : un nombre est attendu, reçu {rho!r}.")
    return Query(group_by, tuple(aggs), tuple(filters), None if rho is None else float(rho))


def normalise_query(query: Query) -> dict[str, Any]:
    """Canonical, order-insensitive JSON form (for fingerprints and logs)."""

    def canon(v: Scalar) -> list[Any]:
        return [type(v).__name__, v]

    filters = sorted(
        (
            {"column": f.column, "values": sorted({json.dumps(canon(v)) for v in f.values})}
            for f in query.filters
        ),
        key=lambda d: json.dumps(d, sort_keys=True),
    )
    return {
        "group_by": sorted(query.group_by),
        "aggregates": sorted(a.name for a in query.aggregates),
        "filters": filters,
    }


def rho_cost(query: Query | Mapping[str, Any], rho: float | None = None) -> float:
    """The ρ this query will spend (what the ledger must reserve first)."""
    q = parse_query(query)
    value = rho if rho is not None else q.rho if q.rho is not None else DEFAULT_RHO
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise QueryError(f"rho : un nombre fini est attendu, reçu {value!r}.")
    if value <= 0:
        raise QueryError(f"rho doit être strictement positif (reçu {value}).")
    if value > MAX_RHO:
        raise QueryError(f"rho = {value} dépasse le maximum autorisé par requête ({MAX_RHO}).")
    return float(value)


def fingerprint(query: Query | Mapping[str, Any], dataset_version: str, rho: float) -> str:
    """SHA-256 of canonical JSON of (engine version, dataset version, normalised query, ρ)."""
    payload = {
        "engine": ENGINE_VERSION,
        "dataset_version": dataset_version,
        "query": normalise_query(parse_query(query)),
        "rho": repr(float(rho)),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- dataset


@dataclass(frozen=True)
class DatasetSpec:
    """What the catalogue knows about one dataset version (all of it public)."""

    paths: tuple[str, ...]
    version_id: str
    columns: Mapping[str, ColumnRole]
    bounds: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """Public clipping bounds of measure columns, integer euros."""
    key_sets: Mapping[str, Sequence[Scalar]] = field(default_factory=dict)
    """Registered key sets (official nomenclatures) of grouping columns."""
    max_rows: int = 10**9
    """Public upper bound on the number of rows (the exact count if it is public)."""
    rows_public: bool = False
    max_contributions: int = 1
    """Rows one person may contribute (the privacy unit)."""
    max_rho: float = MAX_RHO

    def __post_init__(self) -> None:
        if isinstance(self.paths, str | Path):
            object.__setattr__(self, "paths", (str(self.paths),))
        if not self.paths:
            raise ValueError("DatasetSpec : au moins un fichier Parquet est requis.")
        if self.max_contributions < 1:
            raise ValueError("DatasetSpec : max_contributions doit être ≥ 1.")
        if self.max_rows < 1:
            raise ValueError("DatasetSpec : max_rows doit être ≥ 1.")
        for col, (lo, hi) in self.bounds.items():
            if not (isinstance(lo, int) and isinstance(hi, int)) or lo > hi:
                raise ValueError(f"DatasetSpec : bornes invalides pour {col} : {(lo, hi)}.")
        for col, keys in self.key_sets.items():
            if not keys or len(set(keys)) != len(keys):
                raise ValueError(f"DatasetSpec : jeu de clés vide ou dupliqué pour {col}.")


# --------------------------------------------------------------------------- release


@dataclass(frozen=True, slots=True)
class AggregateInfo:
    name: str
    op: AggOp
    column: str | None
    noise_scale: float | None
    """σ of the (discrete) Gaussian noise; ``None`` for means (see ``components``)."""
    margin_95: float | None
    """Half-width of the 95 % interval, same for every cell; ``None`` for means (per cell)."""
    margin_method: str
    components: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Release:
    fingerprint: str
    dataset_version: str
    query: dict[str, Any]
    group_by: tuple[str, ...]
    cells: list[dict[str, Any]]
    """One dict per key combination: the keys, then each aggregate's noisy value.
    Means also carry ``<name>_margin_95`` (propagated, per cell)."""
    aggregates: tuple[AggregateInfo, ...]
    rho_spent: float
    rho_requested: float
    rows_considered: int
    """Rows in the dataset version (Parquet metadata; the catalogue's public row count).
    Not the filtered count, which would be an un-noised statistic."""
    calibration: Calibration
    executor: Executor

    def as_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "dataset_version": self.dataset_version,
            "query": self.query,
            "group_by": list(self.group_by),
            "cells": self.cells,
            "aggregates": [
                {
                    "name": a.name,
                    "op": a.op,
                    "column": a.column,
                    "noise_scale": a.noise_scale,
                    "margin_95": a.margin_95,
                    "margin_method": a.margin_method,
                    "components": dict(a.components),
                }
                for a in self.aggregates
            ],
            "rho_spent": self.rho_spent,
            "rho_requested": self.rho_requested,
            "rows_considered": self.rows_considered,
            "calibration": self.calibration,
            "executor": self.executor,
        }


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


def _row_count(paths: tuple[str, ...]) -> int:
    return sum(int(pq.read_metadata(p).num_rows) for p in paths)


def _context(lf: pl.LazyFrame, margins: list[Any], k: int, rho: float, *, fast: bool) -> Any:
    """A fresh single-query compositor holding exactly ``rho``.

    ``Context.compositor`` binary-searches the split of the budget (~40 ms per call even
    for one part); under zCDP one part is simply ``[rho]``, so with ``fast`` we build the
    same adaptive-composition accountant directly and only check its map.
    """
    if not fast:
        return _dp.Context.compositor(
            data=lf,
            privacy_unit=_dp.unit_of(contributions=k),
            privacy_loss=_dp.loss_of(rho=rho),
            split_evenly_over=1,
            margins=margins,
        )
    domain = _dp.domain_of(lf, infer=True)
    for margin in margins:
        domain = _dp.with_margin(domain, margin)
    metric = _dp.symmetric_distance()
    accountant = _dp.c.make_adaptive_composition(
        input_domain=domain,
        input_metric=metric,
        output_measure=_dp.zero_concentrated_divergence(),
        d_in=k,
        d_mids=[rho],
    )
    if not accountant.check(k, rho):  # pragma: no cover - zCDP composition is additive
        raise RuntimeError("compositor does not hold the requested rho")
    return _dp.Context(accountant=accountant, queryable=accountant(lf), d_in=k, d_mids=[rho])


def _accuracy(scale: float) -> float:
    return float(_dp.discrete_gaussian_scale_to_accuracy(scale, ALPHA))


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

    lf = pl.scan_parquet(list(spec.paths))
    schema = lf.collect_schema()
    _validate(spec, q, schema)

    prims = _primitives(q)
    k = spec.max_contributions
    share = rho_value / len(prims)
    scales: dict[_Primitive, float] = {
        p: noise_scale(
            l2_sensitivity(p.kind, k, spec.bounds.get(p.column) if p.column else None), share
        )
        * _SAFETY
        for p in prims
    }

    margins = [_dp.polars.Margin(by=[], max_length=spec.max_rows)]
    if q.group_by:
        n_cells = math.prod(len(spec.key_sets[c]) for c in q.group_by)
        margins.append(
            _dp.polars.Margin(by=list(q.group_by), max_length=spec.max_rows, max_groups=n_cells)
        )
    context = _context(lf, margins, k, rho_value, fast=calibration == "closed_form")

    closed = calibration == "closed_form"
    exprs: list[Any] = []
    for p in prims:
        s = scales[p] if closed else None
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
    for f in q.filters:
        dpq = dpq.filter(_filter_expr(f, schema[f.column]))
    if q.group_by:
        keys = _keys_frame(spec, q.group_by, schema)
        dpq = dpq.group_by(*q.group_by).agg(*exprs).with_keys(keys)
    else:
        dpq = dpq.select(*exprs)

    if closed:
        # Build the measurement with the given scales: OpenDP checks, it does not search.
        input_domain, input_metric = dpq._query._chain
        meas: Any = _dp.m.make_private_lazyframe(
            input_domain,
            input_metric,
            dp.zero_concentrated_divergence(),
            object.__getattribute__(dpq, "polars_plan"),
            global_scale=None,
        )
        spent = float(meas.map(k))
        if spent > rho_value:  # pragma: no cover - would be a bug in the closed form
            raise RuntimeError(f"closed-form scale spends ρ={spent} > {rho_value}")
    else:
        meas = dpq.resolve()
        spent = float(meas.map(k))
        summary = _dp.summarize_polars_measurement(meas)
        for p, row in zip(prims, summary.iter_rows(named=True), strict=True):
            scales[p] = float(row["scale"])

    once = context(meas)  # the compositor checks ρ; raises if over budget
    if executor == "polars":
        out = once.lazy().collect(engine="streaming")
    else:
        out = once.collect()
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
