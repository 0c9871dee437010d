"""Public year references (``PACTE-2026-0001``) from a locked per-year counter row."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from pacte.writes.models import ReferenceCounter


def _highest_existing(model: Any, scope: str) -> int:
    """Highest number already used in ``scope`` (references created before the counter)."""
    pattern = re.compile(rf"^{re.escape(scope)}-(\d+)$")
    best = 0
    for ref in model.objects.filter(reference__startswith=f"{scope}-").values_list(
        "reference", flat=True
    ):
        m = pattern.match(ref)
        if m:
            best = max(best, int(m.group(1)))
    return best


def next_reference(model: Any, prefix: str, *, width: int = 4) -> str:
    """The next free ``{prefix}-{year}-{n:04d}`` for ``model`` (a model with a unique
    ``reference`` field), inside the caller's transaction.

    The counter row of the year is locked until the caller commits: concurrent creations
    wait for each other instead of computing the same number (lock order: the counter is
    taken before the journal's ``LogState``, see :mod:`pacte.journal.services`)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_reference must run inside the transaction that creates the object")
    scope = f"{prefix}-{timezone.now().year}"
    counter = ReferenceCounter.objects.select_for_update().filter(scope=scope).first()
    if counter is None:
        # First reference of the year (or first since the counter exists): seed from the
        # rows already there. ON CONFLICT DO NOTHING: a concurrent first creation is fine.
        ReferenceCounter.objects.bulk_create(
            [ReferenceCounter(scope=scope, last=_highest_existing(model, scope))],
            ignore_conflicts=True,
        )
        counter = ReferenceCounter.objects.select_for_update().get(scope=scope)
    number = counter.last + 1
    while model.objects.filter(reference=f"{scope}-{number:0{width}d}").exists():
        number += 1  # a reference written by hand or by older code: skip it
    ReferenceCounter.objects.filter(scope=scope).update(last=number)
    return f"{scope}-{number:0{width}d}"
