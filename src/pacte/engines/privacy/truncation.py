"""Per-person truncation: the view built once at ingestion that bounds each person's rows to k."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow.parquet as pq

from pacte.engines.privacy.limits import (
    ENGINE_VERSION,
    TRUNCATION_META_KEY,
    TRUNCATION_SEED,
    _widen,
)

# --------------------------------------------------------------------------- truncation


def _write_view(frame: pl.DataFrame, path: Path, meta: str) -> None:
    """Write the view with DuckDB's own Parquet writer (zstd, DuckDB's row groups), the
    truncation facts in the footer's key-value metadata.

    The view is scanned by DuckDB on every DP query: a grouped count over a file DuckDB wrote
    costs ~35 % less CPU than over the same rows written by pyarrow (issue 15, dp4; figures in
    bench/README.md). If a column type would not read back as it was (e.g. a time zone DuckDB
    normalises), pyarrow writes the file instead, as before.
    """
    table = frame.to_arrow()
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("__pacte_view", table)
        target = "'" + str(path).replace("'", "''") + "'"
        key = "'" + TRUNCATION_META_KEY.decode().replace("'", "''") + "'"
        value = "'" + meta.replace("'", "''") + "'"
        con.execute(
            f"COPY __pacte_view TO {target} "
            f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{key}: {value}}})"
        )
    finally:
        con.close()
    if pl.read_parquet_schema(path) == dict(frame.schema):
        return
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), TRUNCATION_META_KEY: meta.encode()}
    )
    pq.write_table(table, path, compression="zstd", row_group_size=256 * 1024)


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
    frame = lf.select(
        *[_widen(c, schema[c]) for c in kept],
        pl.col(person_column).alias("__person"),
        person_rank(person_column, names).alias("__rank"),
    ).collect()
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
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    _write_view(frame, tmp, json.dumps(meta))
    tmp.replace(out)
    return TruncatedView(str(out), k, person_column, source, rows_in, frame.height, persons)
