"""In-app notices are forgotten after their retention by a daily job (issue 13 leftovers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from pacte.accounts import policy
from pacte.errors import PermissionDenied
from pacte.participation.models import Notice
from pacte.participation.notices import purge_old_notices
from pacte.participation.tasks import purge_notices_task
from pacte.scheduling.jobs import JOBS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _notice(user, index: int, age_days: int, read: bool = False) -> Notice:  # type: ignore[no-untyped-def]
    now = timezone.now()
    return Notice.objects.create(
        user=user,
        event_index=index,
        event_type="pact.signed",
        title=f"Entrée {index}",
        why="Vous suivez ce projet",
        created_at=now - timedelta(days=age_days),
        read_at=now if read else None,
    )


def test_notices_past_their_retention_are_purged_read_or_not(settings):
    settings.NOTICE_RETENTION_DAYS = 180
    person = UserFactory()
    old_unread = _notice(person, 1, 200)
    old_read = _notice(person, 2, 181, read=True)
    recent = _notice(person, 3, 179)
    assert purge_old_notices(policy.SYSTEM) == 2
    assert list(Notice.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Notice.objects.filter(pk__in=[old_unread.pk, old_read.pk]).exists()
    assert purge_old_notices(policy.SYSTEM) == 0  # nothing left to purge: idempotent


def test_only_the_platform_clock_purges(world):
    _notice(UserFactory(), 1, 400)
    for acting in (world.reviewer, world.carrier_admin):
        with pytest.raises(PermissionDenied):
            purge_old_notices(acting)
    assert Notice.objects.count() == 1


def test_the_purge_is_a_scheduled_daily_job(settings):
    settings.NOTICE_RETENTION_DAYS = 30
    _notice(UserFactory(), 1, 31)
    job = next(j for j in JOBS if j.name == "participation.purge_notices")
    assert job.task == "pacte.participation.tasks.purge_notices_task"
    assert type(job.cadence).__name__ == "Daily"
    assert purge_notices_task.call() == 1 and not Notice.objects.exists()
