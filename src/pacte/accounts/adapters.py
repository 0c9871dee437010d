"""How django-allauth fits Pacte: where people land, which accounts must verify their e-mail,
and how an identity from FranceConnect or ProConnect becomes (or joins) a Pacte account."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.account.stages import EmailVerificationStage
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


class PacteAccountAdapter(DefaultAccountAdapter):
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


class VerifiedEmailStage(EmailVerificationStage):
    """allauth's mandatory e-mail verification, for every account that has an address on file
    with allauth: all the accounts made by sign-up or by an identity provider. Accounts made by
    the platform's administrators (command line, back office, demo), which never had one, are
    vouched for by whoever created them and sign in as before."""

    def handle(self) -> tuple[Any, bool]:
        user = self.login.user
        if user is not None and not EmailAddress.objects.filter(user_id=user.pk).exists():
            return None, True
        return super().handle()


class PacteSocialAccountAdapter(DefaultSocialAccountAdapter):
    """Filled in by part 3 (FranceConnect, ProConnect)."""
