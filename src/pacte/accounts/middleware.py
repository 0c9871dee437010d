"""Acting organisation: a person acts for one organisation at a time (kept in the session)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from pacte.accounts.models import Membership
from pacte.accounts.request_types import ActingRequest
from pacte.accounts.services import Acting

SESSION_KEY = "acting_organisation_id"


def resolve_acting(request: ActingRequest) -> Acting | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = list(Membership.objects.filter(user=user).select_related("organisation"))
    request.my_memberships = memberships  # reused by the template context
    if not memberships:
        return None
    chosen_id = request.session.get(SESSION_KEY)
    membership = next((m for m in memberships if m.organisation_id == chosen_id), memberships[0])
    return Acting(
        user=user, organisation=membership.organisation, roles=frozenset(membership.roles)
    )


class ActingOrganisationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: ActingRequest) -> HttpResponse:
        request.acting = resolve_acting(request)
        return self.get_response(request)


def acting_context(request: HttpRequest) -> dict[str, Any]:
    acting = getattr(request, "acting", None)
    memberships = getattr(request, "my_memberships", []) if acting is not None else []
    return {"acting": acting, "my_memberships": memberships}
