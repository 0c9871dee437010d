"""The one way the platform sends mail: `notify` records it, the worker delivers it.

Domain code calls :func:`notify` inside its use-case transaction. The notification row
is written in that transaction (a rollback takes it away with everything else) and a
delivery task is enqueued once it commits. The task (:func:`deliver`) sends through
Django's mail backend, never silently: a failure is recorded on the row and retried
with exponential backoff, up to ``NOTIFICATION_MAX_ATTEMPTS`` tries. A failing mail
server never breaks the governance transaction that asked for the mail.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from pacte.accounts.ports import FormerIdentity
from pacte.engines.cadence import retry_delay
from pacte.notifications.models import Notification

logger = logging.getLogger("pacte.notifications")

# A try in flight holds the notification this long; after it, the hourly sweep may resume it.
IN_FLIGHT_LEASE = timedelta(minutes=15)


def notify(
    recipients: Iterable[str],
    subject: str,
    body: str,
    *,
    event: str,
    headers: dict[str, str] | None = None,
) -> Notification | None:
    """Record one message to ``recipients`` and queue its delivery after commit.

    Empty or repeated addresses are dropped; with nobody left, nothing is recorded.
    """
    addresses = sorted({address.strip() for address in recipients if address and address.strip()})
    if not addresses:
        return None
    notification = Notification.objects.create(
        event=event,
        recipients=addresses,
        subject=str(subject)[:255],
        body=str(body),
        headers=dict(headers or {}),
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(notification.pk), robust=True)
    return notification


DeliveryQueue = Callable[[int, "datetime | None"], None]
_delivery_queue: DeliveryQueue | None = None


def use_delivery_queue(queue: DeliveryQueue) -> None:
    """Set how deliveries are queued (``pacte.notifications.tasks.enqueue_delivery``, at start-up in
    ``NotificationsConfig.ready``): the tasks call this module, so this module does not import them."""
    global _delivery_queue
    _delivery_queue = queue


def _enqueue(notification_id: int, run_after: datetime | None = None) -> None:
    if _delivery_queue is None:  # pragma: no cover - the app registry sets it at start-up
        raise RuntimeError(
            "notifications: no delivery queue (is pacte.notifications in INSTALLED_APPS?)"
        )
    _delivery_queue(notification_id, run_after)


def retry_after(attempts: int) -> timedelta:
    return retry_delay(
        attempts,
        base_seconds=settings.NOTIFICATION_RETRY_BASE_SECONDS,
        cap_seconds=settings.NOTIFICATION_RETRY_CAP_SECONDS,
    )


def deliver(notification_id: int) -> str:
    """One try at sending; returns the resulting state (or ``"skipped"`` if not due)."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id,
        state=Notification.State.PENDING,
        next_attempt_at__lte=now,
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + IN_FLIGHT_LEASE)
    if not claimed:  # sent, given up, not due yet, or another worker holds it
        return "skipped"
    notification = Notification.objects.get(pk=notification_id)
    try:
        EmailMessage(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            list(notification.recipients),
            headers=dict(notification.headers or {}),
        ).send(fail_silently=False)
    except Exception as exc:  # any backend failure is recorded, then retried or given up
        return _record_failure(notification, exc)
    notification.state = Notification.State.SENT
    notification.sent_at = timezone.now()
    notification.next_attempt_at = None
    notification.last_error = ""
    notification.save(update_fields=["state", "sent_at", "next_attempt_at", "last_error"])
    return notification.state


def _record_failure(notification: Notification, exc: Exception) -> str:
    notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        notification.state = Notification.State.FAILED
        notification.next_attempt_at = None
        logger.error(
            "notification %s given up after %s attempts: %s",
            notification.pk,
            notification.attempts,
            notification.last_error,
        )
    else:
        notification.next_attempt_at = timezone.now() + retry_after(notification.attempts)
        logger.warning(
            "notification %s attempt %s failed, next at %s: %s",
            notification.pk,
            notification.attempts,
            notification.next_attempt_at,
            notification.last_error,
        )
    notification.save(update_fields=["state", "last_error", "next_attempt_at"])
    if notification.state == Notification.State.PENDING:
        _enqueue(notification.pk, run_after=notification.next_attempt_at)
    return notification.state


def resume_pending(now: datetime | None = None) -> int:
    """Re-queue pending notifications whose try is overdue (lost enqueue, worker stopped mid-try)."""
    now = now or timezone.now()
    overdue = list(
        Notification.objects.filter(
            state=Notification.State.PENDING, next_attempt_at__lte=now - IN_FLIGHT_LEASE
        ).values_list("pk", flat=True)
    )
    for pk in overdue:
        _enqueue(pk)
    return len(overdue)


def retry_now(notification: Notification) -> None:
    """Admin action: give a failed or waiting notification a fresh try at once."""
    Notification.objects.filter(pk=notification.pk).exclude(state=Notification.State.SENT).update(
        state=Notification.State.PENDING,
        next_attempt_at=timezone.now(),
        attempts=0 if notification.state == Notification.State.FAILED else F("attempts"),
    )
    transaction.on_commit(lambda: _enqueue(notification.pk), robust=True)


def prune_outbox(now: datetime | None = None) -> int:
    """Delete sent and given-up notifications older than ``NOTIFICATION_RETENTION_DAYS`` (addresses are personal)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    deleted, _ = Notification.objects.filter(
        state__in=(Notification.State.SENT, Notification.State.FAILED), created_at__lt=cutoff
    ).delete()
    return deleted


ERASED_NAME = "Compte supprimé"


def forget_addresses(user: object, former: FormerIdentity) -> int:
    """Account deletion (pacte.accounts.ports): the person's addresses leave the outbox. A
    message sent to them alone is deleted (its text may name them); from a message to several
    people their address goes, and their name, where the text gives it, becomes "Compte
    supprimé". Returns how many messages were touched."""
    touched = 0
    for email in former.emails:
        for n in Notification.objects.filter(recipients__icontains=email):
            kept = [r for r in n.recipients if str(r).strip().lower() not in former.emails]
            if kept == n.recipients:
                continue
            touched += 1
            if kept:
                n.recipients = kept
                n.save(update_fields=["recipients"])
            else:
                n.delete()
    for name in (n for n in former.names if len(n) >= 3):
        pattern = re.compile(re.escape(name), re.IGNORECASE)
        for n in Notification.objects.filter(Q(subject__icontains=name) | Q(body__icontains=name)):
            n.subject = pattern.sub(ERASED_NAME, n.subject)
            n.body = pattern.sub(ERASED_NAME, n.body)
            n.save(update_fields=["subject", "body"])
            touched += 1
    return touched
