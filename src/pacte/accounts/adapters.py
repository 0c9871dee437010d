"""How django-allauth fits Pacte: where people land, which accounts must verify their e-mail,
and how an identity from FranceConnect or ProConnect becomes (or joins) a Pacte account."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.account.stages import EmailVerificationStage
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from pacte.accounts.models import User
from pacte.accounts.oidc.claims import display_name


class PacteAccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth is untyped
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return reverse("web:dashboard")

    def get_logout_redirect_url(self, request: HttpRequest) -> str:
        return reverse("web:home")

    def get_login_stages(self) -> list[str]:
        return [
            "pacte.accounts.adapters.VerifiedEmailStage"
            if stage == "allauth.account.stages.EmailVerificationStage"
            else stage
            for stage in super().get_login_stages()
        ]

    def populate_username(self, request: HttpRequest, user: Any) -> None:
        # A self-registered person gets an opaque account name: the e-mail is how they sign in,
        # and an account name derived from it would leak it wherever names are shown.
        if not user.username:
            user.username = self.generate_unique_username(["citoyen"])


class VerifiedEmailStage(EmailVerificationStage):  # type: ignore[misc]
    """allauth's mandatory e-mail verification, for every account that has an address on file
    with allauth: all the accounts made by sign-up or by an identity provider. Accounts made by
    the platform's administrators (command line, back office, demo), which never had one, are
    vouched for by whoever created them and sign in as before."""

    def handle(self) -> tuple[Any, bool]:
        user = self.login.user
        if user is not None and not EmailAddress.objects.filter(user_id=user.pk).exists():
            return None, True
        result: tuple[Any, bool] = super().handle()
        return result


PENDING_LINK_KEY = "pacte_pending_link"


def verified_email(sociallogin: SocialLogin) -> str:
    """The address the identity provider vouches for ("" when it does not say it verified it)."""
    for address in sociallogin.email_addresses:
        if address.verified and address.email:
            return str(address.email).strip().lower()
    return ""


def account_for_link(sociallogin: SocialLogin) -> User | None:
    """The existing account this identity may be linked to: the one whose confirmed address is
    the provider's verified one. Nothing for an unverified address, on either side."""
    email = verified_email(sociallogin)
    if not email:
        return None
    owner = (
        EmailAddress.objects.filter(email__iexact=email, verified=True)
        .select_related("user")
        .first()
    )
    if owner is None or owner.user.deleted_at is not None:
        return None
    user: User = owner.user
    return user


class PacteSocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]
    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """A first sign-in through FranceConnect/ProConnect whose verified address is already a
        Pacte account's confirmed address: ask the person before linking (account_link_identity).
        Never linked silently, never linked on an unverified address."""
        if sociallogin.is_existing or request.user.is_authenticated:
            return
        if account_for_link(sociallogin) is None:
            return
        request.session[PENDING_LINK_KEY] = sociallogin.serialize()
        raise ImmediateHttpResponse(redirect("account_link_identity"))

    def populate_user(
        self, request: HttpRequest, sociallogin: SocialLogin, data: dict[str, Any]
    ) -> User:
        user: User = super().populate_user(request, sociallogin, data)
        user.display_name = display_name(sociallogin.account.extra_data) or user.display_name
        return user
