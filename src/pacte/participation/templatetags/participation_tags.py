"""Participation pieces shown on other domains' pages: the notices link in the header, the
consultation box on a pact version, the follow button, the reuses of a dataset."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.shortcuts import resolve_url

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.pacts.models import Status
from pacte.participation import selectors
from pacte.participation.forms import OpenConsultationForm

register = template.Library()


@register.inclusion_tag("participation/_notices_link.html", takes_context=True)
def notices_link(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    return {
        "signed_in": signed_in,
        "unread": selectors.unread_count(user) if user is not None and signed_in else 0,
        "current": getattr(getattr(request, "resolver_match", None), "url_name", "") == "notices",
    }


@register.inclusion_tag("participation/_pact_consultation.html", takes_context=True)
def pact_consultation(context: dict[str, Any], version: Any) -> dict[str, Any]:
    """On the review decision page: the consultation's summary, or the reviewer's form to open it."""
    acting = context.get("acting")
    consultation = selectors.consultation_of(version)
    return {
        "version": version,
        "consultation": consultation,
        "summary": selectors.summary(consultation) if consultation is not None else None,
        "can_open": consultation is None
        and version.status == Status.SUBMITTED
        and policy.may(acting, Action.CONSULTATION_OPEN, version.pact),
        "open_form": OpenConsultationForm(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("participation/_follow.html", takes_context=True)
def follow_button(
    context: dict[str, Any], target: str, key: str = "", label: str = ""
) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "target": target,
        "key": key,
        "label": label,
        "signed_in": bool(user is not None and user.is_authenticated),
        "following": selectors.is_following(user, target, key),
        "login_url": resolve_url(settings.LOGIN_URL),
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("participation/_reuses.html", takes_context=True)
def dataset_reuses(context: dict[str, Any], dataset: Any) -> dict[str, Any]:
    return {
        "reuses": list(selectors.public_reuses(dataset=dataset.slug)[:20]),
        "new_query": f"dataset={dataset.slug}",
        "request": context.get("request"),
    }
