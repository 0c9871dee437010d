"""The journal events of comptoirs, expert exchanges and challenges (one place)."""

from __future__ import annotations

from typing import Any

from pacte.accounts.models import User
from pacte.accounts.policy import Person, PlatformPrincipal, Principal, actor_of
from pacte.accounts.services import Acting
from pacte.journal.services import Actor, record_event

# Who acts at a comptoir: a person acting for an organisation, the platform, or a signed-in
# citizen who belongs to no organisation (written as role "citizen", the person as a commitment).
Who = Principal | User


def actor_for(who: Who) -> Actor:
    if isinstance(who, (Acting, PlatformPrincipal, Person)):
        return actor_of(who)
    return Actor(organisation_slug="", role="citizen", person_id=who.pk)


def exchange_event(
    type: str,
    who: Who,
    subject_type: str,
    subject_id: str,
    *,
    project_slug: str = "",
    **data: Any,
) -> None:
    """Append one event to the public journal, in the caller's transaction."""
    record_event(
        type,
        actor=actor_for(who),
        subject_type=subject_type,
        subject_id=subject_id,
        project_slug=project_slug,
        data=data,
    )
