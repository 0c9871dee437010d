"""The account flow through django-allauth, as a person goes through it: sign up, confirm the
address from the e-mail received, sign in by e-mail, reset a forgotten password, change address."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import identify_hasher
from django.core import mail

from pacte.accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "une phrase de passe assez longue"


def link_in(message: mail.EmailMessage, path: str) -> str:
    """The first link of the message that goes to ``path`` (relative to the site)."""
    found = re.search(rf"https?://[^/\s]+({re.escape(path)}[^\s]*)", message.body)
    assert found, message.body
    return found.group(1)


def sign_up(client, email: str = "camille@example.org", password: str = NEW_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        "/inscription/",
        {
            "email": email,
            "password1": password,
            "password2": password,
            "display_name": "Camille",
        },
    )


def test_sign_up_then_confirm_the_address_read_from_the_mail_then_sign_in(client):
    r = sign_up(client)
    assert r.status_code == 302 and r["Location"] == "/compte/confirm-email/"
    user = User.objects.get(email="camille@example.org")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.display_name == "Camille" and "camille" not in user.username  # opaque name
    assert not user.memberships.exists()  # a citizen: no organisation
    # not signed in yet, and signing in is refused until the address is confirmed
    assert client.get("/espace/").status_code == 302
    r = client.post("/connexion/", {"login": "camille@example.org", "password": NEW_PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/compte/confirm-email/"
    assert client.get("/espace/").status_code == 302
    assert len(mail.outbox) == 1  # sent at sign-up; allauth resends at most once per 3 minutes
    message = mail.outbox[-1]
    assert message.to == ["camille@example.org"] and message.subject.startswith("[Pacte]")
    confirm = link_in(message, "/compte/confirm-email/")
    page = client.get(confirm)
    assert page.status_code == 200 and "camille@example.org" in page.content.decode()
    assert not EmailAddress.objects.get(
        email="camille@example.org"
    ).verified  # GET confirms nothing
    r = client.post(confirm)
    assert r.status_code == 302
    assert EmailAddress.objects.get(email="camille@example.org").verified
    r = client.post("/connexion/", {"login": "Camille@Example.org", "password": NEW_PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/espace/"
    page = client.get("/espace/").content.decode()
    assert "Rejoindre un panel de test" in page and "Camille" in page  # the citizen's space


def test_sign_up_refuses_a_weak_password_and_a_taken_address_quietly(client):
    r = sign_up(client, password="court")
    assert r.status_code == 200 and not User.objects.filter(email="camille@example.org").exists()
    assert 'aria-invalid="true"' in r.content.decode()
    UserFactory(email="pris@example.org")
    r = sign_up(client, email="pris@example.org")
    # no enumeration: the same answer as for a new address; the owner gets a warning instead
    assert r.status_code == 302 and r["Location"] == "/compte/confirm-email/"
    assert User.objects.filter(email__iexact="pris@example.org").count() == 1
    assert mail.outbox[-1].to == ["pris@example.org"]


def test_an_account_made_by_an_administrator_signs_in_by_name_or_address(client):
    user = UserFactory(email="agent@example.org")
    r = client.post("/connexion/", {"login": user.username, "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/espace/"
    client.logout()
    r = client.post("/connexion/", {"login": "agent@example.org", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/espace/"


def test_a_forgotten_password_is_reset_from_the_mailed_link(client):
    user = UserFactory(email="oubli@example.org")
    r = client.post("/compte/password/reset/", {"email": "oubli@example.org"})
    assert r.status_code == 302
    (message,) = mail.outbox
    link = link_in(message, "/compte/password/reset/key/")
    r = client.get(link)  # allauth moves the key into the session, then shows the form
    if r.status_code == 302:
        link = r["Location"]
        r = client.get(link)
    assert r.status_code == 200
    r = client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    # the link served once
    assert "plus valide" in client.get(link).content.decode() or client.get(link).status_code == 302


def test_changing_address_needs_the_new_one_confirmed(client):
    user = UserFactory(email="ancienne@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.force_login(user)
    r = client.post("/compte/email/", {"action_add": "", "email": "nouvelle@example.org"})
    assert r.status_code == 302
    new = EmailAddress.objects.get(email="nouvelle@example.org")
    assert new.user == user and not new.verified
    confirm = link_in(mail.outbox[-1], "/compte/confirm-email/")
    assert client.post(confirm).status_code == 302
    new.refresh_from_db()
    assert new.verified
    r = client.post("/compte/email/", {"action_primary": "", "email": "nouvelle@example.org"})
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.email == "nouvelle@example.org"


def test_sign_out_is_a_post_and_pages_stay_reachable(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/compte/").status_code == 200
    r = client.post("/deconnexion/")
    assert r.status_code == 302 and r["Location"] == "/"
    assert client.get("/compte/").status_code == 302
    for path in ["/connexion/", "/inscription/", "/compte/password/reset/"]:
        page = client.get(path)
        assert page.status_code == 200 and 'lang="fr"' in page.content.decode(), path
