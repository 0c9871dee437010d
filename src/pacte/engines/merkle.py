"""RFC 6962 / RFC 9162 Merkle tree engine (SHA-256).

Pure Python, no Django.  Hashes are 32-byte ``bytes``; leaf indices are 0-based.

Two layers:

* one-shot functions over raw entries (:func:`root`, :func:`inclusion_proof`,
  :func:`consistency_proof`) and the verifiers (:func:`verify_inclusion`,
  :func:`verify_consistency`) that implement the bit-walking algorithms of
  RFC 9162 §2.1.3.2 and §2.1.4.2;
* an incremental, storage-agnostic tree (:class:`MerkleTree` over a
  :class:`NodeStore`) plus a :class:`CompactRange` frontier, so that a database can
  persist complete subtree hashes and answer every proof with O(log n) reads and no
  rehashing of the log.

Node ids are ``(level, index)``: level 0 holds leaf hashes, node ``(level, index)``
covers leaves ``[index * 2**level, (index + 1) * 2**level)`` and is stored only once
that whole subtree is complete (so a stored node never changes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MemoryNodeStore",
    "MerkleTree",
    "NodeId",
    "NodeStore",
    "ProofError",
    "consistency_proof",
    "consistency_proof_ranges",
    "frontier_node_ids",
    "inclusion_proof",
    "inclusion_proof_ranges",
    "leaf_hash",
    "node_hash",
    "range_node_ids",
    "root",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
"""``(level, index)`` of a complete subtree."""

_sha256 = hashlib.sha256


class ProofError(ValueError):
    """A proof (or its parameters) failed verification."""


# --------------------------------------------------------------------------- hashing


def leaf_hash(entry: bytes) -> bytes:
    """``SHA-256(0x00 || entry)``."""
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Merkle Tree Hash of a list of leaf hashes (bottom-up, odd node promoted).

    Promoting the last odd node of each level yields exactly the RFC 6962 tree
    (split at the largest power of two strictly smaller than n).
    """
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        nxt = [
            _sha256(b"\x01" + a + b).digest()
            for a, b in zip(level[0::2], level[1::2], strict=False)
        ]
        if len(level) & 1:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def root(entries: Sequence[bytes]) -> bytes:
    """Merkle Tree Hash ``MTH(D[n])`` of raw entries."""
    return root_from_leaf_hashes([_sha256(b"\x00" + e).digest() for e in entries])


# ------------------------------------------------------------------ proof geometry


def _check_size(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")


def range_node_ids(begin: int, end: int) -> list[NodeId]:
    """Perfect subtrees (left to right, decreasing size) making up ``[begin, end)``.

    ``begin`` must be aligned to the largest power of two not above ``end - begin``
    (always true for the ranges used by proofs and roots).  The hash of the range
    as an RFC 6962 subtree is the right fold ``H(n1, H(n2, ... nk))`` of these nodes.
    """
    if not 0 <= begin < end:
        raise ValueError(f"bad range [{begin}, {end})")
    width = end - begin
    if not width & (width - 1):  # fast path: one perfect subtree
        level = width.bit_length() - 1
        if begin & (width - 1):
            raise ValueError(f"range [{begin}, {end}) is not aligned")
        return [(level, begin >> level)]
    out: list[NodeId] = []
    pos = begin
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            if pos & ((1 << level) - 1):
                raise ValueError(f"range [{begin}, {end}) is not aligned")
            out.append((level, pos >> level))
            pos += 1 << level
    return out


def frontier_node_ids(size: int) -> list[NodeId]:
    """Node ids of the compact range ``[0, size)`` (the right frontier)."""
    _check_size("size", size)
    return range_node_ids(0, size) if size else []


def inclusion_proof_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges ``[begin, end)`` whose subtree hashes form ``PATH(index, D[size])``.

    Ordered from the leaf up, as in RFC 6962.
    """
    _check_size("index", index)
    _check_size("size", size)
    if index >= size:
        raise ValueError(f"index {index} out of range for size {size}")
    return _path_ranges(index, size, 0)


def _path_ranges(index: int, size: int, start_level: int) -> list[tuple[int, int]]:
    """Sibling ranges of the node ``(start_level, index >> start_level)`` up to the root."""
    out: list[tuple[int, int]] = []
    for level in range(start_level, (size - 1).bit_length()):
        sib = (index >> level) ^ 1
        begin = sib << level
        if begin < size:
            out.append((begin, min(begin + (1 << level), size)))
    return out


def consistency_proof_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose subtree hashes form ``PROOF(old_size, D[new_size])``."""
    _check_size("old_size", old_size)
    _check_size("new_size", new_size)
    if old_size == 0:
        raise ValueError("consistency proof from size 0 is undefined")
    if old_size > new_size:
        raise ValueError(f"old_size {old_size} > new_size {new_size}")
    if old_size == new_size:
        return []
    # Largest perfect subtree ending at old_size: node (level, idx).
    level = (old_size & -old_size).bit_length() - 1
    idx = (old_size - 1) >> level
    out: list[tuple[int, int]] = []
    if idx != 0:  # old_size not a power of two: the verifier needs this node too
        out.append((idx << level, old_size))
    out.extend(_path_ranges(old_size - 1, new_size, level))
    return out


# --------------------------------------------------------------------- node store


class NodeStore(Protocol):
    """Storage of complete subtree hashes, keyed by ``(level, index)``."""

    def get(self, level: int, index: int) -> bytes | None: ...

    def get_many(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        """Fetch several nodes at once (one query); missing ids are left out."""
        ...

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None: ...


class MemoryNodeStore:
    """In-memory :class:`NodeStore`: one ``bytearray`` per level, 32 bytes a node.

    Nodes of a level must be written in index order without gaps (which is what
    :class:`MerkleTree` does); rewriting an existing node with the same hash is a
    no-op, with a different hash an error.  About ``64 * n`` bytes for ``n`` leaves.
    """

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: list[bytearray] = []

    def count(self, level: int) -> int:
        """Number of nodes stored at ``level``."""
        return len(self._levels[level]) // HASH_SIZE if level < len(self._levels) else 0

    def get(self, level: int, index: int) -> bytes | None:
        if level >= len(self._levels) or index < 0:
            return None
        buf = self._levels[level]
        off = index * HASH_SIZE
        if off + HASH_SIZE > len(buf):
            return None
        return bytes(buf[off : off + HASH_SIZE])

    def get_many(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        levels = self._levels
        nlev = len(levels)
        out: dict[NodeId, bytes] = {}
        for nid in ids:
            level, index = nid
            if level < nlev and index >= 0:
                buf = levels[level]
                off = index * HASH_SIZE
                if off + HASH_SIZE <= len(buf):
                    out[nid] = bytes(buf[off : off + HASH_SIZE])
        return out

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        levels = self._levels
        for level, index, h in items:
            if len(h) != HASH_SIZE:
                raise ValueError("node hash must be 32 bytes")
            while len(levels) <= level:
                levels.append(bytearray())
            buf = levels[level]
            off = index * HASH_SIZE
            if off == len(buf):
                buf += h
            elif off < len(buf):
                if buf[off : off + HASH_SIZE] != h:
                    raise ValueError(f"node ({level}, {index}) already stored with another hash")
            else:
                raise ValueError(f"gap before node ({level}, {index})")


# ------------------------------------------------------------------ compact range


class CompactRange:
    """The right frontier of a tree of ``size`` leaves: one hash per set bit of size.

    ``hashes`` are ordered left to right (largest subtree first), matching
    :func:`frontier_node_ids`.  Serialise with ``(size, hashes)`` or
    :meth:`to_bytes`; appending never needs anything but the frontier.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        _check_size("size", size)
        hs = [bytes(h) for h in hashes]
        if len(hs) != size.bit_count():
            raise ValueError(f"size {size} needs {size.bit_count()} hashes, got {len(hs)}")
        if any(len(h) != HASH_SIZE for h in hs):
            raise ValueError("frontier hashes must be 32 bytes")
        self._size = size
        self._hashes = hs

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        return list(self._hashes)

    def node_ids(self) -> list[NodeId]:
        return frontier_node_ids(self._size)

    def nodes(self) -> list[tuple[int, int, bytes]]:
        return [(lv, ix, h) for (lv, ix), h in zip(self.node_ids(), self._hashes, strict=True)]

    def to_bytes(self) -> bytes:
        return b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> CompactRange:
        if len(data) % HASH_SIZE:
            raise ValueError("frontier bytes must be a multiple of 32")
        return cls(size, [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)])

    @classmethod
    def from_store(cls, store: NodeStore, size: int) -> CompactRange:
        ids = frontier_node_ids(size)
        got = store.get_many(ids)
        try:
            return cls(size, [got[i] for i in ids])
        except KeyError as exc:
            raise ValueError(f"node store is missing frontier node {exc.args[0]}") from None

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the newly completed nodes (the leaf included)."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError("leaf hash must be 32 bytes")
        index = self._size
        h = bytes(leaf_hash)
        created = [(0, index, h)]
        level = 0
        hs = self._hashes
        while index & 1:
            h = _sha256(b"\x01" + hs.pop() + h).digest()
            level += 1
            index >>= 1
            created.append((level, index, h))
        hs.append(h)
        self._size += 1
        return created

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
        out: list[tuple[int, int, bytes]] = []
        for h in leaf_hashes:
            out.extend(self.append(h))
        return out

    def root(self) -> bytes:
        hs = self._hashes
        if not hs:
            return EMPTY_ROOT
        r = hs[-1]
        for h in reversed(hs[:-1]):
            r = _sha256(b"\x01" + h + r).digest()
        return r

    def copy(self) -> CompactRange:
        return CompactRange(self._size, self._hashes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    def __hash__(self) -> int:
        return hash((self._size, tuple(self._hashes)))

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()[:16]}…)"


# -------------------------------------------------------------------- Merkle tree


def _fold(ids: Sequence[NodeId], nodes: Mapping[NodeId, bytes]) -> bytes:
    r = nodes[ids[-1]]
    for nid in reversed(ids[:-1]):
        r = _sha256(b"\x01" + nodes[nid] + r).digest()
    return r


class MerkleTree:
    """Append-only RFC 6962 tree over a :class:`NodeStore` of complete subtrees.

    ``size`` is the number of leaves already in the store (the caller owns it — e.g.
    derived from the entry table inside the same transaction).  Appends read only
    the O(log n) frontier; roots and proofs for any size ``<= self.size`` read only
    O(log n) complete nodes, fetched with one ``get_many`` call.
    """

    def __init__(self, store: NodeStore, size: int = 0) -> None:
        _check_size("size", size)
        self.store = store
        self._size = size
        self._frontier: CompactRange | None = CompactRange() if size == 0 else None

    @property
    def size(self) -> int:
        return self._size

    def frontier(self) -> CompactRange:
        if self._frontier is None:
            self._frontier = CompactRange.from_store(self.store, self._size)
        return self._frontier.copy()

    # -- writing -----------------------------------------------------------------

    def append_many(self, leaf_hashes: Sequence[bytes]) -> list[tuple[int, int, bytes]]:
        """Append leaf hashes; write and return all newly completed nodes.

        Works level by level (batch-friendly); the nodes are handed to
        ``store.put_many`` in one call, leaves first.
        """
        k = len(leaf_hashes)
        if k == 0:
            return []
        for h in leaf_hashes:
            if len(h) != HASH_SIZE:
                raise ValueError("leaf hash must be 32 bytes")
        fr = self.frontier()
        old = self._size
        new = old + k
        old_front = dict(zip(frontier_node_ids(old), fr.hashes, strict=True))

        created: list[tuple[int, int, bytes]] = []
        new_front: dict[NodeId, bytes] = {}
        cur = [bytes(h) for h in leaf_hashes]
        start = old  # index of cur[0] at this level
        level = 0
        while cur:
            created.extend((level, start + i, h) for i, h in enumerate(cur))
            last = (new >> level) - 1
            if new >> level & 1:
                new_front[(level, last)] = cur[-1]
            if old >> level & 1:  # left sibling of cur[0] is the old frontier node
                cur = [old_front[(level, start - 1)], *cur]
                start -= 1
            nxt = [
                _sha256(b"\x01" + a + b).digest()
                for a, b in zip(cur[0::2], cur[1::2], strict=False)
            ]
            start >>= 1
            level += 1
            cur = nxt
        # frontier nodes of the new size not rebuilt above are unchanged old ones
        ids = frontier_node_ids(new)
        hashes = [new_front.get(nid) or old_front[nid] for nid in ids]
        self.store.put_many(created)
        self._frontier = CompactRange(new, hashes)
        self._size = new
        return created

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        return self.append_many([leaf_hash])

    # -- reading -----------------------------------------------------------------

    def _check(self, size: int) -> None:
        _check_size("size", size)
        if size > self._size:
            raise ValueError(f"size {size} exceeds tree size {self._size}")

    def _fetch(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        got = self.store.get_many(ids)
        for nid in ids:
            if nid not in got:
                raise LookupError(f"node store is missing node {nid}")
        return got

    def root_nodes(self, size: int | None = None) -> list[NodeId]:
        size = self._size if size is None else size
        self._check(size)
        return frontier_node_ids(size)

    def root(self, size: int | None = None) -> bytes:
        size = self._size if size is None else size
        if size == self._size and self._frontier is not None:
            return self._frontier.root()
        ids = self.root_nodes(size)
        if not ids:
            return EMPTY_ROOT
        return _fold(ids, self._fetch(ids))

    @staticmethod
    def _ranges_nodes(ranges: Sequence[tuple[int, int]]) -> list[list[NodeId]]:
        return [range_node_ids(b, e) for b, e in ranges]

    def inclusion_proof_nodes(self, index: int, size: int | None = None) -> list[NodeId]:
        """All node ids needed for ``inclusion_proof(index, size)`` (one batch read)."""
        size = self._size if size is None else size
        self._check(size)
        return [
            nid for ids in self._ranges_nodes(inclusion_proof_ranges(index, size)) for nid in ids
        ]

    def consistency_proof_nodes(self, old_size: int, new_size: int | None = None) -> list[NodeId]:
        """All node ids needed for ``consistency_proof(old_size, new_size)``."""
        new_size = self._size if new_size is None else new_size
        self._check(new_size)
        ranges = consistency_proof_ranges(old_size, new_size)
        return [nid for ids in self._ranges_nodes(ranges) for nid in ids]

    def _build(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        groups = self._ranges_nodes(ranges)
        nodes = self._fetch([nid for ids in groups for nid in ids])
        return [nodes[ids[0]] if len(ids) == 1 else _fold(ids, nodes) for ids in groups]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self._size if size is None else size
        self._check(size)
        return self._build(inclusion_proof_ranges(index, size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        new_size = self._size if new_size is None else new_size
        self._check(new_size)
        return self._build(consistency_proof_ranges(old_size, new_size))

    def leaf_hash(self, index: int) -> bytes:
        self._check(index + 1)
        return self._fetch([(0, index)])[(0, index)]


# ------------------------------------------------------- one-shot over raw entries


def _tree_of(entries: Sequence[bytes]) -> MerkleTree:
    tree = MerkleTree(MemoryNodeStore())
    tree.append_many([_sha256(b"\x00" + e).digest() for e in entries])
    return tree


def inclusion_proof(entries: Sequence[bytes], index: int) -> list[bytes]:
    """``PATH(index, D[n])`` for the raw entries ``D[n]``."""
    inclusion_proof_ranges(index, len(entries))  # validate before hashing
    return _tree_of(entries).inclusion_proof(index)


def consistency_proof(entries: Sequence[bytes], old_size: int) -> list[bytes]:
    """``PROOF(old_size, D[n])`` (RFC 6962 §2.1.2) for the raw entries ``D[n]``."""
    consistency_proof_ranges(old_size, len(entries))
    return _tree_of(entries).consistency_proof(old_size)


# ------------------------------------------------------------------- verification


def _need_int(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProofError(f"{name} must be an int")
    if value < 0:
        raise ProofError(f"{name} must not be negative")


def _need_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes | bytearray | memoryview) or len(value) != HASH_SIZE:
        raise ProofError(f"{name} must be a 32-byte hash")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check ``proof`` that ``leaf_hash`` is leaf ``index`` of the tree ``(size, root)``.

    RFC 9162 §2.1.3.2.  Raises :class:`ProofError` on any failure.
    """
    _need_int("index", index)
    _need_int("size", size)
    _need_hash("leaf hash", leaf_hash)
    _need_hash("root", root)
    if index >= size:
        raise ProofError(f"index {index} out of range for size {size}")
    for i, p in enumerate(proof):
        _need_hash(f"proof[{i}]", p)
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that tree ``(new_size, new_root)`` extends ``(old_size, old_root)``.

    RFC 9162 §2.1.4.2.  Raises :class:`ProofError` on any failure.
    """
    _need_int("old_size", old_size)
    _need_int("new_size", new_size)
    _need_hash("old root", old_root)
    _need_hash("new root", new_root)
    for i, p in enumerate(proof):
        _need_hash(f"proof[{i}]", p)
    if old_size == 0:
        raise ProofError("consistency from size 0 is undefined")
    if old_size > new_size:
        raise ProofError(f"old_size {old_size} > new_size {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if old_root != new_root:
            raise ProofError("equal sizes with different roots")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # power of two: the old root is a tree node
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof too short")
    if fr != old_root:
        raise ProofError("consistency proof does not match the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not match the new root")
