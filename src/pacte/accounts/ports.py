"""What the accounts domain offers the others: a registry of personal-data erasers.

When a person deletes their account (pacte.accounts.deletion), each domain that keeps personal
data about people erases its own, in the same transaction, through the function it registered
here from its ``AppConfig.ready``. Accounts never imports the other domains (dependency
inversion, as pacte.accounts.state_record does for promises)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pacte.accounts.models import User


@dataclass(frozen=True)
class FormerIdentity:
    """What the account held before erasure, for erasers that must find personal data by
    value (an address in a mailing list, a name in a free text)."""

    user_id: int
    username: str
    emails: frozenset[str]
    names: frozenset[str]


PersonalDataEraser = Callable[["User", FormerIdentity], object]  # the result is ignored

_ERASERS: dict[str, PersonalDataEraser] = {}


def register_personal_data_eraser(name: str, eraser: PersonalDataEraser) -> None:
    """Register (or replace, by name) a domain's eraser; called from ``AppConfig.ready``."""
    _ERASERS[name] = eraser


def personal_data_erasers() -> list[tuple[str, PersonalDataEraser]]:
    return list(_ERASERS.items())
