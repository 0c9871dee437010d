"""Background tasks (django-tasks): grant states move with time."""

from __future__ import annotations

from django_tasks import task

from pacte.data.services import refresh_grants


@task()
def refresh_grants_task() -> dict[str, int]:
    """active → renewal_due 30 days before expiry (reminder mail), → expired after."""
    return refresh_grants()
