"""Deleting one's account (GDPR): nothing personal left anywhere, contributions kept, the
deletion itself in the public journal without personal data."""

from __future__ import annotations

import json

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialToken
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import models
from django.db.models import Q

from pacte.accounts import deletion
from pacte.accounts.models import ApiToken, Membership, User
from pacte.accounts.services import add_member, create_api_token
from pacte.journal.models import Event
from pacte.journal.services import personal_commitment
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

EMAIL = "zephyrine.quillebeuf@example.org"
OTHER_EMAIL = "zq.secours@example.net"
NAME = "Zéphyrine Quillebeuf"
USERNAME = "zephyrine-q"
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def rows_mentioning(needle: str) -> list[str]:
    """Every row of every table whose text columns contain ``needle`` (case-insensitive)."""
    found = []
    for model in apps.get_models():
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, TEXT_FIELDS) and not f.is_relation
        ]
        if not fields:
            continue
        match = Q()
        for f in fields:
            match |= Q(**{f"{f.name}__icontains": needle})
        for pk in model._default_manager.filter(match).values_list("pk", flat=True):
            found.append(f"{model._meta.label}#{pk}")
    return found


@pytest.fixture
def person(world, draft, content):  # type: ignore[no-untyped-def]
    """A person with a bit of everything: addresses, an identity provider, an API token, a
    membership, a panel seat, feedback, a sign-in failure, a session, mail in the outbox."""
    from pacte.evidence.feedback import give_feedback
    from pacte.evidence.panels import volunteer
    from pacte.notifications.notifier import notify

    user = UserFactory(
        username=USERNAME,
        email=EMAIL,
        display_name=NAME,
        first_name="Zéphyrine",
        last_name="Quillebeuf",
    )
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    EmailAddress.objects.create(user=user, email=OTHER_EMAIL, verified=False, primary=False)
    account = SocialAccount.objects.create(
        user=user,
        provider="franceconnect",
        uid="fc-sub-123",
        extra_data={
            "id_token": {"given_name": "Zéphyrine", "family_name": "Quillebeuf", "email": EMAIL}
        },
    )
    SocialToken.objects.create(account=account, token="access-token-xyz", token_secret="")
    add_member(user, world.carrier, ["carrier_admin"])
    from pacte.accounts.services import acting_for
    from pacte.pacts.drafting import create_pact

    version = create_pact(
        acting_for(user, world.carrier), world.project(name="Autre"), world.institution, content
    )
    assert version.created_by == user
    create_api_token(user, world.carrier, "mon jeton")
    volunteer(
        user,
        consent=True,
        contact_preference="email",
        contact_value=EMAIL,
        territory="Val-de-Loire",
    )
    feedback = give_feedback(
        user, draft.pact.project, body="Le service m'a aidée à trouver un stage."
    )
    notify([EMAIL, "quelquun@example.org"], "Réponse", "Bonjour Zéphyrine Quillebeuf", event="test")
    notify([EMAIL], "Pour vous", f"Bonjour {NAME}", event="test")
    AccessAttempt.objects.create(
        username=EMAIL,
        ip_address="192.0.2.1",
        user_agent="test",
        failures_since_start=1,
        get_data="",
        post_data="",
        http_accept="",
        path_info="/connexion/",
    )
    return user, feedback


def test_nothing_personal_is_left_and_contributions_are_kept(client, person, world):
    user, feedback = person
    client.force_login(user)
    other = UserFactory()
    other_client = type(client)()
    other_client.force_login(other)
    for needle in (EMAIL, OTHER_EMAIL, NAME, USERNAME, "Quillebeuf"):
        assert rows_mentioning(needle), needle  # the scan does find them before
    pk = user.pk

    opaque = deletion.delete_account(user)

    for needle in (EMAIL, OTHER_EMAIL, NAME, USERNAME, "Quillebeuf", "Zéphyrine"):
        assert rows_mentioning(needle) == [], needle
    tomb = User.objects.get(pk=pk)
    assert str(tomb) == "Compte supprimé" and tomb.deleted_at is not None
    assert not tomb.is_active and not tomb.has_usable_password()
    assert not EmailAddress.objects.filter(user=tomb).exists()
    assert not SocialAccount.objects.filter(user=tomb).exists() and not SocialToken.objects.exists()
    assert not Membership.objects.filter(user=tomb).exists()
    assert not ApiToken.objects.filter(user=tomb).exists()
    # contributions stay, under the tombstone
    feedback.refresh_from_db()
    assert feedback.author_id == pk and "trouver un stage" in feedback.body
    from pacte.pacts.models import PactVersion

    assert PactVersion.objects.filter(created_by_id=pk).count() == 1  # the pact they wrote
    # the person's sessions are gone, other people's stay
    assert client.get("/espace/").status_code == 302
    assert other_client.get("/espace/").status_code == 200
    assert Session.objects.count() == 1
    # the journal: one event, an opaque id, nothing else
    event = Event.objects.get(type=deletion.EVENT_TYPE)
    assert event.subject_id == opaque == personal_commitment(f"user:{pk}")
    entry = json.loads(event.entry)
    assert str(pk) not in json.dumps(entry.get("data", {})) and EMAIL not in event.entry
    # the message to several people keeps going to the others
    from pacte.notifications.models import Notification

    assert [n.recipients for n in Notification.objects.all()] == [["quelquun@example.org"]]


def test_a_contribution_of_a_deleted_author_reads_compte_supprime(person):
    user, feedback = person
    deletion.delete_account(user)
    feedback.refresh_from_db()
    assert str(feedback.author) == "Compte supprimé"


def test_deleting_twice_is_a_clear_error_and_changes_nothing(person):
    from pacte.errors import ValidationFailed

    user, _feedback = person
    deletion.delete_account(user)
    before = Event.objects.count()
    with pytest.raises(ValidationFailed):
        deletion.delete_account(User.objects.get(pk=user.pk))
    assert Event.objects.count() == before


def test_the_deletion_page_asks_to_confirm_then_erases(client):
    user = UserFactory(email="a.supprimer@example.org")
    client.force_login(user)
    r = client.post("/compte/reauthenticate/", {"password": PASSWORD})  # confirm who you are
    assert r.status_code == 302
    page = client.get("/compte/suppression/")
    assert page.status_code == 200 and "définitive" in page.content.decode()
    r = client.post("/compte/suppression/", {})  # box not ticked
    assert r.status_code == 400 and User.objects.get(pk=user.pk).deleted_at is None
    r = client.post("/compte/suppression/", {"confirm": "on"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert User.objects.get(pk=user.pk).deleted_at is not None
    assert client.get("/espace/").status_code == 302  # signed out
    r = client.post("/connexion/", {"login": "a.supprimer@example.org", "password": PASSWORD})
    assert r.status_code == 401


def test_the_deletion_page_wants_a_recent_sign_in(client):
    user = UserFactory()
    client.force_login(user)  # no recent authentication recorded by allauth
    r = client.post("/compte/suppression/", {"confirm": "on"})
    assert r.status_code == 302 and "/compte/reauthenticate/" in r["Location"]
    assert User.objects.get(pk=user.pk).deleted_at is None
    r = client.post(r["Location"], {"password": PASSWORD})
    assert r.status_code == 302
    r = client.post("/compte/suppression/", {"confirm": "on"})
    assert r.status_code == 302 and User.objects.get(pk=user.pk).deleted_at is not None
