"""Only http(s) links are stored, on every input path, and only those are ever rendered as links."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from pacte.accounts.services import create_api_token, create_organisation
from pacte.errors import ValidationFailed
from pacte.pacts import commitments as pact_commitments
from pacte.pacts.models import Commitment
from pacte.projects.models import Project

pytestmark = pytest.mark.django_db

BAD_LINKS = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://example.org/preuve",
    "//evil.example/x",
    "https://" + "a" * 300 + ".org",
]


def bearer(acting):  # type: ignore[no-untyped-def]
    _, raw = create_api_token(acting.user, acting.organisation, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client, url, body, headers):  # type: ignore[no-untyped-def]
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


@pytest.mark.parametrize("url", BAD_LINKS)
def test_api_evidence_refuses_anything_but_http(client, world, active, url):
    ref = active.pact.reference
    r = post(
        client,
        f"/api/v1/pacts/{ref}/versions/1/commitments/state-panel/evidence",
        {"progress": 50, "note": "Panel en cours", "url": url},
        bearer(world.reviewer),
    )
    assert r.status_code == 422, r.content
    assert "http" in r.json()["message"] and "url" in r.json()["fields"]
    assert Commitment.objects.get(version=active, key="state-panel").evidence_url == ""


def test_api_evidence_accepts_https(client, world, active):
    ref = active.pact.reference
    r = post(
        client,
        f"/api/v1/pacts/{ref}/versions/1/commitments/state-panel/evidence",
        {"progress": 50, "note": "Panel en cours", "url": "https://example.org/panel"},
        bearer(world.reviewer),
    )
    assert r.status_code == 200, r.content
    assert (
        Commitment.objects.get(version=active, key="state-panel").evidence_url
        == "https://example.org/panel"
    )


def test_evidence_form_refuses_javascript(client, world, active):
    c = Commitment.objects.get(version=active, key="state-panel")
    client.force_login(world.reviewer.user)
    r = client.post(
        f"/espace/engagements/{c.pk}/preuve/",
        {"progress": 50, "note": "Panel en cours", "url": "javascript:alert(document.cookie)"},
    )
    assert r.status_code == 422
    assert "http://" in r.content.decode() and "javascript:alert" not in json.dumps(
        r.context["form"].cleaned_data
    )
    c.refresh_from_db()
    assert c.evidence_url == "" and c.evidence_note == ""


def test_project_form_refuses_javascript(client, world):
    client.force_login(world.carrier_admin.user)
    r = client.post(
        "/espace/projets/nouveau/",
        {"name": "Projet piégé", "pitch": "Un lien piégé", "repository": "javascript:alert(1)"},
    )
    assert r.status_code in (200, 422) and "http://" in r.content.decode()
    assert not Project.objects.filter(name="Projet piégé").exists()


def test_services_refuse_bad_links_whoever_calls_them(world, active):
    with pytest.raises(ValidationFailed):
        world.project(name="Autre", repository="javascript:alert(1)")
    with pytest.raises(ValidationFailed):
        create_organisation(
            slug="x", name="X", kind="carrier", legal_form="association", website="data:,x"
        )
    c = Commitment.objects.get(version=active, key="state-panel")
    with pytest.raises(ValidationFailed):
        pact_commitments.record_evidence(
            world.reviewer, c, progress=10, note="Une preuve", url="javascript:alert(1)"
        )


def test_pact_content_source_code_link_must_be_http(client, world, draft):
    content = dict(draft.content)
    content["transparency"] = {**content["transparency"], "source_code_url": "javascript:alert(1)"}
    r = client.put(
        f"/api/v1/pacts/{draft.pact.reference}/versions/1",
        data=json.dumps({"content": content}),
        content_type="application/json",
        **bearer(world.carrier_admin),
    )
    assert r.status_code == 422
    assert "transparency.source_code_url" in r.json()["fields"]
    # content stored before the rule still loads (the compliance engine reads it)
    from pacte.pacts.schema import parse_content

    assert parse_content(content).transparency.source_code_url == "javascript:alert(1)"


def test_bad_links_already_stored_are_not_rendered_as_links(client, world, active):
    """Data written before validation existed: the pages show it, never as a live link."""
    Commitment.objects.filter(version=active, key="state-panel").update(
        evidence_note="Preuve piégée", evidence_url="javascript:alert(document.cookie)"
    )
    Project.objects.filter(pk=active.pact.project_id).update(repository="javascript:alert(2)")
    for url in [f"/projets/{active.pact.project.slug}/", f"/pactes/{active.pact.reference}/v1/"]:
        page = client.get(url).content.decode()
        assert "Preuve piégée" in page, url
        assert 'href="javascript:' not in page.lower(), url
        assert "voir la preuve" not in page, url
    Commitment.objects.filter(version=active, key="state-panel").update(
        evidence_url="https://example.org/p"
    )
    cache.clear()  # public pages are cached until the next log event; .update() writes none
    page = client.get(f"/pactes/{active.pact.reference}/v1/").content.decode()
    assert 'href="https://example.org/p"' in page
