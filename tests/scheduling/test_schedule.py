"""The schedule, on a simulated clock: each job once per period, once with two schedulers, caught up once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django_tasks_db.models import DBTaskResult

from pacte.cli import main
from pacte.engines.cadence import Daily, EveryMinutes, Hourly
from pacte.journal.models import Event
from pacte.pacts.models import Commitment
from pacte.scheduling.jobs import JOBS, Job
from pacte.scheduling.models import ScheduledRun
from pacte.scheduling.scheduler import enqueue_due, enqueue_period

PARIS = ZoneInfo("Europe/Paris")
DAILY = {
    "pacts.refresh_commitments": time(3, 0),
    "data.refresh_grants": time(3, 10),
    "evidence.compliance": time(3, 20),
    "funding.late_payments": time(3, 30),
    "channels.run": time(3, 40),
    "channels.takeover_alerts": time(3, 45),
    "opendata.dump": time(3, 50),
    "comptoirs.late_answers": time(3, 55),
    "notifications.prune": time(4, 0),
    "accounts.prune_sign_in_log": time(4, 10),
    "writes.purge_idempotency_keys": time(4, 20),
    "participation.purge_notices": time(4, 30),
    "participation.daily_digests": time(7, 0),
    "participation.weekly_digests": time(7, 10),
}
# the jobs of the hour and of the day (the five-minute fan-out has its own test below)
SLOW = tuple(j for j in JOBS if not isinstance(j.cadence, EveryMinutes))


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def queued() -> Counter[str]:
    return Counter(DBTaskResult.objects.values_list("task_path", flat=True))


def test_the_schedule_declares_every_daily_job_of_the_domains():
    assert {j.name: j.cadence for j in JOBS if isinstance(j.cadence, Daily)} == {
        name: Daily(at, "Europe/Paris") for name, at in DAILY.items()
    }
    assert [j.name for j in JOBS if isinstance(j.cadence, Hourly)] == [
        "data.release_stale_reservations",
        "notifications.resume",
        "participation.close_consultations",
    ]
    assert [j.name for j in JOBS if isinstance(j.cadence, EveryMinutes)] == [
        "participation.fan_out"
    ]
    assert len({j.name for j in JOBS}) == len(JOBS)


@pytest.mark.django_db
def test_each_job_is_enqueued_when_its_time_comes_and_only_then():
    enqueue_due(paris(2026, 3, 10, 2, 50), SLOW)  # first start: every job's latest period, once
    assert set(ScheduledRun.objects.values_list("job", flat=True)) == {j.name for j in SLOW}
    first = queued()
    assert sum(first.values()) == len(SLOW)

    assert enqueue_due(paris(2026, 3, 10, 2, 59, 59), SLOW) == []  # nothing new before 03:00
    runs = enqueue_due(paris(2026, 3, 10, 3, 0), SLOW)
    assert [(r.job, r.due_at) for r in runs] == [
        ("pacts.refresh_commitments", paris(2026, 3, 10, 3, 0))
    ]
    assert [r.job for r in enqueue_due(paris(2026, 3, 10, 3, 5), SLOW)] == [
        "notifications.resume"
    ]  # 02:05 UTC
    assert enqueue_due(paris(2026, 3, 10, 3, 9), SLOW) == []
    assert [r.job for r in enqueue_due(paris(2026, 3, 10, 3, 10), SLOW)] == ["data.refresh_grants"]
    assert [r.job for r in enqueue_due(paris(2026, 3, 10, 3, 25), SLOW)] == [
        "evidence.compliance",
        "data.release_stale_reservations",
        "participation.close_consultations",
    ]
    assert [r.job for r in enqueue_due(paris(2026, 3, 10, 3, 30), SLOW)] == [
        "funding.late_payments"
    ]
    assert [r.job for r in enqueue_due(paris(2026, 3, 10, 3, 40), SLOW)] == ["channels.run"]
    assert [r.job for r in enqueue_due(paris(2026, 3, 10, 3, 45), SLOW)] == [
        "channels.takeover_alerts"
    ]
    assert [r.job for r in enqueue_due(paris(2026, 3, 10, 3, 50), SLOW)] == ["opendata.dump"]
    assert [r.job for r in enqueue_due(paris(2026, 3, 10, 3, 55), SLOW)] == [
        "comptoirs.late_answers"
    ]
    assert [r.job for r in enqueue_due(paris(2026, 3, 10, 4, 5), SLOW)] == [
        "notifications.prune",
        "notifications.resume",
    ]
    assert [r.job for r in enqueue_due(paris(2026, 3, 10, 4, 10), SLOW)] == [
        "accounts.prune_sign_in_log"
    ]
    counts = queued() - first
    assert counts == Counter(
        {
            "pacte.pacts.tasks.refresh_commitments_task": 1,
            "pacte.data.tasks.refresh_grants_task": 1,
            "pacte.evidence.tasks.run_compliance_task": 1,
            "pacte.notifications.tasks.prune_outbox_task": 1,
            "pacte.accounts.tasks.prune_sign_in_log_task": 1,
            "pacte.funding.tasks.mark_late_payments_task": 1,
            "pacte.channels.tasks.run_channels_task": 1,
            "pacte.channels.tasks.takeover_alerts_task": 1,
            "pacte.opendata.tasks.publish_dump_task": 1,
            "pacte.comptoirs.tasks.mark_late_answers_task": 1,
            "pacte.notifications.tasks.resume_pending_task": 2,
            "pacte.data.tasks.release_stale_reservations_task": 1,
            "pacte.participation.tasks.close_consultations_task": 1,
        }
    )
    run = ScheduledRun.objects.get(job="evidence.compliance", due_at=paris(2026, 3, 10, 3, 20))
    assert DBTaskResult.objects.filter(pk=run.task_result_id, status="READY").exists()


@pytest.mark.django_db
def test_the_fan_out_of_notices_is_enqueued_every_five_minutes():
    fan_out = tuple(j for j in JOBS if j.name == "participation.fan_out")
    assert [r.due_at for r in enqueue_due(paris(2026, 3, 10, 3, 2), fan_out)] == [
        paris(2026, 3, 10, 3, 0)
    ]
    assert enqueue_due(paris(2026, 3, 10, 3, 4, 59), fan_out) == []
    assert [r.due_at for r in enqueue_due(paris(2026, 3, 10, 3, 5), fan_out)] == [
        paris(2026, 3, 10, 3, 5)
    ]
    assert queued() == Counter({"pacte.participation.tasks.fan_out_task": 2})


@pytest.mark.django_db
def test_a_second_scheduler_enqueues_nothing_for_the_same_period():
    now = paris(2026, 3, 10, 3, 30)
    assert len(enqueue_due(now)) == len(JOBS)
    assert enqueue_due(now) == []  # the second worker's turn
    assert enqueue_due(now + timedelta(seconds=20)) == []
    assert sum(queued().values()) == len(JOBS) == ScheduledRun.objects.count()


@pytest.mark.django_db
def test_the_unique_period_row_decides_when_both_schedulers_passed_the_existence_check():
    job = Job(
        "pacts.refresh_commitments", "pacte.pacts.tasks.refresh_commitments_task", Daily(time(3, 0))
    )
    now = paris(2026, 3, 10, 3, 30)
    due_at = job.cadence.latest(now)
    assert enqueue_period(job, due_at, now) is not None
    assert (
        enqueue_period(job, due_at, now) is None
    )  # the loser of the race: its row and task roll back
    assert ScheduledRun.objects.count() == 1 and DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_schedulers_enqueue_each_period_once():
    now = paris(2026, 3, 10, 3, 30)
    barrier = threading.Barrier(2)
    created: list[int] = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            barrier.wait()
            created.append(len(enqueue_due(now)))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(created) == len(JOBS) == ScheduledRun.objects.count()
    assert sum(queued().values()) == len(JOBS)


@pytest.mark.django_db
def test_a_missed_period_is_caught_up_once_after_downtime():
    enqueue_due(paris(2026, 3, 10, 4, 30))
    before = queued()
    # the worker was down from the 10th to the 13th at noon: three nights missed
    runs = enqueue_due(paris(2026, 3, 13, 12, 0))
    assert sorted(r.job for r in runs) == sorted(j.name for j in JOBS)
    assert {r.job: r.due_at for r in runs if r.job in DAILY} == {
        name: paris(2026, 3, 13, at.hour, at.minute) for name, at in DAILY.items()
    }
    assert queued() - before == Counter({j.task: 1 for j in JOBS})
    assert enqueue_due(paris(2026, 3, 13, 12, 4)) == []  # next hourly occurrence: 12:05


@pytest.mark.django_db(transaction=True)
def test_pacte_worker_enqueues_the_daily_jobs_and_runs_them_through_the_database_worker(active):
    commitment = active.commitments.filter(due_date__isnull=False).order_by("id").first()
    yesterday = date.today() - timedelta(days=1)
    Commitment.objects.filter(pk=commitment.pk).update(
        due_date=yesterday, status=Commitment.State.ON_TRACK
    )
    DBTaskResult.objects.all().delete()  # mail queued while activating the pact: not this test's subject

    assert (
        main(["worker", "--once"]) == 0
    )  # one turn of `pacte worker`: schedule, then run the queue

    results = {r.task_path: r for r in DBTaskResult.objects.all()}
    assert set(results) == {j.task for j in JOBS}
    assert {path: r.status for path, r in results.items()} == {j.task: "SUCCESSFUL" for j in JOBS}
    compliance = results["pacte.evidence.tasks.run_compliance_task"].return_value
    assert compliance["today"] == date.today().isoformat()
    commitment.refresh_from_db()
    assert commitment.status == Commitment.State.MISSED
    assert Event.objects.filter(type="commitment.missed").exists()


@pytest.mark.django_db
def test_the_sign_in_log_is_pruned_past_its_retention(settings):
    from axes.models import AccessLog
    from django.utils import timezone

    from pacte.accounts.tasks import prune_sign_in_log_task

    settings.SIGN_IN_LOG_RETENTION_DAYS = 30
    old = AccessLog.objects.create(username="a", ip_address="127.0.0.1", user_agent="x")
    AccessLog.objects.filter(pk=old.pk).update(attempt_time=timezone.now() - timedelta(days=31))
    recent = AccessLog.objects.create(username="b", ip_address="127.0.0.1", user_agent="x")
    assert prune_sign_in_log_task.call() == 1
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [recent.pk]
