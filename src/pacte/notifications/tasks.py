"""Delivery of queued notifications (django-tasks, run by `pacte worker`)."""

from __future__ import annotations

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
