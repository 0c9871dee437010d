"""Faults outside the domain rules: database unreachable, oversized bodies, bad characters, server errors."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client

from pacte.accounts.services import create_api_token
from pacte.pacts.models import Commitment


def bearer(acting):  # type: ignore[no-untyped-def]
    _, raw = create_api_token(acting.user, acting.organisation, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post_json(client, url, body, headers):  # type: ignore[no-untyped-def]
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


# ------------------------------------------------------------------ database unreachable


@pytest.fixture
def unreachable_database(transactional_db):  # type: ignore[no-untyped-def]
    """Point the default connection at a database that cannot be opened (a real failure, not a stub)."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-pacte-dir/db.sqlite3"
    else:
        connection.settings_dict["HOST"], connection.settings_dict["PORT"] = (
            "127.0.0.1",
            "1",
        )  # refused
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


def test_api_answers_503_json_with_retry_after_when_the_database_is_unreachable(
    unreachable_database,
):
    client = Client(raise_request_exception=False)
    r = client.get("/api/v1/projects")
    assert r.status_code == 503
    assert r["Retry-After"].isdigit()
    assert r.json()["error"] == "unavailable" and "indisponible" in r.json()["message"]


def test_health_reports_the_database_state(unreachable_database):
    r = Client(raise_request_exception=False).get("/sante")
    assert r.status_code == 503 and r.json() == {"status": "unavailable", "database": "unreachable"}
    assert r["Retry-After"].isdigit()


def test_pages_show_the_french_error_page_503_when_the_database_is_unreachable(
    unreachable_database,
):
    r = Client(raise_request_exception=False).get("/projets/", HTTP_ACCEPT_LANGUAGE="fr")
    assert r.status_code == 503 and r["Content-Type"].startswith("text/html")
    assert "momentanément indisponible" in r.content.decode()
    assert r["Retry-After"].isdigit()


def test_a_session_cookie_while_the_database_is_down_is_a_503_not_a_500(unreachable_database):
    """The session is loaded by a middleware, outside any view: handler500 turns it into a 503."""
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "x" * 32
    for path, kind in (("/api/v1/projects", "application/json"), ("/espace/", "text/html")):
        r = client.get(path)
        assert r.status_code == 503, path
        assert r["Content-Type"].startswith(kind)


def test_health_is_ok_when_the_database_answers(db, client):
    r = client.get("/sante")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}


# ------------------------------------------------------------------ server errors are JSON under /api


def test_an_unexpected_error_in_the_api_is_a_json_500(db, monkeypatch):
    import pacte.projects.api

    def broken(**kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(pacte.projects.api, "search_projects", broken)
    r = Client(raise_request_exception=False).get("/api/v1/projects")
    assert r.status_code == 500 and r["Content-Type"].startswith("application/json")
    assert r.json()["error"] == "server_error" and "secret" not in r.content.decode()


def test_an_unexpected_error_on_a_page_is_the_french_500_page(db, monkeypatch):
    import pacte.web.views

    def broken(**kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(pacte.web.views, "search_projects", broken)
    r = Client(raise_request_exception=False).get("/projets/", HTTP_ACCEPT_LANGUAGE="fr")
    assert r.status_code == 500 and r["Content-Type"].startswith("text/html")
    assert "erreur inattendue" in r.content.decode() and "secret" not in r.content.decode()


def test_wrong_method_under_api_is_json(db, client):
    r = client.delete("/api/v1/projects")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed" and "Allow" in r


# ------------------------------------------------------------------ oversized bodies


def test_an_oversized_json_body_is_a_413_json(client, world, draft, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    body = {"content": {"x": "a" * 200_000}}
    r = client.put(
        f"/api/v1/pacts/{draft.pact.reference}/versions/1",
        data=json.dumps(body),
        content_type="application/json",
        **bearer(world.carrier_admin),
    )
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    assert "0.1 Mo" in r.json()["message"]


def test_an_oversized_form_is_a_413_french_page(db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    csrf_client = Client(enforce_csrf_checks=True)  # the CSRF middleware reads the body: handler400
    csrf_client.get("/connexion/")
    for client in (Client(raise_request_exception=False), csrf_client):
        r = client.post(
            "/connexion/",
            {"username": "x", "password": "y" * 200_000},
            HTTP_ACCEPT_LANGUAGE="fr",
            HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
            if "csrftoken" in client.cookies
            else "",
        )
        assert r.status_code == 413, r.status_code
        assert r["Content-Type"].startswith("text/html") and "taille acceptée" in r.content.decode()


# ------------------------------------------------------------------ bad characters and numbers


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projects?q=%00",
        "/api/v1/events?type=a%00b",
        "/api/v1/projects/x%00y",
        "/api/v1/pacts?status=%00",
    ],
)
def test_nul_in_the_address_is_a_400_json(db, client, url):
    r = client.get(url)
    assert r.status_code == 400 and "nul" in r.json()["message"]


def test_nul_in_a_page_query_is_a_400_page(db, client):
    r = client.get("/projets/?q=%00", HTTP_ACCEPT_LANGUAGE="fr")
    assert (
        r.status_code == 400
        and r["Content-Type"].startswith("text/html")
        and "nul" in r.content.decode()
    )


@pytest.mark.parametrize(
    "query",
    [
        f"offset={2**63}",
        f"offset={2**64}",
        "offset=-1",
        f"limit={2**63}",
        "offset=1000001",
        f"limit=-{2**63}",
    ],
)
def test_huge_or_negative_pagination_is_a_400(db, client, query):
    for base in (
        "/api/v1/projects",
        "/api/v1/pacts",
        "/api/v1/events",
        "/api/v1/evaluations",
        "/api/v1/pacts/commitments",
    ):
        r = client.get(f"{base}?{query}")
        assert r.status_code == 400, (base, r.status_code)
        assert r.json()["message"]


def test_huge_path_numbers_are_a_4xx(db, client):
    for url in (
        f"/api/v1/pacts/PX/versions/{2**64}",
        f"/api/v1/evaluations/{2**70}",
        f"/api/v1/audits/{2**63}",
    ):
        assert 400 <= client.get(url).status_code < 500, url


@pytest.mark.parametrize(
    "note,expected",
    [
        ("avant\x00après", "nul"),
        ("\ud800", "demi-paire"),
        ("x" * 1_000_000, "trop long"),
    ],
)
def test_bad_evidence_note_is_refused_and_nothing_is_stored(client, world, active, note, expected):
    ref = active.pact.reference
    before = Commitment.objects.get(version=active, key="state-panel").progress
    r = post_json(
        client,
        f"/api/v1/pacts/{ref}/versions/1/commitments/state-panel/evidence",
        {"progress": 50, "note": note},
        bearer(world.reviewer),
    )
    assert r.status_code == 400, r.content[:300]
    assert expected in r.json()["message"]
    assert Commitment.objects.get(version=active, key="state-panel").progress == before


@pytest.mark.parametrize(
    "raw",
    [
        '{"content": {"a": {"b": ["\\u0000"]}}}',
        '{"content": {"\\ud800": 1}}',
        '{"content": {"n": 9223372036854775808}}',
        '{"content": {"n": NaN}}',
        '{"content": {"n": 1e999}}',
        '{"content": {"n": ' + "9" * 5000 + "}}",
        "[" * 100_000,
    ],
)
def test_malformed_json_content_is_a_400(client, world, draft, raw):
    r = client.put(
        f"/api/v1/pacts/{draft.pact.reference}/versions/1",
        data=raw,
        content_type="application/json",
        **bearer(world.carrier_admin),
    )
    assert r.status_code == 400, r.content[:300]
    assert r.json()["error"] == "bad_request" and r.json()["message"]


def test_the_gateway_body_is_checked_too(client, db):
    r = client.post(
        "/api/v1/data/x/aggregates",
        data='{"rho": 1e999}',
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer pgr_nope",
    )
    assert 400 <= r.status_code < 500


def test_forms_refuse_oversized_fields(client, world, active):
    from pacte.web.forms import EvidenceForm

    form = EvidenceForm({"progress": 10, "note": "x" * 1_000_000})
    assert not form.is_valid() and "note" in form.errors


# ------------------------------------------------------------------ the OpenAPI document says every limit


def _string_fields_without_limit(schema, components, where, out, seen=frozenset()):  # type: ignore[no-untyped-def]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:  # a recursive schema (free-form JSON values): each level was checked once
            return
        seen = seen | {name}
        schema = components[name]
    for option in schema.get("anyOf", []) + schema.get("allOf", []) + schema.get("oneOf", []):
        _string_fields_without_limit(option, components, where, out, seen)
    if schema.get("type") == "string" and not {"format", "enum", "const"} & set(schema):
        out.append(where if "maxLength" not in schema else f"ok {where} ≤ {schema['maxLength']}")
    if schema.get("type") == "array":
        _string_fields_without_limit(schema.get("items", {}), components, f"{where}[]", out, seen)
    for name, sub in (schema.get("properties") or {}).items():
        _string_fields_without_limit(sub, components, f"{where}.{name}", out, seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        _string_fields_without_limit(extra, components, f"{where}.*", out, seen)


def test_every_text_input_has_a_documented_maximum_length(client, db):
    doc = client.get("/api/v1/openapi.json").json()
    components = doc.get("components", {}).get("schemas", {})
    missing: list[str] = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                _string_fields_without_limit(
                    p.get("schema", {}), components, f"{method} {path} {p['name']}", missing
                )
            for media in (op.get("requestBody") or {}).get("content", {}).values():
                _string_fields_without_limit(
                    media.get("schema", {}), components, f"{method} {path} body", missing
                )
    limited = [m for m in missing if m.startswith("ok ")]
    assert (
        "ok post /api/v1/pacts/{reference}/versions/{number}/commitments/{key}/evidence body.note ≤ 5000"
        in limited
    )
    assert len(limited) > 80
    assert [m for m in missing if not m.startswith("ok ")] == []
