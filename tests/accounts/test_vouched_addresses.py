"""An account made by the platform (command line, demo) keeps signing in after its owner opens
"Mes adresses": allauth adds an *unconfirmed* address there when none is on file, and mandatory
verification would then stop the next sign-in (found by the crawl of issue 14)."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from pacte.accounts.models import User
from pacte.accounts.services import vouch_for_address

pytestmark = pytest.mark.django_db

PASSWORD = "un mot de passe assez long"


def _sign_in(username: str) -> str:
    r = Client().post("/connexion/", {"login": username, "password": PASSWORD})
    return str(r.get("Location", r.status_code))


def _made_by_the_platform(vouched: bool) -> User:
    user = User.objects.create(username="agent", email="agent@example.org")
    user.set_password(PASSWORD)
    user.save()
    if vouched:
        vouch_for_address(user)
    return user


@pytest.mark.parametrize("vouched", [True, False])
def test_opening_the_address_page_does_not_lock_a_vouched_account_out(vouched: bool) -> None:
    user = _made_by_the_platform(vouched)
    browsing = Client()
    browsing.force_login(user)
    assert browsing.get("/compte/email/").status_code == 200
    address = EmailAddress.objects.get(user=user)  # allauth keeps one on file either way
    assert address.verified is vouched
    # the oracle: allauth's own verdict; without the vouch, the sign-in stops at confirmation
    assert _sign_in("agent") == ("/espace/" if vouched else "/compte/confirm-email/")


def test_vouching_is_idempotent_and_never_takes_another_account_s_address() -> None:
    user = _made_by_the_platform(True)
    vouch_for_address(user)
    assert EmailAddress.objects.filter(user=user).count() == 1
    other = User.objects.create(username="homonyme", email="AGENT@example.org")
    vouch_for_address(other)
    assert not EmailAddress.objects.filter(user=other).exists()


def test_the_createadmin_command_vouches_for_the_address(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pacte.cli import main

    assert main(["createadmin", "chef", "--email", "chef@example.org", "--password", PASSWORD]) == 0
    assert EmailAddress.objects.get(user__username="chef").verified


def test_an_account_saved_in_the_back_office_is_vouched_for(rf: Any) -> None:
    from django.contrib import admin

    from pacte.accounts.admin import PacteUserAdmin

    user = User(username="agente", email="agente@example.org")
    PacteUserAdmin(User, admin.site).save_model(rf.post("/admin/"), user, None, change=False)
    assert EmailAddress.objects.get(user=user).verified
