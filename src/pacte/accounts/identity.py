"""Identity providers. Password sign-in today; an OpenID Connect provider
(FranceConnect / ProConnect) plugs in by implementing `IdentityProvider` and linking
accounts through `ExternalIdentity` — the domain only ever sees a `User`."""

from __future__ import annotations

from typing import Protocol

from django.db import transaction
from django.http import HttpRequest

from pacte.accounts.models import ExternalIdentity, User
from pacte.accounts.services import sign_in


class IdentityProvider(Protocol):
    key: str
    label: str

    def authenticate(self, request: HttpRequest, **credentials: str) -> User: ...


class PasswordProvider:
    key = "password"
    label = "Identifiant et mot de passe"

    def authenticate(self, request: HttpRequest, **credentials: str) -> User:
        return sign_in(request, credentials.get("username", ""), credentials.get("password", ""))


@transaction.atomic
def link_external_identity(provider: str, subject: str, *, email: str, name: str) -> User:
    """What an OIDC callback calls once the provider's ID token is verified."""
    identity = (
        ExternalIdentity.objects.select_related("user")
        .filter(provider=provider, subject=subject)
        .first()
    )
    if identity:
        return identity.user
    user, _ = User.objects.get_or_create(
        username=f"{provider}:{subject}", defaults={"email": email, "display_name": name}
    )
    ExternalIdentity.objects.create(user=user, provider=provider, subject=subject)
    return user


PROVIDERS: dict[str, IdentityProvider] = {"password": PasswordProvider()}
