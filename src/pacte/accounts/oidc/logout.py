"""Ending the identity provider's session with the person's Pacte session."""

from __future__ import annotations

from django.http import HttpRequest


def provider_logout_url(request: HttpRequest) -> str:
    """The provider's end_session_endpoint with id_token_hint, or "" (filled in by part 3)."""
    return ""
