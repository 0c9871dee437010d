"""`pacte worker`: the django-tasks database worker and the scheduler, in one loop.

Each turn enqueues the periodic jobs that are due (:func:`enqueue_due`), runs every
ready task of the queue with django-tasks-db's own worker, then waits ``interval``
seconds. One process, one thread: no task runs concurrently with the scheduler, and a
second `pacte worker` is safe (tasks are claimed with SELECT … FOR UPDATE SKIP LOCKED,
periods with a unique row).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from pacte.scheduling.scheduler import enqueue_due


def queue_worker(*, max_tasks: int | None = None, worker_id: str | None = None) -> Worker:
    """django-tasks-db's worker in batch mode: `run()` returns once no task is ready."""
    return Worker(
        queue_names=list(settings.TASKS["default"].get("QUEUES", ["default"])),
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id=worker_id or get_random_string(32),
        excluded_queue_names=[],
    )


def run_forever(
    *, interval: float = 5.0, once: bool = False, clock: Callable[[], datetime] = timezone.now
) -> None:
    """The loop of `pacte worker` (``once``: a single turn, for cron or a check)."""
    worker = queue_worker()
    if not once:
        worker.configure_signals()  # SIGTERM/SIGINT: finish the running task, then stop
    while worker.running:
        enqueue_due(clock())
        worker.run()
        if once:
            return
        if worker.running:
            time.sleep(interval)
