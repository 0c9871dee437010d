"""The account forms shown by django-allauth, in Pacte's words (see ACCOUNT_FORMS in settings)."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm
from django import forms
from django.utils.translation import gettext_lazy as _


class SignInForm(LoginForm):  # type: ignore[misc]  # allauth is untyped
    """allauth's sign-in: an e-mail address, or the account name of accounts made by an
    administrator, then the password."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = _("Identifiant ou adresse électronique")
        login.widget.attrs.pop("placeholder", None)
        login.widget.attrs["autocomplete"] = "username"
        password = self.fields["password"]
        password.label = _("Mot de passe")
        password.help_text = ""  # the page links to the reset form itself
        password.widget.attrs.pop("placeholder", None)


class DeleteAccountForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Je comprends que mon compte et mes données personnelles seront effacés."),
        required=True,
    )
