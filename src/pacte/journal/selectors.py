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
