"""Background jobs of the accounts domain (django-tasks, run by `pacte worker`)."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django_tasks import task


@task()
def prune_sign_in_log_task() -> int:
    """Daily: forget sign-in records (addresses are personal data) older than the retention."""
    return int(AxesProxyHandler.reset_logs(age_days=settings.SIGN_IN_LOG_RETENTION_DAYS))
