"""Plain-row inserts for large batches (the log's entries, an experiment's units): COPY on
PostgreSQL, one prepared executemany on SQLite, multi-row INSERTs elsewhere — all much faster than
the ORM's bulk_create, which builds one model instance per row. Runs in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TypeAlias

from django.db import connection

INSERT_CHUNK = 800  # rows per INSERT statement (3 parameters a row)

SqlValue: TypeAlias = (
    bool | int | float | str | bytes | date | None
)  # what a row may hold (date covers datetime)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def bulk_insert(table: str, columns: Sequence[str], rows: Sequence[Sequence[SqlValue]]) -> None:
    """Insert rows in the current transaction: COPY on PostgreSQL, one prepared executemany on
    SQLite, multi-row INSERTs elsewhere (all much faster than ORM bulk_create). A refusal of
    the database (constraint, trigger) is raised as Django's ``IntegrityError`` /
    ``DatabaseError``, as from the ORM."""
    if not rows:
        return
    cols = ", ".join(_q(c) for c in columns)
    if connection.vendor == "sqlite":  # prepared statement, no placeholder rewriting
        connection.ensure_connection()
        sql = f"INSERT INTO {_q(table)} ({cols}) VALUES ({', '.join(['?'] * len(columns))})"
        with connection.wrap_database_errors:  # django.db errors, as from a Django cursor
            connection.connection.executemany(sql, rows)
        return
    if connection.vendor == "postgresql":  # COPY in the current transaction
        connection.ensure_connection()
        with (
            connection.wrap_database_errors,
            connection.connection.cursor() as cur,
            cur.copy(f"COPY {_q(table)} ({cols}) FROM STDIN") as cp,
        ):
            write = cp.write_row
            for row in rows:
                write(row)
        return
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    chunk = max(1, min(INSERT_CHUNK, 30000 // len(columns)))
    with connection.cursor() as cur:
        for lo in range(0, len(rows), chunk):
            part = rows[lo : lo + chunk]
            sql = f"INSERT INTO {_q(table)} ({cols}) VALUES " + ", ".join([one] * len(part))
            cur.execute(sql, [v for row in part for v in row])
