"""Idempotency-Key on the API's POSTs: a retry returns the first result, never a second object."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from pacte.accounts.services import create_api_token
from pacte.pacts.models import Pact
from pacte.writes.idempotency import purge_expired
from pacte.writes.models import IdempotentRequest


def bearer(acting) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, raw = create_api_token(acting.user, acting.organisation, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def draft_pact(client, body, headers, key=None):  # type: ignore[no-untyped-def]
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(
        "/api/v1/pacts", data=json.dumps(body), content_type="application/json", **headers, **extra
    )


@pytest.mark.django_db
def test_retry_with_the_same_key_returns_the_first_result(client, world, content):
    project = world.project()
    carrier = bearer(world.carrier_admin)
    body = {"project": project.slug, "institution": "agence", "content": content}
    first = draft_pact(client, body, carrier, key="b1c4e9a0-retry")
    assert first.status_code == 201, first.content
    again = draft_pact(client, body, carrier, key="b1c4e9a0-retry")
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Pact.objects.filter(project=project).count() == 1
    # without a key, the same body is a new pact
    third = draft_pact(client, body, carrier)
    assert third.status_code == 201 and third.json()["pact"] != first.json()["pact"]
    assert Pact.objects.filter(project=project).count() == 2


@pytest.mark.django_db
def test_same_key_with_another_body_is_refused(client, world, content):
    project = world.project()
    carrier = bearer(world.carrier_admin)
    body = {"project": project.slug, "institution": "agence", "content": content}
    assert draft_pact(client, body, carrier, key="k-1").status_code == 201
    other = dict(body, content={**content, "title": "Un autre pacte"})
    r = draft_pact(client, other, carrier, key="k-1")
    assert r.status_code == 422
    assert r.json()["error"] == "idempotency_key_reused"
    assert "Idempotency-Key" in r.json()["message"] and "autre" in r.json()["message"]
    assert Pact.objects.filter(project=project).count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_to_the_principal(client, world, content):
    project = world.project()
    body = {"project": project.slug, "institution": "agence", "content": content}
    a = draft_pact(client, body, bearer(world.carrier_admin), key="shared")
    b = draft_pact(client, body, bearer(world.carrier_member), key="shared")
    assert a.status_code == b.status_code == 201
    assert a.json()["pact"] != b.json()["pact"]
    assert "Idempotent-Replayed" not in b


@pytest.mark.django_db
def test_a_refusal_is_replayed_and_a_bad_key_is_a_clear_400(client, world, content):
    project = world.project()
    body = {"project": project.slug, "institution": "agence", "content": content}
    reviewer = bearer(world.reviewer)  # not a member of the carrier: 403
    r1 = draft_pact(client, body, reviewer, key="refused")
    r2 = draft_pact(client, body, reviewer, key="refused")
    assert r1.status_code == r2.status_code == 403 and r1.content == r2.content
    r = draft_pact(client, body, bearer(world.carrier_admin), key="x" * 256)
    assert r.status_code == 400 and r.json()["error"] == "bad_idempotency_key"
    assert not Pact.objects.filter(project=project).exists()


@pytest.mark.django_db
def test_keys_expire_after_a_day(client, world, content):
    project = world.project()
    carrier = bearer(world.carrier_admin)
    body = {"project": project.slug, "institution": "agence", "content": content}
    assert draft_pact(client, body, carrier, key="old").status_code == 201
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    r = draft_pact(client, body, carrier, key="old")  # the stored result is forgotten: a new pact
    assert r.status_code == 201 and "Idempotent-Replayed" not in r
    assert Pact.objects.filter(project=project).count() == 2
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_expired() == 1 and not IdempotentRequest.objects.exists()


@pytest.mark.django_db
def test_openapi_documents_the_header_on_creating_routes(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    def headers(path: str, method: str) -> list[str]:
        return [p["name"] for p in paths[path][method].get("parameters", []) if p["in"] == "header"]

    assert "Idempotency-Key" in headers("/api/v1/pacts", "post")
    assert "Idempotency-Key" in headers("/api/v1/data/{dataset}/aggregates", "post")
    assert "Idempotency-Key" not in headers(
        "/api/v1/grants/{reference}/token", "post"
    )  # a secret shown once
    assert "Idempotency-Key" not in headers("/api/v1/pacts/{reference}/versions/{number}", "put")


def _concurrent_same_key(world, content, threads: int) -> None:  # type: ignore[no-untyped-def]
    project = world.project()
    carrier = bearer(world.carrier_admin)
    body = {"project": project.slug, "institution": "agence", "content": content}
    barrier = threading.Barrier(threads)
    results: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            r = draft_pact(Client(), body, carrier, key="same-key-at-once")
            with lock:
                results.append((r.status_code, r.content))
        finally:
            connections.close_all()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert Pact.objects.filter(project=project).count() == 1
    assert {s for s, _ in results} <= {201, 409}, results
    created = {c for s, c in results if s == 201}
    assert len(created) == 1  # every 201 is the same, first, result


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL variant")
def test_concurrent_requests_with_one_key_create_one_object_postgresql(world, content):
    _concurrent_same_key(world, content, 6)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite variant")
def test_concurrent_requests_with_one_key_create_one_object_sqlite(world, content):
    _concurrent_same_key(world, content, 6)
