"""Secure room: locked DuckDB connections kept for the next query of the same configuration.

Pure module (DuckDB, no Django). Opening the room's connection (a DuckDB instance, the
Parquet schema and statistics read, the view created, ``allowed_paths`` set, external access
switched off and the configuration locked) costs 0.1-0.3 s, a fifth of a whole query at 10 M
rows (issue 15 item 4). Those settings are instance-wide in DuckDB, so an instance cannot serve
two configurations: a connection is only ever handed back to a run whose **whole**
configuration is identical (resolved paths, the files' fingerprints, table name, allowed
columns, person and enterprise columns, threads, memory limit, cell-key secret). A
connection goes back to the pool only after a run that ended normally and once no temporary
table of that run is left; any error closes it. At most :data:`IDLE_CONNECTIONS` idle
connections are kept per process (the oldest are closed first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Final

import duckdb

#: Idle connections kept per process, all configurations together.
IDLE_CONNECTIONS: Final = 4


class ConnectionPool:
    """Idle locked connections by configuration key (thread-safe; each connection is lent to
    one run at a time: it leaves the pool while in use)."""

    def __init__(self, size: int = IDLE_CONNECTIONS) -> None:
        self.size = size
        self._idle: OrderedDict[tuple[int, Hashable], duckdb.DuckDBPyConnection] = OrderedDict()
        self._lock = threading.Lock()
        self._serial = 0

    def take(self, key: Hashable) -> duckdb.DuckDBPyConnection | None:
        """An idle connection opened for exactly ``key``, else None."""
        with self._lock:
            for slot in self._idle:
                if slot[1] == key:
                    return self._idle.pop(slot)
        return None

    def give(self, key: Hashable, con: duckdb.DuckDBPyConnection) -> None:
        """Keep ``con`` for ``key`` if no temporary table is left in it; else close it."""
        try:
            (left,) = con.execute(
                "SELECT COUNT(*) FROM duckdb_tables() WHERE temporary"
            ).fetchall()[0]
        except duckdb.Error:
            con.close()
            return
        if left:
            con.close()
            return
        evicted: list[duckdb.DuckDBPyConnection] = []
        with self._lock:
            self._serial += 1
            self._idle[(self._serial, key)] = con
            while len(self._idle) > self.size:
                evicted.append(self._idle.popitem(last=False)[1])
        for old in evicted:
            old.close()

    def idle(self) -> int:
        with self._lock:
            return len(self._idle)

    def clear(self) -> None:
        with self._lock:
            idle = list(self._idle.values())
            self._idle.clear()
        for con in idle:
            con.close()


POOL: Final = ConnectionPool()
