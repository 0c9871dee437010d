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

Privacy model: zCDP, privacy unit = **one person** (add/remove all of a person's rows)
when ``DatasetSpec.person_column`` is set. Each person's contribution is bounded by
*truncation*: at most ``k = DatasetSpec.max_contributions`` of their rows are kept (a public
per-version parameter), chosen by a deterministic order that depends only on that person's
own rows (a seeded hash of the row), never on the query nor on other persons. Truncation T
is then 1-person → k-rows stable (removing a person removes ≤ k rows of T(data) and leaves
every other row unchanged), so a mechanism that is ρ-zCDP for neighbours at symmetric
distance k is ρ-zCDP per person once composed with T. Two routes, same guarantee and same
closed-form scale:

* ``DatasetSpec.dp_paths`` (production): the truncated view, built once at ingestion by
  :func:`truncate_per_person` (``rank(hash(row)).over(person) ≤ k``, written with its
  ``k``/person column/source fingerprint in the Parquet metadata, checked here), is given to
  OpenDP with ``unit_of(contributions=k)``. A window over 10 M person ids costs seconds per
  query; reading the view costs nothing more than the plain file.
* no ``dp_paths`` (cross-check, tests): OpenDP's own identifier unit,
  ``unit_of(contributions=1, identifier=pl.col(person))`` and ``truncate_per_group(k)`` in
  the plan, so OpenDP itself derives the k-row bound from the truncation.

Without ``person_column`` the unit is one row (kept for non-personal data). Grouping keys come from
registered (public) key sets joined with ``with_keys``: every key appears in the output,
with noise, whether or not it occurs in the data — pure DP, no threshold, no δ.

Calibration: a query with ``m`` primitive statistics (``count`` → frame length,
``sum(c)``, ``mean(c)`` → ``sum(c)`` and ``count(c)``) gives each ρ/m, and the Gaussian
scale is computed in closed form, ``σ = Δ₂ / √(2ρ/m)``, with ``Δ₂ = k`` for counts and
``Δ₂ = k·max(|lo|, |hi|)`` for clipped sums (k = rows kept per person after truncation: a
person adds at most k rows overall, spread over cells as c₁…c_g with Σc ≤ k, so the L2 norm of
their effect on the vector of cell counts is √Σc² ≤ Σc ≤ k, and ≤ k·M for sums clipped to
|x| ≤ M; OpenDP derives the same bound, which its ``check`` asserts). The scale is passed
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
from opendp.extras.polars import SortBy as _SortBy

__all__ = [
    "ENGINE_VERSION",
    "DEFAULT_RHO",
    "MIN_RHO",
    "MAX_RHO",
    "MAX_NOISE_SCALE",
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
    "truncate_per_person",
    "TruncatedView",
    "PrivacyUnit",
    "published_limits",
    "accuracy_95",
]

dp.enable_features("contrib", "honest-but-curious")
_dp: Any = dp  # OpenDP's Python API is untyped: go through Any explicitly

ENGINE_VERSION: Final = "pacte-privacy/2"
TRUNCATION_META_KEY: Final = b"pacte.truncation"
TRUNCATION_SEED: Final = 0x50AC7E  # public: the order only has to ignore other persons' rows
DEFAULT_RHO: Final = 0.005
MIN_RHO: Final = 1e-6
"""Smallest ρ one query may spend (the proportionality table's finest step, 10⁻⁶). Below it the
noise is useless and its scale (σ ∝ 1/√ρ) would run into the limits of the noise machinery."""
MAX_RHO: Final = 0.1
MAX_NOISE_SCALE: Final = 1e8
"""Largest σ drawn for one statistic, checked *before* any sampling. OpenDP's discrete-Gaussian
sampler is fast at any scale but its output saturates at the integer type's bounds (±2³¹ for a
sum over 32-bit integers: 21 σ away at σ = 10⁸), and a saturated value is not Gaussian noise."""
DISCRETE_ACCURACY_MAX_SCALE: Final = 10_000.0
"""Up to this σ the 95 % margin is OpenDP's exact discrete-Gaussian accuracy, whose cost grows
linearly with σ (it sums the distribution: ~2 s at σ = 10⁶, hours at σ = 10¹⁹). Above, the
continuous Gaussian's closed form rounded up, plus one (the discrete tail is within one unit of
the continuous one at these scales; checked against OpenDP in the tests)."""
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
    if value < MIN_RHO:
        raise QueryError(
            f"rho = {value:g} est en dessous du minimum par requête ({MIN_RHO:g}) : "
            "un bruit aussi grand ne laisserait rien d'utile ; demandez rho entre "
            f"{MIN_RHO:g} et {MAX_RHO:g}."
        )
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
    """k: rows kept per person (person unit) or rows per privacy unit (row unit). Public."""
    max_rho: float = MAX_RHO
    person_column: str | None = None
    """The person identifier: set ⇒ the privacy unit is one person, truncated to k rows."""
    dp_paths: tuple[str, ...] = ()
    """Person-truncated view (≤ k rows per person) built by :func:`truncate_per_person`."""

    def __post_init__(self) -> None:
        if isinstance(self.paths, str | Path):
            object.__setattr__(self, "paths", (str(self.paths),))
        if isinstance(self.dp_paths, str | Path):
            object.__setattr__(self, "dp_paths", (str(self.dp_paths),))
        if self.dp_paths and not self.person_column:
            raise ValueError("DatasetSpec : une vue tronquée suppose une colonne personne.")
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
class PrivacyUnit:
    """What one release protects (published with every release)."""

    unit: Literal["person", "row"]
    rows_per_unit: int
    """k: rows kept per person (truncation) or rows one unit may contribute."""
    person_column: str | None
    truncation: str

    @classmethod
    def of(cls, spec: DatasetSpec) -> PrivacyUnit:
        k = spec.max_contributions
        if spec.person_column is None:
            return cls("row", k, None, f"aucune : une unité = au plus {k} ligne(s) déclarée(s)")
        how = (
            "vue tronquée à l'ingestion" if spec.dp_paths else "troncature OpenDP dans le plan"
        )
        return cls(
            "person",
            k,
            spec.person_column,
            f"au plus {k} ligne(s) par personne ({spec.person_column}), choisies par un ordre "
            f"déterministe (hachage de la ligne) qui ignore la requête et les autres personnes ; "
            f"{how}",
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "rows_per_unit": self.rows_per_unit,
            "person_column": self.person_column,
            "truncation": self.truncation,
            "description": (
                f"une personne (toutes ses lignes), au plus {self.rows_per_unit} ligne(s) "
                "retenue(s) par personne"
                if self.unit == "person"
                else f"une ligne (au plus {self.rows_per_unit} par unité)"
            ),
        }


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
    privacy_unit: PrivacyUnit | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "privacy_unit": self.privacy_unit.as_dict() if self.privacy_unit else None,
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


# --------------------------------------------------------------------------- truncation


def _files_fingerprint(paths: Sequence[str]) -> str:
    """SHA-256 over each file's size and Parquet footer (any rewrite changes it)."""
    digest = hashlib.sha256()
    for raw in paths:
        path = Path(raw)
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 8))
            tail = handle.read(8)
            length = int.from_bytes(tail[:4], "little")
            if tail[4:] != b"PAR1" or length + 8 > size:
                raise ValueError(f"{path} n'est pas un fichier Parquet")
            handle.seek(size - 8 - length)
            digest.update(f"{size}\0".encode())
            digest.update(hashlib.sha256(handle.read(length)).digest())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class TruncatedView:
    """A person-truncated view of a dataset version (at most ``k`` rows per person)."""

    path: str
    k: int
    person_column: str
    source_fingerprint: str
    rows_in: int
    rows_out: int
    persons: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "k": self.k,
            "person_column": self.person_column,
            "source_fingerprint": self.source_fingerprint,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "persons": self.persons,
        }


def person_rank(person_column: str, columns: Sequence[str]) -> pl.Expr:
    """Rank of each row among its person's rows, by a seeded hash of the row's own values.

    Depends only on that person's rows: adding or removing anyone else changes nothing.
    (Identical rows of one person are interchangeable, so ties do not matter.)
    """
    row_hash = pl.struct([pl.col(c) for c in columns]).hash(seed=TRUNCATION_SEED)
    return row_hash.rank("ordinal").over(person_column)


def truncate_per_person(
    paths: Sequence[str | Path],
    person_column: str,
    k: int,
    out_path: str | Path,
    *,
    drop: Sequence[str] = (),
) -> TruncatedView:
    """Write the view of ``paths`` keeping at most ``k`` rows per person (ingestion-time work).

    Rows are kept by :func:`person_rank` (≤ k); the person column and ``drop`` (direct
    identifiers) are left out of the view; small integers are widened (see
    :func:`_widen`). ``k``, the person column and the fingerprint of the source files go
    into the Parquet metadata, and :func:`run_query` checks them before trusting the view.
    Rows with no person id count as one person (conservative).
    """
    if k < 1:
        raise ValueError("k doit être ≥ 1")
    sources = [str(p) for p in paths]
    lf = pl.scan_parquet(sources)
    schema = lf.collect_schema()
    if person_column not in schema:
        raise ValueError(f"colonne personne « {person_column} » absente")
    names = list(schema.names())
    kept = [c for c in names if c != person_column and c not in set(drop)]
    frame = (
        lf.select(
            *[_widen(c, schema[c]) for c in kept],
            pl.col(person_column).alias("__person"),
            person_rank(person_column, names).alias("__rank"),
        )
        .collect()
    )
    persons = frame.get_column("__person").n_unique()
    rows_in = frame.height
    frame = frame.filter(pl.col("__rank") <= k).drop("__person", "__rank")
    source = _files_fingerprint(sources)
    meta = {
        "k": k,
        "person_column": person_column,
        "source_fingerprint": source,
        "rows_in": rows_in,
        "rows_out": frame.height,
        "persons": persons,
        "engine": ENGINE_VERSION,
    }
    table = frame.to_arrow()
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), TRUNCATION_META_KEY: json.dumps(meta).encode()}
    )
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd", row_group_size=256 * 1024)
    tmp.replace(out)
    return TruncatedView(
        str(out), k, person_column, source, rows_in, frame.height, persons
    )


def _check_view(spec: DatasetSpec) -> None:
    """The view must be ours, for these very files, with this k and person column."""
    source = _files_fingerprint(list(spec.paths))
    for path in spec.dp_paths:
        raw = (pq.read_schema(path).metadata or {}).get(TRUNCATION_META_KEY)
        meta = json.loads(raw) if raw else {}
        if (
            meta.get("k") != spec.max_contributions
            or meta.get("person_column") != spec.person_column
            or meta.get("source_fingerprint") != source
        ):
            raise RuntimeError(
                f"vue tronquée {path} incohérente avec la version {spec.version_id} "
                f"(k, colonne personne ou fichiers source) : recalculez-la"
            )


_SMALL_INTS: Final = (pl.Int8, pl.Int16, pl.UInt8, pl.UInt16)
_WIDE_UINTS: Final = (pl.UInt32, pl.UInt64)


def _widen(column: str, dtype: pl.DataType) -> pl.Expr:
    """OpenDP 0.16 has no domain for Int8/Int16/UInt8/UInt16 (nor sums over UInt32/64):
    widen them inside the plan, so any file works."""
    if isinstance(dtype, _SMALL_INTS) or dtype in _SMALL_INTS:
        return pl.col(column).cast(pl.Int32)
    if isinstance(dtype, _WIDE_UINTS) or dtype in _WIDE_UINTS:
        return pl.col(column).cast(pl.Int64, strict=False)
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return pl.col(column).cast(pl.String)
    return pl.col(column)


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

    unit = PrivacyUnit.of(spec)
    identifier = spec.person_column is not None and not spec.dp_paths
    if spec.dp_paths:
        _check_view(spec)
    source = list(spec.dp_paths or spec.paths)
    raw = pl.scan_parquet(source)
    file_schema = raw.collect_schema()
    _validate(spec, q, file_schema)
    if identifier and spec.person_column not in file_schema:
        raise QueryError(f"colonne personne « {spec.person_column} » absente du fichier.")
    # Only the columns the query needs, small integers widened: OpenDP types only these.
    lf = raw.select([_widen(c, file_schema[c]) for c in _needed(spec, q, file_schema, identifier)])
    schema = lf.collect_schema()

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
    _check_scales(scales, rho_value)

    margins = [_dp.polars.Margin(by=[], max_length=spec.max_rows)]
    if q.group_by:
        n_cells = math.prod(len(spec.key_sets[c]) for c in q.group_by)
        margins.append(
            _dp.polars.Margin(by=list(q.group_by), max_length=spec.max_rows, max_groups=n_cells)
        )
    if identifier:
        assert spec.person_column is not None
        privacy_unit: tuple[Any, int] = _dp.unit_of(
            contributions=1, identifier=pl.col(spec.person_column)
        )
    else:
        privacy_unit = _dp.unit_of(contributions=k)
    d_in = privacy_unit[1]
    context = _context(
        lf, margins, privacy_unit, rho_value, fast=calibration == "closed_form"
    )

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
    if identifier:
        # Same truncation as the view: ≤ k rows per person, by the seeded row hash, before
        # filters; OpenDP derives the k-row bound from this expression itself.
        dpq = dpq.truncate_per_group(
            k,
            keep=_SortBy(by=pl.struct([pl.col(c) for c in schema.names()]).hash(seed=TRUNCATION_SEED)),
        )
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
        spent = float(meas.map(d_in))
        if spent > rho_value:  # pragma: no cover - would be a bug in the closed form
            raise RuntimeError(f"closed-form scale spends ρ={spent} > {rho_value}")
    else:
        meas = dpq.resolve()
        spent = float(meas.map(d_in))
        summary = _dp.summarize_polars_measurement(meas)
        for p, row in zip(prims, summary.iter_rows(named=True), strict=True):
            scales[p] = float(row["scale"])
        _check_scales(scales, rho_value)

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
        privacy_unit=unit,
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
