"""The sign-in round trip with FranceConnect or ProConnect: allauth's OpenID Connect views,
with the checks both federations require at the callback.

- The ID token's signature is always verified against the provider's keys (allauth skips it
  when the token came straight from the token endpoint; the federations ask for it).
- Its ``nonce`` must be the one sent with this sign-in (kept in allauth's stashed state, which
  also checks ``state``), and its ``acr`` the level asked.
- userinfo may come as a signed JWT (both federations answer ``application/jwt``): its signature,
  issuer and audience are verified, and its ``sub`` must be the ID token's.
- The ID token is kept in the session for the provider's logout (``id_token_hint``).
"""

from __future__ import annotations

from typing import Any

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp, SocialLogin, SocialToken
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import Http404, HttpRequest, HttpResponse

from pacte.accounts.oidc.claims import ACR_KEY, NONCE_KEY

LOGOUT_SESSION_KEY = "pacte_oidc_logout"


class PublicServiceAdapter(OpenIDConnectOAuth2Adapter):  # type: ignore[misc]  # allauth is untyped
    state: dict[str, Any] | None = None  # the stashed state of this round trip (set by the view)

    def complete_login(
        self, request: HttpRequest, app: SocialApp, token: SocialToken, **kwargs: Any
    ) -> SocialLogin:
        id_token = kwargs["response"].get("id_token")
        if not id_token:
            raise OAuth2Error("The provider sent no ID token.")
        claims = self._decode_id_token(app, id_token)
        state = self.state or {}
        if not state.get(NONCE_KEY) or claims.get("nonce") != state[NONCE_KEY]:
            raise OAuth2Error("The ID token's nonce is not the one sent with this sign-in.")
        expected_acr = state.get(ACR_KEY)
        if expected_acr and claims.get("acr") != expected_acr:
            raise OAuth2Error("The ID token's acr is not the level asked.")
        userinfo = self._fetch_user_info(token.token)
        if userinfo.get("sub") != claims.get("sub"):
            raise OAuth2Error("userinfo and the ID token name different people.")
        request.session[LOGOUT_SESSION_KEY] = {
            "provider": self.provider_id,
            "id_token": id_token,
        }
        login: SocialLogin = self.get_provider().sociallogin_from_response(
            request, {"userinfo": userinfo, "id_token": claims}
        )
        return login

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )
        return claims

    def _fetch_user_info(self, access_token: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {access_token}"}
        with get_adapter().get_requests_session() as session:
            response = session.get(self.profile_url, headers=headers)
            response.raise_for_status()
        if response.headers.get("Content-Type", "").split(";")[0].strip() == "application/jwt":
            app = self.get_provider().app
            info: dict[str, Any] = jwtkit.verify_and_decode(
                credential=response.text.strip(),
                keys_url=self.openid_config["jwks_uri"],
                issuer=self.openid_config["issuer"],
                audience=app.client_id,
                lookup_kid=jwtkit.lookup_kid_jwk,
            )
            return info
        plain: dict[str, Any] = response.json()
        return plain


class PublicServiceCallbackView(OAuth2CallbackView):  # type: ignore[misc]
    def _get_state(self, request: HttpRequest, provider: Any) -> tuple[Any, Any]:
        state, response = super()._get_state(request, provider)
        self.adapter.state = state
        return state, response


@login_not_required  # type: ignore[untyped-decorator]  # allauth is untyped
def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    try:
        view = OAuth2LoginView.adapter_view(PublicServiceAdapter(request, provider_id))
        response: HttpResponse = view(request)
        return response
    except SocialApp.DoesNotExist:
        raise Http404 from None


@login_not_required  # type: ignore[untyped-decorator]  # allauth is untyped
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    try:
        view = PublicServiceCallbackView.adapter_view(PublicServiceAdapter(request, provider_id))
        response: HttpResponse = view(request)
        return response
    except SocialApp.DoesNotExist:
        raise Http404 from None
