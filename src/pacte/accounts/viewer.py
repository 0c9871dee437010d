"""Who is reading a public API endpoint: the person behind a bearer token, else the signed-in
person (session), else nobody. Public reads need no token, but a token widens what one sees:
the two parties see their drafts, the auditor ("reads everything, writes nothing") sees all."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest

from pacte.accounts.request_types import ActingRequest
from pacte.accounts.services import Acting, authenticate_token


def viewer(request: HttpRequest) -> Acting | None:
    acting: Acting | None = getattr(request, "acting", None)  # session middleware or TokenAuth
    if acting is not None:
        return acting
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    acting = authenticate_token(token.strip())  # NotAuthenticated (401) for a bad token: say so
    cast(ActingRequest, request).acting = acting  # what the session middleware would have set
    return acting
