from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from pacte.accounts.demo import CITIZEN_PASSWORD, citizens
from pacte.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_demo_citizens_are_verified_citizens_and_sign_in_by_email(client):
    assert CITIZEN_PASSWORD == DEMO_PASSWORD
    alice, karim = citizens()
    assert citizens() == [alice, karim]  # idempotent
    for person in (alice, karim):
        assert not person.memberships.exists()
        assert EmailAddress.objects.get(user=person).verified
    r = client.post("/connexion/", {"login": alice.email, "password": DEMO_PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/espace/"
    assert "Rejoindre un panel de test" in client.get("/espace/").content.decode()
