"""Reads of comptoirs, experts and challenges. Posts, experts, challenges, applications and the
public part of exchange summaries are public; each side's private notes are read only by the two
sides of the exchange (:func:`notes_visible`). Hidden posts leave the public list (their page
stays, with the moderation reason)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.comptoirs.models import (
    Application,
    Challenge,
    Expert,
    ExpertRequest,
    Post,
    Route,
    RoutingVersion,
)
from pacte.engines.comptoir_routing import search_terms
from pacte.errors import NotFound


def routes() -> QuerySet[Route]:
    return Route.objects.select_related("institution").order_by("theme", "territory", "pk")


def routing_versions() -> QuerySet[RoutingVersion]:
    """The published versions of the routing table, newest first."""
    return RoutingVersion.objects.select_related("institution", "published_by").order_by("-number")


def posts(
    *, query: str = "", kind: str = "", status: str = "", include_hidden: bool = False
) -> QuerySet[Post]:
    """The public list: every word of ``query`` must occur, accents and case aside."""
    qs = Post.objects.select_related("organisation", "project", "became_project")
    if not include_hidden:
        qs = qs.filter(hidden=False)
    for word in search_terms(query):
        qs = qs.filter(search_text__contains=word)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


def get_post(pk: int) -> Post:
    post = (
        Post.objects.select_related("organisation", "project", "became_project", "author")
        .filter(pk=pk)
        .first()
    )
    if post is None:
        raise NotFound(_("Dépôt inconnu."))
    return post


def experts(*, query: str = "", institution: str = "") -> QuerySet[Expert]:
    qs = Expert.objects.select_related("institution").filter(active=True)
    if institution:
        qs = qs.filter(institution__slug=institution)
    for word in search_terms(query):
        qs = qs.filter(Q(domain__icontains=word) | Q(name__icontains=word))
    return qs.order_by("domain", "name", "pk")


def get_expert(pk: int) -> Expert:
    expert = Expert.objects.select_related("institution").filter(pk=pk).first()
    if expert is None:
        raise NotFound(_("Expert inconnu."))
    return expert


def expert_requests(*, expert: int = 0, institution: str = "") -> QuerySet[ExpertRequest]:
    qs = ExpertRequest.objects.select_related(
        "expert__institution", "project__carrier", "redirected_to"
    )
    if expert:
        qs = qs.filter(expert_id=expert)
    if institution:
        qs = qs.filter(expert__institution__slug=institution)
    return qs.order_by("-requested_at", "-pk")


def get_expert_request(pk: int) -> ExpertRequest:
    request = expert_requests().filter(pk=pk).first()
    if request is None:
        raise NotFound(_("Demande d'échange inconnue."))
    return request


def notes_visible(principal: policy.Principal | None, request: ExpertRequest) -> bool:
    """Each side's notes are for the two sides of the exchange only."""
    return policy.may(principal, Action.EXPERT_SUMMARY, request)


def challenges(*, status: str = "") -> QuerySet[Challenge]:
    qs = Challenge.objects.select_related("institution", "programme")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "slug")


def get_challenge(slug: str) -> Challenge:
    challenge = challenges().filter(slug=slug).first()
    if challenge is None:
        raise NotFound(_("Défi inconnu."))
    return challenge


def applications(challenge: Challenge) -> QuerySet[Application]:
    return (
        Application.objects.select_related("carrier", "project", "pact")
        .filter(challenge=challenge)
        .order_by("submitted_at", "pk")
    )
