"""The one place where governance events are appended (swappable for the Merkle log)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pacte.journal.canonical import canonical_json, sha256_hex
from pacte.journal.models import Event, LogState

ENTRY_VERSION = 1


@dataclass(frozen=True)
class Actor:
    """Who acted: an organisation and a role; the person only as a salted commitment."""

    organisation_slug: str = ""
    role: str = ""
    person_id: int | None = None

    def as_entry(self) -> dict[str, Any]:
        return {
            "org": self.organisation_slug or None,
            "role": self.role or None,
            "person": personal_commitment(f"user:{self.person_id}") if self.person_id else None,
        }


SYSTEM = Actor(organisation_slug="", role="system")


def personal_commitment(value: str) -> str:
    """Salted commitment to personal data: publishable, erasable (forget the salt)."""
    salt = settings.COMMITMENT_SALT.encode("utf-8")
    return hmac.new(salt, value.encode("utf-8"), hashlib.sha256).hexdigest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def record_event(
    type: str,
    *,
    actor: Actor,
    subject_type: str,
    subject_id: str | int,
    data: dict[str, Any] | None = None,
    project_slug: str = "",
) -> Event:
    """Append one event inside the caller's transaction (must be atomic)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change it records")
    state, _ = LogState.objects.select_for_update().get_or_create(id=1)
    previous = (
        Event.objects.filter(subject_type=subject_type, subject_id=str(subject_id))
        .order_by("-index")
        .values_list("entry_hash", flat=True)
        .first()
    )
    now = timezone.now()
    entry = {
        "v": ENTRY_VERSION,
        "type": type,
        "ts": now.isoformat().replace("+00:00", "Z"),
        "actor": actor.as_entry(),
        "subject": {"type": subject_type, "id": str(subject_id)},
        "project": project_slug or None,
        "data": data or {},
        "prev": previous,
    }
    text = canonical_json(entry)
    raw = text.encode("utf-8")
    event = Event.objects.create(
        index=state.size,
        type=type,
        occurred_at=now,
        organisation_slug=actor.organisation_slug,
        subject_type=subject_type,
        subject_id=str(subject_id),
        project_slug=project_slug,
        entry=text,
        entry_hash=sha256_hex(raw),
        leaf_hash=leaf_hash(raw),
        prev=previous or "",
    )
    state.size += 1
    state.save(update_fields=["size"])
    return event
