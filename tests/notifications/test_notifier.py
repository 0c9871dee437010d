"""The queued notifier: recorded in the caller's transaction, sent by the worker, retried, given up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from pacte.journal.models import Event
from pacte.notifications.models import Notification
from pacte.notifications.notifier import notify, prune_outbox, resume_pending
from pacte.notifications.tasks import deliver_task
from pacte.pacts import drafting as pact_drafting
from tests.notifications.backends import FlakyBackend
from tests.queue import run_queue

REFUSING = "tests.notifications.backends.RefusingBackend"
FLAKY = "tests.notifications.backends.FlakyBackend"


class Boom(Exception):
    pass


@pytest.mark.django_db
def test_notification_is_written_in_the_callers_transaction_and_rolled_back_with_it(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        with transaction.atomic():
            notify(["a@example.org"], "Objet", "Texte", event="test.rollback")
            assert Notification.objects.count() == 1  # visible inside the transaction
            raise Boom
    assert Notification.objects.count() == 0
    assert callbacks == [] and DBTaskResult.objects.count() == 0 and mail.outbox == []


@pytest.mark.django_db
def test_governance_action_queues_its_mail_and_the_worker_sends_it(
    world, draft, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pact_drafting.submit(world.carrier_admin, draft)
    notification = Notification.objects.get(event="pact.submitted")
    assert notification.state == Notification.State.PENDING and notification.attempts == 0
    assert world.reviewer.user.email in notification.recipients
    assert mail.outbox == []  # nothing sent inside the request
    assert run_queue() == 1
    notification.refresh_from_db()
    assert notification.state == Notification.State.SENT and notification.attempts == 1
    assert notification.sent_at is not None and notification.next_attempt_at is None
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == notification.subject
    assert sorted(mail.outbox[0].to) == notification.recipients


@pytest.mark.django_db
def test_addresses_are_deduplicated_and_nobody_means_nothing_recorded():
    assert notify(["", "  "], "Objet", "Texte", event="test.empty") is None
    n = notify(
        ["b@example.org", "a@example.org", "b@example.org"], "Objet", "Texte", event="test.dedup"
    )
    assert n is not None and n.recipients == ["a@example.org", "b@example.org"]
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_failing_backend_is_retried_until_it_delivers(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = FLAKY
    settings.NOTIFICATION_RETRY_BASE_SECONDS = (
        0  # retries due at once, so one queue run sees them all
    )
    FlakyBackend.failures = 2
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(["a@example.org"], "Objet", "Texte", event="test.flaky")
    assert run_queue() == 3
    n.refresh_from_db()
    assert n.state == Notification.State.SENT and n.attempts == 3 and n.last_error == ""
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_gives_up_after_max_attempts_with_the_error_recorded(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = REFUSING
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 0
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(["a@example.org"], "Objet", "Texte", event="test.refused")
    assert run_queue(max_tasks=20) == 3  # bounded: no fourth try is queued
    n.refresh_from_db()
    assert n.state == Notification.State.FAILED and n.attempts == 3 and n.next_attempt_at is None
    assert n.last_error == "ConnectionRefusedError: serveur de courrier injoignable"
    assert not DBTaskResult.objects.ready().exists() and mail.outbox == []


@pytest.mark.django_db
def test_backoff_is_recorded_and_the_retry_waits_for_it(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = REFUSING
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 60
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(["a@example.org"], "Objet", "Texte", event="test.backoff")
    before = timezone.now()
    assert run_queue() == 1
    after = timezone.now()
    n.refresh_from_db()
    assert n.state == Notification.State.PENDING and n.attempts == 1
    assert before + timedelta(seconds=60) <= n.next_attempt_at <= after + timedelta(seconds=60)
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after == n.next_attempt_at and retry.args_kwargs == {
        "args": [n.pk],
        "kwargs": {},
    }
    assert run_queue() == 0  # not due yet
    # the second failure doubles the delay
    Notification.objects.filter(pk=n.pk).update(next_attempt_at=timezone.now())
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    before = timezone.now()
    assert run_queue() == 1
    n.refresh_from_db()
    assert n.attempts == 2 and n.next_attempt_at >= before + timedelta(seconds=120)


@pytest.mark.django_db
def test_failing_mail_never_breaks_the_governance_transaction(
    world, draft, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = REFUSING
    with django_capture_on_commit_callbacks(execute=True):
        pact_drafting.submit(world.carrier_admin, draft)
    run_queue()
    draft.refresh_from_db()
    assert draft.status == "submitted"
    assert Event.objects.filter(type="pact.submitted").exists()
    n = Notification.objects.get(event="pact.submitted")
    assert n.state == Notification.State.PENDING and "ConnectionRefusedError" in n.last_error


@pytest.mark.django_db
def test_a_notification_is_sent_once_even_if_queued_twice(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(["a@example.org"], "Objet", "Texte", event="test.twice")
    deliver_task.enqueue(n.pk)
    assert run_queue() == 2
    assert len(mail.outbox) == 1
    assert set(DBTaskResult.objects.values_list("return_value", flat=True)) == {"sent", "skipped"}


@pytest.mark.django_db
def test_resume_requeues_a_notification_whose_enqueue_was_lost(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(
        execute=False
    ):  # the commit hook never runs: enqueue lost
        n = notify(["a@example.org"], "Objet", "Texte", event="test.lost")
    assert run_queue() == 0
    assert resume_pending(timezone.now()) == 0  # within the in-flight lease: left alone
    assert resume_pending(timezone.now() + timedelta(minutes=20)) == 1
    assert run_queue() == 1
    n.refresh_from_db()
    assert n.state == Notification.State.SENT and len(mail.outbox) == 1


@pytest.mark.django_db
def test_prune_forgets_old_sent_and_failed_notifications_only(settings):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    for state in ("sent", "failed", "pending"):
        n = notify(["a@example.org"], "Objet", "Texte", event=f"test.{state}")
        Notification.objects.filter(pk=n.pk).update(state=state, created_at=old)
    recent = notify(["a@example.org"], "Objet", "Texte", event="test.recent")
    Notification.objects.filter(pk=recent.pk).update(state="sent")
    assert prune_outbox() == 2
    assert sorted(Notification.objects.values_list("event", flat=True)) == [
        "test.pending",
        "test.recent",
    ]


@pytest.mark.django_db
def test_admin_lists_the_outbox_and_retries_a_failed_notification(
    admin_client, django_capture_on_commit_callbacks
):
    n = notify(["a@example.org"], "Pacte P-1 approuvé", "Texte", event="pact.approved")
    Notification.objects.filter(pk=n.pk).update(
        state="failed", attempts=6, last_error="TimeoutError: délai", next_attempt_at=None
    )
    page = admin_client.get("/admin/notifications/notification/")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "Pacte P-1 approuvé" in html and "pact.approved" in html and "TimeoutError: délai" in html
    )
    assert (
        admin_client.get("/admin/notifications/notification/?state__exact=sent")
        .content.decode()
        .count("Pacte P-1 approuvé")
        == 0
    )
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post(
            "/admin/notifications/notification/", {"action": "retry", "_selected_action": [n.pk]}
        )
    assert r.status_code == 302
    n.refresh_from_db()
    assert n.state == Notification.State.PENDING and n.attempts == 0
    assert run_queue() == 1
    n.refresh_from_db()
    assert n.state == Notification.State.SENT and len(mail.outbox) == 1
