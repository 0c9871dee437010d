"""Section of the public project page: the log entries behind each fact of the project."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pacte.journal.models import Event

FACT_LABELS = {
    "project": gettext_lazy("Projet"),
    "pact": gettext_lazy("Pacte"),
}


SECTION_EVENTS = 20  # the newest entries of the project; the log explorer pages through the rest


def project_section(project: Any, acting: Any = None) -> dict[str, Any] | None:
    rows = list(
        Event.objects.filter(project_slug=project.slug)
        .order_by("-index")  # the (project, index) index, read backwards: no sort
        .only("index", "type", "occurred_at", "subject_type", "subject_id", "entry_hash")[
            : SECTION_EVENTS + 1
        ]
    )
    more = len(rows) > SECTION_EVENTS
    events = sorted(rows[:SECTION_EVENTS], key=lambda e: (e.subject_type, e.subject_id, e.index))
    facts: dict[tuple[str, str], list[Event]] = {}
    for e in events:
        facts.setdefault((e.subject_type, e.subject_id), []).append(e)
    return {
        "title": _("Preuves dans le journal vérifiable"),
        "template": "journal/_project_section.html",
        "context": {
            "project": project,
            "more": more,
            "facts": [
                {
                    "label": FACT_LABELS.get(st, st.capitalize()),
                    "subject_type": st,
                    "subject_id": sid,
                    "events": evs,
                }
                for (st, sid), evs in facts.items()
            ],
        },
    }
