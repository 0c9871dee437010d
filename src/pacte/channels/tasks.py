"""Background work for channels (django-tasks, database backend; run by `pacte worker`)."""

from __future__ import annotations

from datetime import date

from django_tasks import task

from pacte.accounts import policy
from pacte.channels.listings import run_channels
from pacte.channels.takeovers import raise_takeover_alerts


@task()
def run_channels_task() -> dict[str, int]:
    """Daily: list the services that meet a channel's condition, remove those that stopped, mark
    late listings (State-side breaches)."""
    return run_channels(policy.SYSTEM, date.today()).as_dict()


@task()
def takeover_alerts_task() -> dict[str, int]:
    """Daily: alert on projects without a confirmed takeover three months before their last phase ends."""
    return {"alerts": len(raise_takeover_alerts(policy.SYSTEM, date.today()))}
