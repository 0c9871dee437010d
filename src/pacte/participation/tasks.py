"""Background work of the participation domain (django-tasks, run by `pacte worker`): notices from
the journal, e-mail digests (immediate ones right after the fan-out), consultations at their end."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from pacte.accounts import policy
from pacte.participation import consultations, digests, notices
from pacte.participation.models import DigestPreference


@task()
def fan_out_task() -> int:
    """Every five minutes (and after each participation write): notices, then immediate e-mails."""
    read = notices.fan_out_all()
    digests.send_digests(DigestPreference.Frequency.IMMEDIATE)
    return read


@task()
def daily_digests_task() -> int:
    notices.fan_out_all()
    return digests.send_digests(DigestPreference.Frequency.DAILY)


@task()
def weekly_digests_task() -> int:
    """Runs daily; a weekly reader gets a digest when their previous one is a week old."""
    notices.fan_out_all()
    return digests.send_digests(DigestPreference.Frequency.WEEKLY)


@task()
def close_consultations_task() -> int:
    return consultations.close_due()


@task()
def purge_notices_task() -> int:
    """Daily: forget the notices past their retention (``NOTICE_RETENTION_DAYS``)."""
    return notices.purge_old_notices(policy.SYSTEM)


def fan_out_after_commit() -> None:
    """Called by the participation writes: tell the followers soon, not at the next five minutes."""
    transaction.on_commit(lambda: fan_out_task.enqueue(), robust=True)
