"""`LogNode` table as a :class:`pacte.engines.merkle.NodeStore` (raw SQL on the hot paths)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.db import connection

from pacte.engines.merkle import NodeId
from pacte.journal.models import LogNode

INSERT_CHUNK = 800  # rows per INSERT statement (3 parameters a row)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def bulk_insert(table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Multi-row INSERT in chunks (much faster than ORM bulk_create for hot paths)."""
    if not rows:
        return
    cols = ", ".join(_q(c) for c in columns)
    if connection.vendor == "sqlite":  # prepared statement, no placeholder rewriting
        connection.ensure_connection()
        sql = f"INSERT INTO {_q(table)} ({cols}) VALUES ({', '.join(['?'] * len(columns))})"
        connection.connection.executemany(sql, rows)
        return
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    chunk = max(1, min(INSERT_CHUNK, 30000 // len(columns)))
    with connection.cursor() as cur:
        for lo in range(0, len(rows), chunk):
            part = rows[lo : lo + chunk]
            sql = f"INSERT INTO {_q(table)} ({cols}) VALUES " + ", ".join([one] * len(part))
            cur.execute(sql, [v for row in part for v in row])


class DbNodeStore:
    """Complete subtree hashes in the `journal_lognode` table.

    ``get_many`` runs ONE query; ``prime`` pre-loads ids so that a proof and its root are
    answered from a single round trip.
    """

    def __init__(self) -> None:
        self._cache: dict[NodeId, bytes] = {}

    def get(self, level: int, index: int) -> bytes | None:
        return self.get_many([(level, index)]).get((level, index))

    def get_many(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        out: dict[NodeId, bytes] = {}
        missing: list[NodeId] = []
        for nid in ids:
            h = self._cache.get(nid)
            if h is None:
                missing.append(nid)
            else:
                out[nid] = h
        if missing:
            out.update(self._fetch(missing))
        return out

    def prime(self, ids: Sequence[NodeId]) -> None:
        self._cache.update(self._fetch([i for i in ids if i not in self._cache]))

    @staticmethod
    def _fetch(ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        if not ids:
            return {}
        by_level: dict[int, list[int]] = {}
        for level, index in ids:
            by_level.setdefault(level, []).append(index)
        clauses, params = [], []
        for level, indexes in by_level.items():
            clauses.append(f"({_q('level')} = %s AND {_q('index')} IN ({', '.join(['%s'] * len(indexes))}))")
            params.append(level)
            params.extend(indexes)
        sql = (
            f"SELECT {_q('level')}, {_q('index')}, {_q('hash')} FROM {_q(LogNode._meta.db_table)} "
            f"WHERE {' OR '.join(clauses)}"
        )
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return {(lv, ix): bytes(h) for lv, ix, h in cur.fetchall()}

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        rows = [(lv, ix, h) for lv, ix, h in items]
        bulk_insert(LogNode._meta.db_table, ("level", "index", "hash"), rows)
        for lv, ix, h in rows:
            if (lv, ix) in self._cache:
                self._cache[(lv, ix)] = h
