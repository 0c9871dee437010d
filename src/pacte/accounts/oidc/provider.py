"""allauth's OpenID Connect provider, as FranceConnect and ProConnect require it."""

from __future__ import annotations

from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider


class PublicServiceProvider(OpenIDConnectProvider):  # type: ignore[misc]
    package = "allauth.socialaccount.providers.openid_connect"


provider_classes = [PublicServiceProvider]
