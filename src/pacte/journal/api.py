from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from pacte.errors import ValidationFailed
from pacte.journal.selectors import recent_events

router = Router(tags=["journal"])


class EventOut(Schema):
    index: int
    type: str
    occurred_at: datetime
    subject_type: str
    subject_id: str
    entry: str
    entry_hash: str


class EventPage(Schema):
    count: int
    items: list[EventOut]


@router.get("", response=EventPage, summary="Événements publics, du plus récent au plus ancien")
def list_events(request: HttpRequest, type: str = "", project: str = "", limit: int = 50, offset: int = 0) -> dict[str, object]:
    if not 1 <= limit <= 500 or offset < 0:
        raise ValidationFailed("limit doit être entre 1 et 500 et offset positif.")
    qs = recent_events(type_prefix=type, project=project)
    return {"count": qs.count(), "items": list(qs[offset : offset + limit])}
