"""The journal's public names, importable from one place (the domains and the CLI import them
from here). The code lives in use-case modules:

* :mod:`pacte.journal.entries`: ``Actor``, ``SYSTEM``, ``NewEvent``, entry assembly;
* :mod:`pacte.journal.appends`: ``record_event``, ``record_events`` and the **lock order** of
  every write transaction;
* :mod:`pacte.journal.checkpoints`: tree integration, signed checkpoints, the published view;
* :mod:`pacte.journal.proofs`: inclusion and consistency proofs;
* :mod:`pacte.journal.witnessing`: witnesses and their cosignatures;
* :mod:`pacte.journal.verification`: ``verify_log``.
"""

from __future__ import annotations

from pacte.journal.appends import record_event, record_events
from pacte.journal.checkpoints import (
    checkpoint_with_cosignatures,
    clear_caches,
    integrate,
    latest_checkpoint,
    warm_cache,
)
from pacte.journal.entries import (
    EVENT_COLUMNS,
    MAX_ENTRY_BYTES,
    SYSTEM,
    Actor,
    Appended,
    EntryTooLarge,
    NewEvent,
    leaf_hash,
    personal_commitment,
)
from pacte.journal.proofs import BadRequest, OutsideTheLog, consistency, inclusion
from pacte.journal.verification import LogReport, verify_log
from pacte.journal.witnessing import add_cosignature, register_witness

__all__ = [
    "EVENT_COLUMNS",
    "MAX_ENTRY_BYTES",
    "SYSTEM",
    "Actor",
    "Appended",
    "BadRequest",
    "EntryTooLarge",
    "LogReport",
    "NewEvent",
    "OutsideTheLog",
    "add_cosignature",
    "checkpoint_with_cosignatures",
    "clear_caches",
    "consistency",
    "inclusion",
    "integrate",
    "latest_checkpoint",
    "leaf_hash",
    "personal_commitment",
    "record_event",
    "record_events",
    "register_witness",
    "verify_log",
    "warm_cache",
]
