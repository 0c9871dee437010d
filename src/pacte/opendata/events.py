"""The open-data domain's journal events (one place)."""

from __future__ import annotations

from typing import Any

from pacte.accounts.policy import Principal, actor_of
from pacte.journal.services import record_event


def opendata_event(
    type: str, principal: Principal, subject_type: str, subject_id: str, **data: Any
) -> None:
    """Append an event to the public journal, in the caller's transaction."""
    record_event(
        type, actor=actor_of(principal), subject_type=subject_type, subject_id=subject_id, data=data
    )
