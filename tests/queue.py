"""Run the task queue inside a test: django-tasks-db's claim and run_task, bounded, no sleep.

`Worker.run()` calls `close_old_connections()`, which closes the connection inside the
transaction that wraps a non-transactional test; so this helper runs the worker's own
processing steps (ready → lock → claim → run_task) without that loop. Transactional
tests call the real loop (`pacte worker --once`, `queue_worker().run()`).
"""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from pacte.scheduling.worker import queue_worker


def run_queue(max_tasks: int = 100) -> int:
    """Run ready tasks (at most ``max_tasks``) until none is ready; return how many ran."""
    worker = queue_worker(max_tasks=max_tasks, worker_id="test-worker")
    ran = 0
    while ran < max_tasks:
        with exclusive_transaction():
            task_result = DBTaskResult.objects.ready().get_locked()
            if task_result is None:
                break
            task_result.claim(worker.worker_id)
        worker.run_task(task_result)
        ran += 1
    return ran
