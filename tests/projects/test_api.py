from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_project_detail_and_filters(client, world, active):
    slug = active.pact.project.slug
    d = client.get(f"/api/v1/projects/{slug}").json()
    assert d["pacts"][0]["status"] == "active" and d["phases"][0]["kind"] == "investigation"
    assert client.get("/api/v1/projects?status=active").json()["count"] == 1
    assert client.get("/api/v1/projects?status=suspended").json()["count"] == 0
    assert client.get("/api/v1/projects?principle=neutrality").json()["count"] == 1
    assert client.get("/api/v1/projects?principle=accessibility").json()["count"] == 0
    assert client.get("/api/v1/projects?institution=agence").json()["count"] == 1
    assert client.get("/api/v1/projects?q=inexistant").json() == {
        "count": 0,
        "items": [],
        "next": None,
    }


def test_unknown_project_is_a_json_404(client, db):
    r = client.get("/api/v1/projects/nope")
    assert r.status_code == 404 and r.json()["message"] == "Ce projet n'existe pas."


def test_events_endpoint(client, active):
    page = client.get("/api/v1/events?type=pact.").json()
    assert page["count"] == 6 and page["items"][0]["type"] == "pact.activated"
