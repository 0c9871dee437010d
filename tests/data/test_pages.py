"""Back-office pages of the request workflow (session auth)."""

from __future__ import annotations

from pacte.accounts.middleware import SESSION_KEY
from pacte.data.models import DataRequest, Grant
from tests.data.conftest import request_for


def _login(client, acting):
    client.force_login(acting.user)
    session = client.session
    session[SESSION_KEY] = acting.organisation.pk
    session.save()


def test_request_form_detail_and_decision_pages(client, world, active, hiring):
    _login(client, world.carrier_admin)
    url = f"/donnees/demandes/nouvelle/{active.pact.reference}/"
    assert client.get(url).status_code == 200
    r = client.post(
        url,
        {
            "dataset": hiring.slug,
            "purpose": "Trop court",
            "tier": 3,
            "legal_basis": "x",
            "retention_months": 12,
            "recipients": "Équipe",
            "dpo_contact": "dpo@example.org",
        },
    )
    assert r.status_code == 200 and "20 caractères" in r.content.decode()
    r = client.post(
        url,
        {
            "dataset": hiring.slug,
            "tier": 3,
            "legal_basis": "Intérêt public",
            "purpose": "Compter les embauches par région pour servir la mission du pacte.",
            "retention_months": 12,
            "recipients": "Équipe",
            "dpo_contact": "dpo@example.org",
        },
    )
    req = DataRequest.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(f"/donnees/demandes/{req.reference}/")
    client.post(f"/donnees/demandes/{req.reference}/submit/")
    req.refresh_from_db()
    assert req.status == "submitted"
    for reviewer in (world.reviewer, world.reviewer2, world.data_steward):
        _login(client, reviewer)
        assert req.reference in client.get("/donnees/demandes/").content.decode()
        page = client.get(f"/donnees/demandes/{req.reference}/").content.decode()
        assert "Instruire" in page or "approved" in page
        client.post(
            f"/donnees/demandes/{req.reference}/approve/", {"population": 3_000_000, "severity": 2}
        )
    req.refresh_from_db()
    assert req.status == "approved"
    page = client.get(f"/donnees/demandes/{req.reference}/").content.decode()
    assert "R-2-strong-high" in page and "Force des engagements" in page
    grant = Grant.objects.get()
    _login(client, world.carrier_admin)
    r = client.post(f"/donnees/acces/{grant.reference}/token/")
    assert r.status_code == 200 and "pgr_" in r.content.decode()


def test_outsiders_cannot_see_a_request(client, world, active, hiring):
    req = request_for(world, active, hiring, 3)
    _login(client, world.outsider_reviewer)
    assert client.get(f"/donnees/demandes/{req.reference}/").status_code == 403
