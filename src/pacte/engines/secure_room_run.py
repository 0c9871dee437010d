"""Secure room: running an accepted query with disclosure control and cell-key perturbation.

Pure module (DuckDB, no Django). :func:`run` executes the SQL built by
:mod:`pacte.engines.secure_room_query` in an in-memory DuckDB connection (opened for this very
configuration, or one kept from an earlier run of the identical configuration:
:mod:`pacte.engines.secure_room_pool`) over a view of
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

from pacte.engines.canonical import sha256_hex
from pacte.engines.secure_room_disclosure import Groups
from pacte.engines.secure_room_pool import POOL
from pacte.engines.secure_room_profile import (
    ENTERPRISE_BITS_COLUMN,
    ENTERPRISE_ID_COLUMN,
    PERSON_BITS_COLUMN,
    PERSON_ID_COLUMN,
    RECORD_KEY_COLUMN,
    DatasetProfile,
    _literal,
    _quote,
    bits_columns,
    files_fingerprint,
    integer_ids,
    record_key_sql,
)
from pacte.engines.secure_room_query import (
    CELLS,
    COMPANION_ROWS,
    DOMINANCE_BUCKETS,
    ENTERPRISE,
    ENTERPRISE_BIT,
    ENTERPRISE_BUCKET,
    FILTER,
    LIMITS,
    MAIN,
    PERSON,
    PERSON_BIT,
    PERSON_WORD,
    RECORD_KEY,
    RESERVED_PREFIX,
    RestrictedQuery,
    SqlRefused,
    key_name,
)
from pacte.engines.secure_room_spark import SparkScan


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
    if value is None or isinstance(
        value, bool | int | str | float | decimal.Decimal | dt.date | dt.time
    ):
        return value
    return str(value)


def canonical_sha256(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """SHA-256 of the RFC 8785 JSON ``{"columns": …, "rows": …}``."""
    return sha256_hex(
        {"columns": list(columns), "rows": [[_canonical(v) for v in r] for r in rows]}
    )


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
        # integer ids written at ingestion (for these very columns): no text id is read, no
        # string is hashed per row; else the text ids themselves (versions ingested before)
        ids = integer_ids(paths)
        with_pid = ids is not None and ids[0] == person_column
        with_eid = ids is not None and enterprise_column is not None and ids[1] == enterprise_column
        # data format 2: the bits and buckets themselves, one byte per row, written at ingestion
        # from the same ids (identical values; the ids are then only read by the companions)
        with_bits = (with_pid or with_eid) and bits_columns(paths)
        person_source = PERSON_ID_COLUMN if with_pid else person_column
        person = _quote(person_source)
        projection.append(f"{person} AS {PERSON}")
        source = f"read_parquet({path_list})"
        if enterprise_column is not None:
            enterprise = _quote(ENTERPRISE_ID_COLUMN if with_eid else enterprise_column)
            projection.append(f"{enterprise} AS {ENTERPRISE}")
            if with_eid and with_bits:  # eid & 63, written at ingestion
                ebits = _quote(ENTERPRISE_BITS_COLUMN)
                ebit = f"CAST(1 AS UBIGINT) << {ebits}"
                bucket = f"CAST({ebits} & {DOMINANCE_BUCKETS - 1} AS UTINYINT)"  # = eid % 4
            elif with_eid:  # a dense id (>= 0, an INTEGER): the bit and bucket from the integer
                # itself, in small types (a 64-bit cast per row and per use cost ~20 % of the
                # scan); the same values as the unsigned arithmetic below
                ebit = f"CAST(1 AS UBIGINT) << CAST({enterprise} & 63 AS UTINYINT)"
                bucket = f"CAST({enterprise} % {DOMINANCE_BUCKETS} AS UTINYINT)"
            else:  # the hash of a NULL id is not NULL; an integer id's bit is
                ebit = "CAST(1 AS UBIGINT) << (CAST(__pacte_eh AS UBIGINT) & 63)"
                ebit = f"CASE WHEN {enterprise} IS NULL THEN NULL ELSE {ebit} END"
                bucket = f"CAST(__pacte_eh % {DOMINANCE_BUCKETS} AS UTINYINT)"
            projection.append(f"{ebit} AS {ENTERPRISE_BIT}")
            projection.append(f"{bucket} AS {ENTERPRISE_BUCKET}")
            if not with_eid:
                source = f"(SELECT *, hash({enterprise}) AS __pacte_eh FROM {source})"
        else:
            projection.append(f"CAST(NULL AS VARCHAR) AS {ENTERPRISE}")
            projection.append(f"CAST(NULL AS UBIGINT) AS {ENTERPRISE_BIT}")
            projection.append(f"CAST(NULL AS UTINYINT) AS {ENTERPRISE_BUCKET}")
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
            f"WHERE path_in_schema = {_literal(person_source)}"
        ).fetchall()[0]
        # the word (of PERSON_WORDS) is a grouping column of the scan, the bit is OR-ed
        if with_pid and with_bits:  # pid & 127, written at ingestion
            pbits = _quote(PERSON_BITS_COLUMN)
            bit = f"CAST(1 AS UBIGINT) << CAST({pbits} & 63 AS UTINYINT)"
            word = f"CAST({pbits} >> 6 AS UTINYINT)"
        elif with_pid:  # dense ids (>= 0, INTEGER): one bit each, well spread, small types
            bit = f"CAST(1 AS UBIGINT) << CAST({person} & 63 AS UTINYINT)"
            word = f"CAST(({person} >> 6) & 1 AS UTINYINT)"
        else:
            bit = f"CAST(1 AS UBIGINT) << (({unit}) & 63)"
            if no_null is not True:
                bit = f"CASE WHEN {person} IS NULL THEN NULL ELSE {bit} END"
            word = f"CAST((({unit}) >> 6) & 1 AS UTINYINT)"
        projection.append(f"{word} AS {PERSON_WORD}")
        projection.append(f"{bit} AS {PERSON_BIT}")
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


def _pool_key(
    restricted: RestrictedQuery,
    parquet_paths: Sequence[str | Path],
    person_column: str,
    enterprise_column: str | None,
    threads: int | None,
    memory_limit: str | None,
    cell_key_secret: int | None,
) -> tuple[Any, ...] | None:
    """Everything :func:`_connect` builds its connection from (None: not pooled)."""
    try:
        fingerprint = files_fingerprint(parquet_paths)
    except (OSError, ValueError):
        return None  # _connect reports the problem
    return (
        tuple(str(Path(p).resolve()) for p in parquet_paths),
        fingerprint,
        restricted.table,
        restricted.allowed_columns,
        person_column,
        enterprise_column,
        threads,
        memory_limit,
        cell_key_secret,
    )


def _release(con: duckdb.DuckDBPyConnection, key: tuple[Any, ...] | None, ok: bool) -> None:
    """Back to the pool after a run that ended normally (its temp tables dropped), else closed."""
    if not ok or key is None:
        con.close()
        return
    try:
        for table in (MAIN, CELLS, FILTER, COMPANION_ROWS):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    except duckdb.Error:
        con.close()
        return
    POOL.give(key, con)


def _local(threads: int | None, memory_limit: str | None) -> duckdb.DuckDBPyConnection:
    """The local DuckDB of a run whose scans run elsewhere: no file access at all."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            con.execute(f"SET memory_limit = {_literal(memory_limit)}")
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


#: With a profile that settles the persons rule (by row counts) for every group holding more
#: than this share of the dataset's rows, the main scan skips the person bits: on a large
#: dataset nearly every group is above it (at 10 M rows, the profile's threshold is ~0.02 % of
#: the rows), the bits would settle nothing more and cost about half of the main scan (the
#: person word doubles its sub-groups; EXPLAIN ANALYZE at 10 M, bench/README.md); the few groups
#: below go to the filtered persons companion. On a small dataset the threshold is a larger
#: share, the bits settle many groups and spare that companion. Performance only: the
#: decisions are identical either way.
PERSON_BITS_SHARE: Final = 0.001


def _person_bits(forced: bool | None, profile: DatasetProfile | None, min_persons: int) -> bool:
    if forced is not None:
        return forced
    if profile is None:
        return True
    sure = profile.person_null_rows + DatasetProfile.heaviest(
        profile.person_top_rows, min_persons - 1
    )
    return sure > PERSON_BITS_SHARE * profile.rows


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
    scan: SparkScan | None = None,
    person_bits: bool | None = None,
    pooled: bool = True,
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

    With ``scan`` (a :class:`pacte.engines.secure_room_spark.SparkScan`), the statements that
    read the dataset run on Spark and the rest in a local DuckDB: same results (raises
    :class:`pacte.engines.secure_room_spark.SparkUnavailable` for files without the integer
    ids and record keys written at ingestion).

    ``person_bits`` (default: chosen from the profile, see :data:`PERSON_BITS_SHARE`) says
    whether the main scan computes the person bits; the answer is the same either way.

    ``pooled``: take the locked connection from :data:`pacte.engines.secure_room_pool.POOL`
    when one was opened for exactly this configuration, and give it back after a run that
    ended normally (see that module); ``False`` opens and closes a connection of its own.
    """
    if profile is not None:
        _check_profile(profile, parquet_paths, person_column, enterprise_column)
    deadline = time.monotonic() + timeout_s if timeout_s else None
    pool_key = None
    if scan is None:
        configuration = (
            restricted,
            parquet_paths,
            person_column,
            enterprise_column,
            threads,
            memory_limit,
            cell_key_secret,
        )
        pool_key = _pool_key(*configuration) if pooled else None
        pooled_con = POOL.take(pool_key) if pool_key is not None else None
        con = pooled_con if pooled_con is not None else _connect(*configuration)
    else:
        scan.prepare(restricted, parquet_paths, person_column, enterprise_column, cell_key_secret)
        con = _local(threads, memory_limit)

    def execute(sql: str) -> list[tuple[Any, ...]]:
        return _execute(con, sql, timeout_s, deadline)

    def remaining() -> float | None:
        if deadline is None:
            return None
        left = deadline - time.monotonic()
        if left <= 0:
            raise _timeout(timeout_s)
        return left

    def create_main(sql: str) -> None:
        if scan is None:
            execute(f"CREATE TEMP TABLE {MAIN} AS {sql}")
            return
        con.register("__pacte_loaded", scan.arrow(sql, remaining()))
        names = [key_name(j) for j in range(restricted.key_count)]
        order = f" ORDER BY {', '.join(names)}" if names else ""  # DuckDB's order, NULLs last
        con.execute(f"CREATE TEMP TABLE {MAIN} AS SELECT * FROM __pacte_loaded{order}")
        con.unregister("__pacte_loaded")

    def scan_rows(sql: str) -> list[tuple[Any, ...]]:
        return execute(sql) if scan is None else scan.rows(sql, remaining())

    ok = False
    try:
        groups = Groups.load(
            con,
            execute,
            restricted,
            max_rows,
            max_cells,
            create_main=create_main,
            scan_rows=scan_rows,
            filtered_companions=scan is None,
            person_bits=_person_bits(person_bits, profile, min_persons),
        )
        groups.decide(
            min_persons, profile, enterprise_column is not None, min_enterprises, dominance
        )
        published = groups.publish(cell_key_secret)
        if profile is not None:
            dataset_rows = profile.rows
        else:
            dataset_rows = int(scan_rows(f"SELECT COUNT(*) FROM {_quote(restricted.table)}")[0][0])
        ok = True
    finally:
        # a timer interrupts a statement at the deadline at the earliest: before it, none has
        _release(con, pool_key, ok and (deadline is None or time.monotonic() < deadline))
        if scan is not None:
            scan.close()

    report = SecureRoomReport(
        rows=len(published.rows),
        groups=len(groups.groups),
        rows_suppressed=published.reasons["persons"] + published.reasons["enterprises"],
        cells_suppressed=published.cells_suppressed,
        reasons=published.reasons,
        rows_read=published.rows_read,
        dataset_rows=dataset_rows,
        output_sha256=canonical_sha256(restricted.columns, published.rows),
        query_fingerprint=restricted.fingerprint,
        perturbed=cell_key_secret is not None,
    )
    return SecureRoomResult(columns=restricted.columns, rows=published.rows, report=report)
