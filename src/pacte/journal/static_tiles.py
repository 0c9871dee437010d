"""The log's C2SP tlog-tiles written as static files (``pacte log tiles DIR``), for a reverse
proxy (or any static file server) to serve without Python at ``<base>/api/v1/log/``.

Layout, as the HTTP paths: ``DIR/checkpoint`` (the latest signed checkpoint, with its witness
cosignatures), ``DIR/tile/<L>/<N>[.p/<W>]`` (hash tiles) and ``DIR/tile/entries/<N>[.p/<W>]``
(entry bundles). A full tile never changes, so one already written is kept as it is (the
command is incremental: a run writes only the new tiles); partial tiles are written for the
current size, and a partial tile whose full tile now exists is removed. Every file is written
to a temporary name and renamed; the checkpoint is written LAST, so that a client never sees a
checkpoint whose tiles are missing. See docs/transparency-log-operations.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pacte.engines.tiles import (
    WIDTH,
    TileError,
    TileRef,
    bundles_for_size,
    encode_bundle,
    tiles_for_size,
)
from pacte.journal.checkpoints import checkpoint_with_cosignatures, latest_checkpoint
from pacte.journal.models import Event
from pacte.journal.store import level_hashes

TILES_PER_READ = 64  # one query reads the hashes (or entries) of 64 consecutive tiles


@dataclass(frozen=True)
class WrittenTiles:
    size: int
    written: int
    kept: int
    removed: int


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _content(refs: list[TileRef]) -> list[bytes]:
    """Contents of consecutive tiles of one level (or of entry bundles), in one query."""
    lo = refs[0].index * WIDTH
    hi = refs[-1].index * WIDTH + refs[-1].width
    level = refs[0].level
    if level is None:
        rows = list(
            Event.objects.filter(index__gte=lo, index__lt=hi)
            .order_by("index")
            .values_list("index", "entry")
        )
        if [i for i, _ in rows] != list(range(lo, hi)):
            raise TileError(f"entries {lo}–{hi - 1} are not all stored: run `pacte log audit`")
        items = [e.encode("utf-8") for _, e in rows]
    else:
        items = level_hashes(8 * level, lo, hi)
        if len(items) != hi - lo:
            raise TileError(f"nodes of level {8 * level} missing: run `pacte log audit`")
    out = []
    for ref in refs:
        part = items[ref.index * WIDTH - lo : ref.index * WIDTH - lo + ref.width]
        out.append(encode_bundle(part) if level is None else b"".join(part))
    return out


def write_tiles(root: Path) -> WrittenTiles:
    """Write the tiles and the checkpoint of the latest signed checkpoint under ``root``."""
    cp = latest_checkpoint()
    size = cp.size
    written = kept = removed = 0
    refs = tiles_for_size(size) + bundles_for_size(size)
    todo: list[TileRef] = []
    for ref in refs:
        if (root / ref.path).exists():  # full tiles are immutable; a partial one too
            kept += 1
        else:
            todo.append(ref)
    group: list[TileRef] = []

    def flush() -> None:
        nonlocal written
        if group:
            for ref, data in zip(group, _content(group), strict=True):
                _write(root / ref.path, data)
                written += 1
            group.clear()

    for ref in list(todo):
        if group and (
            ref.level != group[-1].level
            or ref.index != group[-1].index + 1
            or len(group) >= TILES_PER_READ
        ):
            flush()
        group.append(ref)
    flush()
    for ref in todo:  # partial tiles superseded by a full tile written now
        if not ref.partial:
            stem = root / ref.path
            for stale in stem.parent.glob(f"{stem.name}.p/*"):
                stale.unlink()
                removed += 1
    _write(root / "checkpoint", checkpoint_with_cosignatures(cp).encode("utf-8"))
    return WrittenTiles(size, written, kept, removed)
