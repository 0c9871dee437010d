"""Ending the identity provider's session with the person's Pacte session: the provider's
end_session_endpoint with ``id_token_hint`` (the ID token of this sign-in), a fresh ``state``
and ``post_logout_redirect_uri`` (Pacte's home page, registered with the provider)."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from pacte.accounts.oidc.views import LOGOUT_SESSION_KEY, PublicServiceAdapter


def provider_logout_url(request: HttpRequest) -> str:
    """Where to send the person after signing out of Pacte ("" for a password sign-in)."""
    stored = request.session.get(LOGOUT_SESSION_KEY)
    if not isinstance(stored, dict) or not stored.get("id_token"):
        return ""
    try:
        adapter = PublicServiceAdapter(request, stored["provider"])
        endpoint = adapter.openid_config.get("end_session_endpoint", "")
    except Exception:  # noqa: BLE001 — a provider unreachable must not keep anyone signed in
        return ""
    if not endpoint:
        return ""
    query = urlencode(
        {
            "id_token_hint": stored["id_token"],
            "state": secrets.token_urlsafe(32),
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("web:home")),
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
