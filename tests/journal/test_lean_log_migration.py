"""Migration 0004: level-0 nodes move out of ``journal_lognode`` (an entry's leaf hash IS node
(0, index)); tested from the previous schema, both ways."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pacte.engines import merkle
from pacte.journal import services
from pacte.journal.models import Event, LogNode
from tests.journal.helpers import append

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("journal", "0003_witnessed_log")]
AFTER = [("journal", "0004_lean_log")]


def _migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def _level0(cur) -> dict[int, bytes]:  # type: ignore[no-untyped-def]
    cur.execute('SELECT "index", "hash" FROM journal_lognode WHERE "level" = 0')
    return {i: bytes(h) for i, h in cur.fetchall()}


def test_level_zero_nodes_move_into_the_entries_and_back():
    append(11)
    leaves = dict(Event.objects.values_list("index", "leaf_hash"))
    root = services.latest_checkpoint().root
    proof = services.inclusion(index=6)
    assert not LogNode.objects.filter(level=0).exists()
    try:
        _migrate(BEFORE)  # the previous schema: one level-0 row per integrated entry
        with connection.cursor() as cur:
            assert _level0(cur) == {i: bytes(h) for i, h in leaves.items()}
            # an entry whose leaf hash was lost takes the stored node's hash back
            cur.execute('UPDATE journal_event SET leaf_hash = %s WHERE "index" = 4', [b""])
        _migrate(AFTER)
    finally:
        _migrate(AFTER)
    with connection.cursor() as cur:
        assert _level0(cur) == {}
    assert bytes(Event.objects.get(index=4).leaf_hash) == leaves[4]
    services.clear_caches()
    report = services.verify_log()
    assert report.ok, report.problems
    assert bytes(services.latest_checkpoint().root) == bytes(root)
    assert services.inclusion(index=6) == proof
    entries = [e.encode() for e in Event.objects.order_by("index").values_list("entry", flat=True)]
    assert bytes(root) == merkle.root(entries)


def test_verify_log_reports_a_level_zero_node_stored_apart():
    append(4)
    LogNode.objects.create(level=0, index=2, hash=bytes(Event.objects.get(index=2).leaf_hash))
    report = services.verify_log()
    assert not report.ok
    assert any("(0, 2)" in p for p in report.problems)
