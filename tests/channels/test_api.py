"""The channels API: public reads (paginated, filtered), the institution's writes with a token
(clear 4xx on bad input), and the State's record of an institution."""

from __future__ import annotations

import json
from datetime import date

from pacte.accounts import policy
from pacte.channels import listings
from pacte.channels.models import Channel
from tests.channels.conftest import ALL_CLAUSES, publish_all_evidence


def _bearer(acting):  # type: ignore[no-untyped-def]
    from pacte.accounts.services import create_api_token

    _, raw = create_api_token(acting.user, acting.organisation, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _send(client, method, url, body, acting):  # type: ignore[no-untyped-def]
    return getattr(client, method)(
        url, data=json.dumps(body), content_type="application/json", **_bearer(acting)
    )


BODY = {
    "name": "Annuaire régional de l'emploi",
    "kind": "directory",
    "clauses": ALL_CLAUSES,
    "territories": ["Val-de-Loire"],
    "needs": ["emploi"],
}


def test_declare_list_and_read_services(client, world, service) -> None:  # type: ignore[no-untyped-def]
    r = _send(client, "post", "/api/v1/channels", BODY, world.signatory)
    assert r.status_code == 201, r.content
    slug = r.json()["slug"]
    assert r.json()["institution"] == "agence"
    assert "Pacte en vigueur" in r.json()["condition"]

    publish_all_evidence(world, service)
    listings.run_channels(policy.SYSTEM, date.today())
    r = client.get(
        f"/api/v1/channels/{slug}/services", {"territory": "Val-de-Loire", "need": "emploi"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 1 and body["items"][0]["project"] == service.project.slug
    assert (
        client.get(f"/api/v1/channels/{slug}/services", {"territory": "Bretagne"}).json()["count"]
        == 0
    )
    page = client.get("/api/v1/channels", {"limit": 1}).json()
    assert page["count"] == 1 and page["items"][0]["slug"] == slug
    history = client.get(f"/api/v1/channels/{slug}/listings").json()
    assert history["count"] == 1 and history["items"][0]["status"] == "listed"

    r = _send(
        client,
        "put",
        f"/api/v1/channels/{slug}",
        {**BODY, "listing_delay_days": 10},
        world.signatory,
    )
    assert r.status_code == 200 and r.json()["listing_delay_days"] == 10


def test_bad_input_and_forbidden_writes_get_a_clear_4xx(client, world) -> None:  # type: ignore[no-untyped-def]
    r = _send(client, "post", "/api/v1/channels", {**BODY, "clauses": ["vibes"]}, world.signatory)
    assert r.status_code == 400 and "clauses.0" in r.json()["fields"]
    r = _send(client, "post", "/api/v1/channels", {**BODY, "kind": "pigeon"}, world.signatory)
    assert r.status_code == 400 and "kind" in r.json()["fields"]
    r = _send(client, "post", "/api/v1/channels", {**BODY, "name": "A"}, world.signatory)
    assert r.status_code == 422 and "3 caractères" in r.json()["fields"]["name"][0]
    r = _send(
        client, "post", "/api/v1/channels", {**BODY, "listing_delay_days": -1}, world.signatory
    )
    assert r.status_code == 400
    r = _send(client, "post", "/api/v1/channels", BODY, world.reviewer)
    assert r.status_code == 403 and "signataire" in r.json()["message"]
    r = _send(client, "post", "/api/v1/channels", BODY, world.carrier_admin)
    assert r.status_code == 403
    assert Channel.objects.count() == 0
    assert (
        client.post(
            "/api/v1/channels", data=json.dumps(BODY), content_type="application/json"
        ).status_code
        == 401
    )
    assert client.get("/api/v1/channels/nope/services").status_code == 404


def test_institution_record(client, world, service) -> None:  # type: ignore[no-untyped-def]
    _send(client, "post", "/api/v1/channels", {**BODY, "listing_delay_days": 0}, world.signatory)
    publish_all_evidence(world, service)
    listings.run_channels(policy.SYSTEM, date.today())
    r = client.get("/api/v1/institutions/agence/record")
    assert r.status_code == 200
    promises = {p["name"]: p for p in r.json()["promises"]}
    channel = promises["channel_listings"]
    assert (channel["answered"], channel["median_response_days"], channel["share_on_time"]) == (
        1,
        0.0,
        1.0,
    )
    assert channel["label"] == "Inscription des services dans les canaux de diffusion"
    assert client.get("/api/v1/institutions/porteur/record").status_code == 404  # a carrier
    assert client.get("/api/v1/institutions/nope/record").status_code == 404


def test_the_api_offers_exactly_the_engines_clauses() -> None:
    from typing import get_args

    from pacte.channels.api import ClauseCode
    from pacte.engines.channel_rules import Clause

    assert set(get_args(ClauseCode)) == {str(c) for c in Clause}
