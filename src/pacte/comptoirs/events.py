"""The journal events of comptoirs, expert exchanges and challenges (one place)."""

from __future__ import annotations

from typing import Any

from pacte.accounts.models import User
from pacte.accounts.policy import Person, PlatformPrincipal, Principal, actor_of
from pacte.accounts.services import Acting
from pacte.comptoirs.models import Application, Challenge, ExpertRequest, Post
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


# the lifecycles' journal writers (pacte.writes.lifecycle: ``events=``), one per noun


def post_event(post: Post, event: str, principal: Principal, **data: Any) -> None:
    exchange_event(
        event,
        principal,
        "comptoir_post",
        str(post.pk),
        project_slug=post.project.slug if post.project_id and post.project else "",
        status=post.status,
        organisation=post.organisation.slug,
        **data,
    )


def expert_request_event(req: ExpertRequest, event: str, principal: Principal, **data: Any) -> None:
    exchange_event(
        event,
        principal,
        "expert_request",
        str(req.pk),
        project_slug=req.project.slug,
        status=req.status,
        expert=req.expert_id,
        institution=req.expert.institution.slug,
        **data,
    )


def challenge_event(challenge: Challenge, event: str, principal: Principal, **data: Any) -> None:
    exchange_event(
        event,
        principal,
        "challenge",
        challenge.slug,
        status=challenge.status,
        institution=challenge.institution.slug,
        **data,
    )


def application_event(
    application: Application, event: str, principal: Principal, **data: Any
) -> None:
    exchange_event(
        event,
        principal,
        "challenge",
        application.challenge.slug,
        application=application.pk,
        team=application.carrier.slug,
        status=application.status,
        **data,
    )
