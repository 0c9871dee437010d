"""Background tasks (django-tasks): grant states move with time; orphan budget reservations are settled."""

from __future__ import annotations

from django_tasks import task

from pacte.data.gateway.aggregates import release_stale_reservations
from pacte.data.grants import refresh_grants


@task()
def refresh_grants_task() -> dict[str, int]:
    """active → renewal_due 30 days before expiry (reminder mail), → expired after."""
    return refresh_grants()


@task()
def release_stale_reservations_task() -> int:
    """Give back privacy-budget reservations left ``reserved`` by a request that died."""
    return release_stale_reservations()
