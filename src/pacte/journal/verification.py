"""Full verification of the stored log: every entry, the ``prev`` chains, the stored tree
(levels 1 and up; level 0 is the entries' leaf hashes) and every signed checkpoint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from pacte.engines import merkle, note
from pacte.engines.canonical import canonical_json
from pacte.journal.keys import get_signer
from pacte.journal.models import Checkpoint, Event, LogNode, LogState


@dataclass
class LogReport:
    size: int = 0
    tree_size: int = 0
    root: str = ""
    checkpoint_size: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_log(*, chunk: int = 10_000, progress: Callable[[int], None] | None = None) -> LogReport:
    """Recompute the whole tree from the stored entries and compare it with the stored
    nodes, the state and every stored checkpoint (signature, size, root)."""
    report = LogReport()
    state = LogState.objects.filter(id=1).first()
    size = state.size if state else 0
    report.size, report.tree_size = size, (state.tree_size if state else 0)
    if report.tree_size != size:
        report.problems.append(f"l'arbre contient {report.tree_size} feuilles pour {size} entrées")
    mem = merkle.MemoryNodeStore()
    tree = merkle.MerkleTree(mem)
    heads: dict[tuple[str, str], str] = {}
    expected = 0
    last = -1
    while True:
        rows = list(
            Event.objects.filter(index__gt=last)
            .order_by("index")
            .values_list(
                "index", "entry", "entry_hash", "leaf_hash", "prev", "subject_type", "subject_id"
            )[:chunk]
        )
        if not rows:
            break
        hashes = []
        for index, entry, ehash, lh, prev, st, sid in rows:
            if index != expected:
                report.problems.append(
                    f"entrée manquante ou déplacée : index {index} au lieu de {expected}"
                )
                expected = index
            raw = entry.encode("utf-8")
            h = merkle.leaf_hash(raw)
            if bytes(lh) != h:
                report.problems.append(f"entrée {index} : empreinte de feuille stockée incorrecte")
            if hashlib.sha256(raw).hexdigest() != ehash:
                report.problems.append(f"entrée {index} : empreinte d'entrée stockée incorrecte")
            try:
                doc = json.loads(entry)
                if canonical_json(doc) != entry:
                    report.problems.append(f"entrée {index} : JSON non canonique")
                jprev = doc.get("prev")
            except (ValueError, AttributeError):
                report.problems.append(f"entrée {index} : JSON invalide")
                jprev = None
            key = (st, sid)
            if (jprev or "") != (prev or "") or (jprev or None) != heads.get(key):
                report.problems.append(f"entrée {index} : chaînage prev rompu pour {st}:{sid}")
            heads[key] = ehash
            hashes.append(h)
            expected += 1
        tree.append_many(hashes)
        last = rows[-1][0]
        if progress:
            progress(len(rows))
    if expected != size:
        report.problems.append(f"{expected} entrées stockées pour une taille déclarée de {size}")
    report.root = tree.root().hex()
    # stored nodes must be exactly the recomputed complete subtrees of levels 1 and up (level 0
    # is the entries' leaf hashes, checked above)
    seen = 0
    q = LogNode.objects.order_by("level", "index").values_list("level", "index", "hash")
    for level, index, stored_hash in q.iterator(chunk_size=chunk):
        seen += 1
        if level == 0 or mem.get(level, index) != bytes(stored_hash):
            report.problems.append(f"nœud ({level}, {index}) stocké incorrect ou en trop")
            if len(report.problems) > 50:
                break
    expected_nodes = sum(mem.count(lv) for lv in range(1, 64))
    if seen != expected_nodes and len(report.problems) <= 50:
        report.problems.append(f"{seen} nœuds stockés pour {expected_nodes} attendus")
    # every checkpoint: signature, and root of its size
    vkey = get_signer().verifier_key
    for cp in Checkpoint.objects.order_by("size", "id").iterator():
        try:
            text = note.verify(cp.note, [vkey])
            origin, csize, croot = note.parse_checkpoint(text)
        except note.NoteError as exc:
            report.problems.append(
                f"point de contrôle {cp.pk} : signature ou format invalide ({exc})"
            )
            continue
        if csize != cp.size or croot != bytes(cp.root):
            report.problems.append(
                f"point de contrôle {cp.pk} : colonnes différentes du texte signé"
            )
        if csize > tree.size:
            report.problems.append(
                f"point de contrôle {cp.pk} : taille {csize} au-delà du journal ({tree.size})"
            )
        elif tree.root(csize) != croot:
            report.problems.append(
                f"point de contrôle {cp.pk} (taille {csize}) : racine différente de la racine recalculée"
            )
        report.checkpoint_size = csize
    return report
