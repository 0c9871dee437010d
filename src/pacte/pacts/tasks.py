"""Background work for pacts (django-tasks, database backend; run by `pacte worker`)."""

from __future__ import annotations

from django_tasks import task

from pacte.pacts.commitments import refresh_commitment_statuses


@task()
def refresh_commitments_task() -> dict[str, int]:
    """Daily: mark commitments due soon or missed (also `pacte commitments check`)."""
    return refresh_commitment_statuses()
