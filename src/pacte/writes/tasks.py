"""Background work for reliable writes (django-tasks, run by `pacte worker`)."""

from __future__ import annotations

from django_tasks import task

from pacte.writes.idempotency import purge_expired


@task()
def purge_idempotency_keys_task() -> int:
    """Hourly or daily: forget stored responses of Idempotency-Key requests older than 24 h."""
    return purge_expired()
