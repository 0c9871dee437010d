"""The process-wide proof-serving caches: same proofs as the database, only committed nodes."""

from __future__ import annotations

import pytest
from django.db import transaction

from pacte.engines import merkle
from pacte.journal import services
from pacte.journal.models import Checkpoint, Cosignature, Event, LogNode, LogState
from pacte.journal.store import BLOCK_BITS, node_cache
from tests.journal.helpers import batch

pytestmark = pytest.mark.django_db(transaction=True)


def _check_inclusion(p: dict, cp_root: bytes | None = None) -> None:
    root = bytes.fromhex(p["root"])
    if cp_root is not None:
        assert root == cp_root
    merkle.verify_inclusion(
        bytes.fromhex(p["leaf_hash"]),
        p["index"],
        p["size"],
        [bytes.fromhex(h) for h in p["proof"]],
        root,
    )


def _cached_nodes() -> list[tuple[int, int]]:
    cache = node_cache()
    return [
        (lv, (number << BLOCK_BITS) + k)
        for (lv, number), data in cache._blocks.items()
        for k in range(len(data) // 32)
    ]


def test_cached_proofs_equal_uncached_ones_for_every_index_and_size():
    for k in range(5):
        batch(37, start=37 * k)
    n = services.latest_checkpoint().size
    assert n == 185
    for size in (1, 2, 3, 64, 100, 128, 129, n):
        for index in range(0, size, 7):
            cached = services.inclusion(index=index, size=size)
            with transaction.atomic():  # inside a transaction: computed from the rows, no cache
                direct = services.inclusion(index=index, size=size)
            assert cached == direct
            _check_inclusion(cached)
        for old in range(1, size + 1, 5):
            cached = services.consistency(old, size)
            with transaction.atomic():
                assert services.consistency(old, size) == cached
            merkle.verify_consistency(
                old,
                size,
                bytes.fromhex(cached["old_root"]),
                bytes.fromhex(cached["root"]),
                [bytes.fromhex(h) for h in cached["proof"]],
            )
    assert node_cache().nbytes > 0 and node_cache().hits > 0


def test_nodes_of_a_rolled_back_batch_never_enter_the_cache():
    batch(10)
    _check_inclusion(services.inclusion(index=3))
    with pytest.raises(RuntimeError), transaction.atomic():
        batch(22, start=10)  # entries, nodes and checkpoint written in this transaction …
        p = services.inclusion(index=25, size=32)  # … and served from them, uncached
        _check_inclusion(p)
        raise RuntimeError("rollback")
    assert all((ix + 1) << lv <= 10 for lv, ix in _cached_nodes())
    batch(22, start=100)  # other entries at the same indexes, committed
    cp = Checkpoint.objects.order_by("-size").first()
    assert cp.size == 32
    for i in range(32):
        _check_inclusion(services.inclusion(index=i), bytes(cp.root))
    assert all((ix + 1) << lv <= 32 for lv, ix in _cached_nodes())
    assert services.warm_cache() > 0
    _check_inclusion(services.inclusion(index=31), bytes(cp.root))


def test_another_log_in_the_database_is_not_served_from_the_cache():
    batch(40)
    for i in range(40):
        services.inclusion(index=i)
    assert node_cache().nbytes > 0
    # the database is reset (restore, flush): another log of the same size
    Cosignature.objects.all().delete()
    Checkpoint.objects.all().delete()
    LogNode.objects.all().delete()
    Event.objects.all().delete()
    LogState.objects.all().delete()
    from pacte.journal import memory

    with pytest.raises(memory.LogHalted):  # the log remembers it signed size 40: no silent new log
        batch(40, start=1000)
    memory.forget(reason="test: the operator starts a new log")
    batch(40, start=1000)
    cp = Checkpoint.objects.order_by("-size").first()
    for i in range(40):
        _check_inclusion(services.inclusion(index=i), bytes(cp.root))
    c = services.consistency(17)
    assert c["root"] == bytes(cp.root).hex()
