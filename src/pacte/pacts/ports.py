"""What the pact domain offers other domains.

**Sanctions.** When a pact is suspended, broken or reinstated, other domains apply or lift their own
measures (the data domain suspends or revokes the pact's grants; funding withholds payments). They
register a :class:`SanctionListener` once, in their ``AppConfig.ready``; the pact use case calls every
listener inside its own transaction, before it writes the pact's journal events (lock order: the
rows the listeners change are locked before the journal's state, see ``pacte.journal``).

**The State's tracked promises.** A domain holding the evidence of an institution's promise (funding:
a payment due by a date) asks the pact to track it as an institution-owned commitment
(:func:`add_state_commitment`), stops or restarts its clock (:func:`reschedule_state_commitment`),
settles it when the evidence arrives (:func:`settle_state_commitment`) or withdraws it when nothing is
owed any more (:func:`withdraw_state_commitment`); the compliance engine's clock does the rest.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pacte.pacts.commitments import (
    add_state_commitment,
    reschedule_state_commitment,
    settle_state_commitment,
    withdraw_state_commitment,
)
from pacte.pacts.models import PactVersion

__all__ = [
    "SanctionAction",
    "SanctionListener",
    "add_state_commitment",
    "listen_to_sanctions",
    "reschedule_state_commitment",
    "sanction_listeners",
    "settle_state_commitment",
    "withdraw_state_commitment",
]

SanctionAction = Literal["suspend", "break", "reinstate"]


class SanctionListener(Protocol):
    def __call__(self, version: PactVersion, action: SanctionAction, /) -> None: ...


_listeners: dict[str, SanctionListener] = {}


def listen_to_sanctions(name: str, listener: SanctionListener) -> None:
    """Register (or replace) the listener called ``name``; idempotent, for AppConfig.ready."""
    _listeners[name] = listener


def sanction_listeners() -> list[tuple[str, SanctionListener]]:
    return sorted(_listeners.items())
