"""C2SP tlog-tiles: paths, bundles, and a tree rebuilt from tiles (pure, no database)."""

from __future__ import annotations

import hashlib

import pytest

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
