"""What the pact domain offers other domains.

**Sanctions.** When a pact is suspended, broken or reinstated, other domains apply or lift their own
measures (the data domain suspends or revokes the pact's grants; funding withholds payments). They
register a :class:`SanctionListener` once, in their ``AppConfig.ready``; the pact use case calls every
listener inside its own transaction, before it writes the pact's journal events (lock order: the
rows the listeners change are locked before the journal's state, see ``pacte.journal``).
"""

from __future__ import annotations

from typing import Literal, Protocol

from pacte.pacts.models import PactVersion

SanctionAction = Literal["suspend", "break", "reinstate"]


class SanctionListener(Protocol):
    def __call__(self, version: PactVersion, action: SanctionAction, /) -> None: ...


_listeners: dict[str, SanctionListener] = {}


def listen_to_sanctions(name: str, listener: SanctionListener) -> None:
    """Register (or replace) the listener called ``name``; idempotent, for AppConfig.ready."""
    _listeners[name] = listener


def sanction_listeners() -> list[tuple[str, SanctionListener]]:
    return sorted(_listeners.items())
