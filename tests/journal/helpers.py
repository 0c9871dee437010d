from __future__ import annotations

import pytest
from django.db import transaction

from pacte.journal.services import SYSTEM, NewEvent, integrate, record_event, record_events


def append(n: int, *, subjects: int = 3, type: str = "x.test", project: str = "") -> None:
    """n events over a few subjects, each in its own governance transaction, then sign."""
    for i in range(n):
        with transaction.atomic():
            record_event(
                type,
                actor=SYSTEM,
                subject_type="t",
                subject_id=i % subjects,
                data={"i": i},
                project_slug=project,
            )
    integrate()


def batch(n: int, *, start: int = 0, subjects: int = 7) -> list:
    return record_events(
        NewEvent("x.bulk", SYSTEM, "b", (start + i) % subjects, {"i": start + i}) for i in range(n)
    )


@pytest.fixture
def keep_test_connection():  # type: ignore[no-untyped-def]
    """Like django.test.Client: in-process WSGI requests must not close the test's database
    connection (PostgreSQL). Modules that call the app through httpx use it."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
