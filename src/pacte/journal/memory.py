"""The log remembers what it signed (c2sp.org/tlog-checkpoint: "a log MUST NOT sign any
checkpoint which is inconsistent with any checkpoint it previously signed").

The database alone cannot remember: restoring an older backup (or pointing the platform at
another database) silently rewinds it.  So the latest checkpoint the log signed is also kept
**outside the database**, in ``settings.LOG_MEMORY_FILE`` (by default beside the
development signing key in ``PACTE_VAR_DIR``), written atomically (temporary file, fsync,
rename) and only ever moved forward.

Before anything is appended, and again before a checkpoint is signed, the tree in the
database is compared with that memory:

* same size → the same root hash;
* larger → the remembered tree is a prefix: an RFC 6962 consistency proof computed from the
  stored nodes verifies against the remembered root;
* smaller → the database is **behind** what the log already published (an older backup).

If not, nothing is signed and every governance write is refused with HTTP 503
(:class:`LogHalted`, French operator message) until an operator runs ``pacte log recover``
(see docs/transparency-log-operations.md).  Reads go on: the last checkpoint stored in the
database is still served.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from pacte.engines import merkle, note
from pacte.errors import DomainError

logger = logging.getLogger("pacte.journal")


class LogHalted(DomainError):
    """The database is behind or forked from the log's signed history: writes stop (503)."""

    status = 503
    code = "log_halted"


@dataclass(frozen=True)
class Remembered:
    """The latest checkpoint the log signed, as kept outside the database."""

    origin: str
    size: int
    root: bytes
    note: str  # the signed note, exactly as signed


def memory_path() -> Path:
    return Path(settings.LOG_MEMORY_FILE)


_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int, int], Remembered]] = {}


def _verifier_key() -> str:
    from pacte.journal.keys import verifier_key

    return verifier_key()


def parse_signed(signed: str, *, what: str = "") -> Remembered:
    """Open a checkpoint signed by THIS log's key; raises LogHalted when it does not verify."""
    what = what or _("mémoire du journal")
    try:
        text = note.verify(signed, [_verifier_key()])
        origin, size, root = note.parse_checkpoint(text)
    except note.NoteError as exc:
        try:
            origin, size, root = note.parse_checkpoint(note.note_text(signed))
        except note.NoteError:
            origin = ""
        if origin and origin != settings.LOG_ORIGIN:
            # the checkpoint of ANOTHER log (origin and key changed): it can only make the
            # log refuse to sign (divergence "origin"), never accept anything
            return Remembered(origin, size, root, signed)
        raise LogHalted(
            _(
                "Le point de contrôle de la %(what)s n'est pas signé par la clé actuelle du journal (%(error)s). "
                "Lancez `pacte log recover` sur le serveur (voir docs/transparency-log-operations.md)."
            )
            % {"what": what, "error": exc}
        ) from None
    return Remembered(origin, size, root, signed)


def read_memory() -> Remembered | None:
    """The remembered checkpoint, or None when the log has never signed (no file).

    Cached per process on the file's identity (inode, size, mtime): one ``stat`` per call.
    """
    path = memory_path()
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    ident = (st.st_ino, st.st_size, st.st_mtime_ns)
    with _lock:
        hit = _cache.get(str(path))
        if hit is not None and hit[0] == ident:
            return hit[1]
    remembered = parse_signed(path.read_text(encoding="utf-8"))
    with _lock:
        _cache[str(path)] = (ident, remembered)
    return remembered


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def write_atomic(path: Path, text: str) -> None:
    """temp file + fsync + rename: after a crash the file holds the old or the new checkpoint,
    never a torn one.  The directory is not fsynced (it would triple the cost of every
    signature): if the rename itself is lost, the file keeps the previous, valid checkpoint."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remember(signed: str) -> bool:
    """Record a checkpoint the log has just signed (and committed).  Only moves forward:
    a smaller size than the one remembered is ignored (a slower process finishing late).
    Returns True when the file changed."""
    new = parse_signed(signed, what=_("nouvelle signature"))
    path = memory_path()
    with _file_lock(path):
        current = read_memory()  # re-read under the lock (cached while the file is unchanged)
        if current is not None and current.origin == new.origin and current.size >= new.size:
            return False
        write_atomic(path, signed)
    return True


def forget(*, reason: str) -> Path | None:
    """Retire the memory (a new origin was accepted): the file is kept, renamed, as evidence."""
    import time

    path = memory_path()
    with _file_lock(path):
        if not path.exists():
            return None
        retired = path.with_name(f"{path.name}.retired-{time.strftime('%Y%m%dT%H%M%S')}")
        os.replace(path, retired)
        logger.warning("journal: mémoire du journal retirée (%s) : %s", reason, retired)
        return retired


# ------------------------------------------------------------------ the checks


@dataclass(frozen=True)
class Divergence:
    kind: str  # "origin" | "behind" | "fork"
    message: str  # for the operator, in French
    memory: Remembered
    db_size: int


def divergence(
    tree_size: int, tree: merkle.MerkleTree, memory: Remembered | None, *, proof: bool = False
) -> Divergence | None:
    """Compare the database tree (``tree_size`` leaves, nodes in ``tree``) with the memory.

    ``proof``: for a larger tree, compute the RFC 6962 consistency proof from the stored
    nodes and verify it (what a witness does) instead of comparing the root at the
    remembered size (equivalent, one query cheaper on the append path).
    """
    if memory is None:
        return None
    m = memory
    if m.origin != settings.LOG_ORIGIN:
        return Divergence(
            "origin",
            _(
                "Le journal a signé en dernier un point de contrôle d'origine « %(old)s » ; l'origine configurée "
                "est « %(new)s ». Changer d'origine, c'est commencer un nouveau journal : confirmez-le avec "
                "`pacte log recover --accept-new-origin %(new)s`, ou rétablissez PACTE_LOG_ORIGIN=%(old)s."
            )
            % {"old": m.origin, "new": settings.LOG_ORIGIN},
            m,
            tree_size,
        )
    if tree_size < m.size:
        return Divergence(
            "behind",
            _(
                "La base de données est en retard sur le journal publié : elle contient %(db)s entrées, alors que "
                "le journal a déjà signé un point de contrôle de taille %(signed)s. Une sauvegarde plus ancienne a "
                "sans doute été restaurée. Aucun nouveau point de contrôle n'est signé et les écritures sont "
                "suspendues. Lancez `pacte log recover` sur le serveur (voir docs/transparency-log-operations.md)."
            )
            % {"db": tree_size, "signed": m.size},
            m,
            tree_size,
        )
    if m.size == 0:
        return None
    try:
        if proof and tree_size > m.size:
            merkle.verify_consistency(
                m.size,
                tree_size,
                m.root,
                tree.root(tree_size),
                tree.consistency_proof(m.size, tree_size),
            )
        elif tree.root(m.size) != m.root:
            raise merkle.ProofError("different root hash")
    except LookupError as exc:  # nodes missing from the stored tree: nothing can be proved
        return Divergence(
            "fork",
            _(
                "L'arbre stocké est incomplet (%(error)s) : impossible de prouver que la base prolonge le point de "
                "contrôle de taille %(signed)s déjà signé. Lancez `pacte log audit`, puis `pacte log recover`."
            )
            % {"error": exc, "signed": m.size},
            m,
            tree_size,
        )
    except merkle.ProofError as exc:
        return Divergence(
            "fork",
            _(
                "FOURCHE : les %(signed)s premières entrées de la base ne donnent pas la racine du point de contrôle "
                "de taille %(signed)s déjà signé (%(error)s). La base n'est pas celle dont le journal a publié "
                "l'histoire. Aucun nouveau point de contrôle n'est signé et les écritures sont suspendues. Lancez "
                "`pacte log recover` sur le serveur (voir docs/transparency-log-operations.md)."
            )
            % {"error": exc, "signed": m.size},
            m,
            tree_size,
        )
    return None


def halt(d: Divergence) -> LogHalted:
    """Log the divergence loudly and return the error to raise."""
    logger.error("journal: SIGNATURE REFUSÉE (%s) — %s", d.kind, d.message)
    return LogHalted(d.message)
