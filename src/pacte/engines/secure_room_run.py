"""Secure room: running an accepted query with disclosure control and cell-key perturbation.

Pure module (DuckDB, no Django). :func:`run` executes the SQL built by
:mod:`pacte.engines.secure_room_query` in a fresh in-memory DuckDB connection over a view of
the Parquet files that exposes only the allowed columns plus three reserved helper columns
(person, enterprise, record key; names starting with ``__pacte``, which user queries cannot
name). The record key is a column of the dataset's own files, written at ingestion
(:func:`pacte.engines.secure_room_profile.write_with_record_keys`), so every scan stays
parallel. The Parquet paths are whitelisted with ``allowed_paths``; then
``enable_external_access`` is switched off, extension autoloading disabled and the
configuration locked. Every statement shares one wall-clock budget (``timeout_s``: the
connection is interrupted from a timer thread) and a memory limit.

Disclosure control, per group and per published value (slot):

* **persons rule** — a group with fewer than ``min_persons`` distinct persons is removed
  (not even its existence leaks); a value whose *contributing* rows (see
  :mod:`pacte.engines.secure_room_query`) belong to fewer than ``min_persons`` persons is
  set to ``None`` (reason ``cell_persons``);
* **enterprise rules** (with an enterprise column) — likewise with ``min_enterprises``
  enterprises (reasons ``enterprises``, ``cell_enterprises``); a magnitude (``SUM``/``AVG``)
  whose largest enterprise holds more than ``dominance`` of ``SUM(ABS(x))`` over its
  contributing rows is set to ``None`` (reason ``dominance``);
* **cell-key perturbation** (with ``cell_key_secret``) — every value that passes is perturbed
  through :mod:`pacte.engines.cell_key`; the user's outer expressions, ``HAVING``,
  ``ORDER BY`` and ``LIMIT`` are then evaluated on the perturbed values only.

Fast path: the main scan also computes, per group and contributor condition, a lower bound
on the distinct persons and enterprises (bits of their keys) and an upper bound on the largest
enterprise's share (sums per bucket of enterprises); :func:`dataset_profile` computes once per
dataset version (at ingestion) the row counts of the heaviest persons and enterprises, which
give more bounds. The exact companions only run for the groups these bounds leave undecided,
with identical decisions.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import duckdb

from pacte.engines import cell_key
from pacte.engines.canonical import sha256_hex
from pacte.engines.secure_room_profile import (
    RECORD_KEY_COLUMN,
    DatasetProfile,
    _literal,
    _quote,
    files_fingerprint,
    record_key_sql,
)
from pacte.engines.secure_room_query import (
    CELLS,
    DOMINANCE_BUCKETS,
    ENTERPRISE,
    ENTERPRISE_BIT,
    ENTERPRISE_BUCKET,
    FILTER,
    HASH,
    KEEP,
    LIMITS,
    MAIN,
    PERSON,
    PERSON_BITS,
    RECORD_KEY,
    RESERVED_PREFIX,
    RID,
    ROWS,
    RestrictedQuery,
    SqlRefused,
    key_name,
    raw_name,
    slot_name,
)


@dataclass(frozen=True)
class SecureRoomReport:
    """What disclosure control did; safe to publish in the transparency log."""

    rows: int  # rows returned
    groups: int  # groups computed before suppression
    rows_suppressed: int
    cells_suppressed: int
    reasons: dict[str, int] = field(
        default_factory=dict
    )  # persons/enterprises: rows; dominance: cells
    rows_read: int = 0  # source rows that fell in the computed groups
    dataset_rows: int = 0
    output_sha256: str = ""
    query_fingerprint: str = ""
    perturbed: bool = False  # cell-key perturbation applied


@dataclass(frozen=True)
class SecureRoomResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    report: SecureRoomReport


def _canonical(value: Any) -> Any:
    """A result cell for :func:`canonical_sha256`: a non-finite number (which RFC 8785
    refuses) is written as its text (``"nan"``, ``"inf"``); a value of another SQL type as
    its text; the rest follows the one rule of :func:`pacte.engines.canonical.jcs_value`."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, decimal.Decimal) and not value.is_finite():
        return str(value)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, bool | int | str | float | decimal.Decimal | dt.date | dt.time):
        return value
    return str(value)


def canonical_sha256(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """SHA-256 of the RFC 8785 JSON ``{"columns": …, "rows": …}``."""
    return sha256_hex({"columns": list(columns), "rows": [[_canonical(v) for v in r] for r in rows]})


def _connect(
    restricted: RestrictedQuery,
    parquet_paths: Sequence[str | Path],
    person_column: str,
    enterprise_column: str | None,
    threads: int | None,
    memory_limit: str | None,
    cell_key_secret: int | None = None,
) -> duckdb.DuckDBPyConnection:
    paths = [str(Path(p).resolve()) for p in parquet_paths]
    if not paths:
        raise ValueError("at least one Parquet file is needed")
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            con.execute(f"SET memory_limit = {_literal(memory_limit)}")
        path_list = "[" + ", ".join(_literal(p) for p in paths) + "]"
        schema = con.execute(
            f"SELECT file_name, name FROM parquet_schema({path_list}) WHERE name <> 'schema'"
        ).fetchall()
        available = {str(name).lower(): str(name) for _, name in schema}
        keyed_files = {file for file, name in schema if name == RECORD_KEY_COLUMN}
        projection = []
        for column in restricted.allowed_columns:
            if column in available and not column.startswith(RESERVED_PREFIX):
                projection.append(_quote(available[column]))
        person = _quote(person_column)
        projection.append(f"{person} AS {PERSON}")
        source = f"read_parquet({path_list})"
        if enterprise_column is not None:
            enterprise = _quote(enterprise_column)
            projection.append(f"{enterprise} AS {ENTERPRISE}")
            projection.append(f"CASE WHEN {enterprise} IS NULL THEN NULL "
                              f"ELSE CAST(1 AS UBIGINT) << (__pacte_eh & 63) END AS {ENTERPRISE_BIT}")
            projection.append(f"__pacte_eh % {DOMINANCE_BUCKETS} AS {ENTERPRISE_BUCKET}")
            source = f"(SELECT *, hash({enterprise}) AS __pacte_eh FROM {source})"
        else:
            projection.append(f"CAST(NULL AS VARCHAR) AS {ENTERPRISE}")
            projection.append(f"CAST(NULL AS UBIGINT) AS {ENTERPRISE_BIT}")
            projection.append(f"CAST(NULL AS UBIGINT) AS {ENTERPRISE_BUCKET}")
        if cell_key_secret is None:
            key = "CAST(0 AS UBIGINT)"
            unit = f"hash({person})"  # exact mode: the bits come from the person itself
        elif len(keyed_files) == len(set(paths)):  # every file holds its keys, written at ingestion
            key = unit = f"CAST({_quote(RECORD_KEY_COLUMN)} AS UBIGINT)"
        else:  # a version ingested before: the same keyed hash of the person, per query
            key = unit = f"CAST({record_key_sql(person_column, cell_key_secret)} AS UBIGINT)"
        projection.append(f"{key} AS {RECORD_KEY}")
        # persons are counted without the rows with no person id: read the column only if
        # the Parquet statistics do not rule such rows out
        (no_null,) = con.execute(
            f"SELECT bool_and(stats_null_count = 0) FROM parquet_metadata({path_list}) "
            f"WHERE path_in_schema = {_literal(person_column)}"
        ).fetchall()[0]
        for word, name in enumerate(PERSON_BITS):  # arithmetic, not CASE: cheaper per row
            in_word = f"(({unit}) >> 6) & 1" if word else f"1 - ((({unit}) >> 6) & 1)"
            bit = f"(CAST(1 AS UBIGINT) << (({unit}) & 63)) * ({in_word})"
            if no_null is not True:
                bit = f"CASE WHEN {person} IS NULL THEN NULL ELSE {bit} END"
            projection.append(f"{bit} AS {name}")
        con.execute(f"SET allowed_paths = {path_list}")
        con.execute(
            f"CREATE VIEW {_quote(restricted.table)} AS SELECT {', '.join(projection)} "
            f"FROM {source}"
        )
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _execute(
    con: duckdb.DuckDBPyConnection, sql: str, timeout_s: float | None, deadline: float | None = None
) -> list[tuple[Any, ...]]:
    """Run one statement; stop it at ``deadline`` (``time.monotonic()``) or after ``timeout_s``."""
    if deadline is not None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timeout(timeout_s)
        limit: float | None = remaining
    else:
        limit = timeout_s
    timer = threading.Timer(limit, con.interrupt) if limit else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        return con.execute(sql).fetchall()
    except duckdb.InterruptException as error:
        raise _timeout(timeout_s) from error
    except duckdb.OutOfMemoryException as error:
        raise SqlRefused(
            "memory",
            "The query needs more memory than the secure room allows per query.",
            "La requête demande plus de mémoire que la salle sécurisée n'en accorde par requête.",
        ) from error
    except duckdb.Error as error:
        detail = str(error).splitlines()[0]
        raise SqlRefused(
            "execution",
            f"The query could not run: {detail}",
            f"La requête n'a pas pu s'exécuter : {detail}",
        ) from error
    finally:
        if timer is not None:
            timer.cancel()


def _timeout(timeout_s: float | None) -> SqlRefused:
    return SqlRefused(
        "timeout",
        f"The query was stopped after {timeout_s} s (the secure room's time limit).",
        f"La requête a été arrêtée après {timeout_s} s (limite de temps de la salle sécurisée).",
    )


class _NaN:
    """Stands for a NaN group key, so that NaN keys match across queries."""

    def __repr__(self) -> str:
        return "NaN"


_NAN: Final = _NaN()


def _key(values: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_NAN if isinstance(v, float) and math.isnan(v) else v for v in values)


def _check_profile(
    profile: DatasetProfile,
    parquet_paths: Sequence[str | Path],
    person_column: str,
    enterprise_column: str | None,
) -> None:
    if profile.person_column != person_column or (
        enterprise_column is not None and profile.enterprise_column != enterprise_column
    ):
        raise ValueError("the profile was computed for other person/enterprise columns")
    if profile.fingerprint != files_fingerprint(parquet_paths):
        raise ValueError("the profile was computed for other files (stale dataset version?)")


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


def run(
    restricted: RestrictedQuery,
    parquet_paths: Sequence[str | Path],
    person_column: str,
    enterprise_column: str | None = None,
    min_persons: int = 11,
    min_enterprises: int = 3,
    dominance: float = 0.85,
    *,
    threads: int | None = None,
    memory_limit: str | None = LIMITS.memory_limit,
    timeout_s: float | None = LIMITS.timeout_s,
    max_rows: int = LIMITS.max_groups,
    max_cells: int = LIMITS.max_cells,
    profile: DatasetProfile | None = None,
    cell_key_secret: int | None = None,
) -> SecureRoomResult:
    """Run ``restricted`` over the Parquet files, apply disclosure control and perturbation.

    Without ``cell_key_secret`` values are exact (suppression only: for tests and benchmarks
    of the rules); the platform always passes the dataset version's secret. The record keys
    are read from the files' :data:`RECORD_KEY_COLUMN` when every file holds one (written at
    ingestion by :func:`write_with_record_keys` with that secret), else computed per query as
    the same keyed hash of the person (versions ingested before). With ``profile``
    (from :func:`dataset_profile` on the same files and columns, else ``ValueError``) the
    decisions are identical but most are settled by bounds from the main scan. With ``n``
    contributing rows: fewer than ``min_persons`` rows ⇒ fewer persons (fails); more than
    ``person_null_rows`` + the rows of the ``min_persons - 1`` heaviest persons ⇒ at least
    ``min_persons`` persons (passes); likewise for enterprises, and a unit holding at most
    ``R`` rows holds at most ``R · MAX(ABS(x))`` of ``SUM(ABS(x))`` (dominance bound).
    Without a profile too, ``min_persons`` distinct bits among the contributing persons'
    bits (one of 128 per person, from its record key; one of 64 per enterprise, from its hash)
    prove as many units, and no bucket of enterprises above ``dominance`` of ``SUM(ABS(x))`` proves that no
    enterprise is.
    """
    with_enterprise = enterprise_column is not None
    if profile is not None:
        _check_profile(profile, parquet_paths, person_column, enterprise_column)
    deadline = time.monotonic() + timeout_s if timeout_s else None
    con = _connect(
        restricted,
        parquet_paths,
        person_column,
        enterprise_column,
        threads,
        memory_limit,
        cell_key_secret,
    )
    n = len(restricted.columns)
    k = restricted.key_count
    slots = restricted.slots
    conditions = restricted.conditions
    magnitude = [s.kind != "count" for s in slots]

    def execute(sql: str) -> list[tuple[Any, ...]]:
        return _execute(con, sql, timeout_s, deadline)

    try:
        execute(f"CREATE TEMP TABLE {MAIN} AS {restricted.main_sql}")
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
        keys_at = [at[key_name(j)] for j in range(k)]
        rows_at = at[ROWS]
        cond_at = [at[f"__pacte_c{q}"] for q in range(conditions)]
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
        total_rows = sum(int(g.row[rows_at]) for g in groups)

        def companion(undecided: list[_Group], full_sql: str, filtered_sql: str) -> dict[
            tuple[Any, ...], tuple[Any, ...]
        ]:
            """Exact companion rows for the undecided groups (all groups if most are)."""
            wanted = {g.key for g in undecided}
            if not k or 2 * sum(int(g.row[rows_at]) for g in undecided) > total_rows:
                result = execute(full_sql)
            else:
                con.execute(f"CREATE OR REPLACE TEMP TABLE {FILTER} (h UBIGINT)")
                con.execute(
                    f"INSERT INTO {FILTER} SELECT CAST(UNNEST(?::VARCHAR[]) AS UBIGINT)",
                    [sorted({str(g.row[at[HASH]]) for g in undecided})],
                )
                result = execute(filtered_sql)
            out = {}
            for r in result:
                key = _key(r[:k])
                if key in wanted:
                    out[key] = r[k:]
            return out

        # ------------------------------------------------------------ persons
        sure = (
            profile.person_null_rows
            + DatasetProfile.heaviest(profile.person_top_rows, min_persons - 1)
            if profile is not None
            else None
        )

        def bound(rows_in: int, minimum: int, sure_rows: int | None) -> bool | None:
            if rows_in < minimum:
                return False  # distinct units <= rows
            if sure_rows is not None and rows_in > sure_rows:
                return True
            return None

        def bits(*words: Any) -> int:
            """Distinct bits set in BIT_OR words of one bit per unit (at most the units)."""
            return sum(int(w).bit_count() for w in words if w is not None)

        def bound_or_bits(rows_in: int, minimum: int, sure_rows: int | None, units: int) -> bool | None:
            decided = bound(rows_in, minimum, sure_rows)
            return True if decided is None and units >= minimum else decided

        words = range(len(PERSON_BITS))
        pb_at = [at[f"__pacte_pb_{w}"] for w in words]
        pbq_at = [[at[f"__pacte_pb{q}_{w}"] for w in words] for q in range(conditions)]
        for g in groups:
            g.persons = bound_or_bits(
                int(g.row[rows_at]), min_persons, sure, bits(*(g.row[i] for i in pb_at))
            )
            for q in range(conditions):
                g.cond_persons[q] = bound_or_bits(
                    int(g.row[cond_at[q]]), min_persons, sure, bits(*(g.row[i] for i in pbq_at[q]))
                )
        undecided = [g for g in groups if g.undecided_persons()]
        if undecided:
            exact = companion(undecided, restricted.persons_sql, restricted.persons_filtered_sql)
            for g in undecided:
                r = exact.get(g.key)
                g.persons = r is not None and int(r[0]) >= min_persons
                for q in range(conditions):
                    g.cond_persons[q] = r is not None and int(r[1 + q]) >= min_persons
        # ------------------------------------------------------------ enterprises
        if with_enterprise:
            sure_e: int | None = None
            unit_rows = 0
            if profile is not None:
                sure_e = profile.enterprise_null_rows + DatasetProfile.heaviest(
                    profile.enterprise_top_rows, min_enterprises - 1
                )
                unit_rows = max(profile.max_rows_per_enterprise, profile.enterprise_null_rows)
            eb_at = [at[f"__pacte_eb{q}"] for q in range(conditions)]
            for g in groups:
                g.enterprises = bound_or_bits(
                    int(g.row[rows_at]), min_enterprises, sure_e, bits(g.row[at["__pacte_eb"]])
                )
                for q in range(conditions):
                    g.cond_enterprises[q] = bound_or_bits(
                        int(g.row[cond_at[q]]), min_enterprises, sure_e, bits(g.row[eb_at[q]])
                    )
                for i, is_magnitude in enumerate(magnitude):
                    if not is_magnitude:
                        continue
                    total = g.row[at[f"__pacte_t{i}"]]
                    if (profile is not None and _dominance_safe(
                        total, g.row[at[f"__pacte_m{i}"]], unit_rows, dominance
                    )) or _buckets_safe(
                        total,
                        [g.row[at[f"__pacte_d{i}_{b}"]] for b in range(DOMINANCE_BUCKETS)],
                        dominance,
                    ):
                        g.dominance[i] = True
            undecided = [g for g in groups if g.undecided_enterprises()]
            if undecided:
                exact = companion(
                    undecided, restricted.enterprise_sql, restricted.enterprise_filtered_sql
                )
                shares_at = 1 + conditions
                magnitudes = [i for i, m in enumerate(magnitude) if m]
                for g in undecided:
                    r = exact.get(g.key)
                    g.enterprises = r is not None and int(r[0]) >= min_enterprises
                    for q in range(conditions):
                        g.cond_enterprises[q] = r is not None and int(r[1 + q]) >= min_enterprises
                    for j, i in enumerate(magnitudes):
                        share = None if r is None else r[shares_at + j]
                        g.dominance[i] = r is not None and (share is None or float(share) <= dominance)
        else:
            for g in groups:
                g.enterprises = True
                g.cond_enterprises = [True] * conditions
                g.dominance = [True] * len(slots)

        # ------------------------------------------------------------ cells
        reasons = {"persons": 0, "enterprises": 0, "cell_persons": 0, "cell_enterprises": 0,
                   "dominance": 0}
        cells_suppressed = 0
        rows_read = 0
        rids: list[int] = []
        keeps: list[bool] = []
        values: list[list[str | None]] = [[] for _ in slots]
        oks: list[list[bool]] = [[] for _ in range(n)]
        for g in groups:
            rows_read += int(g.row[rows_at])
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
                    "cell_persons" if not g.cond_persons[q]
                    else "cell_enterprises" if not g.cond_enterprises[q]
                    else "dominance" if not g.dominance[i]
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
                            g.row[at[f"__pacte_m{i}"]] if magnitude[i] else None,
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
        columns_ddl = [f"{RID} BIGINT", f"{KEEP} BOOLEAN"]
        columns_ddl += [f"{slot_name(i)} {types[raw_name(i)]}" for i in range(len(slots))]
        columns_ddl += [f"__pacte_ok{c} BOOLEAN" for c in range(n)]
        con.execute(f"CREATE TEMP TABLE {CELLS} ({', '.join(columns_ddl)})")
        unnest = ["UNNEST(?::BIGINT[])", "UNNEST(?::BOOLEAN[])"]
        unnest += [f"CAST(UNNEST(?::VARCHAR[]) AS {types[raw_name(i)]})" for i in range(len(slots))]
        unnest += ["UNNEST(?::BOOLEAN[])"] * n
        if groups:
            con.execute(
                f"INSERT INTO {CELLS} SELECT {', '.join(unnest)}", [rids, keeps, *values, *oks]
            )
        rows = [tuple(r) for r in execute(restricted.post_sql)]
        if profile is not None:
            dataset_rows = profile.rows
        else:
            dataset_rows = int(execute(f"SELECT COUNT(*) FROM {_quote(restricted.table)}")[0][0])
    finally:
        con.close()

    report = SecureRoomReport(
        rows=len(rows),
        groups=len(groups),
        rows_suppressed=reasons["persons"] + reasons["enterprises"],
        cells_suppressed=cells_suppressed,
        reasons=reasons,
        rows_read=rows_read,
        dataset_rows=dataset_rows,
        output_sha256=canonical_sha256(restricted.columns, rows),
        query_fingerprint=restricted.fingerprint,
        perturbed=cell_key_secret is not None,
    )
    return SecureRoomResult(columns=restricted.columns, rows=rows, report=report)
