"""The offline verifier and the monitor as an engine: logs built here, no database, no server."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pacte.engines import merkle, note
from pacte.engines import offline_verifier as V
from pacte.engines.canonical import canonical_json

ORIGIN = "verifier.example/log"


@pytest.fixture(scope="module")
def signer() -> note.Signer:
    return note.generate_signer(ORIGIN)


def build_entries(n: int, subjects: int = 3) -> list[str]:
    """Canonical entries whose ``prev`` links chain the events of each subject."""
    heads: dict[str, str] = {}
    entries: list[str] = []
    for i in range(n):
        subject = {"type": "pact", "id": f"P-{i % subjects}"}
        key = f"pact:P-{i % subjects}"
        text = canonical_json(
            {"type": "pact.updated", "subject": subject, "prev": heads.get(key), "n": i}
        )
        heads[key] = hashlib.sha256(text.encode()).hexdigest()
        entries.append(text)
    return entries


def signed_checkpoint(signer: note.Signer, entries: list[str]) -> str:
    root = merkle.root([e.encode() for e in entries])
    return signer.sign(note.checkpoint(ORIGIN, len(entries), root))


def export(
    folder: Path,
    signer: note.Signer,
    entries: list[str],
    *,
    checkpoint: str | None = None,
    leaf_hashes: bool = True,
    chunk: int = 7,
) -> Path:
    """The layout of `pacte log export`: checkpoint, key, entries/NNNNNNNNNN.jsonl."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "checkpoint").write_text(
        checkpoint or signed_checkpoint(signer, entries), encoding="utf-8"
    )
    (folder / "key").write_text(signer.verifier_key + "\n", encoding="utf-8")
    (folder / "entries").mkdir(exist_ok=True)
    for start in range(0, len(entries), chunk):
        lines = []
        for i in range(start, min(start + chunk, len(entries))):
            item: dict[str, object] = {"index": i, "entry": entries[i]}
            if leaf_hashes:
                item["leaf_hash"] = merkle.leaf_hash(entries[i].encode()).hex()
            lines.append(json.dumps(item, ensure_ascii=False))
        (folder / "entries" / f"{start:010d}.jsonl").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
    return folder


class MemoryLog:
    """A log served from memory, as the HTTP API serves it (a MonitoredSource)."""

    def __init__(self, signer: note.Signer, entries: list[str]) -> None:
        self.signer = signer
        self.entries_list = list(entries)
        self.signed = signed_checkpoint(signer, self.entries_list)

    def key(self) -> str:
        return self.signer.verifier_key

    def checkpoint(self) -> str:
        return self.signed

    def entries(self, start: int, end: int) -> Iterator[tuple[int, str | None, str]]:
        for i in range(start, min(end, len(self.entries_list))):
            yield i, None, self.entries_list[i]

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return merkle.consistency_proof([e.encode() for e in self.entries_list[:new]], old)


def test_an_export_verifies_and_gives_the_signed_root(tmp_path, signer):
    entries = build_entries(23)
    source = V.DirSource(export(tmp_path / "x", signer, entries))
    seen: list[int] = []
    result = V.verify_source(source, signer.verifier_key, on_start=seen.append)
    assert (result.origin, result.size) == (ORIGIN, 23)
    assert result.root == merkle.root([e.encode() for e in entries])
    assert seen == [23]


def test_a_directory_that_is_not_an_export_is_a_source_error(tmp_path):
    with pytest.raises(V.SourceError, match="checkpoint introuvable"):
        V.DirSource(tmp_path)


def test_a_modified_entry_is_caught_by_its_announced_leaf_hash(tmp_path, signer):
    entries = build_entries(10)
    folder = export(tmp_path / "x", signer, entries)
    chunk = folder / "entries" / "0000000000.jsonl"
    chunk.write_text(chunk.read_text().replace('\\"n\\":3', '\\"n\\":33'), encoding="utf-8")
    with pytest.raises(V.VerificationFailed, match="entrée 3 : l'empreinte de feuille"):
        V.verify_source(V.DirSource(folder), signer.verifier_key)


def test_a_modified_entry_without_leaf_hashes_is_caught_by_the_root(tmp_path, signer):
    entries = build_entries(10)
    assert '"n":9' in entries[9]
    checkpoint = signed_checkpoint(signer, entries)
    forged = [
        *entries[:9],
        entries[9].replace('"n":9', '"n":999'),
    ]  # the last link: no prev points to it
    folder = export(tmp_path / "x", signer, forged, checkpoint=checkpoint, leaf_hashes=False)
    with pytest.raises(V.VerificationFailed, match="la racine recalculée"):
        V.verify_source(V.DirSource(folder), signer.verifier_key)


def test_a_removed_entry_is_reported_by_index(tmp_path, signer):
    entries = build_entries(10)
    folder = export(tmp_path / "x", signer, entries, checkpoint=signed_checkpoint(signer, entries))
    chunk = folder / "entries" / "0000000000.jsonl"
    lines = chunk.read_text().splitlines()
    chunk.write_text("\n".join(lines[:4] + lines[5:]) + "\n", encoding="utf-8")
    with pytest.raises(V.VerificationFailed, match="entrée 4 manquante"):
        V.verify_source(V.DirSource(folder), signer.verifier_key)


def test_a_broken_prev_chain_is_caught_even_when_the_operator_signs_it(tmp_path, signer):
    entries = build_entries(9)
    doc = json.loads(entries[6])  # third event of P-0: its prev now skips the second one
    doc["prev"] = hashlib.sha256(entries[0].encode()).hexdigest()
    entries[6] = canonical_json(doc)
    folder = export(tmp_path / "x", signer, entries)  # root and signature match the forged entries
    with pytest.raises(V.VerificationFailed, match="entrée 6 : lien prev rompu pour pact:P-0"):
        V.verify_source(V.DirSource(folder), signer.verifier_key)


def test_a_non_canonical_entry_is_refused(tmp_path, signer):
    entries = build_entries(4)
    entries[2] = json.dumps(json.loads(entries[2]), indent=1)
    folder = export(tmp_path / "x", signer, entries)
    with pytest.raises(V.VerificationFailed, match="entrée 2 : JSON non canonique"):
        V.verify_source(V.DirSource(folder), signer.verifier_key)


def test_a_checkpoint_signed_by_another_key_is_refused(tmp_path, signer):
    entries = build_entries(5)
    other = note.generate_signer(ORIGIN)
    folder = export(tmp_path / "x", signer, entries, checkpoint=signed_checkpoint(other, entries))
    with pytest.raises(V.VerificationFailed, match="signature ou format invalide"):
        V.verify_source(V.DirSource(folder), signer.verifier_key)


def test_an_old_checkpoint_must_be_a_prefix_of_the_new_one(tmp_path, signer):
    entries = build_entries(20)
    folder = export(tmp_path / "x", signer, entries)
    old = signed_checkpoint(signer, entries[:8])
    result = V.verify_source(V.DirSource(folder), signer.verifier_key, old_checkpoint=old)
    assert (result.size, result.old_size) == (20, 8)
    forked = signer.sign(note.checkpoint(ORIGIN, 8, merkle.root([b"another history"] * 8)))
    with pytest.raises(V.VerificationFailed, match="FOURCHE"):
        V.verify_source(V.DirSource(folder), signer.verifier_key, old_checkpoint=forked)
    bigger = signed_checkpoint(signer, build_entries(30))
    with pytest.raises(V.VerificationFailed, match="le journal a rétréci"):
        V.verify_source(V.DirSource(folder), signer.verifier_key, old_checkpoint=bigger)


def test_entries_checked_in_two_runs_give_the_state_of_one_run(signer):
    entries = build_entries(40)
    log = MemoryLog(signer, entries)
    first, _ = V.check_entries(log, V.ChainState(), 17)
    saved = V.ChainState.from_json(json.loads(json.dumps(first.to_json())))
    second, _ = V.check_entries(log, saved, 40)
    whole, snapshot = V.check_entries(log, V.ChainState(), 40, snapshot_at=17)
    assert second.to_json() == whole.to_json()
    assert second.compact().root() == merkle.root([e.encode() for e in entries])
    assert snapshot == merkle.root([e.encode() for e in entries[:17]])


def test_the_monitor_pins_the_key_follows_growth_and_alerts_on_a_fork(tmp_path, signer):
    state = tmp_path / "monitor"
    log = MemoryLog(signer, build_entries(12))
    first = V.monitor_once(log, state)
    assert (first.size, first.alerts, first.new_entries) == (12, [], 12)
    assert (state / "key").read_text().strip() == signer.verifier_key

    log = MemoryLog(signer, build_entries(30))
    second = V.monitor_once(log, state)
    assert (second.size, second.alerts, second.new_entries) == (30, [], 18)

    forked = build_entries(35, subjects=4)  # another history, properly signed and chained
    third = V.monitor_once(MemoryLog(signer, forked), state)
    assert third.alerts and "FOURCHE" in third.alerts[0]
    assert list((state / "alerts").iterdir())
    assert json.loads((state / "chain.json").read_text())["size"] == 30  # the state did not advance


def test_the_full_monitor_catches_an_old_entry_modified_under_an_intact_tree(tmp_path, signer):
    state = tmp_path / "monitor"
    entries = build_entries(10)
    log = MemoryLog(signer, entries)
    assert V.monitor_once(log, state).alerts == []
    # the last entry is rewritten (no later prev link points to it); checkpoint and proofs unchanged
    log.entries_list[9] = log.entries_list[9].replace('"n":9', '"n":999')
    assert (
        V.monitor_once(log, state).alerts == []
    )  # nothing new to read: an incremental run cannot see it
    result = V.monitor_once(log, state, full=True)
    assert result.alerts and "FOURCHE" in result.alerts[0]
