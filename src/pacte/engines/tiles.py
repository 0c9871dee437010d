"""C2SP tlog-tiles: tile paths, entry bundles, and a tree rebuilt from tiles (pure).

* ``tile/<L>/<N>[.p/<W>]``: tile ``N`` of level ``L`` holds the Merkle Tree Hashes of
  nodes ``(8·L, 256·N + i)`` for ``i < W`` (``W = 256`` for a full tile), 32 bytes each;
* ``tile/entries/<N>[.p/<W>]``: the entries ``256·N + i``, each as a big-endian uint16
  length followed by the entry bytes;
* ``<N>`` is written in 3-digit groups, all but the last prefixed with ``x``
  (1234067 → ``x001/x234/067``).

:class:`TiledTree` rebuilds every complete node of a tree of a given size from its tiles
into a :class:`pacte.engines.merkle.MemoryNodeStore`, so that the engine computes roots
and proofs with no other help from the log.

:class:`TileNodeStore` is the lazy form, for a client of a large log (``pacte log verify
--url``): it fetches only the tiles a proof needs, keeps every tile it fetched (a tile's
content never changes: a full tile is immutable, a partial tile of width W too) and the
subtree hashes computed inside each, so that repeated proofs cost no request and no rehash.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from pacte.engines import merkle

__all__ = [
    "HEIGHT",
    "WIDTH",
    "TileError",
    "TileKey",
    "TileNodeStore",
    "TileRef",
    "TiledTree",
    "bundles_for_size",
    "decode_bundle",
    "encode_bundle",
    "encode_index",
    "parse_tile_path",
    "tile_path",
    "tiles_for_size",
]

HEIGHT = 8
WIDTH = 1 << HEIGHT  # 256 hashes (8,192 bytes) in a full tile
MAX_LEVEL = 63
MAX_ENTRY = 0xFFFF
_sha256 = hashlib.sha256

_GROUP = re.compile(r"[0-9]{3}")
_DEC = re.compile(r"0|[1-9][0-9]*")


class TileError(ValueError):
    """Malformed tile path, bundle or tile content."""


@dataclass(frozen=True)
class TileRef:
    """A tile (``level`` 0–63) or an entry bundle (``level`` None); ``width`` 1–256."""

    level: int | None
    index: int
    width: int = WIDTH

    @property
    def partial(self) -> bool:
        return self.width < WIDTH

    @property
    def path(self) -> str:
        return tile_path(self.level, self.index, self.width)


def encode_index(n: int) -> str:
    """``N`` in the path encoding of the specification."""
    if n < 0:
        raise TileError("tile index must be non-negative")
    out = f"{n % 1000:03d}"
    n //= 1000
    while n:
        out = f"x{n % 1000:03d}/{out}"
        n //= 1000
    return out


def tile_path(level: int | None, index: int, width: int = WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]`` or (``level`` None) ``tile/entries/<N>[.p/<W>]``."""
    if not 1 <= width <= WIDTH:
        raise TileError("tile width must be between 1 and 256")
    if level is not None and not 0 <= level <= MAX_LEVEL:
        raise TileError("tile level must be between 0 and 63")
    head = "entries" if level is None else str(level)
    suffix = "" if width == WIDTH else f".p/{width}"
    return f"tile/{head}/{encode_index(index)}{suffix}"


def parse_tile_path(path: str) -> TileRef:
    """Strict inverse of :func:`tile_path` (canonical encodings only); accepts a path with
    or without the leading ``tile/``."""
    parts = path.split("/")
    if parts and parts[0] == "tile":
        parts = parts[1:]
    if len(parts) < 2:
        raise TileError("expected <L>/<N> or entries/<N>")
    head, rest = parts[0], parts[1:]
    level: int | None
    if head == "entries":
        level = None
    elif _DEC.fullmatch(head) and int(head) <= MAX_LEVEL:
        level = int(head)
    else:
        raise TileError("tile level must be a decimal between 0 and 63 without leading zeros")
    width = WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        w = rest[-1]
        if not _DEC.fullmatch(w) or not 1 <= int(w) < WIDTH:
            raise TileError(
                "partial tile width must be a decimal between 1 and 255 without leading zeros"
            )
        width = int(w)
        rest = [*rest[:-2], rest[-2][:-2]]
    n = 0
    for i, group in enumerate(rest):
        last = i == len(rest) - 1
        if not last:
            if not group.startswith("x"):
                raise TileError("all but the last index element must start with x")
            group = group[1:]
        if not _GROUP.fullmatch(group):
            raise TileError("index elements must have exactly three digits")
        n = n * 1000 + int(group)
    if len(rest) > 1 and rest[0] == "x000":
        raise TileError("non-canonical tile index (leading x000)")
    return TileRef(level, n, width)


def tiles_for_size(size: int) -> list[TileRef]:
    """Every hash tile (full and the partial one per level) of a tree of ``size`` leaves,
    lowest level first."""
    out: list[TileRef] = []
    level = 0
    while True:
        count = size >> (HEIGHT * level)  # complete nodes at level 8·level
        if count == 0:
            return out
        full, width = divmod(count, WIDTH)
        out.extend(TileRef(level, n) for n in range(full))
        if width:
            out.append(TileRef(level, full, width))
        level += 1


def bundles_for_size(size: int) -> list[TileRef]:
    full, width = divmod(size, WIDTH)
    return [TileRef(None, n) for n in range(full)] + ([TileRef(None, full, width)] if width else [])


# ------------------------------------------------------------------ entry bundles


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    out = bytearray()
    for e in entries:
        if len(e) > MAX_ENTRY:
            raise TileError(f"entry of {len(e)} bytes does not fit a uint16 length prefix")
        out += struct.pack(">H", len(e))
        out += e
    return bytes(out)


def decode_bundle(data: bytes) -> list[bytes]:
    out: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise TileError("truncated entry length")
        (n,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if pos + n > len(data):
            raise TileError("truncated entry")
        out.append(data[pos : pos + n])
        pos += n
    return out


# ------------------------------------------------------------------ tree from tiles


def _hashes(data: bytes, width: int, ref: TileRef) -> list[bytes]:
    if len(data) != width * merkle.HASH_SIZE:
        raise TileError(f"{ref.path}: {len(data)} bytes, expected {width * merkle.HASH_SIZE}")
    return [data[i : i + merkle.HASH_SIZE] for i in range(0, len(data), merkle.HASH_SIZE)]


class TiledTree:
    """Complete nodes of the tree of ``size`` leaves, rebuilt from its hash tiles.

    ``fetch(path) -> bytes`` returns the tile at ``tile/…`` (relative to the log
    prefix).  Every level between tile levels is recomputed by hashing; the hash of
    each full tile must equal the corresponding entry of the tile above, otherwise
    :class:`TileError`.  ``tree`` is a :class:`pacte.engines.merkle.MerkleTree` over
    the rebuilt nodes: ``tree.root()``, ``tree.inclusion_proof(i)``,
    ``tree.consistency_proof(m)``.
    """

    def __init__(self, size: int, fetch: Callable[[str], bytes]) -> None:
        self.size = size
        self.store = merkle.MemoryNodeStore()
        self.fetched: list[str] = []
        for ref in tiles_for_size(size):
            assert ref.level is not None
            data = fetch(ref.path)
            self.fetched.append(ref.path)
            self._add(ref, _hashes(data, ref.width, ref))
        self.tree = merkle.MerkleTree(self.store, size)

    def _add(self, ref: TileRef, hashes: list[bytes]) -> None:
        assert ref.level is not None
        base_level = HEIGHT * ref.level
        start = ref.index * WIDTH
        cur = hashes
        for j in range(HEIGHT + 1):
            level = base_level + j
            first = start >> j
            try:
                self.store.put_many((level, first + i, h) for i, h in enumerate(cur))
            except ValueError as exc:  # a full tile's hash differs from the tile above
                raise TileError(f"{ref.path}: inconsistent with the tile above ({exc})") from None
            if j == HEIGHT or len(cur) < 2:
                break
            cur = [merkle.node_hash(a, b) for a, b in zip(cur[0::2], cur[1::2], strict=False)]

    def leaf_hashes(self, start: int, end: int) -> Iterator[bytes]:
        for i in range(start, end):
            h = self.store.get(0, i)
            if h is None:
                raise TileError(f"leaf {i} is not in the tiles")
            yield h

    def root(self) -> bytes:
        return self.tree.root()


# ------------------------------------------------------------------ nodes from tiles, lazily


TileKey = tuple[int, int, int]
"""``(tile level, tile number, width)``: names one tile's content, like its path."""


class TileNodeStore:
    """Read-only :class:`~pacte.engines.merkle.NodeStore` of the tree of ``size`` leaves,
    answered from its tiles: node ``(L, i)`` (complete, so ``(i + 1)·2^L <= size``) lies in
    the tile of level ``L // 8`` numbered ``(i << L % 8) // 256``, and is the RFC 6962 hash
    of ``2^(L % 8)`` consecutive hashes of that tile.

    * ``fetch(path) -> bytes`` reads ``tile/…``; ``fetch_many(paths) -> list[bytes]``, when
      given, reads several tiles at once (e.g. in parallel over one keep-alive connection
      pool): :meth:`get_many` asks for every tile a proof needs and does not hold yet in
      ONE call, before hashing anything;
    * ``cache`` maps a tile path to its content and may be shared between stores of
      different sizes (paths name immutable content);
    * ``levels`` maps a tile ``(tile level, number, width)`` to the packed hashes (32 bytes
      each) of its nodes ``j`` levels above its base (``levels[key][j]``, j = 0: its
      content): derived from
      immutable content, it may be shared too, so that a client computing many proofs
      splits and hashes each tile once rather than once per proof. The hot path builds no
      path string: a tile's path is only formatted when it is fetched.

    ``fetched`` counts the tiles fetched.
    """

    def __init__(
        self,
        size: int,
        fetch: Callable[[str], bytes],
        cache: dict[str, bytes] | None = None,
        levels: dict[TileKey, list[bytes]] | None = None,
        fetch_many: Callable[[list[str]], list[bytes]] | None = None,
    ) -> None:
        if size < 0:
            raise TileError("tree size must be non-negative")
        self.size = size
        self.fetch = fetch
        self.fetch_many = fetch_many
        self.cache: dict[str, bytes] = {} if cache is None else cache
        self.fetched = 0
        self._levels: dict[TileKey, list[bytes]] = {} if levels is None else levels

    def _key(self, tile_level: int, number: int) -> TileKey:
        count = self.size >> (HEIGHT * tile_level)  # complete nodes at level 8·tile_level
        full = count >> HEIGHT
        if number < full:
            return (tile_level, number, WIDTH)
        width = count - number * WIDTH
        if number > full or width <= 0:
            raise TileError(f"no tile {tile_level}/{number} in a tree of {self.size} leaves")
        return (tile_level, number, width)

    def _base(self, key: TileKey, data: bytes | None = None) -> list[bytes]:
        """The tile's levels list, holding its content (j = 0); fetched if needed."""
        tl, number, width = key
        ref = TileRef(tl, number, width)
        if data is None:
            data = self.cache.get(ref.path)
        if data is None:
            data = self.fetch(ref.path)
            self.fetched += 1
        if len(data) != width * merkle.HASH_SIZE:  # checked before anything is kept
            raise TileError(f"{ref.path}: {len(data)} bytes, expected {width * merkle.HASH_SIZE}")
        data = bytes(data)
        self.cache[ref.path] = data
        got = self._levels[key] = [data]
        return got

    def _level(self, key: TileKey, j: int) -> bytes:
        """The packed hashes (32 bytes each) of the tile's nodes ``j`` levels above its base,
        hashed a whole level at a time."""
        got = self._levels.get(key)
        if got is None:
            got = self._base(key)
        sha = _sha256
        while len(got) <= j:
            below = got[-1]
            got.append(
                b"".join(
                    [
                        sha(b"\x01" + below[i : i + 64]).digest()
                        for i in range(0, len(below) - 63, 64)
                    ]
                )
            )
        return got[j]

    def get(self, level: int, index: int) -> bytes | None:
        if level < 0 or index < 0 or (index + 1) << level > self.size:
            return None
        j = level & 7  # HEIGHT = 8
        first = index << j  # first node of level 8·t under (level, index)
        off = ((first & (WIDTH - 1)) >> j) << 5
        return self._level(self._key(level >> 3, first >> HEIGHT), j)[off : off + 32]

    def get_many(self, ids: Sequence[merkle.NodeId]) -> Mapping[merkle.NodeId, bytes]:
        size = self.size
        levels = self._levels
        if self.fetch_many is not None:
            self._prefetch(ids)
        out: dict[merkle.NodeId, bytes] = {}
        for nid in ids:
            level, index = nid
            if level < 0 or index < 0 or (index + 1) << level > size:
                continue
            t, j = level >> 3, level & 7
            first = index << j
            number = first >> HEIGHT
            if number < size >> (HEIGHT * t + HEIGHT):  # a full tile (the usual case)
                key = (t, number, WIDTH)
            else:
                key = self._key(t, number)
            got = levels.get(key)
            hashes = got[j] if got is not None and len(got) > j else self._level(key, j)
            off = ((first & (WIDTH - 1)) >> j) << 5
            out[nid] = hashes[off : off + 32]
        return out

    def _fetch_keys(self, keys: Iterable[TileKey]) -> None:
        """Fetch the tiles ``keys`` held neither split nor raw: one ``fetch_many`` call when
        given (several tiles), else one ``fetch`` per tile."""
        wanted: dict[str, TileKey] = {}
        for key in keys:
            if key not in self._levels:
                path = tile_path(*key)
                if path in self.cache:
                    self._base(key)
                else:
                    wanted[path] = key
        if not wanted:
            return
        paths = list(wanted)
        if self.fetch_many is None or len(paths) == 1:
            datas = [self.fetch(p) for p in paths]
        else:
            datas = self.fetch_many(paths)
        if len(datas) != len(paths):
            raise TileError("fetch_many returned a different number of tiles")
        for path, data in zip(paths, datas, strict=True):
            self.fetched += 1
            self._base(wanted[path], data)

    def _prefetch(self, ids: Sequence[merkle.NodeId]) -> None:
        """Fetch at once every tile of ``ids`` not held yet (the tiles of one proof are
        independent: ``fetch_many`` may read them in parallel)."""
        size = self.size
        keys = []
        for level, index in ids:
            if level < 0 or index < 0 or (index + 1) << level > size:
                continue
            key = self._key(level >> 3, (index << (level & 7)) >> HEIGHT)
            if key not in self._levels:
                keys.append(key)
        if keys:
            self._fetch_keys(keys)

    def warm(self, *, chunk: int = 256) -> int:
        """Fetch every hash tile of the tree not held yet (``chunk`` tiles per ``fetch_many``
        call) and hash every tile's inner levels in bulk, so that every complete node is then
        answered from memory without a request or a hash — the client's counterpart of the
        service's warm node cache. Returns the number of tiles."""
        refs = tiles_for_size(self.size)
        keys: list[TileKey] = [(r.level or 0, r.index, r.width) for r in refs]
        for lo in range(0, len(keys), chunk):
            self._fetch_keys(keys[lo : lo + chunk])
        for key in keys:
            self._level(key, HEIGHT - 1)
        return len(keys)

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        raise TypeError("TileNodeStore is read-only")
