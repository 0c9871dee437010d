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

The gateway itself (issue 15, branch dp2) serves releases by :func:`run_query_on`: the engine
(embedded DuckDB or Spark) computes the exact aggregate of the truncated view and OpenDP adds the
same discrete Gaussian noise to the cell vector; :func:`run_query` is the reference the tests
compare it with (same exact cells, same scales, same ρ spent) and the route without a view.
"""

from __future__ import annotations

from pacte.engines.privacy.engine import (
    accuracy_95,
    l2_sensitivity,
    noise_scale,
    published_limits,
    run_query,
)
from pacte.engines.privacy.exact import exact_cells, exact_sql, run_query_on
from pacte.engines.privacy.limits import (
    DEFAULT_RHO,
    DISCRETE_ACCURACY_MAX_SCALE,
    ENGINE_VERSION,
    MAX_AGGREGATES,
    MAX_CELLS,
    MAX_FILTERS,
    MAX_GROUP_BY,
    MAX_IN_VALUES,
    MAX_NOISE_SCALE,
    MAX_RHO,
    MIN_RHO,
    TRUNCATION_META_KEY,
    AggOp,
    Calibration,
    Executor,
    FilterOp,
    Scalar,
)
from pacte.engines.privacy.query import (
    Aggregate,
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
from pacte.engines.privacy.truncation import TruncatedView, person_rank, truncate_per_person

__all__ = [
    "TRUNCATION_META_KEY",
    "person_rank",
    "MAX_AGGREGATES",
    "MAX_FILTERS",
    "MAX_IN_VALUES",
    "DISCRETE_ACCURACY_MAX_SCALE",
    "Scalar",
    "AggOp",
    "FilterOp",
    "Calibration",
    "Executor",
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
    "run_query_on",
    "exact_cells",
    "exact_sql",
    "truncate_per_person",
    "TruncatedView",
    "PrivacyUnit",
    "published_limits",
    "accuracy_95",
]
