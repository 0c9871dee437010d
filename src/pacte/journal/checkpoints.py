"""The stored tree and its signed checkpoints: integrating entries into the tree (inside the
append's transaction), signing a checkpoint per batch, and the process-wide view of the latest
*committed* signed checkpoint that proofs and tiles are served from.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, connections, transaction

from pacte.engines import merkle, note
from pacte.journal import memory
from pacte.journal.entries import _stage
from pacte.journal.keys import get_signer
from pacte.journal.models import Checkpoint, Event, LogState
from pacte.journal.store import DbNodeStore, fetch_blocks, node_cache, warm

logger = logging.getLogger("pacte.journal")


def _lock_state() -> LogState:
    state, _ = LogState.objects.select_for_update().get_or_create(id=1)
    return state


def _integrate_locked(
    state: LogState, *, pending: tuple[int, list[bytes]] | None = None, new_size: int | None = None
) -> merkle.MerkleTree | None:
    """Append entries [tree_size, size) to the stored tree; `state` is locked. Returns the
    tree it appended to (its frontier known: the root costs no read), None if nothing to do."""
    tree = None
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
    return tree


def _tree(size: int) -> merkle.MerkleTree:
    return merkle.MerkleTree(DbNodeStore(), size)


def _sign_locked(
    state: LogState, tree: merkle.MerkleTree | None = None, *, grew: bool = False
) -> Checkpoint:
    """Sign a checkpoint of the tree (``tree``: the one just appended to, if any; ``grew``:
    entries were just integrated under this lock, so no checkpoint of this size exists)."""
    if not grew:
        latest = Checkpoint.objects.order_by("-size", "-id").first()
        if latest is not None and latest.size == state.tree_size:
            return latest
    if tree is None or tree.size != state.tree_size:
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
        return _sign_locked(state, _integrate_locked(state))


def _sign_now() -> None:
    try:
        integrate()
    except memory.LogHalted:
        pass  # already logged loudly by memory.halt(); writes are refused from now on
    except Exception:  # never break the user's request: the next integrate() catches up
        logger.exception("journal: checkpoint signing after commit failed")


# Signing after commit, amortised (issue 15, dp3). With ``LOG_CHECKPOINT_INTERVAL`` = 0 the
# checkpoint covering a committed ``record_event`` is signed at once, in the request, after
# its commit. With an interval > 0 the request only schedules it: a timer thread of this
# process signs ONE checkpoint covering everything committed by then, at most once per
# interval. The argument (what a verifier sees, the maximum lag) is in
# docs/transparency-log-operations.md, "Signature des points de contrôle".


class _SigningSchedule:
    """This process's deferred signature: at most one pending timer, at most one signature
    per interval. ``pending`` is set while a timer waits and cleared (under the lock) BEFORE
    its signature starts reading the log, so an entry whose commit finds a pending timer is
    committed before that signature reads the tree: it is covered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: threading.Timer | None = None
        self.running: threading.Thread | None = None  # a timer whose signature has started
        self.due = 0.0  # time.monotonic() at which the pending timer fires
        self.last = float("-inf")  # time.monotonic() of this process's last deferred signature
        self.at_exit = False

    def schedule(self, interval: float) -> float:
        """Make sure a signature runs within ``interval`` seconds from now; returns its delay."""
        with self.lock:
            now = time.monotonic()
            if self.pending is not None:
                return max(0.0, self.due - now)
            delay = min(interval, max(0.0, self.last + interval - now))
            timer = threading.Timer(delay, self.run)
            timer.daemon = True
            self.pending, self.due = timer, now + delay
            if not self.at_exit:  # a short-lived process signs what it wrote before exiting
                atexit.register(self.flush)
                self.at_exit = True
            timer.start()
            return delay

    def run(self) -> None:
        """The timer: sign now, in this thread's own database connection."""
        with self.lock:
            if self.pending is not threading.current_thread():
                return  # cancelled or flushed meanwhile
            self.pending, self.last = None, time.monotonic()
            self.running = threading.current_thread()
        try:
            _sign_now()
        finally:
            connections.close_all()  # this thread's connections only (they are per thread)
            with self.lock:
                if self.running is threading.current_thread():
                    self.running = None

    def flush(self) -> None:
        """Sign now what a pending timer would have signed, or wait for the signature a timer
        has started (process exit, tests): on return, everything this process committed
        before the call is covered by a signed checkpoint (unless signing is refused)."""
        with self.lock:
            timer, self.pending = self.pending, None
            running = self.running
        if timer is not None:
            timer.cancel()
            _sign_now()
        elif running is not None and running is not threading.current_thread():
            running.join()


_schedule = _SigningSchedule()


def _forget_schedule_in_child() -> None:
    """A forked worker (e.g. gunicorn --preload) has none of its parent's threads: it starts
    with a schedule of its own (the parent's pending timer still signs in the parent)."""
    global _schedule
    _schedule = _SigningSchedule()


os.register_at_fork(after_in_child=_forget_schedule_in_child)


def _signing_interval() -> float:
    return float(getattr(settings, "LOG_CHECKPOINT_INTERVAL", 0.0))


def _sign_after_commit() -> None:
    interval = _signing_interval()
    if interval <= 0:
        _sign_now()
    else:
        _schedule.schedule(interval)


def flush_deferred_signature() -> None:
    """Sign at once the checkpoint a pending timer of this process would sign (if any)."""
    _schedule.flush()


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
