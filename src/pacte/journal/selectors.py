from __future__ import annotations

from django.db.models import QuerySet

from pacte.journal.models import Event


def events_for_subject(subject_type: str, subject_id: str | int) -> QuerySet[Event]:
    return Event.objects.filter(subject_type=subject_type, subject_id=str(subject_id)).order_by(
        "index"
    )


def events_for_project(project_slug: str) -> QuerySet[Event]:
    return Event.objects.filter(project_slug=project_slug).order_by("-index")


def recent_events(*, type_prefix: str = "", project: str = "") -> QuerySet[Event]:
    qs = Event.objects.order_by("-index")
    if type_prefix:
        qs = qs.filter(type__startswith=type_prefix)
    if project:
        qs = qs.filter(project_slug=project)
    return qs


PROJECT_EVENTS_PAGE = 10


def project_events_page(
    project_slug: str, before: str = "", size: int = PROJECT_EVENTS_PAGE
) -> tuple[list[Event], int | None]:
    """One page of a project's events, newest first, by keyset (``index < before``): one
    indexed query (project, index) whatever the page, and only the columns the page shows.
    Returns the events and the ``before`` of the next (older) page, or None at the end."""
    qs = events_for_project(project_slug).only("index", "type", "occurred_at", "entry")
    if before.isdigit():
        qs = qs.filter(index__lt=int(before))
    rows = list(qs[: size + 1])
    return rows[:size], (rows[size - 1].index if len(rows) > size else None)
