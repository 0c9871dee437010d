"""allauth's OpenID Connect provider, as FranceConnect and ProConnect require it.

On top of allauth's authorization code flow (state, PKCE) the redirect sends a ``nonce`` and
the ``acr_values`` configured for the federation, and a longer ``state``; the parameters a
visitor could add to the sign-in address (``auth_params``, ``scope``) are ignored: what is asked
is what the configuration says. The callback (pacte.accounts.oidc.views) checks them."""

from __future__ import annotations

import secrets
from typing import Any

from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.http import HttpRequest, HttpResponse

from pacte.accounts.oidc.claims import ACR_KEY, NONCE_KEY, common_fields


class PublicServiceProvider(OpenIDConnectProvider):  # type: ignore[misc]  # allauth is untyped
    package = "pacte.accounts.oidc"  # our login and callback views (urls.py beside this file)

    def get_auth_params_from_request(self, request: HttpRequest, action: str) -> dict[str, Any]:
        return dict(self.get_auth_params())

    def get_scope_from_request(self, request: HttpRequest) -> list[str]:
        return list(self.get_scope())

    def get_oauth2_adapter(self, request: HttpRequest) -> Any:
        from pacte.accounts.oidc.views import PublicServiceAdapter

        return PublicServiceAdapter(request, self.app.provider_id)

    def redirect(
        self,
        request: HttpRequest,
        process: str,
        next_url: str | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> HttpResponse:
        nonce = secrets.token_urlsafe(32)
        acr = str(self.app.settings.get("acr_values", "eidas1"))
        auth_params = dict(kwargs.pop("auth_params", None) or self.get_auth_params())
        auth_params.update({"nonce": nonce, "acr_values": acr, "prompt": "login consent"})
        kwargs.update(
            {
                "auth_params": auth_params,
                "state_id": secrets.token_urlsafe(32),
                NONCE_KEY: nonce,  # kept in the stashed state, checked at the callback
                ACR_KEY: acr,
            }
        )
        response: HttpResponse = super().redirect(request, process, next_url, data, **kwargs)
        return response

    def extract_common_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return common_fields(data)


provider_classes = [PublicServiceProvider]
