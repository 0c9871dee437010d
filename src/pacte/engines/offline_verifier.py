"""Offline verification of the log: no Django, no trust in the operator (an engine).

A *source* gives the signed checkpoint and the entries; it is either an export
directory (``pacte log export``) or the platform over HTTP, read through its C2SP
tlog-tiles (``/api/v1/log/tile/…``: immutable, cacheable files): entries come from the entry
bundles, and consistency and inclusion proofs are computed by this client from the hash tiles
(:class:`pacte.engines.tiles.TileNodeStore`), not asked of the server.  The verifier
re-derives every leaf hash from the entry bytes, the whole tree root, each subject's
``prev`` chain, checks the checkpoint signature and its consistency with a previously
saved checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pacte.engines import merkle, note, tiles
from pacte.engines.canonical import canonical_json

if TYPE_CHECKING:
    import httpx

_T = TypeVar("_T")
CHUNK_LINES = 100_000
PARALLEL_TILES = 8  # tile requests in flight at once (httpx's pool keeps up to 10 connections)


class VerificationFailed(Exception):
    """The log does not match what it claims (exit code 1)."""


class SourceError(Exception):
    """The source could not be read (exit code 2)."""


class Source(Protocol):
    def checkpoint(self) -> str: ...

    def entries(self, start: int, end: int) -> Iterator[tuple[int, str | None, str]]: ...

    def consistency_proof(self, old: int, new: int) -> list[bytes] | None: ...


class MonitoredSource(Protocol):
    """A live log a monitor follows: it serves its key and always a consistency proof."""

    def key(self) -> str: ...

    def checkpoint(self) -> str: ...

    def entries(self, start: int, end: int) -> Iterator[tuple[int, str | None, str]]: ...

    def consistency_proof(self, old: int, new: int) -> list[bytes]: ...


class DirSource:
    """An export directory: ``checkpoint``, ``key``, ``entries/NNNNNNNNNN.jsonl``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not (self.path / "checkpoint").is_file():
            raise SourceError(
                f"{self.path}/checkpoint introuvable : est-ce un export de `pacte log export` ?"
            )

    def checkpoint(self) -> str:
        return (self.path / "checkpoint").read_text(encoding="utf-8")

    def entries(self, start: int, end: int) -> Iterator[tuple[int, str | None, str]]:
        for chunk in sorted((self.path / "entries").glob("*.jsonl")):
            with chunk.open(encoding="utf-8") as fh:
                for line in fh:
                    if not line.strip():
                        continue
                    try:
                        item = json.loads(line)
                        index, entry = int(item["index"]), item["entry"]
                    except (ValueError, KeyError, TypeError):
                        raise VerificationFailed(f"{chunk.name} : ligne illisible") from None
                    if index < start:
                        continue
                    if index >= end:
                        return
                    yield index, item.get("leaf_hash"), entry

    def consistency_proof(self, old: int, new: int) -> list[bytes] | None:
        return None  # recomputed from the entries


class HttpSource:
    """The platform over HTTP (``--url https://host``); `client` is an ``httpx.Client``.

    Reads only the checkpoint, the key and tiles. ``tile_cache`` (path -> bytes) keeps every
    tile fetched: a tile's content never changes, so a long-lived client (a monitor) asks for
    each at most once."""

    def __init__(
        self,
        url: str,
        client: Any = None,
        tile_cache: dict[str, bytes] | None = None,
        *,
        parallel: int | None = None,
    ) -> None:
        import httpx

        self.base = url.rstrip("/")
        if not self.base.endswith("/api/v1/log"):
            self.base += "/api/v1/log"
        # requests in flight at once for the tiles of one proof: its own client (one
        # keep-alive pool) is shared by threads; a client given by the caller (e.g. a WSGI
        # transport bound to one thread's database connection) is used from one thread
        # unless ``parallel`` says otherwise
        self.parallel = parallel if parallel is not None else (1 if client else PARALLEL_TILES)
        self.client = client or httpx.Client(timeout=30.0, follow_redirects=True)
        self.tile_cache: dict[str, bytes] = {} if tile_cache is None else tile_cache
        # the tiles' inner levels, hashed once for every proof this client computes
        self.tile_levels: dict[tiles.TileKey, list[bytes]] = {}

    def _get(self, path: str, **params: Any) -> httpx.Response:
        import httpx

        try:
            r: httpx.Response = self.client.get(self.base + path, params=params)
        except httpx.HTTPError as exc:
            raise SourceError(f"{self.base}{path} : {exc}") from None
        if r.status_code != 200:
            raise SourceError(f"{self.base}{path} : HTTP {r.status_code} {r.text[:200]}")
        return r

    def key(self) -> str:
        return self._get("/key").text.strip()

    def checkpoint(self) -> str:
        return self._get("/checkpoint").text

    def tile(self, path: str) -> bytes:
        data = self.tile_cache.get(path)
        if data is None:
            data = self._get("/" + path).content
            self.tile_cache[path] = data
        return data

    def fetch_tiles(self, paths: list[str]) -> list[bytes]:
        """Several tiles at once: those not in the cache are read in parallel (at most
        ``parallel`` requests in flight) over the client's one keep-alive pool."""
        missing = [p for p in dict.fromkeys(paths) if p not in self.tile_cache]
        if len(missing) > 1 and self.parallel > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(self.parallel, len(missing))) as pool:
                for path, data in zip(
                    missing, pool.map(lambda p: self._get("/" + p).content, missing), strict=True
                ):
                    self.tile_cache[path] = data
        return [self.tile(p) for p in paths]

    def nodes(self, size: int) -> tiles.TileNodeStore:
        """The tree of ``size`` leaves, read from its hash tiles (a proof's missing tiles in
        parallel; every tile and its hashed inner levels kept for the next proofs)."""
        return tiles.TileNodeStore(
            size, self.tile, self.tile_cache, self.tile_levels, fetch_many=self.fetch_tiles
        )

    def entries(self, start: int, end: int) -> Iterator[tuple[int, str | None, str]]:
        """Entries [start, end) from the entry bundles of the tree of ``end`` entries."""
        number = start // tiles.WIDTH
        while number * tiles.WIDTH < end:
            lo = number * tiles.WIDTH
            width = min(tiles.WIDTH, end - lo)
            try:
                bundle = tiles.decode_bundle(self.tile(tiles.tile_path(None, number, width)))
            except tiles.TileError as exc:
                raise VerificationFailed(f"paquet d'entrées {number} illisible : {exc}") from None
            if len(bundle) != width:
                raise VerificationFailed(
                    f"le paquet d'entrées {number} contient {len(bundle)} entrées au lieu de {width}"
                )
            # the level-0 tile of the same number holds the leaf hashes the log stored: each is
            # checked against its entry's bytes (names the first altered entry precisely)
            leaves = self.tile(tiles.tile_path(0, number, width))
            if len(leaves) != 32 * width:
                raise VerificationFailed(f"tuile de niveau 0 n° {number} mal formée")
            for i, raw in enumerate(bundle):
                if lo + i >= start:
                    try:
                        text = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        raise VerificationFailed(f"entrée {lo + i} : UTF-8 invalide") from None
                    yield lo + i, leaves[32 * i : 32 * i + 32].hex(), text
            number += 1

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return self._proof(lambda tree: tree.consistency_proof(old, new), new)

    def inclusion_proof(self, index: int, size: int) -> tuple[bytes, list[bytes]]:
        """(leaf hash, proof) of entry ``index`` in the tree of ``size`` leaves, from tiles."""
        return self._proof(lambda tree: (tree.leaf_hash(index), tree.inclusion_proof(index)), size)

    def _proof(self, make: Callable[[merkle.MerkleTree], _T], size: int) -> _T:
        try:
            return make(merkle.MerkleTree(self.nodes(size), size))
        except (tiles.TileError, LookupError, ValueError) as exc:
            raise VerificationFailed(f"tuiles incomplètes ou mal formées : {exc}") from None


def open_checkpoint(
    signed: str, vkey: str, *, what: str = "point de contrôle"
) -> tuple[str, int, bytes]:
    try:
        text = note.verify(signed, [vkey])
        return note.parse_checkpoint(text)
    except note.NoteError as exc:
        raise VerificationFailed(f"{what} : signature ou format invalide ({exc})") from None


@dataclass
class ChainState:
    """What a verifier/monitor remembers between runs: frontier and subject heads."""

    size: int = 0
    frontier: list[str] = field(default_factory=list)
    heads: dict[str, str] = field(default_factory=dict)
    last_hash: str = ""

    def compact(self) -> merkle.CompactRange:
        return merkle.CompactRange(self.size, [bytes.fromhex(h) for h in self.frontier])

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "frontier": self.frontier, "heads": self.heads}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChainState:
        return cls(int(data["size"]), list(data["frontier"]), dict(data["heads"]))


def check_entries(
    source: Source,
    state: ChainState,
    end: int,
    on_progress: Callable[[int], None] | None = None,
    snapshot_at: int | None = None,
) -> tuple[ChainState, bytes | None]:
    """Extend `state` with entries [state.size, end): leaf hashes, prev chains, indexes.

    Returns the new state and, if `snapshot_at` is crossed, the root at that size.
    """
    cr = state.compact()
    heads = dict(state.heads)
    snap = cr.root() if snapshot_at == cr.size else None
    expected = state.size
    for index, lh, entry in source.entries(state.size, end):
        if index != expected:
            raise VerificationFailed(f"entrée {expected} manquante (reçu l'index {index})")
        raw = entry.encode("utf-8")
        h = merkle.leaf_hash(raw)
        if lh is not None and lh != h.hex():
            raise VerificationFailed(
                f"entrée {index} : l'empreinte de feuille annoncée ne correspond pas à l'entrée"
            )
        try:
            doc = json.loads(entry)
            subject = doc["subject"]
            key = f"{subject['type']}:{subject['id']}"
            prev = doc.get("prev")
        except (ValueError, KeyError, TypeError):
            raise VerificationFailed(f"entrée {index} : JSON invalide ou sans sujet") from None
        try:
            canonical = canonical_json(doc) == entry
        except ValueError:
            canonical = False
        if not canonical:
            raise VerificationFailed(f"entrée {index} : JSON non canonique (RFC 8785)")
        if prev != heads.get(key):
            raise VerificationFailed(
                f"entrée {index} : lien prev rompu pour {key} (attendu {heads.get(key)}, trouvé {prev}) — "
                "un événement manque ou a été modifié"
            )
        heads[key] = hashlib.sha256(raw).hexdigest()
        cr.append(h)
        expected += 1
        if snapshot_at is not None and cr.size == snapshot_at:
            snap = cr.root()
        if on_progress:
            on_progress(1)
    if expected != end:
        raise VerificationFailed(f"{expected} entrées reçues pour une taille signée de {end}")
    return ChainState(cr.size, [h.hex() for h in cr.hashes], heads), snap


@dataclass
class VerifyResult:
    origin: str
    size: int
    root: bytes
    old_size: int | None = None


def _open_with_old(
    source: Source, vkey: str, old_checkpoint: str | None
) -> tuple[str, int, bytes, tuple[str, int, bytes] | None]:
    """The signed checkpoint, and its consistency with ``old_checkpoint`` (when the source
    gives a proof; an export directory does not: its entries are checked instead)."""
    origin, size, root = open_checkpoint(source.checkpoint(), vkey)
    old: tuple[str, int, bytes] | None = None
    if old_checkpoint is not None:
        old = open_checkpoint(old_checkpoint, vkey, what="point de contrôle précédent")
        if old[0] != origin:
            raise VerificationFailed(f"origine différente : {old[0]!r} puis {origin!r}")
        if old[1] > size:
            raise VerificationFailed(f"le journal a rétréci : {old[1]} entrées puis {size}")
        if 0 < old[1]:
            proof = source.consistency_proof(old[1], size) if old[1] < size else []
            if proof is not None:
                try:
                    merkle.verify_consistency(old[1], size, old[2], root, proof)
                except merkle.ProofError as exc:
                    raise VerificationFailed(
                        f"FOURCHE : le point de contrôle {size} n'étend pas le point de contrôle {old[1]} ({exc})"
                    ) from None
    return origin, size, root, old


def verify_checkpoint(
    source: Source, vkey: str, *, old_checkpoint: str | None = None
) -> VerifyResult:
    """Signature of the latest checkpoint and its consistency with ``old_checkpoint`` only
    (O(log n) tiles over HTTP), without reading every entry."""
    origin, size, root, old = _open_with_old(source, vkey, old_checkpoint)
    return VerifyResult(origin, size, root, old[1] if old else None)


def check_inclusion(source: HttpSource, index: int, size: int, root: bytes) -> list[bytes]:
    """Inclusion proof of entry ``index`` in the tree of ``size`` leaves, computed from the
    tiles and verified against ``root`` (a signed checkpoint's); returns the proof."""
    if not 0 <= index < size:
        raise VerificationFailed(f"l'entrée {index} n'est pas dans un arbre de taille {size}")
    leaf, proof = source.inclusion_proof(index, size)
    try:
        merkle.verify_inclusion(leaf, index, size, proof, root)
    except merkle.ProofError as exc:
        raise VerificationFailed(
            f"la preuve d'inclusion de l'entrée {index} ne mène pas à la racine signée ({exc})"
        ) from None
    return proof


def verify_source(
    source: Source,
    vkey: str,
    *,
    old_checkpoint: str | None = None,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Full verification; raises VerificationFailed on any mismatch."""
    origin, size, root, old = _open_with_old(source, vkey, old_checkpoint)
    if on_start:
        on_start(size)
    state, snap = check_entries(
        source, ChainState(), size, on_progress, snapshot_at=old[1] if old else None
    )
    if state.compact().root() != root:
        raise VerificationFailed(
            f"la racine recalculée à partir des {size} entrées ne correspond pas au point de contrôle signé"
        )
    if old is not None and old[1] > 0 and snap != old[2]:
        raise VerificationFailed(
            f"FOURCHE : les {old[1]} premières entrées ne donnent pas la racine du point de contrôle précédent"
        )
    return VerifyResult(origin, size, root, old[1] if old else None)


# ------------------------------------------------------------------ monitor


@dataclass
class MonitorResult:
    size: int
    alerts: list[str]
    new_entries: int = 0


def monitor_once(
    source: MonitoredSource, state_dir: str | Path, vkey: str | None = None, *, full: bool = False
) -> MonitorResult:
    """One round of monitoring: verify the new checkpoint, its consistency with the last
    one seen, and every new entry (leaf hashes, prev links).  With ``full``, every entry
    from the first one is fetched and verified again (a log serving a modified old entry is
    caught even though its tree and proofs are intact).  Alerts are returned (and the
    evidence kept in `state_dir/alerts/`); the stored state only advances when all is well."""
    d = Path(state_dir)
    d.mkdir(parents=True, exist_ok=True)
    (d / "checkpoints").mkdir(exist_ok=True)
    key_path = d / "key"
    if vkey:
        vkey = vkey.strip()
    elif key_path.is_file():
        vkey = key_path.read_text(encoding="utf-8").strip()
    else:
        vkey = source.key()  # trust on first use, pinned below
    if not key_path.is_file():
        key_path.write_text(vkey + "\n", encoding="utf-8")
    alerts: list[str] = []
    signed = source.checkpoint()
    try:
        origin, size, root = open_checkpoint(signed, vkey)
    except VerificationFailed as exc:
        return _alert(d, MonitorResult(0, [str(exc)]), signed)
    last_path = d / "checkpoint"
    chain = ChainState()
    if last_path.is_file():
        old_signed = last_path.read_text(encoding="utf-8")
        o_origin, o_size, o_root = open_checkpoint(
            old_signed, vkey, what="point de contrôle mémorisé"
        )
        chain = ChainState.from_json(json.loads((d / "chain.json").read_text(encoding="utf-8")))
        if o_origin != origin:
            alerts.append(f"origine changée : {o_origin!r} puis {origin!r}")
        elif size < o_size:
            alerts.append(f"FOURCHE : le journal a rétréci de {o_size} à {size} entrées")
        elif size == o_size and root != o_root:
            alerts.append(f"FOURCHE : deux racines différentes pour la taille {size}")
        elif size > o_size and o_size > 0:
            try:
                merkle.verify_consistency(
                    o_size, size, o_root, root, source.consistency_proof(o_size, size)
                )
            except merkle.ProofError as exc:
                alerts.append(
                    f"FOURCHE : le point de contrôle {size} n'étend pas le point de contrôle {o_size} ({exc})"
                )
        if alerts:
            return _alert(d, MonitorResult(size, alerts), signed, old_signed)
    start = chain.size
    try:
        if full:
            known = chain
            new_chain, snap = check_entries(
                source, ChainState(), size, snapshot_at=known.size or None
            )
            if known.size and snap != known.compact().root():
                raise VerificationFailed(
                    f"FOURCHE : les {known.size} premières entrées servies aujourd'hui ne donnent plus la racine "
                    "vérifiée lors d'un passage précédent : une entrée ancienne a été modifiée"
                )
            start = 0
        else:
            new_chain, _ = check_entries(source, chain, size)
        if new_chain.compact().root() != root:
            raise VerificationFailed(
                "les entrées servies ne donnent pas la racine du point de contrôle signé"
            )
    except VerificationFailed as exc:
        return _alert(d, MonitorResult(size, [str(exc)]), signed)
    (d / "checkpoints" / f"{size:012d}").write_text(signed, encoding="utf-8")
    (d / "chain.json").write_text(json.dumps(new_chain.to_json()), encoding="utf-8")
    last_path.write_text(signed, encoding="utf-8")
    return MonitorResult(size, [], size - start)


def _alert(d: Path, result: MonitorResult, *notes: str) -> MonitorResult:
    import time

    folder = d / "alerts"
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (folder / f"{stamp}.txt").write_text(
        "\n".join(result.alerts) + "\n\n" + "\n---\n".join(notes), encoding="utf-8"
    )
    return result
