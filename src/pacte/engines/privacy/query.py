"""The query grammar: parse, normalise, cost and fingerprint a query (never a user-supplied plan)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from pacte.engines.canonical import canonical_json, sha256_hex
from pacte.engines.privacy.limits import (
    DEFAULT_RHO,
    ENGINE_VERSION,
    MAX_AGGREGATES,
    MAX_FILTERS,
    MAX_GROUP_BY,
    MAX_IN_VALUES,
    MAX_RHO,
    MIN_RHO,
    AggOp,
    FilterOp,
    Scalar,
)


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


# A flat validator of the JSON grammar, one check per field in the order the documentation lists
# them (longer than ~80 lines on purpose: each refusal names its field, and reads top to bottom).
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
            {"column": f.column, "values": sorted({canonical_json(canon(v)) for v in f.values})}
            for f in query.filters
        ),
        key=canonical_json,
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
    """SHA-256 of the RFC 8785 JSON of (engine version, dataset version, normalised query, ρ)."""
    payload = {
        "engine": ENGINE_VERSION,
        "dataset_version": dataset_version,
        "query": normalise_query(parse_query(query)),
        "rho": float(rho),
    }
    return sha256_hex(payload)
