"""Tests for pacte.engines.merkle against an independent recursive RFC 6962 model."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacte.engines import merkle
from pacte.engines.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryNodeStore,
    MerkleTree,
    ProofError,
    verify_consistency,
    verify_inclusion,
)

# ------------------------------------------------------- independent reference model
# Written straight from RFC 6962 §2.1, §2.1.1 and §2.1.2: deliberately naive.


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ref_k(n: int) -> int:
    """Largest power of two strictly smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + d[0])
    k = ref_k(n)
    return _h(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = ref_k(n)
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = ref_k(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


def entries_of(n: int) -> list[bytes]:
    return [f"entry-{i}".encode() for i in range(n)]


ALL = entries_of(64)
WIDE = entries_of(140)

# ------------------------------------------------------------ published vectors
# Certificate Transparency / transparency-dev/merkle test data (testonly/constants.go
# and proof/verify_test.go).

CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {  # (index, size) -> path
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
CT_CONSISTENCY = {  # (old, new) -> proof
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def _hx(xs: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in xs]


def test_hashers_published() -> None:
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]
    assert merkle.leaf_hash(b"").hex() == CT_ROOTS[1]
    assert (
        merkle.leaf_hash(b"L123456").hex()
        == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert (
        merkle.node_hash(b"N123", b"N456").hex()
        == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("n", range(0, 9))
def test_published_roots(n: int) -> None:
    assert merkle.root(CT_LEAVES[:n]).hex() == CT_ROOTS[n]
    assert ref_mth(CT_LEAVES[:n]).hex() == CT_ROOTS[n]  # the model agrees too
    tree = MerkleTree(MemoryNodeStore())
    tree.append_many([merkle.leaf_hash(e) for e in CT_LEAVES[:n]])
    assert tree.root().hex() == CT_ROOTS[n]


@pytest.mark.parametrize(("index", "size"), sorted(CT_INCLUSION))
def test_published_inclusion(index: int, size: int) -> None:
    want = _hx(CT_INCLUSION[(index, size)])
    assert merkle.inclusion_proof(CT_LEAVES[:size], index) == want
    verify_inclusion(
        merkle.leaf_hash(CT_LEAVES[index]), index, size, want, bytes.fromhex(CT_ROOTS[size])
    )


@pytest.mark.parametrize(("old", "new"), sorted(CT_CONSISTENCY))
def test_published_consistency(old: int, new: int) -> None:
    want = _hx(CT_CONSISTENCY[(old, new)])
    assert merkle.consistency_proof(CT_LEAVES[:new], old) == want
    verify_consistency(old, new, bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new]), want)


# ------------------------------------------------------------ exhaustive 1..64


@pytest.fixture(scope="module")
def big_tree() -> MerkleTree:
    tree = MerkleTree(MemoryNodeStore())
    # odd-sized batches so that the frontier logic is exercised
    hashes = [merkle.leaf_hash(e) for e in ALL]
    i = 0
    for step in (1, 2, 3, 1, 5, 7, 13, 32):
        tree.append_many(hashes[i : i + step])
        i += step
    assert i == 64
    return tree


@pytest.fixture(scope="module")
def ref_roots() -> list[bytes]:
    return [ref_mth(ALL[:n]) for n in range(65)]


def test_roots_all_sizes(big_tree: MerkleTree, ref_roots: list[bytes]) -> None:
    for n in range(0, 65):
        assert merkle.root(ALL[:n]) == ref_roots[n]
        assert big_tree.root(n) == ref_roots[n]
        assert merkle.root_from_leaf_hashes([merkle.leaf_hash(e) for e in ALL[:n]]) == ref_roots[n]


def test_inclusion_all(big_tree: MerkleTree, ref_roots: list[bytes]) -> None:
    for n in range(1, 65):
        d = ALL[:n]
        for m in range(n):
            want = ref_path(m, d)
            assert merkle.inclusion_proof(d, m) == want, (m, n)
            assert big_tree.inclusion_proof(m, n) == want, (m, n)
            verify_inclusion(merkle.leaf_hash(d[m]), m, n, want, ref_roots[n])


def test_consistency_all(big_tree: MerkleTree, ref_roots: list[bytes]) -> None:
    for n in range(1, 65):
        d = ALL[:n]
        for m in range(1, n + 1):
            want = ref_proof(m, d)
            assert merkle.consistency_proof(d, m) == want, (m, n)
            assert big_tree.consistency_proof(m, n) == want, (m, n)
            verify_consistency(m, n, ref_roots[m], ref_roots[n], want)


def _mutations(proof: list[bytes]) -> list[list[bytes]]:
    """Every single-byte mutation plus truncations/extensions of a proof."""
    out: list[list[bytes]] = []
    for i, p in enumerate(proof):
        for j in range(len(p)):
            q = bytearray(p)
            q[j] ^= 0x01
            out.append(proof[:i] + [bytes(q)] + proof[i + 1 :])
    if proof:
        out.append(proof[:-1])
        out.append(proof[1:])
        out.append(proof[:1] + [_h(b"x")] + proof[1:])
    out.append(proof + [_h(b"x")])
    out.append([_h(b"x")] + proof)
    out.append(proof + proof[-1:] if proof else [EMPTY_ROOT])
    return out


def test_inclusion_rejects_mutations(ref_roots: list[bytes]) -> None:
    for n in range(1, 65):
        d = ALL[:n]
        r = ref_roots[n]
        for m in range(n):
            proof = ref_path(m, d)
            lh = merkle.leaf_hash(d[m])
            for bad in _mutations(proof):
                with pytest.raises(ProofError):
                    verify_inclusion(lh, m, n, bad, r)
            # wrong leaf hash, root: each byte flipped
            for j in range(32):
                flipped = bytearray(lh)
                flipped[j] ^= 0x80
                with pytest.raises(ProofError):
                    verify_inclusion(bytes(flipped), m, n, proof, r)
                flipped = bytearray(r)
                flipped[j] ^= 0x80
                with pytest.raises(ProofError):
                    verify_inclusion(lh, m, n, proof, bytes(flipped))
            # wrong index / size
            for m2 in {m - 1, m + 1, m ^ 2, m ^ 1}:
                if 0 <= m2 < n and m2 != m:
                    with pytest.raises(ProofError):
                        verify_inclusion(lh, m2, n, proof, r)
            # wrong size: whenever the path for (m, n2) has another length the
            # bit walk must fail (same-length sizes are bound by the checkpoint)
            for n2 in {n - 1, n + 1, 2 * n, n // 2, n + 7}:
                if n2 > m and len(ref_path(m, WIDE[:n2])) != len(proof):
                    with pytest.raises(ProofError):
                        verify_inclusion(lh, m, n2, proof, r)
                elif n2 <= m:
                    with pytest.raises(ProofError):
                        verify_inclusion(lh, m, n2, proof, r)


def test_consistency_rejects_mutations(ref_roots: list[bytes]) -> None:
    for n in range(1, 65):
        d = ALL[:n]
        for m in range(1, n + 1):
            proof = ref_proof(m, d)
            ro, rn = ref_roots[m], ref_roots[n]
            for bad in _mutations(proof):
                with pytest.raises(ProofError):
                    verify_consistency(m, n, ro, rn, bad)
            for j in range(0, 32, 7):
                a = bytearray(ro)
                a[j] ^= 0x04
                b = bytearray(rn)
                b[j] ^= 0x04
                with pytest.raises(ProofError):
                    verify_consistency(m, n, bytes(a), rn, proof)
                with pytest.raises(ProofError):
                    verify_consistency(m, n, ro, bytes(b), proof)
            for m2 in {m - 1, m + 1}:
                if 1 <= m2 <= n and m2 != m:
                    with pytest.raises(ProofError):
                        verify_consistency(m2, n, ro, rn, proof)
            for n2 in {n - 1, n + 1, 2 * n}:
                if n2 < m or len(ref_proof(m, WIDE[:n2])) != len(proof):
                    with pytest.raises(ProofError):
                        verify_consistency(m, n2, ro, rn, proof)


def test_verifier_parameter_errors() -> None:
    d = ALL[:5]
    r = merkle.root(d)
    lh = merkle.leaf_hash(d[1])
    proof = merkle.inclusion_proof(d, 1)
    for idx, size in [(5, 5), (6, 5), (-1, 5), (0, 0), (1, -1)]:
        with pytest.raises(ProofError):
            verify_inclusion(lh, idx, size, proof, r)
    with pytest.raises(ProofError):
        verify_inclusion(lh[:31], 1, 5, proof, r)
    with pytest.raises(ProofError):
        verify_inclusion(lh, 1, 5, proof, r + b"\x00")
    with pytest.raises(ProofError):
        verify_inclusion(lh, 1, 5, [proof[0][:31], *proof[1:]], r)
    with pytest.raises(ProofError):
        verify_inclusion(lh, 1, 5, [*proof, b""], r)
    with pytest.raises(ProofError):
        verify_inclusion(lh, True, 5, proof, r)  # bool is not an index
    # single-leaf tree: root == leaf hash, empty proof
    verify_inclusion(lh, 0, 1, [], lh)
    with pytest.raises(ProofError):
        verify_inclusion(lh, 0, 1, [], EMPTY_ROOT)

    r3 = merkle.root(d[:3])
    cp = merkle.consistency_proof(d, 3)
    verify_consistency(3, 5, r3, r, cp)
    with pytest.raises(ProofError):
        verify_consistency(0, 5, EMPTY_ROOT, r, cp)  # from size 0
    with pytest.raises(ProofError):
        verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ProofError):
        verify_consistency(5, 3, r, r3, cp)  # old > new
    with pytest.raises(ProofError):
        verify_consistency(-1, 5, r3, r, cp)
    with pytest.raises(ProofError):
        verify_consistency(3, 5, r3, r, [])  # empty proof for different sizes
    verify_consistency(5, 5, r, r, [])
    with pytest.raises(ProofError):
        verify_consistency(5, 5, r, r, [r])  # equal sizes, non-empty proof
    with pytest.raises(ProofError):
        verify_consistency(5, 5, r, r3, [])  # equal sizes, different roots
    with pytest.raises(ProofError):
        verify_consistency(3, 5, r3[:16], r, cp)
    with pytest.raises(ProofError):
        verify_consistency(3, 5, r3, r, [*cp[:-1], cp[-1] + b"\x00"])


def test_generator_errors() -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_proof(ALL[:4], 4)
    with pytest.raises(ValueError):
        merkle.inclusion_proof([], 0)
    with pytest.raises(ValueError):
        merkle.consistency_proof(ALL[:4], 0)
    with pytest.raises(ValueError):
        merkle.consistency_proof(ALL[:4], 5)
    assert merkle.consistency_proof(ALL[:4], 4) == []
    tree = MerkleTree(MemoryNodeStore())
    tree.append_many([merkle.leaf_hash(e) for e in ALL[:10]])
    with pytest.raises(ValueError):
        tree.inclusion_proof(3, 11)
    with pytest.raises(ValueError):
        tree.root(11)
    with pytest.raises(ValueError):
        tree.append_many([b"short"])


# ------------------------------------------------------------ incremental tree


def test_compact_range_roundtrip() -> None:
    cr = CompactRange()
    assert cr.root() == EMPTY_ROOT
    for n, e in enumerate(ALL, start=1):
        created = cr.append(merkle.leaf_hash(e))
        assert created[0] == (0, n - 1, merkle.leaf_hash(e))
        assert len(created) == 1 + ((n - 1) ^ n).bit_length() - 1
        assert cr.root() == ref_mth(ALL[:n])
        assert cr.size == n
        assert len(cr.hashes) == n.bit_count()
        again = CompactRange(cr.size, cr.hashes)
        assert again == cr and again.root() == cr.root()
        assert CompactRange.from_bytes(n, cr.to_bytes()) == cr
    with pytest.raises(ValueError):
        CompactRange(3, [EMPTY_ROOT])
    with pytest.raises(ValueError):
        CompactRange(1, [b"\x00" * 31])


def test_tree_reopened_from_store() -> None:
    store = MemoryNodeStore()
    hashes = [merkle.leaf_hash(e) for e in ALL]
    written: list[tuple[int, int, bytes]] = []
    size = 0
    for step in (3, 4, 1, 9, 20, 27):
        tree = MerkleTree(store, size)  # fresh object, as after a restart
        written += tree.append_many(hashes[size : size + step])
        size += step
        assert tree.size == size
        assert tree.root() == ref_mth(ALL[:size])
        assert MerkleTree(store, size).root() == ref_mth(ALL[:size])
        assert tree.frontier() == CompactRange.from_store(store, size)
    # every complete node written exactly once; total 2n - popcount(n)
    ids = [(lv, ix) for lv, ix, _ in written]
    assert len(ids) == len(set(ids)) == 2 * 64 - 1
    # nodes really are complete-subtree hashes
    for lv, ix, h in written:
        assert h == ref_mth(ALL[ix << lv : (ix + 1) << lv])


def test_proof_node_ids_are_bounded() -> None:
    tree = MerkleTree(MemoryNodeStore())
    tree.append_many([merkle.leaf_hash(e) for e in entries_of(1000)])
    rng = random.Random(1)
    for _ in range(300):
        n = rng.randint(1, 1000)
        m = rng.randrange(n)
        ids = tree.inclusion_proof_nodes(m, n)
        assert len(ids) <= 2 * (n.bit_length() + 1)
        for lv, ix in ids:
            assert (ix + 1) << lv <= n  # only complete subtrees
        old = rng.randint(1, n)
        ids = tree.consistency_proof_nodes(old, n)
        assert len(ids) <= 2 * (n.bit_length() + 1)
        for lv, ix in ids:
            assert (ix + 1) << lv <= n


class CountingStore(MemoryNodeStore):
    def __init__(self) -> None:
        super().__init__()
        self.batches = 0
        self.reads = 0

    def get_many(self, ids: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        self.batches += 1
        self.reads += len(ids)
        return super().get_many(ids)


def test_one_batch_per_proof() -> None:
    store = CountingStore()
    tree = MerkleTree(store)
    tree.append_many([merkle.leaf_hash(e) for e in entries_of(777)])
    store.batches = store.reads = 0
    tree.inclusion_proof(5, 777)
    assert store.batches == 1 and store.reads <= 20
    store.batches = store.reads = 0
    tree.consistency_proof(300, 777)
    assert store.batches == 1 and store.reads <= 20
    store.batches = store.reads = 0
    tree.root(500)
    assert store.batches == 1 and store.reads == (500).bit_count()


def test_memory_store_rules() -> None:
    s = MemoryNodeStore()
    s.put_many([(0, 0, EMPTY_ROOT), (0, 1, EMPTY_ROOT)])
    s.put_many([(0, 1, EMPTY_ROOT)])  # idempotent rewrite
    with pytest.raises(ValueError):
        s.put_many([(0, 1, _h(b"other"))])
    with pytest.raises(ValueError):
        s.put_many([(0, 5, EMPTY_ROOT)])
    assert s.get(0, 2) is None and s.get(3, 0) is None and s.get(0, -1) is None
    assert s.get_many([(0, 0), (0, 9)]) == {(0, 0): EMPTY_ROOT}
    assert s.count(0) == 2


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.binary(max_size=12), min_size=0, max_size=150),
    st.lists(st.integers(min_value=0, max_value=40), max_size=20),
    st.randoms(use_true_random=False),
)
def test_incremental_equals_batch(
    entries: list[bytes], cuts: list[int], rnd: random.Random
) -> None:
    hashes = [merkle.leaf_hash(e) for e in entries]
    store = MemoryNodeStore()
    cr = CompactRange()
    pos = 0
    for c in [*cuts, len(entries)]:
        batch = hashes[pos : pos + c]
        tree = MerkleTree(store, pos)
        tree.append_many(batch)
        cr.extend(batch)
        pos += len(batch)
        assert tree.root() == merkle.root(entries[:pos]) == cr.root()
        if pos >= len(entries):
            break
    n = len(entries)
    tree = MerkleTree(store, n)
    assert tree.root() == ref_mth(entries)
    if n:
        r = tree.root()
        for _ in range(5):
            m = rnd.randrange(n)
            verify_inclusion(hashes[m], m, n, tree.inclusion_proof(m), r)
            old = rnd.randint(1, n)
            verify_consistency(old, n, tree.root(old), r, tree.consistency_proof(old))
            assert tree.consistency_proof(old) == ref_proof(old, entries)


class DictStore:
    """A minimal NodeStore, as a database table keyed by (level, index) would be."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, int], bytes] = {}
        self.puts: list[list[tuple[int, int, bytes]]] = []

    def get(self, level: int, index: int) -> bytes | None:
        return self.rows.get((level, index))

    def get_many(self, ids: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return {i: self.rows[i] for i in ids if i in self.rows}

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        batch = list(items)
        self.puts.append(batch)
        for lv, ix, h in batch:
            assert (lv, ix) not in self.rows
            self.rows[(lv, ix)] = h


def test_protocol_with_dict_store() -> None:
    store = DictStore()
    hashes = [merkle.leaf_hash(e) for e in ALL]
    size = 0
    for step in (5, 11, 16, 32):
        tree = MerkleTree(store, size)
        written = tree.append_many(hashes[size : size + step])
        assert store.puts[-1] == written  # one put_many per batch
        size += step
    tree = MerkleTree(store, 64)
    assert tree.root() == ref_mth(ALL)
    assert len(store.rows) == 127
    for m in range(0, 50, 3):
        assert tree.inclusion_proof(m, 50) == ref_path(m, ALL[:50])
    with pytest.raises(LookupError):
        MerkleTree(DictStore(), 3).inclusion_proof(1)
    with pytest.raises(ValueError):
        MerkleTree(DictStore(), 3).append_many([hashes[0]])  # frontier missing
