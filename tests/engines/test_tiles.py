"""C2SP tlog-tiles: paths, bundles, and a tree rebuilt from tiles (pure, no database)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacte.engines import merkle
from pacte.engines import tiles as T


@pytest.mark.parametrize(
    ("n", "enc"),
    [
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (10**9, "x001/x000/x000/000"),
    ],
)
def test_index_encoding(n, enc):
    assert T.encode_index(n) == enc
    assert T.parse_tile_path(f"tile/3/{enc}") == T.TileRef(3, n)
    assert T.parse_tile_path(f"entries/{enc}.p/17") == T.TileRef(None, n, 17)


def test_paths():
    assert T.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert T.tile_path(1, 2, 5) == "tile/1/002.p/5"
    assert T.tile_path(None, 0, 188) == "tile/entries/000.p/188"


@pytest.mark.parametrize(
    "bad",
    [
        "00/000",
        "64/000",
        "-1/000",
        "a/000",
        "0/0",
        "0/0000",
        "0/x000/067",
        "0/001/067",
        "0/x01/067",
        "0/067/x001",
        "0/000.p/0",
        "0/000.p/256",
        "0/000.p/01",
        "0/000.p/",
        "0/.p/3",
        "0",
        "entries",
        "0/000.q/3",
        "0/x001/000.p/256",
    ],
)
def test_bad_paths(bad):
    with pytest.raises(T.TileError):
        T.parse_tile_path(bad)


def test_tiles_for_size_follow_the_spec_example():
    refs = T.tiles_for_size(70_000)
    full0 = [r for r in refs if r.level == 0 and not r.partial]
    assert len(full0) == 273
    partial = {r.level: r.width for r in refs if r.partial}
    assert partial == {0: 112, 1: 17, 2: 1}
    assert [r for r in refs if r.level == 1 and not r.partial] == [T.TileRef(1, 0)]
    assert [r.path for r in T.tiles_for_size(256)] == ["tile/0/000", "tile/1/000.p/1"]
    assert T.tiles_for_size(0) == []


def test_bundle_roundtrip():
    entries = [b"", b"a", "é".encode(), b"x" * 65535]
    data = T.encode_bundle(entries)
    assert data[:2] == b"\x00\x00" and data[2:5] == b"\x00\x01a"
    assert T.decode_bundle(data) == entries
    with pytest.raises(T.TileError):
        T.encode_bundle([b"x" * 65536])
    with pytest.raises(T.TileError):
        T.decode_bundle(b"\x00\x05abc")


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 512, 700, 65536 + 300])
def test_tiled_tree_matches_the_engine(size):
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size)]
    store = merkle.MemoryNodeStore()
    full = merkle.MerkleTree(store)
    full.append_many(leaves)

    def fetch(path: str) -> bytes:
        ref = T.parse_tile_path(path)
        lo = ref.index * T.WIDTH
        return b"".join(store.get(8 * ref.level, lo + i) for i in range(ref.width))

    tt = T.TiledTree(size, fetch)
    assert tt.root() == merkle.root_from_leaf_hashes(leaves)
    for i in {0, size // 3, size - 1}:
        assert tt.tree.inclusion_proof(i) == full.inclusion_proof(i)
    # a forged level-1 tile is caught against the level-0 tiles it summarises
    if size >= 256:

        def forged(path: str) -> bytes:
            data = fetch(path)
            return bytes(32) + data[32:] if path.startswith("tile/1/") else data

        with pytest.raises(T.TileError):
            T.TiledTree(size, forged)


# ------------------------------------------------------------------ TileNodeStore (lazy)

_BIG = 65536 * 2 + 777  # two full level-1 tiles and a partial one
_LEAVES = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(_BIG)]
_FULL = merkle.MemoryNodeStore()
merkle.MerkleTree(_FULL).append_many(_LEAVES)


def _serve(path: str) -> bytes:
    """What a log of any size up to _BIG serves at `path` (complete nodes never change)."""
    ref = T.parse_tile_path(path)
    lo = ref.index * T.WIDTH
    return b"".join(_FULL.get(8 * ref.level, lo + i) for i in range(ref.width))


def _reference(size: int) -> merkle.MerkleTree:
    return merkle.MerkleTree(_FULL, size)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_proofs_from_tiles_equal_the_engine_proofs(data):
    size = data.draw(
        st.one_of(
            st.integers(1, 600),
            st.integers(65000, 66000),
            st.integers(1, _BIG),
            st.sampled_from([256, 257, 65536, 65537, 2 * 65536, _BIG]),
        ),
        label="size",
    )
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old")
    store = T.TileNodeStore(size, _serve)
    tiled = merkle.MerkleTree(store, size)
    ref = _reference(size)
    assert tiled.root() == merkle.root_from_leaf_hashes(_LEAVES[:size])
    assert tiled.leaf_hash(index) == _LEAVES[index]
    assert tiled.inclusion_proof(index) == ref.inclusion_proof(index, size)
    assert tiled.consistency_proof(old) == ref.consistency_proof(old, size)
    assert tiled.root(old) == ref.root(old)


def test_tile_node_store_fetches_each_tile_once_and_only_the_tiles_a_proof_needs():
    size = _BIG
    calls: list[str] = []

    def fetch(path: str) -> bytes:
        calls.append(path)
        return _serve(path)

    store = T.TileNodeStore(size, fetch)
    tree = merkle.MerkleTree(store, size)
    tree.inclusion_proof(70_000)
    first = list(calls)
    # a tile per tile level on the path, plus those of the right edge (the root's nodes)
    assert 1 <= len(first) <= 8 and len(set(first)) == len(first)
    assert "tile/0/273" in first  # leaf 70,000 is in level-0 tile 273
    tree.inclusion_proof(70_001)
    tree.consistency_proof(70_002)
    assert calls[len(first) :].count("tile/0/273") == 0  # kept: never fetched twice
    # the cache is shared by a store of another size: the full tiles are the same files
    again = T.TileNodeStore(size + 0, fetch, store.cache)
    merkle.MerkleTree(again, size).inclusion_proof(70_000)
    assert again.fetched == 0


def test_stores_of_different_sizes_share_the_tiles_inner_levels_and_agree_with_the_engine():
    """A client computing proofs against several checkpoints (`pacte log verify --url`) hashes
    each tile's inner levels once; a partial tile's levels never serve a larger tree."""
    cache: dict[str, bytes] = {}
    levels: dict[T.TileKey, list[bytes]] = {}
    for size in (65536 + 300, 65536 + 301, _BIG):  # a partial tile grows between the sizes
        store = T.TileNodeStore(size, _serve, cache, levels)
        tree = merkle.MerkleTree(store, size)
        assert tree.root() == merkle.root_from_leaf_hashes(_LEAVES[:size])
        for index in (0, 65_000, size - 1):
            assert tree.inclusion_proof(index) == _reference(size).inclusion_proof(index, size)
        assert tree.consistency_proof(70) == _reference(size).consistency_proof(70, size)
    # full tiles' inner levels (j >= 1) are kept
    assert any(w == T.WIDTH and len(got) > 1 for (_t, _n, w), got in levels.items())
    assert any(w == 44 for _t, _n, w in levels)  # partial tiles by their width
    assert all(len(got[0]) == 32 * w for (_t, _n, w), got in levels.items())
    kept = {key: list(got) for key, got in levels.items()}
    again = T.TileNodeStore(_BIG, _serve, cache, levels)
    merkle.MerkleTree(again, _BIG).inclusion_proof(65_000)
    assert again.fetched == 0 and levels == kept  # nothing fetched nor hashed again


def test_tile_node_store_refuses_nodes_outside_the_tree_and_short_tiles():
    store = T.TileNodeStore(700, _serve)
    assert store.get(0, 700) is None and store.get(9, 1) is None and store.get(0, -1) is None
    with pytest.raises(TypeError):
        store.put_many([])
    short = T.TileNodeStore(700, lambda path: _serve(path)[:-1])
    with pytest.raises(T.TileError):
        short.get(0, 3)
    assert short.cache == {}  # a malformed tile is never kept


def test_a_proofs_missing_tiles_are_asked_in_one_fetch_many_call():
    calls: list[list[str]] = []

    def fetch_many(paths: list[str]) -> list[bytes]:
        calls.append(list(paths))
        return [_serve(p) for p in paths]

    def fetch(path: str) -> bytes:
        raise AssertionError(f"{path} fetched alone")

    store = T.TileNodeStore(_BIG, fetch, fetch_many=fetch_many)
    tree = merkle.MerkleTree(store, _BIG)
    assert tree.inclusion_proof(70_000) == _reference(_BIG).inclusion_proof(70_000, _BIG)
    assert len(calls) == 1 and len(calls[0]) == len(set(calls[0])) >= 2
    assert "tile/0/273" in calls[0]
    assert store.fetched == len(calls[0])
    tree.inclusion_proof(70_001)  # same tiles: nothing asked
    assert len(calls) == 1


def test_warm_fetches_every_tile_once_then_proofs_need_no_request_nor_hash():
    fetched: list[str] = []

    def fetch_many(paths: list[str]) -> list[bytes]:
        fetched.extend(paths)
        return [_serve(p) for p in paths]

    levels: dict[T.TileKey, list[bytes]] = {}
    store = T.TileNodeStore(_BIG, _serve, None, levels, fetch_many=fetch_many)
    n = store.warm(chunk=100)
    assert n == len(T.tiles_for_size(_BIG)) == len(fetched) == len(set(fetched))
    assert sorted(fetched) == sorted(r.path for r in T.tiles_for_size(_BIG))
    # every inner level of every tile hashed (8 levels: empty above a narrow partial tile)
    assert all(len(got) == T.HEIGHT for got in levels.values())
    kept = {key: list(got) for key, got in levels.items()}
    tree, ref = merkle.MerkleTree(store, _BIG), _reference(_BIG)
    for index in (0, 255, 256, 70_000, 131_071, _BIG - 1):
        assert tree.inclusion_proof(index) == ref.inclusion_proof(index, _BIG)
        assert tree.leaf_hash(index) == _LEAVES[index]
    for old in (1, 3, 65_536, 70_001, _BIG - 1):
        assert tree.consistency_proof(old) == ref.consistency_proof(old, _BIG)
        assert tree.root(old) == ref.root(old)
    assert store.fetched == n and levels == kept  # no request, no hashing after warm()


def test_http_source_reads_a_proofs_tiles_in_parallel_once_each_and_proves_like_the_engine():
    import threading

    import httpx

    from pacte.engines.offline_verifier import HttpSource

    asked: list[str] = []
    threads: set[int] = set()
    lock = threading.Lock()

    def serve(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1/log/")
        with lock:
            asked.append(path)
            threads.add(threading.get_ident())
        return httpx.Response(200, content=_serve(path))

    client = httpx.Client(transport=httpx.MockTransport(serve))
    source = HttpSource("http://log.test", client, parallel=4)
    assert source.parallel == 4 and HttpSource("http://log.test", client).parallel == 1
    ref = _reference(_BIG)
    for index in (70_000, 70_001, 5, _BIG - 1):
        leaf, proof = source.inclusion_proof(index, _BIG)
        assert leaf == _LEAVES[index] and proof == ref.inclusion_proof(index, _BIG)
    assert source.consistency_proof(65_537, _BIG) == ref.consistency_proof(65_537, _BIG)
    assert len(asked) == len(set(asked)) >= 3  # each tile read once, cached for the next proofs
    assert threads - {threading.get_ident()}  # a proof's several tiles read by the pool's threads
