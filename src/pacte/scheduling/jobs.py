"""The schedule: every periodic job of the platform, in one table.

`pacte worker` enqueues each job once per occurrence of its cadence (see
:mod:`pacte.scheduling.scheduler`) and runs the queue. Tasks are named by dotted path
so that this table imports no domain code; each is a django-tasks task taking no
argument. The daily jobs run at night, Paris time, in this order: commitment due
dates, grant expiry, then the compliance run that reads both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from pacte.engines.cadence import Cadence, Daily, EveryMinutes, Hourly


@dataclass(frozen=True)
class Job:
    name: str
    task: str  # dotted path of a django-tasks task
    cadence: Cadence


JOBS: tuple[Job, ...] = (
    Job(
        "pacts.refresh_commitments", "pacte.pacts.tasks.refresh_commitments_task", Daily(time(3, 0))
    ),
    Job("data.refresh_grants", "pacte.data.tasks.refresh_grants_task", Daily(time(3, 10))),
    Job("evidence.compliance", "pacte.evidence.tasks.run_compliance_task", Daily(time(3, 20))),
    Job("funding.late_payments", "pacte.funding.tasks.mark_late_payments_task", Daily(time(3, 30))),
    Job("channels.run", "pacte.channels.tasks.run_channels_task", Daily(time(3, 40))),
    Job(
        "channels.takeover_alerts", "pacte.channels.tasks.takeover_alerts_task", Daily(time(3, 45))
    ),
    Job("opendata.dump", "pacte.opendata.tasks.publish_dump_task", Daily(time(3, 50))),
    Job(
        "comptoirs.late_answers", "pacte.comptoirs.tasks.mark_late_answers_task", Daily(time(3, 55))
    ),
    Job("notifications.prune", "pacte.notifications.tasks.prune_outbox_task", Daily(time(4, 0))),
    Job(
        "writes.purge_idempotency_keys",
        "pacte.writes.tasks.purge_idempotency_keys_task",
        Daily(time(4, 20)),
    ),
    Job(
        "accounts.prune_sign_in_log",
        "pacte.accounts.tasks.prune_sign_in_log_task",
        Daily(time(4, 10)),
    ),
    Job(
        "data.release_stale_reservations",
        "pacte.data.tasks.release_stale_reservations_task",
        Hourly(minute=15),
    ),
    Job("notifications.resume", "pacte.notifications.tasks.resume_pending_task", Hourly(minute=5)),
    # participation (issue 13): notices from the journal, digests, consultations at their end
    Job("participation.fan_out", "pacte.participation.tasks.fan_out_task", EveryMinutes(5)),
    Job(
        "participation.daily_digests",
        "pacte.participation.tasks.daily_digests_task",
        Daily(time(7, 0)),
    ),
    Job(
        "participation.weekly_digests",
        "pacte.participation.tasks.weekly_digests_task",
        Daily(time(7, 10)),
    ),
    Job(
        "participation.purge_notices",
        "pacte.participation.tasks.purge_notices_task",
        Daily(time(4, 30)),
    ),
    Job(
        "participation.close_consultations",
        "pacte.participation.tasks.close_consultations_task",
        Hourly(minute=20),
    ),
)
