"""Sign-in throttling (django-axes): per (account, address), so nobody can lock someone else out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory, override_settings
from django.utils import timezone

from pacte.accounts.client_address import client_address
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


def attempt(client, username, password, ip, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        "/connexion/", {"login": username, "password": password}, REMOTE_ADDR=ip, **extra
    )


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(client, world):
    username = world.carrier_admin.user.username
    for _ in range(12):
        r = attempt(client, username, "mauvais mot de passe", ATTACKER)
        assert r.status_code in (401, 429)
    assert r.status_code == 429  # the attacker's address is throttled for this account
    r = attempt(client, username, PASSWORD, OWNER)
    assert r.status_code == 302 and r["Location"] == "/espace/"


def test_the_same_address_is_throttled_in_french_even_with_the_right_password(client, world):
    username = world.carrier_admin.user.username
    codes = [
        attempt(client, username, "mauvais mot de passe", ATTACKER).status_code for _ in range(5)
    ]
    assert codes == [401, 401, 401, 401, 429]
    r = attempt(client, username, PASSWORD, ATTACKER)
    page = r.content.decode()
    assert r.status_code == 429 and "Trop de tentatives de connexion" in page
    assert 'lang="fr"' in page and 'name="login"' in page  # the sign-in page, not a bare text
    # other accounts from the same address are not affected
    assert attempt(client, world.reviewer.user.username, PASSWORD, ATTACKER).status_code == 302


def test_a_success_resets_the_count_and_old_attempts_are_pruned(client, world):
    username = world.carrier_admin.user.username
    for _ in range(4):
        assert attempt(client, username, "mauvais mot de passe", ATTACKER).status_code == 401
    assert attempt(client, username, PASSWORD, ATTACKER).status_code == 302
    client.logout()
    assert not AccessAttempt.objects.filter(ip_address=ATTACKER).exists()
    for _ in range(5):
        attempt(client, username, "mauvais mot de passe", ATTACKER)
    assert attempt(client, username, PASSWORD, ATTACKER).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - timedelta(minutes=16)
    )  # after the cool-off
    attempt(
        client, world.reviewer.user.username, "mauvais mot de passe", OWNER
    )  # any failure prunes
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [OWNER]
    assert attempt(client, username, PASSWORD, ATTACKER).status_code == 302


def test_forged_forwarded_for_is_ignored_without_a_trusted_proxy(client, world):
    username = world.carrier_admin.user.username
    for i in range(5):
        attempt(
            client, username, "mauvais mot de passe", ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}"
        )
    assert (
        attempt(client, username, PASSWORD, ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code
        == 429
    )


@override_settings(PACTE_TRUSTED_PROXIES=["127.0.0.1"])
def test_behind_a_trusted_proxy_each_client_address_counts_apart(client, world):
    username = world.carrier_admin.user.username
    for _ in range(5):
        attempt(
            client, username, "mauvais mot de passe", "127.0.0.1", HTTP_X_FORWARDED_FOR=ATTACKER
        )
    assert (
        attempt(client, username, PASSWORD, "127.0.0.1", HTTP_X_FORWARDED_FOR=ATTACKER).status_code
        == 429
    )
    r = attempt(client, username, PASSWORD, "127.0.0.1", HTTP_X_FORWARDED_FOR=OWNER)
    assert r.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) <= {ATTACKER}


def test_admin_sign_in_lockout_is_a_french_429_page_not_a_500(client, world):
    username = world.carrier_admin.user.username
    for _ in range(5):
        r = client.post(
            "/admin/login/",
            {"username": username, "password": "mauvais mot de passe"},
            REMOTE_ADDR=ATTACKER,
        )
    assert r.status_code == 429 and "Trop de tentatives" in r.content.decode()


@pytest.mark.parametrize(
    "remote, forwarded, trusted, expected",
    [
        ("203.0.113.5", "", [], "203.0.113.5"),
        ("203.0.113.5", "10.1.1.1", [], "203.0.113.5"),  # nobody trusted: the header is ignored
        ("127.0.0.1", "198.51.100.7", ["127.0.0.1"], "198.51.100.7"),
        (
            "127.0.0.1",
            "6.6.6.6, 198.51.100.7",
            ["127.0.0.1"],
            "198.51.100.7",
        ),  # left part is the client's own
        (
            "10.0.0.2",
            "198.51.100.7, 10.0.0.1",
            ["10.0.0.0/8"],
            "198.51.100.7",
        ),  # two proxies in a trusted net
        (
            "203.0.113.5",
            "198.51.100.7",
            ["127.0.0.1"],
            "203.0.113.5",
        ),  # not from the proxy: header ignored
        ("127.0.0.1", "pas une adresse", ["127.0.0.1"], "127.0.0.1"),
        ("127.0.0.1", "[2001:db8::1]:443", ["127.0.0.1", "::1"], "2001:db8::1"),
        ("", "", [], ""),
    ],
)
def test_client_address(remote, forwarded, trusted, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(PACTE_TRUSTED_PROXIES=trusted):
        assert client_address(request) == expected
