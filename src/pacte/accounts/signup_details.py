"""What sign-up asks besides the e-mail and the password (ACCOUNT_SIGNUP_FORM_CLASS).

Kept apart from ``pacte.accounts.forms``: allauth builds its sign-up form on top of this class
while importing its own forms, so this module must not import them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class SignUpDetails(forms.Form):
    display_name = forms.CharField(
        label=_("Nom affiché"),
        max_length=120,
        required=False,
        help_text=_("Comment vous apparaissez sur Pacte (facultatif). Un pseudonyme convient."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    def signup(self, request: HttpRequest, user: Any) -> None:
        user.display_name = self.cleaned_data.get("display_name", "").strip()
        user.save(update_fields=["display_name"])
