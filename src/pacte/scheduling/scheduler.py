"""Enqueue each periodic job once per period, however many schedulers run.

:func:`enqueue_due` is called by every `pacte worker` on each turn of its loop. For each
job of :data:`pacte.scheduling.jobs.JOBS` it takes the latest occurrence of the cadence
at or before ``now`` and inserts a :class:`ScheduledRun` for (job, occurrence) together
with the queued task, in one transaction. The unique constraint on (job, due_at) decides
between two workers: the loser gets an IntegrityError and enqueues nothing. Only the
latest occurrence is considered, so a worker that was down for three days runs each
daily job once when it comes back, not three times.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, OperationalError, transaction
from django.utils.module_loading import import_string

from pacte.scheduling.jobs import JOBS, Job
from pacte.scheduling.models import ScheduledRun

logger = logging.getLogger("pacte.scheduling")


def enqueue_due(now: datetime, jobs: Sequence[Job] = JOBS) -> list[ScheduledRun]:
    """Enqueue every job whose current period has not been enqueued yet; return the new runs."""
    created: list[ScheduledRun] = []
    for job in jobs:
        due_at = job.cadence.latest(now)
        if ScheduledRun.objects.filter(job=job.name, due_at=due_at).exists():
            continue  # the common case, without provoking an IntegrityError every turn
        run = enqueue_period(job, due_at, now)
        if run is not None:
            created.append(run)
    return created


def enqueue_period(job: Job, due_at: datetime, now: datetime) -> ScheduledRun | None:
    """Insert the (job, period) row and queue the task in one transaction; None if another scheduler did."""
    try:
        with transaction.atomic():
            run = ScheduledRun.objects.create(job=job.name, due_at=due_at, enqueued_at=now)
            result = import_string(job.task).enqueue()
            run.task_result_id = str(result.id)
            run.save(update_fields=["task_result_id"])
    except IntegrityError:
        return None  # another scheduler enqueued this period first
    except OperationalError as exc:  # SQLite busy beyond its timeout: the next turn retries
        if "locked" not in str(exc).lower():
            raise
        logger.warning("schedule: database locked, %s retried on the next turn", job.name)
        return None
    logger.info("schedule: %s enqueued for %s", job.name, due_at.isoformat())
    return run
