"""The evidence domain's journal events, written in one place.

Every evidence use case records its public event through :func:`record`, in the same transaction
as the change it describes (see the lock order in ``pacte.journal.services``: the log is locked
last, so call it at the end of the use case).
"""

from __future__ import annotations

from typing import Any

from pacte.accounts import policy
from pacte.journal.services import SYSTEM, record_event
from pacte.pacts.models import PactVersion
from pacte.projects.models import Project


def record(
    type: str,
    principal: policy.Principal,
    subject_type: str,
    subject_id: str | int,
    project: Project,
    **data: Any,
) -> None:
    """One event of the evidence domain, attached to its project's page of the log."""
    record_event(
        type,
        actor=policy.actor_of(principal),
        subject_type=subject_type,
        subject_id=subject_id,
        project_slug=project.slug,
        data=data,
    )


def record_on_pact(type: str, version: PactVersion, data: dict[str, Any]) -> None:
    """An event the platform writes on a pact's page of the log because of evidence (e.g. a remediation
    commitment opened by a bias audit)."""
    record_event(
        type,
        actor=SYSTEM,
        subject_type="pact",
        subject_id=version.pact.reference,
        project_slug=version.pact.project.slug,
        data=data,
    )
