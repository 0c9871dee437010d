"""The State's record: how each institution keeps each of its promises, in figures (issue 12).

A *promise* is something an institution owes carriers and citizens on a clock: deciding data
requests, drawing test panels, answering expert requests and comptoir posts, listing services in
its distribution channels, paying what is due. Each domain that tracks such a promise registers a
*reader* here, which returns the promise's figures for one institution on one day; the
institution's public page and ``GET /api/v1/institutions/{slug}/record`` show them all, in
registration order.

The registry lives in ``accounts`` (the lowest domain layer, which knows institutions) so that
every domain may register into it without importing another: dependency inversion, as
:mod:`pacte.pacts.ports` does for sanctions. Readers are registered once, from each domain's
``AppConfig.ready``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pacte.accounts.models import Organisation

__all__ = [
    "STATE_PROMISES",
    "PromiseFigures",
    "PromiseReader",
    "RegisteredPromise",
    "StatePromises",
    "figures_from_items",
]


@dataclass(frozen=True)
class PromiseFigures:
    """One promise of one institution, as the public sees it.

    ``median_response_days`` is None when nothing was answered yet; ``share_on_time`` is the
    share (0..1) of answered items answered within their clock, None when nothing was answered;
    ``open_past_due`` counts the items still unanswered after their due date.
    """

    answered: int
    median_response_days: float | None
    share_on_time: float | None
    open_items: int
    open_past_due: int


def figures_from_items(
    items: Iterable[tuple[dt.datetime, dt.datetime | None, dt.datetime]],
    now: dt.datetime,
) -> PromiseFigures:
    """Figures from ``(received_at, answered_at or None, due_at)`` triples.

    The one way every reader turns its rows into figures, so "on time" and "past due" mean the
    same thing for every promise: answered at or before the due date; still open after it.
    """
    delays: list[float] = []
    on_time = 0
    open_items = 0
    past_due = 0
    for received_at, answered_at, due_at in items:
        if answered_at is None:
            open_items += 1
            if now > due_at:
                past_due += 1
            continue
        delays.append((answered_at - received_at).total_seconds() / 86400)
        if answered_at <= due_at:
            on_time += 1
    return PromiseFigures(
        answered=len(delays),
        median_response_days=round(statistics.median(delays), 1) if delays else None,
        share_on_time=(on_time / len(delays)) if delays else None,
        open_items=open_items,
        open_past_due=past_due,
    )


PromiseReader = Callable[["Organisation", dt.datetime], PromiseFigures]


@dataclass(frozen=True)
class RegisteredPromise:
    name: str  # stable code, used by the API ("data_requests", "expert_requests"…)
    label: str  # translated label (gettext_lazy) shown on the institution's page
    clock: str  # the clock in plain words, e.g. "30 jours après le dépôt"
    reader: PromiseReader


class StatePromises:
    """The registered promises, in page order; names are unique."""

    def __init__(self) -> None:
        self._entries: list[RegisteredPromise] = []

    def register(self, name: str, label: str, clock: str, reader: PromiseReader) -> None:
        if any(entry.name == name for entry in self._entries):
            return  # AppConfig.ready may run twice in tests: registering is idempotent
        self._entries.append(RegisteredPromise(name, label, clock, reader))

    def entries(self) -> list[RegisteredPromise]:
        return list(self._entries)

    def record(
        self, institution: Organisation, now: dt.datetime
    ) -> list[tuple[RegisteredPromise, PromiseFigures]]:
        return [(entry, entry.reader(institution, now)) for entry in self._entries]


STATE_PROMISES = StatePromises()
