from __future__ import annotations

from django.db import transaction

from pacte.journal.services import SYSTEM, NewEvent, integrate, record_event, record_events


def append(n: int, *, subjects: int = 3, type: str = "x.test", project: str = "") -> None:
    """n events over a few subjects, each in its own governance transaction, then sign."""
    for i in range(n):
        with transaction.atomic():
            record_event(type, actor=SYSTEM, subject_type="t", subject_id=i % subjects,
                         data={"i": i}, project_slug=project)
    integrate()


def batch(n: int, *, start: int = 0, subjects: int = 7) -> list:
    return record_events(
        NewEvent("x.bulk", SYSTEM, "b", (start + i) % subjects, {"i": start + i}) for i in range(n)
    )
