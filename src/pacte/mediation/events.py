"""The mediation domain's journal events (one place). The person is never named: the log keeps
the structure, the mediator's role and a salted commitment to the receipt."""

from __future__ import annotations

from typing import Any

from pacte.accounts.policy import Principal, actor_of
from pacte.journal.services import Actor, record_event


def assisted_event(
    type: str, principal: Principal | Actor, reference: str, project_slug: str = "", **data: Any
) -> None:
    record_event(
        type,
        actor=principal if isinstance(principal, Actor) else actor_of(principal),
        subject_type="assisted_action",
        subject_id=reference,
        project_slug=project_slug,
        data=data,
    )
