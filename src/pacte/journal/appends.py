"""The one place where governance events are appended to the transparency log
(``record_event``, ``record_events``); the entries are assembled in :mod:`.entries`, the tree
and checkpoints kept in :mod:`.checkpoints`.

Integration model (see docs in the report / design note):

* **Sequencing and integration happen in the same transaction.** ``record_event`` and
  ``record_events`` lock ``LogState``, insert the entries *and* append their leaf hashes
  to the stored Merkle tree (``LogNode``) before the caller commits.  Hence the invariant
  checked by :func:`verify_log`: at every commit, ``tree_size == size`` and the stored
  nodes are exactly the RFC 9162 tree of the stored entries.  A crash at any point rolls
  back entries and nodes together: nothing is lost, duplicated or reordered.
* **Checkpoints** are signed once per batch: inside the same transaction for
  ``record_events`` (one commit per batch), and after the commit (``transaction.on_commit``)
  for ``record_event``: at once with ``LOG_CHECKPOINT_INTERVAL`` = 0, else by a timer of the
  process at most once per interval, at the latest one interval after the commit (issue 15,
  dp3: :class:`pacte.journal.checkpoints._SigningSchedule`; the argument is in
  docs/transparency-log-operations.md). A checkpoint never runs ahead of the tree; if
  signing after commit fails (or the process dies), the next ``integrate()`` (next event,
  ``pacte log integrate``, or any reader of the checkpoint) catches up.
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

from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from pacte.journal import memory
from pacte.journal.checkpoints import (
    _integrate_locked,
    _lock_state,
    _sign_after_commit,
    _sign_locked,
    _tree,
)
from pacte.journal.entries import Actor, Appended, NewEvent, _append, _stage
from pacte.journal.models import Event, LogState


def _lock_state_for_append(*, check_memory: bool = True, pending_checks: bool = True) -> LogState:
    """Lock the log for an append, after checking that the database still holds the
    history the log signed (see :mod:`pacte.journal.memory`): if not, the caller's
    transaction is refused with a 503 before anything is written.

    The check runs BEFORE the lock (the log's lock is taken last and held briefly): it
    reads the committed tree size and the O(log n) nodes of the remembered prefix, which
    never change once written; the signing step checks again under the lock.
    ``check_memory=False``: the caller signs a checkpoint under the lock in the same
    transaction (:func:`record_events`), whose check refuses the same appends before the
    commit — the transaction rolls back, nothing is written. ``pending_checks=False``: the
    transaction was opened by the caller of this function and has written nothing yet, so
    no foreign-key check is pending."""
    remembered = memory.read_memory() if check_memory else None
    if remembered is not None:
        size = LogState.objects.filter(id=1).values_list("tree_size", flat=True).first() or 0
        d = memory.divergence(size, _tree(size), remembered)
        if d is not None:
            raise memory.halt(d)
    if pending_checks:
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
    # a transaction of its own (not the caller's) has no foreign-key check pending
    own = not transaction.get_connection().in_atomic_block
    with transaction.atomic():
        # with a checkpoint, the memory is checked once, under the lock, before signing
        state = _lock_state_for_append(check_memory=not checkpoint, pending_checks=not own)
        appended, leaves = _append(state, batch, timezone.now())
        tree = _integrate_locked(
            state, pending=(appended[0].index, leaves), new_size=state.size + len(batch)
        )
        if checkpoint:
            _sign_locked(state, tree, grew=True)
        _stage("before-commit")
    return appended
