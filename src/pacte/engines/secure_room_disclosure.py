"""Disclosure control of one secure-room run, group by group (pure: no Django).

:func:`pacte.engines.secure_room_run.run` computes the user's query once, in a temporary table with
one row per group and the contributor counts and bits every decision needs; :class:`Groups` then

1. loads those groups (refusing more than the published limits),
2. decides for each group and each value whether enough persons contribute (bounds from the main
   scan first, exact "companion" counts only for the groups the bounds leave undecided),
3. likewise for enterprises and the dominance rule (when the dataset has an enterprise column),
4. publishes: suppressed values become NULL, kept ones are perturbed with the cell-key method,
   and the user's outer query runs over the result.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import duckdb

from pacte.engines import cell_key
from pacte.engines.secure_room_profile import DatasetProfile
from pacte.engines.secure_room_query import (
    CELLS,
    COMPANION_ROWS,
    DOMINANCE_BUCKETS,
    FILTER,
    HASH,
    KEEP,
    MAIN,
    PERSON_WORDS,
    RID,
    ROWS,
    RestrictedQuery,
    SqlRefused,
    key_name,
    raw_name,
    slot_name,
)

Execute = Callable[[str], list[tuple[Any, ...]]]


class _NaN:
    """Stands for a NaN group key, so that NaN keys match across queries."""

    def __repr__(self) -> str:
        return "NaN"


_NAN: Final = _NaN()


def _key(values: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_NAN if isinstance(v, float) and math.isnan(v) else v for v in values)


def _dominance_safe(total: Any, largest: Any, unit_rows: int, dominance: float) -> bool:
    """True if no unit can hold more than ``dominance`` of ``total`` (= SUM(ABS(x)))."""
    if total is None or largest is None:
        return True  # no non-NULL value: the exact share is NULL, never suppressed
    total_f = float(total)
    if total_f == 0.0:
        return True  # the exact share is x / NULLIF(0, 0) = NULL
    if not math.isfinite(total_f):
        return False  # the exact share is NaN (inf / inf): suppressed
    # a small relative margin absorbs floating-point error in either computation
    return unit_rows * float(largest) <= dominance * total_f * (1.0 - 1e-9)


def _buckets_safe(total: Any, buckets: Sequence[Any], dominance: float) -> bool:
    """True if no bucket of enterprises, hence no enterprise (its rows all fall in one
    bucket), holds more than ``dominance`` of ``total`` (= SUM(ABS(x)) = sum of the buckets)."""
    if total is None:
        return True  # no non-NULL value: the exact share is NULL, never suppressed
    total_f = float(total)
    if total_f == 0.0:
        return True  # the exact share is x / NULLIF(0, 0) = NULL
    if not math.isfinite(total_f):
        return False
    largest = max((float(b) for b in buckets if b is not None), default=0.0)
    return largest <= dominance * total_f * (1.0 - 1e-9)


def _text(value: Any) -> str | None:
    """A value as text for a typed ``CAST`` back in DuckDB (exact for every type used)."""
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def _perturb(kind: str, value: Any, key_sum: Any, largest: Any, count: Any) -> Any:
    """Cell-key perturbation of one value (see :mod:`pacte.engines.cell_key`)."""
    if value is None:
        return None
    key = cell_key.cell_key(int(key_sum or 0))
    if kind == "count":
        return int(value) + cell_key.perturbation(int(value), key)
    noise = cell_key.magnitude_noise(key) * float(largest or 0.0)
    if kind == "mean":
        noise /= max(1, int(count or 0))
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return value + round(noise)
    if isinstance(value, decimal.Decimal):
        return value + decimal.Decimal(repr(noise))
    return float(value) + noise


@dataclass
class _Group:
    """Decisions for one group of the main query."""

    key: tuple[Any, ...]
    row: tuple[Any, ...]
    persons: bool | None = None  # None: undecided
    enterprises: bool | None = None
    cond_persons: list[bool | None] = field(default_factory=list)
    cond_enterprises: list[bool | None] = field(default_factory=list)
    dominance: list[bool | None] = field(default_factory=list)  # per slot (magnitudes)

    def undecided_persons(self) -> bool:
        return self.persons is None or (
            bool(self.persons) and any(v is None for v in self.cond_persons)
        )

    def undecided_enterprises(self) -> bool:
        return self.persons is not False and (
            self.enterprises is None
            or any(v is None for v in self.cond_enterprises)
            or any(v is None for v in self.dominance)
        )


#: Most rows of undecided groups stored once for both companions (a temp table, under the
#: query's memory limit); above, each companion reads the dataset itself.
STORED_COMPANION_ROWS: Final = 1_000_000


def _bound(rows_in: int, minimum: int, sure_rows: int | None) -> bool | None:
    if rows_in < minimum:
        return False  # distinct units <= rows
    if sure_rows is not None and rows_in > sure_rows:
        return True
    return None


def _bits(*words: Any) -> int:
    """Distinct bits set in BIT_OR words of one bit per unit (at most the units); a signed
    64-bit word (Spark has no unsigned integers) is read modulo 2**64."""
    return sum((int(w) & 0xFFFF_FFFF_FFFF_FFFF).bit_count() for w in words if w is not None)


def _bound_or_bits(rows_in: int, minimum: int, sure_rows: int | None, units: int) -> bool | None:
    decided = _bound(rows_in, minimum, sure_rows)
    return True if decided is None and units >= minimum else decided


@dataclass
class Published:
    rows: list[tuple[Any, ...]]
    reasons: dict[str, int]
    cells_suppressed: int
    rows_read: int


@dataclass
class Groups:
    """The groups of one run and the decisions taken on them."""

    con: duckdb.DuckDBPyConnection
    execute: Execute
    restricted: RestrictedQuery
    at: dict[str, int]
    types: dict[str, str]
    groups: list[_Group]
    magnitude: list[bool]
    #: runs a statement that reads the dataset (the companions): ``execute`` on DuckDB
    scan_rows: Execute
    filtered_companions: bool = True
    #: the groups whose rows are in the COMPANION_ROWS table (see ``store_companion_rows``)
    stored: frozenset[tuple[Any, ...]] | None = None

    @classmethod
    def load(
        cls,
        con: duckdb.DuckDBPyConnection,
        execute: Execute,
        restricted: RestrictedQuery,
        max_rows: int,
        max_cells: int,
        *,
        create_main: Callable[[str], None] | None = None,
        scan_rows: Execute | None = None,
        filtered_companions: bool = True,
        person_bits: bool = True,
    ) -> Groups:
        """``create_main(sql)`` creates the temp table ``MAIN`` from the main query
        (default: in ``con`` itself). Without ``person_bits`` the main query computes no person
        bits (``main_profiled_sql``): the persons rule is then settled by row counts and the
        profile's bounds, and the exact companion for the rest."""
        n = len(restricted.columns)
        main_sql = restricted.main_sql if person_bits else restricted.main_profiled_sql
        if create_main is None:
            execute(f"CREATE TEMP TABLE {MAIN} AS {main_sql}")
        else:
            create_main(main_sql)
        cursor = con.execute(f"SELECT rowid AS {RID}, * FROM {MAIN}")
        at = {d[0]: i for i, d in enumerate(cursor.description or [])}
        raw = cursor.fetchmany(max_rows + 1)
        if len(raw) > max_rows or len(raw) * max(1, n) > max_cells:
            raise SqlRefused(
                "too_many_rows",
                f"The query computes more than {min(len(raw), max_rows)} groups of {n} columns; at "
                f"most {max_rows} groups and {max_cells} cells are allowed.",
                f"La requête calcule plus de {min(len(raw), max_rows)} groupes de {n} colonnes ; "
                f"{max_rows} groupes et {max_cells} cellules au plus sont autorisés.",
            )
        types = {str(r[0]): str(r[1]) for r in execute(f"DESCRIBE {MAIN}")}
        keys_at = [at[key_name(j)] for j in range(restricted.key_count)]
        conditions = restricted.conditions
        magnitude = [s.kind != "count" for s in restricted.slots]
        groups = [
            _Group(
                key=_key([r[i] for i in keys_at]),
                row=r,
                cond_persons=[None] * conditions,
                cond_enterprises=[None] * conditions,
                dominance=[None if m else True for m in magnitude],
            )
            for r in raw
        ]
        return cls(
            con,
            execute,
            restricted,
            at,
            types,
            groups,
            magnitude,
            scan_rows or execute,
            filtered_companions,
        )

    def _rows(self, g: _Group) -> int:
        return int(g.row[self.at[ROWS]])

    def _filtered(self, undecided: Sequence[_Group]) -> bool:
        """Whether a companion reads only the undecided groups' rows (else all groups')."""
        k = self.restricted.key_count
        total_rows = sum(self._rows(g) for g in self.groups)
        return bool(
            k
            and self.filtered_companions
            and 2 * sum(self._rows(g) for g in undecided) <= total_rows
        )

    def _filter(self, undecided: Sequence[_Group]) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {FILTER} (h UBIGINT)")
        self.con.execute(
            f"INSERT INTO {FILTER} SELECT CAST(UNNEST(?::VARCHAR[]) AS UBIGINT)",
            [sorted({str(g.row[self.at[HASH]]) for g in undecided})],
        )

    def store_companion_rows(self, undecided: Sequence[_Group]) -> None:
        """Read the rows of the ``undecided`` groups once, for both companions (when they are
        few enough: see :data:`STORED_COMPANION_ROWS`); each companion then aggregates that
        small table instead of reading the dataset again."""
        if (
            not undecided
            or not self.restricted.companion_rows_sql
            or not self._filtered(undecided)
            or sum(self._rows(g) for g in undecided) > STORED_COMPANION_ROWS
        ):
            return
        self._filter(undecided)
        self.execute(
            f"CREATE OR REPLACE TEMP TABLE {COMPANION_ROWS} AS {self.restricted.companion_rows_sql}"
        )
        self.stored = frozenset(g.key for g in undecided)

    def _companion(
        self, undecided: list[_Group], full_sql: str, filtered_sql: str, stored_sql: str = ""
    ) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        """Exact companion rows for the undecided groups (all groups if most are)."""
        k = self.restricted.key_count
        wanted = {g.key for g in undecided}
        if stored_sql and self.stored is not None and wanted <= self.stored:
            result = self.execute(stored_sql)  # the stored rows of these groups (and a few more)
        elif not self._filtered(undecided):
            result = self.scan_rows(full_sql)
        else:
            self._filter(undecided)
            result = self.execute(filtered_sql)
        out = {}
        for r in result:
            key = _key(r[:k])
            if key in wanted:
                out[key] = r[k:]
        return out

    def decide(
        self,
        min_persons: int,
        profile: DatasetProfile | None,
        enterprise_rule: bool,
        min_enterprises: int = 3,
        dominance: float = 0.85,
    ) -> None:
        """Both rules: every bound first, then one read of the rows of the groups the bounds
        leave undecided for either rule (when few), then the exact companions. The same
        decisions as :meth:`decide_persons` then :meth:`decide_enterprises`."""
        self._persons_bounds(min_persons, profile)
        if enterprise_rule:
            self._enterprise_bounds(min_enterprises, dominance, profile)
        self.store_companion_rows(
            [
                g
                for g in self.groups
                if g.undecided_persons() or (enterprise_rule and g.undecided_enterprises())
            ]
        )
        self._persons_exact(min_persons)
        if enterprise_rule:
            self._enterprise_exact(min_enterprises, dominance)
        else:
            self.no_enterprise_rule()

    def decide_persons(self, min_persons: int, profile: DatasetProfile | None) -> None:
        self._persons_bounds(min_persons, profile)
        self._persons_exact(min_persons)

    def _persons_bounds(self, min_persons: int, profile: DatasetProfile | None) -> None:
        at, conditions = self.at, self.restricted.conditions
        sure = (
            profile.person_null_rows
            + DatasetProfile.heaviest(profile.person_top_rows, min_persons - 1)
            if profile is not None
            else None
        )
        cond_at = [at[f"__pacte_c{q}"] for q in range(conditions)]
        words = range(PERSON_WORDS) if "__pacte_pb_0" in at else range(0)  # no bits: no words
        pb_at = [at[f"__pacte_pb_{w}"] for w in words]
        pbq_at = [[at[f"__pacte_pb{q}_{w}"] for w in words] for q in range(conditions)]
        for g in self.groups:
            g.persons = _bound_or_bits(
                self._rows(g), min_persons, sure, _bits(*(g.row[i] for i in pb_at))
            )
            for q in range(conditions):
                g.cond_persons[q] = _bound_or_bits(
                    int(g.row[cond_at[q]]), min_persons, sure, _bits(*(g.row[i] for i in pbq_at[q]))
                )

    def _persons_exact(self, min_persons: int) -> None:
        conditions = self.restricted.conditions
        undecided = [g for g in self.groups if g.undecided_persons()]
        if undecided:
            exact = self._companion(
                undecided,
                self.restricted.persons_sql,
                self.restricted.persons_filtered_sql,
                self.restricted.persons_rows_sql,
            )
            for g in undecided:
                r = exact.get(g.key)
                g.persons = r is not None and int(r[0]) >= min_persons
                for q in range(conditions):
                    g.cond_persons[q] = r is not None and int(r[1 + q]) >= min_persons

    def decide_enterprises(
        self, min_enterprises: int, dominance: float, profile: DatasetProfile | None
    ) -> None:
        self._enterprise_bounds(min_enterprises, dominance, profile)
        self._enterprise_exact(min_enterprises, dominance)

    def _enterprise_bounds(
        self, min_enterprises: int, dominance: float, profile: DatasetProfile | None
    ) -> None:
        at, conditions = self.at, self.restricted.conditions
        sure_e: int | None = None
        unit_rows = 0
        if profile is not None:
            sure_e = profile.enterprise_null_rows + DatasetProfile.heaviest(
                profile.enterprise_top_rows, min_enterprises - 1
            )
            unit_rows = max(profile.max_rows_per_enterprise, profile.enterprise_null_rows)
        cond_at = [at[f"__pacte_c{q}"] for q in range(conditions)]
        eb_at = [at[f"__pacte_eb{q}"] for q in range(conditions)]
        for g in self.groups:
            g.enterprises = _bound_or_bits(
                self._rows(g), min_enterprises, sure_e, _bits(g.row[at["__pacte_eb"]])
            )
            for q in range(conditions):
                g.cond_enterprises[q] = _bound_or_bits(
                    int(g.row[cond_at[q]]), min_enterprises, sure_e, _bits(g.row[eb_at[q]])
                )
            for i, is_magnitude in enumerate(self.magnitude):
                if not is_magnitude:
                    continue
                total = g.row[at[f"__pacte_t{i}"]]
                if (
                    profile is not None
                    and _dominance_safe(total, g.row[at[f"__pacte_m{i}"]], unit_rows, dominance)
                ) or _buckets_safe(
                    total,
                    [g.row[at[f"__pacte_d{i}_{b}"]] for b in range(DOMINANCE_BUCKETS)],
                    dominance,
                ):
                    g.dominance[i] = True

    def _enterprise_exact(self, min_enterprises: int, dominance: float) -> None:
        conditions = self.restricted.conditions
        undecided = [g for g in self.groups if g.undecided_enterprises()]
        if not undecided:
            return
        exact = self._companion(
            undecided,
            self.restricted.enterprise_sql,
            self.restricted.enterprise_filtered_sql,
            self.restricted.enterprise_rows_sql,
        )
        shares_at = 1 + conditions
        magnitudes = [i for i, m in enumerate(self.magnitude) if m]
        for g in undecided:
            r = exact.get(g.key)
            g.enterprises = r is not None and int(r[0]) >= min_enterprises
            for q in range(conditions):
                g.cond_enterprises[q] = r is not None and int(r[1 + q]) >= min_enterprises
            for j, i in enumerate(magnitudes):
                share = None if r is None else r[shares_at + j]
                g.dominance[i] = r is not None and (share is None or float(share) <= dominance)

    def no_enterprise_rule(self) -> None:
        for g in self.groups:
            g.enterprises = True
            g.cond_enterprises = [True] * self.restricted.conditions
            g.dominance = [True] * len(self.restricted.slots)

    def publish(self, cell_key_secret: int | None) -> Published:
        """Suppress what failed, perturb what passed, then run the user's outer query over it."""
        at, slots, restricted = self.at, self.restricted.slots, self.restricted
        n = len(restricted.columns)
        reasons = {
            "persons": 0,
            "enterprises": 0,
            "cell_persons": 0,
            "cell_enterprises": 0,
            "dominance": 0,
        }
        cells_suppressed = 0
        rows_read = 0
        rids: list[int] = []
        keeps: list[bool] = []
        values: list[list[str | None]] = [[] for _ in slots]
        oks: list[list[bool]] = [[] for _ in range(n)]
        for g in self.groups:
            rows_read += self._rows(g)
            keep = bool(g.persons) and bool(g.enterprises)
            if not g.persons:
                reasons["persons"] += 1
            elif not g.enterprises:
                reasons["enterprises"] += 1
            if not keep:
                cells_suppressed += n
            slot_reason: list[str] = []
            for i, slot in enumerate(slots):
                q = slot.condition
                reason = (
                    "cell_persons"
                    if not g.cond_persons[q]
                    else "cell_enterprises"
                    if not g.cond_enterprises[q]
                    else "dominance"
                    if not g.dominance[i]
                    else ""
                )
                slot_reason.append(reason)
                value = None
                if keep and not reason:
                    value = g.row[at[raw_name(i)]]
                    if cell_key_secret is not None:
                        value = _perturb(
                            slot.kind,
                            value,
                            g.row[at[f"__pacte_ck{q}"]],
                            g.row[at[f"__pacte_m{i}"]] if self.magnitude[i] else None,
                            g.row[at[f"__pacte_n{i}"]] if slot.kind == "mean" else None,
                        )
                values[i].append(_text(value))
            for c, used in enumerate(restricted.output_slots):
                failed = [slot_reason[i] for i in used if slot_reason[i]]
                oks[c].append(keep and not failed)
                if keep and failed:
                    cells_suppressed += 1
                    reasons[failed[0]] += 1
            rids.append(int(g.row[at[RID]]))
            keeps.append(keep)
        self._store_cells(rids, keeps, values, oks)
        rows = [tuple(r) for r in self.execute(restricted.post_sql)]
        return Published(rows, reasons, cells_suppressed, rows_read)

    def _store_cells(
        self,
        rids: list[int],
        keeps: list[bool],
        values: list[list[str | None]],
        oks: list[list[bool]],
    ) -> None:
        slots, types, n = self.restricted.slots, self.types, len(self.restricted.columns)
        columns_ddl = [f"{RID} BIGINT", f"{KEEP} BOOLEAN"]
        columns_ddl += [f"{slot_name(i)} {types[raw_name(i)]}" for i in range(len(slots))]
        columns_ddl += [f"__pacte_ok{c} BOOLEAN" for c in range(n)]
        self.con.execute(f"CREATE TEMP TABLE {CELLS} ({', '.join(columns_ddl)})")
        unnest = ["UNNEST(?::BIGINT[])", "UNNEST(?::BOOLEAN[])"]
        unnest += [f"CAST(UNNEST(?::VARCHAR[]) AS {types[raw_name(i)]})" for i in range(len(slots))]
        unnest += ["UNNEST(?::BOOLEAN[])"] * n
        if self.groups:
            self.con.execute(
                f"INSERT INTO {CELLS} SELECT {', '.join(unnest)}", [rids, keeps, *values, *oks]
            )
