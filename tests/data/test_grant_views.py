"""Issue 14, part 2: granted data in the browser (pacte.data.grant_views) — the grantee's team, signed
in, downloads an extract or runs DP aggregates from a page; the limits and the budget left are shown;
every call goes through the gateway and is logged in the journal as with a bearer token."""

from __future__ import annotations

import io

import polars as pl
import pytest

from pacte.data.catalogue import publish_dataset
from pacte.data.demo import hiring_schema
from pacte.data.grants import revoke_grant
from pacte.data.ingestion import add_version
from pacte.data.models import Grant, Release
from pacte.journal.models import Event
from tests.data.conftest import grant_for

pytestmark = pytest.mark.django_db


def _html(r) -> str:  # type: ignore[no-untyped-def]
    return r.content.decode().replace("&#x27;", "'")


@pytest.fixture
def open_grant(world, active, parquet_files):  # type: ignore[no-untyped-def]
    ds = publish_dataset(
        world.data_steward,
        publisher=world.institution,
        slug="ouvert",
        title="Ouvert",
        sensitivity=0,
    )
    add_version(
        world.data_steward,
        ds,
        version="v1",
        paths=[str(parquet_files["hiring"])],
        schema=hiring_schema(),
        row_count=4000,
        person_column="person_id",
    )
    grant, _token = grant_for(world, active, ds, 1, ["region", "naf_sector"])
    return grant


def test_the_grantee_finds_the_page_from_the_workspace(client, world, dp_grant):
    grant, _token = dp_grant
    url = f"/espace/acces/{grant.reference}/"
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(world.carrier_member.user)
    assert 'href="/espace/acces/"' in _html(client.get("/espace/"))
    assert url in _html(client.get("/espace/acces/"))
    assert url in _html(client.get(f"/donnees/acces/{grant.reference}/"))
    html = _html(client.get(url))
    assert "Budget de confidentialité restant" in html and "Calculer et publier" in html
    assert str(grant.rho_grant).replace(".", ",") in html and "Télécharger en CSV" not in html


def test_only_the_grantee_team_uses_the_grant(client, world, dp_grant):
    grant, _token = dp_grant
    for other in (world.reviewer, world.data_steward, world.auditor):
        client.force_login(other.user)
        r = client.get(f"/espace/acces/{grant.reference}/")
        assert r.status_code == 403 and "membres du porteur" in _html(r)
        r = client.post(f"/espace/acces/{grant.reference}/agregats/", {"group_by": ["region"]})
        assert r.status_code == 403
    assert Release.objects.count() == 0
    assert not Event.objects.filter(type="data.query").exists()


def test_aggregates_from_the_page_spend_the_budget_and_are_logged(client, world, dp_grant):
    grant, _token = dp_grant
    client.force_login(world.carrier_member.user)
    url = f"/espace/acces/{grant.reference}/agregats/"
    r = client.post(url, {"group_by": ["region"], "rho": "beaucoup"})
    assert r.status_code == 400 and "error-summary" in _html(r)
    r = client.post(url, {"group_by": ["region"], "rho": str(grant.rho_query * 10)})
    assert r.status_code == 400 and "plafond par requête" in _html(r)
    assert Grant.objects.get().rho_spent == 0 and Release.objects.count() == 0
    r = client.post(
        url,
        {"group_by": ["region"], "op": "mean", "column": "monthly_salary_eur", "rho": "0,005"},
        follow=True,
    )
    release = Release.objects.get()
    assert r.redirect_chain[-1][0] == f"/donnees/publications/{release.release_id}/"
    assert "Résultat publié" in _html(r) and len(release.cells) == 18
    grant.refresh_from_db()
    assert grant.rho_spent == pytest.approx(0.005)
    # the two refusals are logged as the API logs them, then the one release
    assert Event.objects.filter(type="data.query", subject_id=grant.reference).count() == 3
    left = f"ρ = {grant.rho_remaining:.5f}".replace(".", ",")
    assert left in _html(client.get(f"/espace/acces/{grant.reference}/"))


def test_extract_downloads_with_the_session_and_is_logged(client, world, open_grant):
    client.force_login(world.carrier_admin.user)
    page = _html(client.get(f"/espace/acces/{open_grant.reference}/"))
    assert "Télécharger en CSV" in page and "Budget de confidentialité" not in page
    url = f"/espace/acces/{open_grant.reference}/extrait/"
    r = client.post(url, {"format": "csv"})
    assert r.status_code == 200 and r.streaming and "attachment" in r["Content-Disposition"]
    frame = pl.read_csv(io.BytesIO(b"".join(r.streaming_content)))
    assert frame.columns == ["region", "naf_sector"] and frame.height == 4000
    logged = Event.objects.filter(type="data.query", subject_id=open_grant.reference)
    assert [r["X-Pacte-Output-SHA256"] in e.entry for e in logged] == [True]
    served = logged.get().pk
    r = client.post(url, {"format": "xls"})
    assert r.status_code == 400 and "csv" in _html(r)
    revoke_grant(world.data_steward, open_grant, "Finalité non respectée, accès retiré.")
    r = client.post(url, {"format": "csv"})
    assert r.status_code == 403 and "révoqué" in _html(r)
    assert all('"outcome":"refused"' in e.entry for e in logged.exclude(pk=served))
