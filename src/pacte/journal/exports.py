"""`pacte log export DIR`: the log as files an offline verifier can read."""

from __future__ import annotations

import json
from pathlib import Path

from pacte.engines.offline_verifier import CHUNK_LINES
from pacte.journal.keys import verifier_key
from pacte.journal.models import Event
from pacte.journal.services import checkpoint_with_cosignatures, latest_checkpoint


def export_log(directory: Path, *, chunk_lines: int = CHUNK_LINES) -> int:
    """Write entries/NNNNNNNNNN.jsonl (index, leaf_hash, entry), checkpoint and key."""
    cp = latest_checkpoint()
    size = cp.size
    entries = directory / "entries"
    entries.mkdir(parents=True, exist_ok=True)
    for old in entries.glob("*.jsonl"):
        old.unlink()
    fh = None
    qs = (
        Event.objects.filter(index__lt=size)
        .order_by("index")
        .values_list("index", "leaf_hash", "entry")
    )
    for index, lh, entry in qs.iterator(chunk_size=5000):
        if index % chunk_lines == 0 or fh is None:
            if fh is not None:
                fh.close()
            fh = (entries / f"{index:010d}.jsonl").open("w", encoding="utf-8")
        fh.write(
            json.dumps(
                {"index": index, "leaf_hash": bytes(lh).hex(), "entry": entry}, ensure_ascii=False
            )
            + "\n"
        )
    if fh is not None:
        fh.close()
    (directory / "checkpoint").write_text(checkpoint_with_cosignatures(cp), encoding="utf-8")
    (directory / "key").write_text(verifier_key() + "\n", encoding="utf-8")

    return size
