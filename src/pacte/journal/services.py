"""The one place where governance events are appended to the transparency log.

Integration model (see docs in the report / design note):

* **Sequencing and integration happen in the same transaction.** ``record_event`` and
  ``record_events`` lock ``LogState``, insert the entries *and* append their leaf hashes
  to the stored Merkle tree (``LogNode``) before the caller commits.  Hence the invariant
  checked by :func:`verify_log`: at every commit, ``tree_size == size`` and the stored
  nodes are exactly the RFC 9162 tree of the stored entries.  A crash at any point rolls
  back entries and nodes together: nothing is lost, duplicated or reordered.
* **Checkpoints** are signed once per batch: inside the same transaction for
  ``record_events`` (one commit per batch), and right after the commit
  (``transaction.on_commit``) for ``record_event`` so that a governance transaction that
  records several events issues one checkpoint.  A checkpoint never runs ahead of the
  tree; if signing after commit fails (or the process dies), the next ``integrate()``
  (next event, ``pacte log integrate``, or the checkpoint endpoint) catches up.
* :func:`integrate` is idempotent and also integrates entries left outside the tree
  (e.g. rows written before the tree existed).
* **The log remembers what it signed** (:mod:`pacte.journal.memory`): the latest signed
  checkpoint is also kept in a file outside the database; before an append and before a
  signature the stored tree must extend it, otherwise nothing is signed and the append is
  refused with a 503 (:class:`~pacte.journal.memory.LogHalted`) until ``pacte log recover``.
* An entry is at most :data:`MAX_ENTRY_BYTES` (entry bundles carry 16-bit lengths).

Lock order (every write transaction; PostgreSQL row locks, SQLite takes its one write
lock at BEGIN IMMEDIATE so the order only matters on PostgreSQL):

1. ``writes.IdempotentRequest`` row of the request's ``Idempotency-Key`` (API only);
2. the domain rows the use case changes, root first (pact version, data request, grant →
   dataset version, evaluation …), each with ``select_for_update(of=("self",), no_key=True)``
   (FOR NO KEY UPDATE: inserts referencing the row still pass with FOR KEY SHARE): lock ONLY
   the rows you change — a bare ``select_for_update().select_related(...)`` also locks the
   joined project and organisation rows, which every insert referencing them must share
   (FOR KEY SHARE), and deadlocks against the log. The FOR KEY SHARE locks of the use
   case's own inserts belong here too: Django's foreign keys are checked at COMMIT
   (deferred), so :func:`record_event` first runs the pending checks
   (``SET CONSTRAINTS ALL IMMEDIATE``, :func:`_check_foreign_keys_now`);
3. ``writes.ReferenceCounter`` of the year, when the use case creates a referenced object;
4. ``LogState`` (this module) LAST and briefly: call ``record_event`` at the end of the use
   case, after every other lock is taken; nothing but the entries, the tree nodes and the
   checkpoint is written while it is held. The after-commit checkpoint signing takes it
   alone, in its own transaction, and never fails the request (errors are logged).

A use case that changes rows of another domain takes their locks in step 2 too, before its
first event: a pact sanction (suspend, break, reinstate) locks the pact version, then its
listeners (``pacts.ports``) lock and change the pact's data grants, then the pact's events
are written — the same order as a grant action (grant, then log); a use case that runs the
compliance engine after its change locks what the engine changes first
(``evidence.compliance.lock_for_compliance``).

Where a serialization failure can still happen (implicit foreign-key share locks),
PostgreSQL may abort one transaction as a deadlock victim: the API runs every write as one
transaction retried on deadlock and serialization failures
(:mod:`pacte.writes.idempotency`, :func:`pacte.writes.retry.retry_on_conflict`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.engines import merkle, note
from pacte.engines.canonical import LOG_ENTRY_FORMAT, canonical_json
from pacte.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pacte.journal import memory
from pacte.journal.keys import get_signer
from pacte.journal.models import Checkpoint, Cosignature, Event, LogNode, LogState, Witness
from pacte.journal.store import (
    CachedNodeStore,
    DbNodeStore,
    SqlValue,
    bulk_insert,
    fetch_blocks,
    node_cache,
    warm,
)

logger = logging.getLogger("pacte.journal")

# Entry bundles (c2sp.org/tlog-tiles) prefix each entry with a 16-bit length.
MAX_ENTRY_BYTES = 0xFFFF

# Test hook: called with a stage name at the points where a crash test kills the process.
crash_hook: Callable[[str], None] | None = None


def _stage(name: str) -> None:
    if crash_hook is not None:
        crash_hook(name)


@dataclass(frozen=True)
class Actor:
    """Who acted: an organisation and a role; the person only as a salted commitment."""

    organisation_slug: str = ""
    role: str = ""
    person_id: int | None = None

    def as_entry(self) -> dict[str, Any]:
        return {
            "org": self.organisation_slug or None,
            "role": self.role or None,
            "person": personal_commitment(f"user:{self.person_id}") if self.person_id else None,
        }


SYSTEM = Actor(organisation_slug="", role="system")


def personal_commitment(value: str) -> str:
    """Salted commitment to personal data: publishable, erasable (forget the salt)."""
    salt = settings.COMMITMENT_SALT.encode("utf-8")
    return hmac.new(salt, value.encode("utf-8"), hashlib.sha256).hexdigest()


def leaf_hash(entry: bytes) -> bytes:
    return merkle.leaf_hash(entry)


@dataclass(frozen=True)
class NewEvent:
    """One event for :func:`record_events`."""

    type: str
    actor: Actor
    subject_type: str
    subject_id: str | int
    data: dict[str, Any] | None = None
    project_slug: str = ""


class EntryTooLarge(ValidationFailed):
    """A log entry larger than an entry bundle can carry (64 KiB)."""

    code = "log_entry_too_large"


@dataclass(frozen=True)
class Appended:
    index: int
    entry_hash: str
    entry: str


# ------------------------------------------------------------------ appending


def _lock_state() -> LogState:
    state, _ = LogState.objects.select_for_update().get_or_create(id=1)
    return state


def _lock_state_for_append() -> LogState:
    """Lock the log for an append, after checking that the database still holds the
    history the log signed (see :mod:`pacte.journal.memory`): if not, the caller's
    transaction is refused with a 503 before anything is written.

    The check runs BEFORE the lock (the log's lock is taken last and held briefly): it
    reads the committed tree size and the O(log n) nodes of the remembered prefix, which
    never change once written; the signing step checks again under the lock."""
    remembered = memory.read_memory()
    if remembered is not None:
        size = LogState.objects.filter(id=1).values_list("tree_size", flat=True).first() or 0
        d = memory.divergence(size, _tree(size), remembered)
        if d is not None:
            raise memory.halt(d)
    _check_foreign_keys_now()
    return _lock_state()


def _check_foreign_keys_now() -> None:
    """PostgreSQL: run the caller's pending foreign-key checks NOW, before the log's lock.

    Django declares foreign keys DEFERRABLE INITIALLY DEFERRED, so the FOR KEY SHARE locks
    on the rows a transaction's inserts reference are taken at COMMIT — after the log's
    lock. A transaction holding the log then waited at COMMIT for, e.g., a dataset version
    that a DP query had locked while it waited for the log: a deadlock. ``SET CONSTRAINTS
    ALL IMMEDIATE`` checks what is pending at once (and later inserts as they happen), so
    those locks belong to step 2 of the lock order, like every other row lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _heads(subjects: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """entry_hash of the latest stored entry of each subject: one query per 500 subjects of a
    type, each subject answered by one index seek on (subject_type, subject_id, index)."""
    out: dict[tuple[str, str], str] = {}
    by_type: dict[str, list[str]] = {}
    for st, sid in subjects:
        by_type.setdefault(st, []).append(sid)
    q = connection.ops.quote_name
    table = q(Event._meta.db_table)
    pg = connection.vendor == "postgresql"
    cast, alias = ("%s::text", "v(column1)") if pg else ("%s", "v")  # SQLite names it column1
    with connection.cursor() as cur:
        for st, ids in by_type.items():
            for lo in range(0, len(ids), 500):
                part = ids[lo : lo + 500]
                values = ", ".join([f"({cast})"] * len(part))
                sql = (
                    f"SELECT v.column1, (SELECT e.{q('entry_hash')} FROM {table} e WHERE e.{q('subject_type')} = %s "
                    f"AND e.{q('subject_id')} = v.column1 ORDER BY e.{q('index')} DESC LIMIT 1) "
                    f"FROM (VALUES {values}) AS {alias}"
                )
                cur.execute(sql, [st, *part])
                for sid, h in cur.fetchall():
                    if h is not None:
                        out[(st, sid)] = h
    return out


# A JSON string exactly as RFC 8785 writes it: the C encoder escapes the same characters the
# same way (tests/engines/test_canonical.py checks every code point); a lone surrogate, which
# JCS refuses, fails the UTF-8 encoding of the entry below.
_str = json.encoder.encode_basestring
_FORMAT = _str(LOG_ENTRY_FORMAT)
EVENT_COLUMNS = (
    "index",
    "type",
    "occurred_at",
    "organisation_slug",
    "subject_type",
    "subject_id",
    "project_slug",
    "entry",
    "entry_hash",
    "leaf_hash",
    "prev",
)


def _append(
    state: LogState, events: Sequence[NewEvent], now: datetime
) -> tuple[list[Appended], list[bytes]]:
    """Insert the entries of a batch; every entry text is byte-identical to
    ``canonical_json`` (RFC 8785) of the entry dict (keys in sorted order, assembled directly; the
    actor, the timestamp and repeated strings are encoded once per batch)."""
    heads = _heads({(e.subject_type, str(e.subject_id)) for e in events})
    ts_json = _str(now.isoformat().replace("+00:00", "Z"))
    enc: dict[str, str] = {}  # JSON-encoded strings seen in this batch
    actors: dict[Actor, str] = {}
    occurred = connection.ops.adapt_datetimefield_value(now)
    rows: list[tuple[SqlValue, ...]] = []
    out: list[Appended] = []
    leaves: list[bytes] = []
    sha = hashlib.sha256
    index = state.size
    for e in events:
        sid = str(e.subject_id)
        st, typ, project = e.subject_type, e.type, e.project_slug
        key = (st, sid)
        previous = heads.get(key)
        actor = actors.get(e.actor)
        if actor is None:
            actor = actors[e.actor] = canonical_json(e.actor.as_entry())
        t_st = enc.get(st) or enc.setdefault(st, _str(st))
        t_typ = enc.get(typ) or enc.setdefault(typ, _str(typ))
        t_project = (
            (enc.get(project) or enc.setdefault(project, _str(project))) if project else "null"
        )
        text = (
            f'{{"actor":{actor},"data":{canonical_json(e.data) if e.data else "{}"},"format":{_FORMAT},'
            f'"prev":{_str(previous) if previous else "null"},"project":{t_project},'
            f'"subject":{{"id":{_str(sid)},"type":{t_st}}},"ts":{ts_json},"type":{t_typ}}}'
        )
        raw = text.encode("utf-8")
        if len(raw) > MAX_ENTRY_BYTES:
            raise EntryTooLarge(
                _(
                    "L'événement « %(type)s » ferait une entrée de journal de %(size)s octets ; le journal "
                    "n'accepte que %(max)s octets par entrée (paquets d'entrées C2SP, longueur sur 16 bits). "
                    "Réduisez les données publiées avec l'événement."
                )
                % {"type": typ, "size": len(raw), "max": MAX_ENTRY_BYTES}
            )
        ehash = sha(raw).hexdigest()
        lh = sha(b"\x00" + raw).digest()
        heads[key] = ehash
        rows.append(
            (
                index,
                typ,
                occurred,
                e.actor.organisation_slug,
                st,
                sid,
                project,
                text,
                ehash,
                lh,
                previous or "",
            )
        )
        out.append(Appended(index, ehash, text))
        leaves.append(lh)
        index += 1
    bulk_insert(Event._meta.db_table, EVENT_COLUMNS, rows)
    _stage("entries-inserted")
    return out, leaves


def record_event(
    type: str,
    *,
    actor: Actor,
    subject_type: str,
    subject_id: str | int,
    data: dict[str, Any] | None = None,
    project_slug: str = "",
) -> Event:
    """Append one event inside the caller's transaction (must be atomic).

    The entry and its tree nodes are written in the caller's transaction; the signed
    checkpoint is issued after the commit.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change it records")
    state = _lock_state_for_append()
    now = timezone.now()
    (appended,), leaves = _append(
        state, [NewEvent(type, actor, subject_type, subject_id, data, project_slug)], now
    )
    _integrate_locked(state, pending=(appended.index, leaves), new_size=appended.index + 1)
    transaction.on_commit(_sign_after_commit, robust=True)
    return Event.objects.get(index=appended.index)


def record_events(events: Iterable[NewEvent], *, checkpoint: bool = True) -> list[Appended]:
    """Append a batch: one lock, one bulk insert of entries and of tree nodes, one signed
    checkpoint, all in one transaction (the caller's, or a new one = one commit per batch)."""
    batch = list(events)
    if not batch:
        return []
    with transaction.atomic():
        state = _lock_state_for_append()
        appended, leaves = _append(state, batch, timezone.now())
        _integrate_locked(
            state, pending=(appended[0].index, leaves), new_size=state.size + len(batch)
        )
        if checkpoint:
            _sign_locked(state)
        _stage("before-commit")
    return appended


# ------------------------------------------------------------------ integrating


def _integrate_locked(
    state: LogState, *, pending: tuple[int, list[bytes]] | None = None, new_size: int | None = None
) -> None:
    """Append entries [tree_size, size) to the stored tree; `state` is locked."""
    if new_size is not None:
        state.size = new_size
    if state.tree_size < state.size:
        if (
            pending is not None
            and pending[0] == state.tree_size
            and pending[0] + len(pending[1]) == state.size
        ):
            hashes = pending[1]
        else:
            rows = list(
                Event.objects.filter(index__gte=state.tree_size)
                .order_by("index")
                .values_list("index", "leaf_hash")
            )
            if [i for i, _ in rows] != list(range(state.tree_size, state.size)):
                raise RuntimeError(
                    "journal: entries are not contiguous with the tree; run `pacte log verify`"
                )
            hashes = [bytes(h) for _, h in rows]
        tree = merkle.MerkleTree(DbNodeStore(), state.tree_size)
        tree.append_many(hashes)
        _stage("nodes-inserted")
        state.tree_size = tree.size
    LogState.objects.filter(id=state.id).update(size=state.size, tree_size=state.tree_size)


def _tree(size: int) -> merkle.MerkleTree:
    return merkle.MerkleTree(DbNodeStore(), size)


def _sign_locked(state: LogState) -> Checkpoint:
    latest = Checkpoint.objects.order_by("-size", "-id").first()
    if latest is not None and latest.size == state.tree_size:
        return latest
    tree = _tree(state.tree_size)
    root = tree.root()
    # c2sp.org/tlog-checkpoint: never sign a checkpoint inconsistent with one already signed
    d = memory.divergence(state.tree_size, tree, memory.read_memory(), proof=True)
    if d is not None:
        raise memory.halt(d)
    _stage("checkpoint-signing")
    signer = get_signer()
    body = note.checkpoint(settings.LOG_ORIGIN, state.tree_size, root)
    signed = signer.sign(body)
    transaction.on_commit(_expire_published)  # this process serves the new size at once
    transaction.on_commit(lambda: _remember(signed))
    return Checkpoint.objects.create(size=state.tree_size, root=root, note=signed)


def _remember(signed: str) -> None:
    """After the commit: the signed checkpoint is published, the memory moves forward."""
    try:
        memory.remember(signed)
    except Exception:  # never fail the request; the next signature writes it again
        logger.exception(
            "journal: could not write the memory of the latest signed checkpoint (%s)",
            memory.memory_path(),
        )


def integrate() -> Checkpoint:
    """In one transaction: integrate any entry not yet in the tree, sign a checkpoint if the
    tree grew.  Idempotent; cheap (two reads, no write lock) when there is nothing to do."""
    state = LogState.objects.filter(id=1).first()
    latest = Checkpoint.objects.order_by("-size", "-id").first()
    if state is not None and latest is not None and state.size == state.tree_size == latest.size:
        return latest
    with transaction.atomic():
        state = _lock_state()
        _integrate_locked(state)
        return _sign_locked(state)


def _sign_after_commit() -> None:
    try:
        integrate()
    except memory.LogHalted:
        pass  # already logged loudly by memory.halt(); writes are refused from now on
    except Exception:  # never break the user's request: the next integrate() catches up
        logger.exception("journal: checkpoint signing after commit failed")


# ------------------------------------------------------------------ reading and proofs


def latest_checkpoint() -> Checkpoint:
    """The latest signed checkpoint, catching up first if the log grew since.  When the log
    refuses to sign (database behind or forked, see :mod:`memory`), reads go on with the
    latest checkpoint stored in the database."""
    try:
        return integrate()
    except memory.LogHalted:
        cp = Checkpoint.objects.order_by("-size", "-id").first()
        if cp is None:
            raise
        return cp


def checkpoint_with_cosignatures(cp: Checkpoint) -> str:
    lines = [c.signature for c in cp.cosignatures.filter(witness__active=True).order_by("id")]
    return note.append_signatures(cp.note, lines) if lines else cp.note


class BadRequest(ValidationFailed):
    """Bad parameters of a log request (HTTP 400, French message)."""

    status = 400
    code = "bad_request"


def _bad(message: str) -> BadRequest:
    return BadRequest(message)


class OutsideTheLog(NotFound):
    """A well-formed request for a position or a tree size the published log does not have (404)."""


# Serving proofs: a process-wide view of the latest *committed* signed checkpoint, refreshed
# at most every LOG_CHECKPOINT_TTL seconds (immediately when a client asks for a larger size,
# and when this process commits a new batch), plus the node cache of `store`.  Inside a
# transaction nothing is cached: proofs are computed from the rows the transaction sees.


@dataclass
class _Published:
    size: int
    root: bytes
    at: float
    identity: bytes  # leaf hash 0: the log the cache describes
    roots: dict[int, bytes] = field(default_factory=dict)


_published_cache: _Published | None = None
_ROOTS_MAX = 4096


def clear_caches() -> None:
    """Forget the cached checkpoint and nodes (tests, or after restoring a database)."""
    global _published_cache
    _published_cache = None
    node_cache().clear()


def _expire_published() -> None:
    if _published_cache is not None:
        _published_cache.at = float("-inf")


_TTL: float | None = None


def _ttl() -> float:
    global _TTL
    if _TTL is None:
        _TTL = float(getattr(settings, "LOG_CHECKPOINT_TTL", 1.0))
    return _TTL


def warm_cache(max_bytes: int | None = None) -> int:
    """Pre-load the node cache (top levels first) for the latest committed checkpoint, e.g.
    at process start; returns the number of nodes loaded (0 inside a transaction)."""
    published, _, cacheable = _published()
    return warm(published, max_bytes=max_bytes) if cacheable else 0


def _published(at_least: int = 0) -> tuple[int, bytes, bool]:
    """(size, root, cacheable) of the latest signed checkpoint; cacheable = read from
    committed state, outside any transaction."""
    global _published_cache
    if connection.in_atomic_block:
        cp = latest_checkpoint()
        return cp.size, bytes(cp.root), False
    p = _published_cache
    now = time.monotonic()
    if p is not None and now - p.at < _ttl() and p.size >= at_least:
        return p.size, p.root, True
    cp = latest_checkpoint()  # commits its catch-up, if any, before returning
    size, root = cp.size, bytes(cp.root)
    identity = b""
    if size:
        got = fetch_blocks([(0, 0)], 1).get((0, 0), b"")
        identity = got[:32]
    if p is None or size < p.size or identity != p.identity:
        node_cache().clear()  # another log (database reset or restored): start afresh
        p = _Published(size, root, now, identity)
    else:
        if size == p.size and root != p.root:
            node_cache().clear()
            p = _Published(size, root, now, identity)
        p.size, p.root, p.at = size, root, now
    if len(p.roots) >= _ROOTS_MAX:
        p.roots.clear()
    p.roots[size] = root
    _published_cache = p
    return size, root, True


def _published_size() -> int:
    return _published()[0]


def _fold(ids: Sequence[merkle.NodeId], nodes: Mapping[merkle.NodeId, bytes]) -> bytes:
    """RFC 6962 hash of a range given as its perfect subtrees, left to right."""
    r = nodes[ids[-1]]
    for nid in reversed(ids[:-1]):
        r = hashlib.sha256(b"\x01" + nodes[nid] + r).digest()
    return r


def _serve(
    published: int,
    cacheable: bool,
    ranges: list[tuple[int, int]],
    extra: list[merkle.NodeId],
    sizes: Sequence[int],
    roots: dict[int, bytes],
) -> tuple[list[bytes], Mapping[merkle.NodeId, bytes], list[bytes]]:
    """(proof hashes, fetched nodes, roots of `sizes`) with ONE read of the node store (none
    when the process-wide cache has every node)."""
    groups = [merkle.range_node_ids(b, e) for b, e in ranges]
    ids = [nid for g in groups for nid in g] + extra
    known = [roots.get(s) for s in sizes]
    for s, r in zip(sizes, known, strict=True):
        if r is None:
            ids += merkle.frontier_node_ids(s)
    if cacheable:
        nodes = CachedNodeStore(published).get_many(ids)
    else:
        store = DbNodeStore()
        store.prime(ids)
        nodes = store.get_many(ids)
    missing = [nid for nid in ids if nid not in nodes]
    if missing:
        raise LookupError(
            f"journal: node store is missing node {missing[0]}; run `pacte log audit`"
        )
    proof = [nodes[g[0]] if len(g) == 1 else _fold(g, nodes) for g in groups]
    out_roots = []
    for s, r in zip(sizes, known, strict=True):
        if r is None:
            r = _fold(merkle.frontier_node_ids(s), nodes)
            if cacheable and len(roots) < _ROOTS_MAX:
                roots[s] = r
        out_roots.append(r)
    return proof, nodes, out_roots


def _roots(cacheable: bool, published: int, proot: bytes) -> dict[int, bytes]:
    if cacheable and _published_cache is not None:
        roots = _published_cache.roots
    else:
        roots = {}
    roots.setdefault(published, proot)
    return roots


def inclusion(
    *, index: int | None = None, entry_hash: str = "", size: int | None = None
) -> dict[str, Any]:
    """Inclusion proof of one entry in the tree of `size` leaves (default: latest checkpoint)."""
    published, proot, cacheable = _published(size or 0)
    if entry_hash:
        ev = (
            Event.objects.filter(entry_hash=entry_hash.strip().lower())
            .values_list("index", flat=True)
            .first()
        )
        if ev is None:
            raise NotFound(_("Aucune entrée du journal n'a cette empreinte."))
        index = ev
    if index is None:
        raise OutsideTheLog(
            _("Aucune entrée désignée : indiquez index (position de l'entrée) ou hash (empreinte).")
        )
    size = published if size is None else size
    if not 0 < size <= published:
        raise OutsideTheLog(
            _(
                "Aucun arbre de cette taille : size doit être entre 1 et %(published)s "
                "(taille du dernier point de contrôle)."
            )
            % {"published": published}
        )
    if not 0 <= index < size:
        raise OutsideTheLog(
            _(
                "Aucune entrée à cette position : index doit être entre 0 et %(last)s "
                "pour un arbre de taille %(size)s."
            )
            % {"last": size - 1, "size": size}
        )
    roots = _roots(cacheable, published, proot)
    proof, nodes, (root,) = _serve(
        published,
        cacheable,
        merkle.inclusion_proof_ranges(index, size),
        [(0, index)],
        [size],
        roots,
    )
    return {
        "index": index,
        "size": size,
        "root": root.hex(),
        "leaf_hash": nodes[(0, index)].hex(),
        "proof": [p.hex() for p in proof],
    }


def consistency(old: int, new: int | None = None) -> dict[str, Any]:
    published, proot, cacheable = _published(new or 0)
    new = published if new is None else new
    if not 0 < old <= new <= published:
        raise OutsideTheLog(
            _(
                "Aucune preuve entre ces tailles : il faut 0 < old ≤ new ≤ %(published)s "
                "(taille du dernier point de contrôle)."
            )
            % {"published": published}
        )
    roots = _roots(cacheable, published, proot)
    proof, _nodes, (old_root, root) = _serve(
        published, cacheable, merkle.consistency_proof_ranges(old, new), [], [old, new], roots
    )
    return {
        "old": old,
        "size": new,
        "old_root": old_root.hex(),
        "root": root.hex(),
        "proof": [p.hex() for p in proof],
    }


# ------------------------------------------------------------------ witnesses


def register_witness(verifier_key: str, *, name: str = "") -> Witness:
    try:
        v = note.parse_verifier_key(verifier_key.strip())
    except note.NoteError as exc:
        raise ValidationFailed(_("Clé de témoin invalide : %(error)s") % {"error": exc}) from None
    if not isinstance(v, note.CosignatureVerifier):
        raise ValidationFailed(
            _("La clé d'un témoin doit être de type cosignature/v1 (algorithme 0x04).")
        )
    witness, _created = Witness.objects.update_or_create(
        verifier_key=verifier_key.strip(), defaults={"name": name or v.name, "active": True}
    )
    return witness


def _check_cosignature_time(name: str, ts: int) -> None:
    """c2sp.org/tlog-witness: a cosignature MUST carry a timestamp (not 0); c2sp.org/
    tlog-cosignature: verifiers MAY reject timestamps in the future (beyond a clock skew)."""
    if ts == 0:
        raise ValidationFailed(
            _("La cosignature de %(name)s n'a pas d'horodatage (0) : refusée.") % {"name": name}
        )
    skew = int(getattr(settings, "WITNESS_MAX_CLOCK_SKEW", 600))
    if ts > time.time() + skew:
        raise ValidationFailed(
            _(
                "La cosignature de %(name)s est datée dans le futur (%(ts)s, plus de %(skew)s s d'avance sur "
                "l'horloge du journal) : refusée."
            )
            % {"name": name, "ts": ts, "skew": skew}
        )


def add_cosignature(body: str) -> list[Cosignature]:
    """Receive witness cosignature(s) (C2SP tlog-witness style).

    `body` is either a cosigned checkpoint (checkpoint body, blank line, signature lines:
    the log's and/or the witnesses') or bare signature lines for the latest checkpoint.
    400 malformed, 403 unknown witness, 409 when the checkpoint is not ours or the
    cosignature does not verify over it.
    """
    if not body.strip():
        raise _bad(
            _("Corps vide : envoyez un point de contrôle cosigné ou une ligne de cosignature.")
        )
    body = body.rstrip("\n") + "\n"  # trailing blank lines carry nothing
    try:
        if "\n\n" in body:
            text = note.note_text(body)
            _body, sigs = note._split_note(body)
            origin, size, root = note.parse_checkpoint(text)
        else:
            text = None
            _body, sigs = note._split_note("x\n\n" + (body if body.endswith("\n") else body + "\n"))
    except note.NoteError as exc:
        raise _bad(_("Cosignature mal formée : %(error)s") % {"error": exc}) from None
    cp: Checkpoint | None
    if text is None:
        cp = latest_checkpoint()
    else:
        cp = Checkpoint.objects.filter(size=size).order_by("-id").first()
        if origin != settings.LOG_ORIGIN or cp is None or note.note_text(cp.note) != text:
            raise Conflict(
                _(
                    "Ce point de contrôle ne correspond à aucun point de contrôle publié par ce journal."
                )
            )
    cp_text = note.note_text(cp.note)
    witnesses = {
        (w.name, note.parse_verifier_key(w.verifier_key).key_id): w
        for w in Witness.objects.filter(active=True)
    }
    log_signer = get_signer()
    saved: list[Cosignature] = []
    for s in sigs:
        if (s.name, s.key_id) == (log_signer.name, log_signer.key_id):
            continue  # the log's own signature, echoed back
        w = witnesses.get((s.name, s.key_id))
        if w is None:
            raise PermissionDenied(_("Témoin inconnu ou inactif : %(name)s.") % {"name": s.name})
        try:
            ts = note.verify_cosignature(cp_text, s.line, w.verifier_key)
        except note.NoteError as exc:
            raise Conflict(
                _(
                    "La cosignature de %(name)s ne vérifie pas le point de contrôle de taille %(size)s : %(error)s"
                )
                % {"name": s.name, "size": cp.size, "error": exc}
            ) from None
        _check_cosignature_time(s.name, ts)
        c, _created = Cosignature.objects.update_or_create(
            checkpoint=cp, witness=w, defaults={"timestamp": ts, "signature": s.line}
        )
        saved.append(c)
    if not saved:
        raise _bad(_("Aucune ligne de cosignature de témoin dans le corps."))
    return saved


# ------------------------------------------------------------------ full verification


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
    # stored nodes must be exactly the recomputed complete subtrees
    seen = 0
    q = LogNode.objects.order_by("level", "index").values_list("level", "index", "hash")
    for level, index, stored_hash in q.iterator(chunk_size=chunk):
        seen += 1
        if mem.get(level, index) != bytes(stored_hash):
            report.problems.append(f"nœud ({level}, {index}) stocké incorrect ou en trop")
            if len(report.problems) > 50:
                break
    expected_nodes = sum(mem.count(lv) for lv in range(64))
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
