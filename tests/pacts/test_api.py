from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacte.accounts.services import create_api_token
from pacte.pacts.models import Status

pytestmark = pytest.mark.django_db


def bearer(acting):  # type: ignore[no-untyped-def]
    _, raw = create_api_token(acting.user, acting.organisation, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client, url, body, headers):  # type: ignore[no-untyped-def]
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_projects_list_is_paginated(client, world, active):
    world.project(name="Deuxième")
    r = client.get("/api/v1/projects?limit=1")
    assert r.status_code == 200
    data = r.json()
    assert data["count"] == 2 and len(data["items"]) == 1
    r = client.get("/api/v1/projects?limit=1&offset=1")
    assert r.json()["items"][0]["slug"] != data["items"][0]["slug"]


@pytest.mark.parametrize("query", ["limit=0", "limit=1000", "offset=-1", "limit=abc"])
def test_bad_pagination_is_a_clear_400(client, db, query):
    r = client.get(f"/api/v1/projects?{query}")
    assert r.status_code in (400, 422)
    assert r.json()["message"]


def test_openapi_document(client, db):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert (
        "/api/v1/projects" in paths
        and "/api/v1/pacts/{reference}/versions/{number}/transitions/{action}" in paths
    )


def test_read_pact_versions_and_commitments(client, active):
    ref = active.pact.reference
    v = client.get(f"/api/v1/pacts/{ref}/versions/1").json()
    assert (
        v["status"] == "active"
        and all(s["valid"] for s in v["signatures"])
        and len(v["signatures"]) == 2
    )
    cs = client.get(f"/api/v1/pacts/{ref}/versions/1/commitments").json()
    assert {c["owner"] for c in cs} == {"carrier", "institution"}
    page = client.get("/api/v1/pacts/commitments?owner=institution").json()
    assert page["count"] == 2


def test_drafts_are_not_public_in_the_api(client, draft):
    r = client.get(f"/api/v1/pacts/{draft.pact.reference}/versions/1")
    assert r.status_code == 404 and "message" in r.json()


def test_write_needs_a_token(client, draft):
    r = post(client, f"/api/v1/pacts/{draft.pact.reference}/versions/1/transitions/submit", {}, {})
    assert r.status_code == 401 and r.json()["error"] == "not_authenticated"
    r = post(
        client,
        f"/api/v1/pacts/{draft.pact.reference}/versions/1/transitions/submit",
        {},
        {"HTTP_AUTHORIZATION": "Bearer nope"},
    )
    assert r.status_code == 401


def test_full_life_cycle_through_the_api(client, world, content):
    project = world.project()
    carrier, reviewer, signatory = (
        bearer(world.carrier_admin),
        bearer(world.reviewer),
        bearer(world.signatory),
    )
    r = post(
        client,
        "/api/v1/pacts",
        {"project": project.slug, "institution": "agence", "content": content},
        carrier,
    )
    assert r.status_code == 201, r.content
    ref = r.json()["pact"]
    base = f"/api/v1/pacts/{ref}/versions/1/transitions"
    assert post(client, f"{base}/approve", {}, reviewer).status_code == 409  # not submitted yet
    assert post(client, f"{base}/submit", {}, reviewer).status_code == 403
    assert post(client, f"{base}/submit", {}, carrier).json()["status"] == "submitted"
    r = post(client, f"{base}/request_changes", {"reason": ""}, reviewer)
    assert r.status_code == 422 and "motif" in r.json()["message"].lower()
    assert (
        post(client, f"{base}/approve", {"reason": "ok"}, reviewer).json()["status"] == "approved"
    )
    assert post(client, f"{base}/sign", {}, carrier).json()["status"] == "signing"
    assert post(client, f"{base}/sign", {}, signatory).json()["status"] == Status.ACTIVE
    r = post(client, f"{base}/fly", {}, carrier)
    assert (
        r.status_code == 400
        and "valeurs possibles" in r.json()["message"]
        and "'submit'" in r.json()["message"]
    )
    r = post(
        client,
        f"/api/v1/pacts/{ref}/versions/1/commitments/state-panel/evidence",
        {"progress": 100, "note": "Panel ouvert", "met": True},
        reviewer,
    )
    assert r.status_code == 200 and r.json()["status"] == "met"


def test_incomplete_submission_lists_fields(client, world):
    carrier = bearer(world.carrier_admin)
    project = world.project()
    r = post(
        client,
        "/api/v1/pacts",
        {"project": project.slug, "institution": "agence", "content": {}},
        carrier,
    )
    ref = r.json()["pact"]
    r = post(client, f"/api/v1/pacts/{ref}/versions/1/transitions/submit", {}, carrier)
    assert r.status_code == 422
    assert "principles" in r.json()["fields"] and "mission.problem" in r.json()["fields"]


def test_malformed_content_is_422_with_fields(client, world, draft):
    carrier = bearer(world.carrier_admin)
    r = client.put(
        f"/api/v1/pacts/{draft.pact.reference}/versions/1",
        data=json.dumps({"content": {"term": {"start": "hier"}}}),
        content_type="application/json",
        **carrier,
    )
    assert r.status_code == 422 and "term.start" in r.json()["fields"]


def test_invalid_json_body_is_400(client, world, draft):
    r = client.post(
        f"/api/v1/pacts/{draft.pact.reference}/versions/1/transitions/submit",
        data="{not json",
        content_type="application/json",
        **bearer(world.carrier_admin),
    )
    assert r.status_code == 400


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=20)
        | st.floats()
        | st.sampled_from(["\x00", "a\x00", "\ud800", 2**63, -(2**64), "x" * 25_000]),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=10), c, max_size=3),
        max_leaves=10,
    )
)
def test_never_a_500_on_arbitrary_content(client, world, draft, body):
    r = client.put(
        f"/api/v1/pacts/{draft.pact.reference}/versions/1",
        data=json.dumps({"content": body}),
        content_type="application/json",
        **bearer(world.carrier_admin),
    )
    assert r.status_code < 500
