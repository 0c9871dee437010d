"""Background work for funding (django-tasks, database backend; run by `pacte worker`)."""

from __future__ import annotations

from datetime import date

from django_tasks import task

from pacte.accounts import policy
from pacte.funding.payments import mark_late_payments


@task()
def mark_late_payments_task() -> dict[str, int]:
    """Daily: a payment order past its due date and unpaid is late — a State-side breach, public."""
    return {"late": len(mark_late_payments(policy.SYSTEM, date.today()))}
