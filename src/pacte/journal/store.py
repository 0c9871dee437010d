"""The stored Merkle tree as a :class:`pacte.engines.merkle.NodeStore` (raw SQL on the hot paths).

Level 0 (the leaf hashes) is NOT stored apart: an entry's ``Event.leaf_hash`` *is* node
``(0, index)``. ``journal_lognode`` holds the complete nodes of levels 1 and up. Every read
below answers level-0 ids from ``journal_event`` and the others from ``journal_lognode``, in
the same query (``UNION ALL``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.db import connection

from pacte.engines.merkle import NodeId
from pacte.journal.models import Event, LogNode
from pacte.writes.rows import bulk_insert


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _leaves_sql(where: str) -> str:
    """SELECT (0, index, leaf_hash) of the entries matching ``where`` (over ``index``)."""
    return (
        f"SELECT 0, {_q('index')}, {_q('leaf_hash')} FROM {_q(Event._meta.db_table)} WHERE {where}"
    )


def _nodes_sql(where: str) -> str:
    return (
        f"SELECT {_q('level')}, {_q('index')}, {_q('hash')} FROM {_q(LogNode._meta.db_table)} "
        f"WHERE {where}"
    )


def _select_nodes(
    by_level: Mapping[int, list[str]], params: Mapping[int, list[int]], *, ordered: bool = False
) -> list[tuple[int, int, bytes]]:
    """Rows (level, index, hash) for per-level conditions on ``index``: level 0 from the
    entries, the others from the node table, in ONE query."""
    parts: list[str] = []
    args: list[int] = []
    upper = [lv for lv in by_level if lv > 0]
    if 0 in by_level:
        parts.append(_leaves_sql(" OR ".join(by_level[0])))
        args.extend(params[0])
    if upper:
        clauses = []
        for lv in upper:
            clauses.append(f"({_q('level')} = %s AND ({' OR '.join(by_level[lv])}))")
            args.append(lv)
            args.extend(params[lv])
        parts.append(_nodes_sql(" OR ".join(clauses)))
    if not parts:
        return []
    sql = " UNION ALL ".join(parts)
    if ordered:
        sql = f"SELECT * FROM ({sql}) AS n ORDER BY 1, 2"
    with connection.cursor() as cur:
        cur.execute(sql, args)
        return [(int(lv), int(ix), bytes(h)) for lv, ix, h in cur.fetchall()]


def level_hashes(level: int, lo: int, hi: int) -> list[bytes]:
    """Hashes of the complete nodes ``(level, lo) … (level, hi - 1)`` that are stored, in order
    (level 0: the entries' leaf hashes)."""
    idx = _q("index")
    if level == 0:
        sql = _leaves_sql(f"{idx} >= %s AND {idx} < %s") + f" ORDER BY {idx}"
        args = [lo, hi]
    else:
        sql = _nodes_sql(f"{_q('level')} = %s AND {idx} >= %s AND {idx} < %s") + f" ORDER BY {idx}"
        args = [level, lo, hi]
    with connection.cursor() as cur:
        cur.execute(sql, args)
        return [bytes(h) for _lv, _ix, h in cur.fetchall()]


class DbNodeStore:
    """Complete subtree hashes in the `journal_lognode` table.

    ``get_many`` runs ONE query; ``prime`` pre-loads ids so that a proof and its root are
    answered from a single round trip. The store keeps every node it read or wrote (a
    complete node never changes; a store lives for one transaction): after an append, the
    consistency proof from the previous size (the memory check before signing) is made of
    the old frontier and the new nodes, and costs no query.
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
            got = self._fetch(missing)
            self._cache.update(got)
            out.update(got)
        return out

    def prime(self, ids: Sequence[NodeId]) -> None:
        self._cache.update(self._fetch([i for i in ids if i not in self._cache]))

    @staticmethod
    def _fetch(ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        if not ids:
            return {}
        indexes: dict[int, list[int]] = {}
        for level, index in ids:
            indexes.setdefault(level, []).append(index)
        conds = {
            lv: [f"{_q('index')} IN ({', '.join(['%s'] * len(ix))})"] for lv, ix in indexes.items()
        }
        return {(lv, ix): h for lv, ix, h in _select_nodes(conds, indexes)}

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        """Write the nodes of levels 1 and up in one bulk insert; level-0 nodes are the
        entries' leaf hashes, written with the entries (see :mod:`pacte.journal.appends`)."""
        items = list(items)
        rows = [(lv, ix, h) for lv, ix, h in items if lv > 0]
        bulk_insert(LogNode._meta.db_table, ("level", "index", "hash"), rows)
        cache = self._cache
        for lv, ix, h in items:  # the leaves too: level 0 is written with the entries
            cache[(lv, ix)] = h


# ------------------------------------------------------------------ process-wide node cache

BLOCK_BITS = 6
BLOCK = 1 << BLOCK_BITS  # nodes per cached block (2 KiB of hashes)


class NodeCache:
    """Process-wide read-through cache of **committed** complete nodes.

    Nodes are kept in blocks of ``BLOCK`` consecutive nodes of one level, packed as
    32-byte hashes (a block may be shorter at the right edge of the tree).  A complete
    node never changes once committed, so the cache is never invalidated entry by entry;
    it is bounded by ``max_bytes`` (oldest blocks dropped first) and cleared as a whole
    when the log it describes is not the log in the database any more (see
    :func:`pacte.journal.checkpoints._published`).

    Safety against rolled-back writes: blocks are only filled by :class:`CachedNodeStore`,
    which is only used outside any transaction (autocommit: every read sees committed
    rows) and only asks for nodes entirely below ``committed`` — the size of a signed
    checkpoint read from committed state.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._blocks: dict[tuple[int, int], bytes] = {}
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        self._blocks = {}
        self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def get(self, level: int, index: int) -> bytes | None:
        block = self._blocks.get((level, index >> BLOCK_BITS))
        if block is not None:
            off = (index & (BLOCK - 1)) << 5
            if off < len(block):
                return block[off : off + 32]
        return None

    def put_block(self, level: int, number: int, data: bytes) -> None:
        if self.max_bytes <= 0:
            return
        key = (level, number)
        old = self._blocks.pop(key, None)
        if old is not None:
            self._bytes -= len(old) + 64
        self._blocks[key] = data
        self._bytes += len(data) + 64  # + rough per-block overhead
        blocks = self._blocks
        while self._bytes > self.max_bytes and blocks:
            k = next(iter(blocks))
            self._bytes -= len(blocks.pop(k)) + 64
        return


_CACHE: NodeCache | None = None


def node_cache() -> NodeCache:
    global _CACHE
    if _CACHE is None:
        from django.conf import settings

        _CACHE = NodeCache(int(getattr(settings, "LOG_NODE_CACHE_BYTES", 256 * 1024 * 1024)))
    return _CACHE


def fetch_blocks(wanted: Iterable[tuple[int, int]], committed: int) -> dict[tuple[int, int], bytes]:
    """Read whole blocks ``(level, number)`` of committed nodes (one query), clipped to the
    nodes entirely below leaf ``committed``; returns the packed hashes of each block."""
    conds: dict[int, list[str]] = {}
    params: dict[int, list[int]] = {}
    bounds: dict[tuple[int, int], tuple[int, int]] = {}
    for level, number in wanted:
        lo = number << BLOCK_BITS
        hi = min(lo + BLOCK, committed >> level)
        if hi <= lo:
            continue
        bounds[(level, number)] = (lo, hi)
        conds.setdefault(level, []).append(f"({_q('index')} >= %s AND {_q('index')} < %s)")
        params.setdefault(level, []).extend((lo, hi))
    if not conds:
        return {}
    rows = _select_nodes(conds, params, ordered=True)
    parts: dict[tuple[int, int], list[bytes]] = {}
    for lv, ix, h in rows:
        parts.setdefault((lv, ix >> BLOCK_BITS), []).append(h)
    out: dict[tuple[int, int], bytes] = {}
    for key, (lo, hi) in bounds.items():
        hs = parts.get(key, [])
        if len(hs) == hi - lo and all(len(h) == 32 for h in hs):  # contiguous and well formed
            out[key] = b"".join(hs)
    return out


class CachedNodeStore:
    """Read-only :class:`~pacte.engines.merkle.NodeStore` over :func:`node_cache`, for
    nodes below ``committed`` (a committed checkpoint size), used outside transactions."""

    def __init__(self, committed: int, cache: NodeCache | None = None) -> None:
        self.committed = committed
        self.cache = cache or node_cache()

    def get(self, level: int, index: int) -> bytes | None:
        return self.get_many([(level, index)]).get((level, index))

    def get_many(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        cache = self.cache
        out: dict[NodeId, bytes] = {}
        missing: list[NodeId] = []
        blocks = cache._blocks
        for nid in ids:
            level, index = nid
            block = blocks.get((level, index >> BLOCK_BITS))
            if block is not None:
                off = (index & (BLOCK - 1)) << 5
                if off < len(block):
                    out[nid] = block[off : off + 32]
                    continue
            missing.append(nid)
        if missing:
            cache.misses += 1
            committed = self.committed
            ok = [(lv, ix) for lv, ix in missing if (ix + 1) << lv <= committed]
            got = fetch_blocks({(lv, ix >> BLOCK_BITS) for lv, ix in ok}, committed)
            for (lv, number), data in got.items():
                cache.put_block(lv, number, data)
            for lv, ix in ok:
                found = got.get((lv, ix >> BLOCK_BITS))
                if found is not None:
                    data = found
                    off = (ix & (BLOCK - 1)) << 5
                    if off < len(data):
                        out[(lv, ix)] = data[off : off + 32]
        else:
            cache.hits += 1
        return out

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        raise TypeError("CachedNodeStore is read-only")


def warm(committed: int, *, max_bytes: int | None = None, chunk: int = 200_000) -> int:
    """Pre-load the cache top-down (highest levels first) with committed nodes, up to the
    cache budget (or ``max_bytes``); returns the number of nodes loaded."""
    cache = node_cache()
    budget = cache.max_bytes if max_bytes is None else min(max_bytes, cache.max_bytes)
    loaded = 0
    for level in range(max(committed.bit_length() - 1, 0), -1, -1):
        count = committed >> level
        if cache.nbytes + count * 33 > budget:
            break
        lo = 0
        while lo < count:
            hi = min(count, lo + chunk)
            hashes = level_hashes(level, lo, hi)
            if len(hashes) != hi - lo:
                return loaded  # not contiguous: leave it to the read-through path
            for b in range(lo, hi, BLOCK):
                cache.put_block(level, b >> BLOCK_BITS, b"".join(hashes[b - lo : b - lo + BLOCK]))
            loaded += hi - lo
            lo = hi
    return loaded
