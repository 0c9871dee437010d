"""The pact moves a person triggers by name (the API's and the pages' "action" buttons), each
mapped to its use case. The table of what each move does is ``pacte.pacts.lifecycles.PACT``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pacte.pacts import drafting, review, sanctions, signing

ACTIONS: dict[str, Callable[..., Any]] = {
    "submit": lambda a, v, reason="": drafting.submit(a, v),
    "withdraw": lambda a, v, reason="": drafting.withdraw(a, v, reason),
    "request_changes": lambda a, v, reason="": review.request_changes(a, v, reason),
    "approve": lambda a, v, reason="": review.approve(a, v, reason),
    "sign": lambda a, v, reason="": signing.sign(a, v),
    "notify_breach": lambda a, v, reason="": sanctions.notify_breach(a, v, reason),
    "cure": lambda a, v, reason="": sanctions.cure(a, v, reason),
    "suspend": lambda a, v, reason="": sanctions.suspend(a, v, reason),
    "reinstate": lambda a, v, reason="": sanctions.reinstate(a, v, reason),
    "break": lambda a, v, reason="": sanctions.break_pact(a, v, reason),
    "complete": lambda a, v, reason="": sanctions.complete(a, v, reason),
}
