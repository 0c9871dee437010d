"""`pacte log recover`: bring the database back in line with what the log signed.

Three ways out of the state where the log refuses to sign (see :mod:`memory`):

* :func:`diagnose` — show the divergence (nothing changes);
* :func:`reappend` — the database is BEHIND: re-append the missing entries, byte for byte,
  from an export (`pacte log export`) or from any server that still serves them (a replica,
  a mirror): they must rebuild exactly the root of the remembered checkpoint, otherwise
  nothing is written.  The governance rows created after the backup are not restored (the
  log tells what happened; re-enter what must be re-entered);
* :func:`accept_new_origin` — after an explicit confirmation, start a NEW log (new origin,
  set in PACTE_LOG_ORIGIN first) over the entries in the database: the old log stays frozen
  at its last published checkpoint (the retired memory file keeps it as evidence), witnesses
  and monitors see a new origin.

:func:`adopt_witness_checkpoint` feeds the memory from a witness's cosigned checkpoint
(c2sp.org/tlog-witness monitoring endpoint), e.g. when the memory file itself was lost.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from pacte.engines import merkle, note
from pacte.engines import offline_verifier as offline
from pacte.errors import ValidationFailed
from pacte.journal import memory
from pacte.journal.models import Checkpoint, Cosignature, Event, LogState
from pacte.writes.rows import SqlValue, bulk_insert


class RecoveryFailed(ValidationFailed):
    """The recovery cannot be done as asked; nothing was changed."""

    code = "log_recovery_failed"


@dataclass
class Diagnosis:
    memory_file: str
    remembered: memory.Remembered | None
    db_size: int
    db_root: str
    divergence: memory.Divergence | None

    @property
    def ok(self) -> bool:
        return self.divergence is None

    def lines(self) -> list[str]:
        out = [
            f"Origine configurée : {settings.LOG_ORIGIN}",
            f"Base de données : {self.db_size} entrées, racine {self.db_root}",
        ]
        if self.remembered is None:
            out.append(
                f"Mémoire ({self.memory_file}) : absente — le journal n'a encore rien signé ici."
            )
        else:
            m = self.remembered
            out.append(
                f"Mémoire ({self.memory_file}) : dernier point de contrôle signé « {m.origin} », "
                f"taille {m.size}, racine {m.root.hex()}"
            )
        if self.divergence is None:
            out.append("État : cohérent, le journal peut signer.")
        else:
            out.append(f"État : DIVERGENCE ({self.divergence.kind}) — {self.divergence.message}")
        return out


def _db_tree() -> tuple[int, merkle.MerkleTree]:
    from pacte.journal.checkpoints import _tree

    state = LogState.objects.filter(id=1).first()
    size = state.tree_size if state else 0
    return size, _tree(size)


def diagnose() -> Diagnosis:
    from pacte.journal.services import integrate

    try:
        integrate()  # entries left outside the tree are integrated (signing may be refused)
    except memory.LogHalted:
        pass
    remembered = memory.read_memory()
    size, tree = _db_tree()
    d = memory.divergence(size, tree, remembered, proof=True)
    return Diagnosis(str(memory.memory_path()), remembered, size, tree.root(size).hex(), d)


def _row(index: int, text: str) -> tuple[SqlValue, ...]:
    from django.db import connection

    try:
        doc = json.loads(text)
        subject = doc["subject"]
        actor = doc.get("actor") or {}
        ts = datetime.fromisoformat(str(doc["ts"]).replace("Z", "+00:00"))
        row = (
            index,
            str(doc["type"]),
            connection.ops.adapt_datetimefield_value(ts),
            actor.get("org") or "",
            str(subject["type"]),
            str(subject["id"]),
            doc.get("project") or "",
            text,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise RecoveryFailed(
            _("Entrée %(index)s illisible dans la source : JSON d'entrée de journal attendu.")
            % {"index": index}
        ) from None
    raw = text.encode("utf-8")
    return (*row, hashlib.sha256(raw).hexdigest(), merkle.leaf_hash(raw), doc.get("prev") or "")


def reappend(source: offline.Source) -> int:
    """Re-append entries [database size, remembered size) from `source`; returns how many.

    One transaction: the entries, their tree nodes and the remembered checkpoint row are
    written only if the rebuilt tree has exactly the remembered root."""
    from pacte.journal.checkpoints import _lock_state, _tree, clear_caches
    from pacte.journal.entries import EVENT_COLUMNS

    remembered = memory.read_memory()
    if remembered is None:
        raise RecoveryFailed(_("Aucune mémoire de point de contrôle signé : rien à rattraper."))
    if remembered.origin != settings.LOG_ORIGIN:
        raise RecoveryFailed(
            _("La mémoire concerne l'origine « %(remembered)s », pas « %(origin)s ».")
            % {"remembered": remembered.origin, "origin": settings.LOG_ORIGIN}
        )
    with transaction.atomic():
        state = _lock_state()
        n = state.tree_size
        if state.size != n:
            raise RecoveryFailed(
                _(
                    "Des entrées ne sont pas intégrées à l'arbre : lancez d'abord `pacte log integrate`."
                )
            )
        if n >= remembered.size:
            raise RecoveryFailed(
                _(
                    "La base a déjà %(n)s entrées (mémoire : %(size)s) : il ne manque rien. Si le journal "
                    "refuse de signer, c'est une fourche : seule une nouvelle origine permet de repartir."
                )
                % {"n": n, "size": remembered.size}
            )
        rows: list[tuple[SqlValue, ...]] = []
        leaves: list[bytes] = []
        expected = n
        try:
            for index, _leaf, entry in source.entries(n, remembered.size):
                if index != expected:
                    raise RecoveryFailed(
                        _("La source saute de l'entrée %(expected)s à l'entrée %(index)s.")
                        % {"expected": expected, "index": index}
                    )
                row = _row(index, entry)
                rows.append(row)
                leaves.append(merkle.leaf_hash(entry.encode("utf-8")))
                expected += 1
        except (offline.SourceError, offline.VerificationFailed) as exc:
            raise RecoveryFailed(
                _("Lecture de la source impossible : %(error)s") % {"error": exc}
            ) from None
        if expected != remembered.size:
            raise RecoveryFailed(
                _("La source s'arrête à %(n)s entrées ; le journal a signé %(size)s entrées.")
                % {"n": expected, "size": remembered.size}
            )
        bulk_insert(Event._meta.db_table, EVENT_COLUMNS, rows)
        tree = _tree(n)
        tree.append_many(leaves)
        if tree.root() != remembered.root:
            raise RecoveryFailed(
                _(
                    "Les entrées de la source ne redonnent pas la racine du point de contrôle signé de taille "
                    "%(size)s : ce ne sont pas les entrées publiées. Rien n'a été écrit."
                )
                % {"size": remembered.size}
            )
        LogState.objects.filter(id=state.id).update(size=remembered.size, tree_size=remembered.size)
        Checkpoint.objects.create(size=remembered.size, root=remembered.root, note=remembered.note)
    clear_caches()
    return len(rows)


def accept_new_origin(confirm: str) -> Checkpoint:
    """Start a new log under ``settings.LOG_ORIGIN`` (which must differ from the remembered
    origin and equal ``confirm``): checkpoints of the old origin are removed from the
    database, the memory file is retired (kept as evidence), a first checkpoint is signed."""
    from pacte.journal.services import clear_caches, integrate

    origin = settings.LOG_ORIGIN
    if confirm != origin:
        raise RecoveryFailed(
            _("Confirmation refusée : répétez exactement l'origine configurée (« %(origin)s »).")
            % {"origin": origin}
        )
    remembered = memory.read_memory()
    if remembered is not None and remembered.origin == origin:
        raise RecoveryFailed(
            _(
                "L'origine « %(origin)s » est celle du journal déjà publié : un nouveau journal exige une nouvelle "
                "origine (changez PACTE_LOG_ORIGIN, et de préférence la clé : PACTE_LOG_SIGNING_KEY)."
            )
            % {"origin": origin}
        )
    with transaction.atomic():
        Cosignature.objects.all().delete()
        Checkpoint.objects.all().delete()
    memory.forget(reason=f"nouvelle origine {origin}")
    clear_caches()
    cp = integrate()
    memory.remember(cp.note)  # also done after the commit; here the command waits for it
    return cp


def adopt_witness_checkpoint(signed: str) -> bool:
    """Move the memory forward to a checkpoint of this log that a witness returned
    (our signature is verified); True when the memory changed."""
    r = memory.parse_signed(signed, what=_("réponse du témoin"))
    if r.origin != settings.LOG_ORIGIN:
        raise RecoveryFailed(
            _("Le témoin renvoie l'origine « %(returned)s », pas « %(origin)s ».")
            % {"returned": r.origin, "origin": settings.LOG_ORIGIN}
        )
    current = memory.read_memory()
    if current is not None and current.origin == r.origin and current.size > r.size:
        return False
    if current is not None and current.origin == r.origin and current.size == r.size:
        if current.root != r.root:
            raise RecoveryFailed(
                _(
                    "Le témoin a cosigné une autre racine pour la même taille : FOURCHE déjà publiée."
                )
            )
        return False
    # keep only the log's own signature line(s) in the memory
    text = note.note_text(signed)
    opened = note.open_note(signed, [memory._verifier_key()])
    return memory.remember(text + "\n" + "".join(s.line for s in opened.signatures))


def witness_checkpoint_url(monitoring_prefix: str) -> str:
    """c2sp.org/tlog-witness: GET <monitoring prefix>/<hex SHA-256 of the origin>/checkpoint."""
    digest = hashlib.sha256(settings.LOG_ORIGIN.encode("utf-8")).hexdigest()
    return f"{monitoring_prefix.rstrip('/')}/{digest}/checkpoint"


def fetch_witness_checkpoint(monitoring_prefix: str, client: Any = None) -> str:
    import httpx

    client = client or httpx.Client(timeout=30.0, follow_redirects=True)
    url = witness_checkpoint_url(monitoring_prefix)
    try:
        r = client.get(url)
    except httpx.HTTPError as exc:
        raise RecoveryFailed(f"{url} : {exc}") from None
    if r.status_code == 404:
        raise RecoveryFailed(
            _("%(url)s : ce témoin n'a jamais cosigné ce journal (404).") % {"url": url}
        )
    if r.status_code != 200:
        raise RecoveryFailed(f"{url} : HTTP {r.status_code} {r.text[:200]}")
    return str(r.text)
