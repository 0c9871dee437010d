"""The dataset a query reads and the release it gets back (the privacy unit, each aggregate's noise)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pacte.engines.privacy.limits import MAX_RHO, AggOp, Calibration, Executor, Scalar
from pacte.engines.privacy.query import ColumnRole

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
        how = "vue tronquée à l'ingestion" if spec.dp_paths else "troncature OpenDP dans le plan"
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
