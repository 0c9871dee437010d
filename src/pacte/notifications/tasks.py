"""Delivery of queued notifications (django-tasks, run by `pacte worker`)."""

from __future__ import annotations

from datetime import datetime

from django_tasks import task

from pacte.notifications.notifier import deliver, prune_outbox, resume_pending


@task()
def deliver_task(notification_id: int) -> str:
    """One try at sending one notification; a failure schedules the next try itself."""
    return deliver(notification_id)


@task()
def resume_pending_task() -> int:
    """Hourly: re-queue pending notifications whose try is overdue."""
    return resume_pending()


@task()
def prune_outbox_task() -> int:
    """Daily: forget sent and given-up notifications past their retention."""
    return prune_outbox()


def enqueue_delivery(notification_id: int, run_after: datetime | None = None) -> None:
    """Queue one delivery try, now or at ``run_after`` (the notifier's retries)."""
    queued = deliver_task.using(run_after=run_after) if run_after is not None else deliver_task
    queued.enqueue(notification_id)
