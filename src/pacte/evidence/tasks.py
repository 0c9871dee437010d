"""Scheduled work for evidence: the daily compliance run (django-tasks)."""

from __future__ import annotations

from datetime import date

from django_tasks import task


@task()
def run_compliance_task(today: str | None = None) -> dict[str, object]:
    """Recompute commitment statuses and move pacts along their breach path; JSON-serialisable result."""
    from pacte.evidence.compliance import run_compliance

    report = run_compliance(date.fromisoformat(today) if today else None)
    return {
        "today": report.today.isoformat(),
        "statuses": report.statuses,
        "transitions": report.transitions,
        "state_breaches": report.state_breaches,
    }


@task()
def store_replay_task(slug: str) -> bool:
    """Replay a new assignment from the public log once, so that readers get the stored result."""
    from pacte.evidence.replay import compute_and_store

    return bool(compute_and_store(slug)["ok"])
