"""The pact domain's journal events and state writes (one place)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from pacte.journal.services import Actor, record_event
from pacte.pacts.models import PactVersion


def pact_event(version: PactVersion, type: str, actor: Actor, **data: Any) -> None:
    """Append a pact event to the public journal (in the caller's transaction)."""
    record_event(
        type,
        actor=actor,
        subject_type="pact",
        subject_id=version.pact.reference,
        project_slug=version.pact.project.slug,
        data={"version": version.number, "status": version.status, **data},
    )


def set_status(version: PactVersion, status: str, reason: str = "") -> None:
    version.status = status
    version.status_changed_at = timezone.now()
    if reason:
        version.last_reason = reason
    version.save()


def set_current(version: PactVersion) -> None:
    PactVersion.objects.filter(pact=version.pact).exclude(pk=version.pk).update(is_current=False)
    version.is_current = True


def lock_version(version: PactVersion) -> PactVersion:
    """Lock one pact version row (and only it) for the rest of the transaction."""
    return (
        PactVersion.objects.select_for_update(of=("self",), no_key=True)
        .select_related("pact__project__carrier", "pact__institution")
        .get(pk=version.pk)
    )
