"""API authentication: the bearer token of ``Authorization: Bearer …`` names who acts.

Each domain's router declares ``auth=TokenAuth()`` on its write routes; this module lives in
accounts (not in the root ``pacte.api``) so that domain APIs import nothing from the project's
root modules.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from pacte.accounts.services import Acting, authenticate_token
from pacte.errors import DomainError


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Acting | None:
        try:
            acting = authenticate_token(token)
        except DomainError:
            return None
        request.acting = acting  # type: ignore[attr-defined]
        return acting
