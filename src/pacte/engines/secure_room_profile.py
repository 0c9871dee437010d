"""Secure room: the dataset profile computed once per dataset version (pure, DuckDB).

The row counts of the heaviest persons and enterprises let :func:`pacte.engines.secure_room_run.run`
settle most disclosure decisions with bounds taken from the main scan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import duckdb
import pyarrow.parquet as pq

__all__ = [
    "PROFILE_TOP",
    "RECORD_KEY_COLUMN",
    "ENTERPRISE_ID_COLUMN",
    "IDS_META_KEY",
    "ENTERPRISE_BITS_COLUMN",
    "IDS_FORMAT",
    "PERSON_BITS_COLUMN",
    "PERSON_ID_COLUMN",
    "DatasetProfile",
    "dataset_profile",
    "files_fingerprint",
    "bits_columns",
    "integer_ids",
    "record_key_sql",
    "write_with_record_keys",
]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------- profile

#: How many of the heaviest persons / enterprises a profile remembers (bounds hold for
#: ``min_persons - 1`` and ``min_enterprises - 1`` up to this number, and beyond it too).
PROFILE_TOP: Final = 128


def files_fingerprint(parquet_paths: Sequence[str | Path]) -> str:
    """SHA-256 over each file's resolved path, size and Parquet footer (microseconds).

    The footer holds the row groups, their byte offsets, sizes and column statistics, so any
    rewrite of a dataset version changes it; a profile is only used on matching files.
    """
    digest = hashlib.sha256()
    for raw in parquet_paths:
        path = Path(raw).resolve()
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            if size < 12:
                raise ValueError(f"{path} is not a Parquet file")
            handle.seek(size - 8)
            tail = handle.read(8)
            length = int.from_bytes(tail[:4], "little")
            if tail[4:] != b"PAR1" or length + 8 > size:
                raise ValueError(f"{path} is not a Parquet file")
            handle.seek(size - 8 - length)
            footer = handle.read(length)
        digest.update(f"{path}\0{size}\0".encode())
        digest.update(hashlib.sha256(footer).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class DatasetProfile:
    """Statistics of one dataset version, computed once at ingestion by :func:`dataset_profile`.

    Only platform-side numbers (never released): the row counts of the heaviest persons
    and enterprises (grouped by id, exactly as the rules count them), in decreasing
    order, plus the number of
    rows with a ``NULL`` id. They turn the row count of a group, computed in the same scan as
    the user's aggregates, into a *guaranteed* lower bound on its distinct persons and
    enterprises, and bound the dominance share (see :func:`run`).
    """

    fingerprint: str
    rows: int
    person_column: str
    person_null_rows: int
    person_top_rows: tuple[int, ...]
    enterprise_column: str | None = None
    enterprise_null_rows: int = 0
    enterprise_top_rows: tuple[int, ...] = ()

    @property
    def max_rows_per_person(self) -> int:
        return self.person_top_rows[0] if self.person_top_rows else 0

    @property
    def max_rows_per_enterprise(self) -> int:
        return self.enterprise_top_rows[0] if self.enterprise_top_rows else 0

    @staticmethod
    def heaviest(top: tuple[int, ...], units: int) -> int:
        """Most rows ``units`` distinct units can hold together (sum of the top counts)."""
        if units <= 0 or not top:
            return 0
        head = sum(top[:units])
        return head + max(0, units - len(top)) * top[-1]


def dataset_profile(
    parquet_paths: Sequence[str | Path],
    person_column: str,
    enterprise_column: str | None = None,
    *,
    threads: int | None = None,
) -> DatasetProfile:
    """Profile a dataset version (ingestion-time work: one or two full aggregations)."""
    paths = [str(Path(p).resolve()) for p in parquet_paths]
    if not paths:
        raise ValueError("at least one Parquet file is needed")
    fingerprint = files_fingerprint(paths)
    source = "read_parquet([" + ", ".join(_literal(p) for p in paths) + "])"
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")

        def top(column: str, unit: str) -> tuple[int, tuple[int, ...], int]:
            total, nulls = con.execute(
                f"SELECT COUNT(*), COUNT(*) - COUNT({_quote(column)}) FROM {source}"
            ).fetchall()[0]
            counts = con.execute(
                f"SELECT COUNT(*) AS c FROM {source} WHERE {_quote(column)} IS NOT NULL "
                f"GROUP BY {unit} ORDER BY c DESC LIMIT {PROFILE_TOP}"
            ).fetchall()
            return int(total), tuple(int(r[0]) for r in counts), int(nulls)

        # the integer ids written at ingestion when the files hold them (same units, cheaper)
        ids = integer_ids(paths)
        with_pid = ids is not None and ids[0] == person_column
        with_eid = ids is not None and enterprise_column is not None and ids[1] == enterprise_column
        person = PERSON_ID_COLUMN if with_pid else person_column
        rows, person_top, person_nulls = top(person, _quote(person))
        enterprise_top: tuple[int, ...] = ()
        enterprise_nulls = 0
        if enterprise_column is not None:
            enterprise = ENTERPRISE_ID_COLUMN if with_eid else enterprise_column
            _, enterprise_top, enterprise_nulls = top(enterprise, _quote(enterprise))
    finally:
        con.close()
    return DatasetProfile(
        fingerprint=fingerprint,
        rows=rows,
        person_column=person_column,
        person_null_rows=person_nulls,
        person_top_rows=person_top,
        enterprise_column=enterprise_column,
        enterprise_null_rows=enterprise_nulls,
        enterprise_top_rows=enterprise_top,
    )


#: The reserved column that holds each row's record key in the dataset's own Parquet files.
#: Never part of a schema, a catalogue entry, an extract or a query result; the secure room's
#: grammar refuses every name starting with ``__pacte``.
RECORD_KEY_COLUMN: Final = "__pacte_key"


def record_key_sql(person_column: str, secret: int) -> str:
    """The record key of a row: ``hash(person, secret) mod 2**32`` as ``UINTEGER`` (the
    person's fixed key of the cell-key method, see :mod:`pacte.engines.cell_key`)."""
    return (
        f"CAST(hash({_quote(person_column)}, CAST({int(secret) % (1 << 64)} AS UBIGINT)) "
        f"% 4294967296 AS UINTEGER)"
    )


#: The reserved columns that hold each row's integer person and enterprise ids: dense (0 … n-1)
#: over the version's distinct ids, numbered in the order of the keyed hash (stable per dataset
#: version and secret, unrelated to the ids' values). Written at ingestion beside
#: :data:`RECORD_KEY_COLUMN`, read by the secure room instead of the text ids (no string hash per
#: row, per query); ``NULL`` where the id is ``NULL``. Never shown, like the record key.
PERSON_ID_COLUMN: Final = "__pacte_pid"
ENTERPRISE_ID_COLUMN: Final = "__pacte_eid"
#: The Parquet key-value metadata naming the columns the integer ids were computed from.
IDS_META_KEY: Final = "pacte_ids"
#: The per-row inputs of the secure room's disclosure bounds, precomputed from the integer ids
#: (data format 2, issue 15 part 4): ``PERSON_BITS_COLUMN = pid & 127`` (bit 6: the person's
#: word, bits 0-5: its bit in the word) and ``ENTERPRISE_BITS_COLUMN = eid & 63`` (its bit; bits
#: 0-1: its dominance bucket, ``eid % 4``), as ``UTINYINT`` (a dictionary-encoded byte: the scan
#: reads about a byte per row instead of a 4-byte random id and computes nothing from it);
#: ``NULL`` where the id is. Files ingested before (format 1) have the ids only: the secure room
#: then computes the same values from them per query.
PERSON_BITS_COLUMN: Final = "__pacte_pbits"
ENTERPRISE_BITS_COLUMN: Final = "__pacte_ebits"
IDS_FORMAT: Final = 2


def _dense_ids(
    con: duckdb.DuckDBPyConnection, table: str, source: str, column: str, secret: int
) -> None:
    """A temporary table ``table(v, id)``: each distinct non-NULL value of ``column`` and its
    dense integer id, in the order of the keyed hash (ties, i.e. hash collisions, by value)."""
    seed = int(secret) % (1 << 64)
    c = _quote(column)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT v, CAST(ROW_NUMBER() OVER "
        f"(ORDER BY hash(v, CAST({seed} AS UBIGINT)), v) - 1 AS INTEGER) AS id FROM "
        f"(SELECT DISTINCT {c} AS v FROM {source} WHERE {c} IS NOT NULL)"
    )


def write_with_record_keys(
    parquet_paths: Sequence[str | Path],
    person_column: str,
    secret: int,
    targets: Sequence[str | Path],
    *,
    enterprise_column: str | None = None,
    threads: int | None = None,
) -> list[str]:
    """Ingestion-time work: copy each data file to its target with a :data:`RECORD_KEY_COLUMN`
    column and the integer ids :data:`PERSON_ID_COLUMN` (and, with ``enterprise_column``,
    :data:`ENTERPRISE_ID_COLUMN`), replacing reserved columns the source may already hold,
    rows in the same order. The ids are dense over all the files of the version.

    The secure room reads the key and the ids as ordinary columns of the same file, so its scans
    stay parallel (a row-aligned side file needed a positional join, which scans serially). Each
    target is written to a temporary file first, then renamed.
    """
    if len(parquet_paths) != len(targets):
        raise ValueError("one target per data file")
    reserved = {
        RECORD_KEY_COLUMN,
        PERSON_ID_COLUMN,
        ENTERPRISE_ID_COLUMN,
        PERSON_BITS_COLUMN,
        ENTERPRISE_BITS_COLUMN,
    }
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = true")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        sources = [_literal(str(Path(p).resolve())) for p in parquet_paths]
        for source, src in zip(parquet_paths, sources, strict=True):
            present = {
                str(r[0])
                for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({src})").fetchall()
            }
            for column in (person_column, enterprise_column):
                if column is not None and column not in present:
                    raise ValueError(f"column {column!r} absent from {source}")
        every = "read_parquet([" + ", ".join(sources) + "], union_by_name = true)"
        _dense_ids(con, "__pacte_persons", every, person_column, secret)
        if enterprise_column is not None:
            _dense_ids(con, "__pacte_enterprises", every, enterprise_column, secret)
        meta = json.dumps(
            {
                "person_column": person_column,
                "enterprise_column": enterprise_column,
                "format": IDS_FORMAT,
            },
            sort_keys=True,
        )
        out = []
        for src, target in zip(sources, targets, strict=True):
            path = Path(target).resolve()
            names = [
                str(r[0])
                for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({src})").fetchall()
            ]
            kept = ", ".join(f"r.{_quote(n)}" for n in names if n not in reserved)
            ids = (
                f"p.id AS {PERSON_ID_COLUMN}, CAST(p.id & 127 AS UTINYINT) AS {PERSON_BITS_COLUMN}"
            )
            joins = f" LEFT JOIN __pacte_persons AS p ON p.v = r.{_quote(person_column)}"
            if enterprise_column is not None:
                ids += (
                    f", e.id AS {ENTERPRISE_ID_COLUMN}, "
                    f"CAST(e.id & 63 AS UTINYINT) AS {ENTERPRISE_BITS_COLUMN}"
                )
                joins += (
                    f" LEFT JOIN __pacte_enterprises AS e ON e.v = r.{_quote(enterprise_column)}"
                )
            key = record_key_sql(person_column, secret).replace(
                _quote(person_column), f"r.{_quote(person_column)}"
            )
            tmp = path.with_name(path.name + ".tmp")
            try:
                # the joins do not keep the order of the rows: the file's row number restores it
                con.execute(
                    f"COPY (SELECT {kept}, {key} AS {RECORD_KEY_COLUMN}, {ids} "
                    f"FROM read_parquet({src}, file_row_number = true) AS r{joins} "
                    f"ORDER BY r.file_row_number) TO {_literal(str(tmp))} "
                    f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{IDS_META_KEY}: "
                    f"{_literal(meta)}}})"
                )
                tmp.replace(path)
            finally:
                tmp.unlink(missing_ok=True)
            out.append(str(path))
    finally:
        con.close()
    return out


def integer_ids(parquet_paths: Sequence[str | Path]) -> tuple[str | None, str | None] | None:
    """The (person, enterprise) columns the files' integer ids were computed from, if every file
    holds ids computed from the same columns (one ingestion), else ``None``."""
    found: set[str] = set()
    for raw in parquet_paths:
        meta = (pq.read_schema(raw).metadata or {}).get(IDS_META_KEY.encode())
        if meta is None:
            return None
        found.add(meta.decode())
    if len(found) != 1:
        return None
    decoded = json.loads(found.pop())
    return decoded.get("person_column"), decoded.get("enterprise_column")


def bits_columns(parquet_paths: Sequence[str | Path]) -> bool:
    """True if every file holds the precomputed :data:`PERSON_BITS_COLUMN` (and, when it has
    enterprise ids, :data:`ENTERPRISE_BITS_COLUMN`): data format 2 or later, one ingestion."""
    if integer_ids(parquet_paths) is None:
        return False
    for raw in parquet_paths:
        meta = (pq.read_schema(raw).metadata or {}).get(IDS_META_KEY.encode())
        assert meta is not None  # integer_ids checked every file
        decoded = json.loads(meta.decode())
        if int(decoded.get("format", 1)) < IDS_FORMAT:
            return False
        names = set(pq.read_schema(raw).names)
        if PERSON_BITS_COLUMN not in names:
            return False
        if decoded.get("enterprise_column") and ENTERPRISE_BITS_COLUMN not in names:
            return False
    return True
