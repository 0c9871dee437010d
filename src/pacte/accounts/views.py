"""Thin account views around django-allauth: sign-in with our status codes and django-axes'
lockout, sign-out (ending the identity provider's session too), the account page and the
account's deletion."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from allauth.account.views import LoginView, LogoutView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from pacte.accounts import deletion
from pacte.accounts.forms import DeleteAccountForm
from pacte.accounts.models import User


class SignInView(LoginView):  # type: ignore[misc]  # allauth ships no type information
    """allauth's sign-in page, answering 401 to wrong credentials and 429 (in French, on the
    same page) when django-axes refuses this (account, address) pair."""

    def form_invalid(self, form: Any) -> HttpResponse:
        status = 200
        if getattr(self.request, "axes_locked_out", False):
            form._errors = ErrorDict()
            form.add_error(None, str(settings.AXES_COOLOFF_MESSAGE))
            status = 429
        elif form.non_field_errors():
            status = 401
        response: HttpResponse = self.render_to_response(
            self.get_context_data(form=form), status=status
        )
        return response


class SignOutView(LogoutView):  # type: ignore[misc]
    """allauth's sign-out; after a FranceConnect or ProConnect sign-in, the provider's session
    is ended too (end_session_endpoint with id_token_hint)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        from pacte.accounts.oidc.logout import provider_logout_url

        provider_url = provider_logout_url(request)
        response: HttpResponseBase = super().post(request, *args, **kwargs)
        if provider_url:
            return redirect(provider_url)
        return response


@login_required
def account(request: HttpRequest) -> HttpResponse:
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount

    return render(
        request,
        "account/account.html",
        {
            "addresses": EmailAddress.objects.filter(user=request.user),
            "identities": SocialAccount.objects.filter(user=request.user),
        },
    )


@login_required
@reauthentication_required(allow_get=True)  # type: ignore[untyped-decorator]  # allauth
def delete_account(request: HttpRequest) -> HttpResponse:
    """GDPR erasure, after the person confirmed and proved again who they are (password, or a
    code sent to their verified address when they sign in through FranceConnect/ProConnect)."""
    form = DeleteAccountForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            user = request.user
            assert isinstance(user, User)
            deletion.delete_account(user)
            logout(request)
            messages.success(
                request,
                _(
                    "Votre compte a été supprimé. Vos données personnelles sont effacées ; "
                    "vos contributions restent, signées « Compte supprimé »."
                ),
            )
            return redirect("web:home")
        status = 400
    return render(request, "account/delete.html", {"form": form}, status=status)


def link_identity(request: HttpRequest) -> HttpResponse:
    """A first FranceConnect/ProConnect sign-in whose verified address is an existing account's
    confirmed address: the person chooses to link the identity to that account, or not."""
    from allauth.socialaccount.helpers import complete_social_login
    from allauth.socialaccount.models import SocialLogin

    from pacte.accounts.adapters import PENDING_LINK_KEY, account_for_link, verified_email

    data = request.session.get(PENDING_LINK_KEY)
    if not isinstance(data, dict):
        return redirect("web:login")
    sociallogin = SocialLogin.deserialize(data)
    owner = account_for_link(sociallogin)
    if owner is None:
        request.session.pop(PENDING_LINK_KEY, None)
        return redirect("web:login")
    if request.method == "POST":
        request.session.pop(PENDING_LINK_KEY, None)
        if request.POST.get("decision") != "link":
            messages.info(request, _("Rien n'a été relié. Vous pouvez vous connecter autrement."))
            return redirect("web:login")
        sociallogin.connect(request, owner)
        # signed in as the account now linked (allauth finds it by the identity just saved)
        response: HttpResponse = complete_social_login(request, SocialLogin.deserialize(data))
        return response
    return render(
        request,
        "account/link_identity.html",
        {"provider": sociallogin.provider.name, "email": verified_email(sociallogin)},
    )
