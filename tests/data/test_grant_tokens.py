"""Issue 8: only the carrier's admin (or a platform admin) rotates a grant's token; logged, notified."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.test import Client, TestCase

from pacte.accounts.models import Role
from pacte.data.grants import issue_token
from pacte.data.models import Grant
from pacte.errors import PermissionDenied
from pacte.journal.models import Event
from tests.conftest import _acting
from tests.data.conftest import DP_COLUMNS, call, grant_for
from tests.queue import run_queue

AGG = "/api/v1/data/embauches/aggregates"
QUERY = {"group_by": ["region"], "aggregates": [{"op": "count"}], "rho": 0.005}


def _rotations(grant: Grant) -> list[dict]:
    return [
        json.loads(e.entry)["data"]
        for e in Event.objects.filter(
            type="grant.token_rotated", subject_id=grant.reference
        ).order_by("index")
    ]


@pytest.fixture
def granted(world, active, hiring, settings):  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return grant_for(world, active, hiring, 3, DP_COLUMNS)


@pytest.mark.parametrize(
    "who",
    [
        "carrier_member",
        "reviewer",
        "reviewer2",
        "signatory",
        "data_steward",
        "outsider_reviewer",
        "auditor",
        "other_carrier_admin",
    ],
)
def test_only_admins_rotate(world, granted, who):
    grant, token = granted
    if who == "other_carrier_admin":
        from tests.factories import OrganisationFactory

        acting = _acting(OrganisationFactory(slug="autre-porteur"), [Role.CARRIER_ADMIN])
    else:
        acting = getattr(world, who)
    before = Grant.objects.get(pk=grant.pk).token_hash
    events = Event.objects.count()
    with pytest.raises(PermissionDenied, match="administrateur"):
        issue_token(acting, grant)
    assert Grant.objects.get(pk=grant.pk).token_hash == before  # the team keeps its token
    assert Event.objects.count() == events  # nothing logged for a refusal that changed nothing
    assert call(token, AGG, QUERY).status_code == 200


@pytest.mark.parametrize("who", ["carrier_admin", "platform_admin"])
def test_admin_rotation_is_logged_and_notified(world, granted, who):
    grant, old = granted
    acting = (
        world.carrier_admin
        if who == "carrier_admin"
        else _acting(world.institution, [Role.PLATFORM_ADMIN])
    )
    member_email = world.carrier_member.user.email
    assert member_email
    previous = Grant.objects.get(pk=grant.pk).token_prefix
    with TestCase.captureOnCommitCallbacks(execute=True):
        new = issue_token(acting, grant)
    assert call(old, AGG, QUERY).status_code == 401
    assert call(new, AGG, QUERY).status_code == 200
    last = _rotations(grant)[-1]
    assert last["token_prefix"] == new[:12] and last["previous_token_prefix"] == previous
    ev = (
        Event.objects.filter(type="grant.token_rotated", subject_id=grant.reference)
        .order_by("index")
        .last()
    )
    assert json.loads(ev.entry)["actor"]["org"] == acting.organisation.slug
    assert len(mail.outbox) == 0  # queued in the transaction, sent by the worker
    run_queue()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert (
        grant.reference in message.subject and previous in message.body and new not in message.body
    )
    assert member_email in message.to and world.carrier_admin.user.email in message.to
    assert world.reviewer.user.email not in message.to


def test_api_rotation_by_a_member_is_403_and_the_token_survives(world, granted):
    from pacte.accounts.services import create_api_token

    grant, token = granted
    c = Client()

    def post(user_token: str) -> object:
        return c.post(
            f"/api/v1/grants/{grant.reference}/token",
            data="{}",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {user_token}",
        )

    member_token = create_api_token(world.carrier_member.user, world.carrier, "t")[1]
    r = post(member_token)
    assert r.status_code == 403 and "administrateur" in r.json()["message"]
    assert call(token, AGG, QUERY).status_code == 200
    admin_token = create_api_token(world.carrier_admin.user, world.carrier, "t")[1]
    r = post(admin_token)
    assert r.status_code == 200 and r.json()["token"].startswith("pgr_")
    assert call(token, AGG, QUERY).status_code == 401


def test_grant_page_offers_rotation_to_admins_only(world, granted, client):
    grant, _ = granted
    from tests.data.test_pages import _login

    rotations = len(_rotations(grant))  # the fixture's own issuance by the admin
    _login(client, world.carrier_member)
    page = client.get(f"/donnees/acces/{grant.reference}/").content.decode()
    assert "Obtenir le jeton" not in page and "administrateur du porteur" in page
    assert client.post(f"/donnees/acces/{grant.reference}/token/").status_code in (302, 403)
    assert len(_rotations(grant)) == rotations
    _login(client, world.carrier_admin)
    page = client.get(f"/donnees/acces/{grant.reference}/").content.decode()
    assert "Obtenir le jeton" in page
