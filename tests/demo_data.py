"""The whole demo, loaded once per test run and copied back into the test database for each test
that needs it (``demo_data`` fixture in tests/conftest.py).

Loading the demo runs every domain's use cases (a 200,000-unit experiment, evaluations, payments,
hundreds of log entries): it is what the demo tests check, but the pages, journeys and crawls only
need its result. The first test that asks loads it for real, through ``pacte.demo.load_demo``; its
database is then kept, byte for byte, and restored for the next ones:

- SQLite: the database file, through SQLite's own online backup (``sqlite3.Connection.backup``);
- PostgreSQL: each table's rows through ``COPY … TO/FROM STDIN`` (text format), with triggers
  paused for the copy (``session_replication_role = replica``: the rows were checked when the demo
  wrote them; the ledger's triggers would refuse re-inserting a posted transaction), then every
  sequence set past the copied ids.

The log's memory of its latest checkpoint (a file outside the database) is kept and restored with
the rows. Tests are transactional (the database is emptied after each), so nothing leaks.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection


@dataclass
class _Snapshot:
    sqlite: sqlite3.Connection | None = None
    tables: dict[str, bytes] = field(default_factory=dict)
    memory: bytes | None = None


_SNAPSHOTS: dict[tuple[str, ...], _Snapshot | None] = {}


def load(extensions: list[str] | None = None) -> None:
    """The demo in the (empty) test database: loaded the first time, restored afterwards.

    ``extensions`` defaults to ``pacte.demo.DEMO_EXTENSIONS`` as it is when called (a test that
    wants the spine only patches it to ``[]``): each list has its own copy."""
    from pacte import demo

    key = tuple(demo.DEMO_EXTENSIONS if extensions is None else extensions)
    snapshot = _SNAPSHOTS.get(key)
    if snapshot is not None:
        _restore(snapshot)
        return
    assert demo.load_demo() is True, "the test database must start empty"
    if key not in _SNAPSHOTS:
        _SNAPSHOTS[key] = _take()


def _take() -> _Snapshot | None:
    memory_file = Path(settings.LOG_MEMORY_FILE)
    memory = memory_file.read_bytes() if memory_file.exists() else None
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(copy)
        return _Snapshot(sqlite=copy, memory=memory)
    if connection.vendor == "postgresql" and _may_pause_triggers():
        tables = {}
        with connection.cursor() as cursor:
            for table in _tables():
                with cursor.cursor.copy(f"COPY {_quoted(table)} TO STDOUT") as out:
                    tables[table] = b"".join(bytes(block) for block in out)
        return _Snapshot(tables=tables, memory=memory)
    return None  # no way to copy here: every test loads the demo itself


def _restore(snapshot: _Snapshot) -> None:
    if snapshot.sqlite is not None:
        connection.ensure_connection()
        snapshot.sqlite.backup(connection.connection)
    else:
        with connection.cursor() as cursor:
            names = ", ".join(_quoted(t) for t in snapshot.tables)
            cursor.execute("SET session_replication_role = replica")
            try:
                cursor.execute(f"TRUNCATE {names}")  # what post_migrate re-created after the flush
                for table, rows in snapshot.tables.items():
                    with cursor.cursor.copy(f"COPY {_quoted(table)} FROM STDIN") as into:
                        into.write(rows)
            finally:
                cursor.execute("SET session_replication_role = DEFAULT")
            for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
                cursor.execute(statement)
    if snapshot.memory is not None:
        Path(settings.LOG_MEMORY_FILE).write_bytes(snapshot.memory)


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True))


def _quoted(table: str) -> str:
    return connection.ops.quote_name(table)


def _may_pause_triggers() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row: Any = cursor.fetchone()
    return bool(row and row[0])
