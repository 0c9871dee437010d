from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pacte.engines import merkle, note
from pacte.journal.keys import get_signer
from pacte.journal.models import Checkpoint, Cosignature, Event
from pacte.journal.services import register_witness
from tests.journal.helpers import append
from tests.project_page import project_page

pytestmark = pytest.mark.django_db


def test_checkpoint_and_key_are_plain_text_and_verify(client):
    append(6)
    key = client.get("/api/v1/log/key")
    assert key["Content-Type"].startswith("text/plain")
    vkey = key.content.decode().strip()
    assert vkey == get_signer().verifier_key
    r = client.get("/api/v1/log/checkpoint")
    assert r["Content-Type"].startswith("text/plain")
    origin, size, root = note.parse_checkpoint(note.verify(r.content.decode(), [vkey]))
    assert size == 6
    leaves = [e.encode() for e in Event.objects.order_by("index").values_list("entry", flat=True)]
    assert root == merkle.root(leaves)


def test_entries_are_paginated_and_give_the_leaf_input(client):
    append(12)
    data = client.get("/api/v1/log/entries?start=3&end=8").json()
    assert data["count"] == 12 and [i["index"] for i in data["items"]] == [3, 4, 5, 6, 7]
    for item in data["items"]:
        assert bytes.fromhex(item["leaf_hash"]) == merkle.leaf_hash(item["entry"].encode("utf-8"))
    assert client.get("/api/v1/log/entries?start=10&end=50").json()["items"][-1]["index"] == 11


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/log/entries?start=-1&end=3",
        "/api/v1/log/entries?start=abc",
        "/api/v1/log/proof/consistency?old=0&new=3",
        "/api/v1/log/proof/inclusion?index=-1",
    ],
)
def test_bad_parameters_give_400_with_a_french_message(client, url):
    append(5)
    r = client.get(url)
    assert r.status_code == 400, r.content
    assert r.json()["message"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/log/proof/inclusion?index=9&size=4",
        "/api/v1/log/proof/inclusion?index=0&size=99",
        "/api/v1/log/proof/inclusion",
        "/api/v1/log/proof/consistency?old=4&new=3",
        "/api/v1/log/proof/consistency?old=1&new=99",
    ],
)
def test_positions_outside_the_published_log_give_404(client, url):
    """Well-formed requests for what the log does not (yet) have: not found, with the valid range."""
    append(5)
    r = client.get(url)
    assert r.status_code == 404, r.content
    assert r.json()["error"] == "not_found" and r.json()["message"]


def test_entries_range_is_capped_not_refused(client):
    append(5)
    assert client.get("/api/v1/log/entries?start=5&end=2").json() == {"count": 5, "items": []}
    data = client.get("/api/v1/log/entries?start=0&end=5000").json()
    assert [i["index"] for i in data["items"]] == [0, 1, 2, 3, 4]


def test_proofs_over_http_verify(client):
    append(9)
    cp = client.get("/api/v1/log/checkpoint").content.decode()
    _, size, root = note.parse_checkpoint(note.note_text(cp))
    ev = Event.objects.get(index=4)
    for url in (
        f"/api/v1/log/proof/inclusion?index=4&size={size}",
        f"/api/v1/log/proof/inclusion?hash={ev.entry_hash}",
    ):
        p = client.get(url).json()
        merkle.verify_inclusion(
            bytes(ev.leaf_hash), 4, size, [bytes.fromhex(h) for h in p["proof"]], root
        )
    c = client.get("/api/v1/log/proof/consistency?old=3&new=9").json()
    merkle.verify_consistency(
        3, 9, bytes.fromhex(c["old_root"]), root, [bytes.fromhex(h) for h in c["proof"]]
    )
    assert client.get("/api/v1/log/proof/inclusion?hash=" + "0" * 64).status_code == 404


def test_proofs_for_an_explicit_size_are_immutable_others_short_lived(client):
    append(9)
    immutable = "public, max-age=31536000, immutable"
    for url in (
        "/api/v1/log/proof/inclusion?index=4&size=9",
        "/api/v1/log/proof/consistency?old=3&new=9",
    ):
        r = client.get(url)
        assert r.status_code == 200 and r["Cache-Control"] == immutable
    for url in ("/api/v1/log/proof/inclusion?index=4", "/api/v1/log/proof/consistency?old=3"):
        r = client.get(url)
        assert r.status_code == 200 and r["Cache-Control"] == "public, max-age=2"
    pinned = client.get("/api/v1/log/proof/inclusion?index=4&size=9").json()
    append(5)  # the log grows: the pinned proof is still the same, the latest one is not
    assert client.get("/api/v1/log/proof/inclusion?index=4&size=9").json() == pinned
    assert client.get("/api/v1/log/proof/inclusion?index=4").json()["size"] == 14
    r = client.get(
        "/api/v1/log/proof/inclusion?index=9&size=4"
    )  # an error is never cached for good
    assert r.status_code == 404 and r.get("Cache-Control") != immutable


def _witness(name="witness.example"):
    signer = note.CosignatureSigner(name, Ed25519PrivateKey.generate())
    return signer


def test_witness_cosignature_is_stored_and_served(client):
    append(4)
    w = _witness()
    register_witness(w.verifier_key)
    signed = client.get("/api/v1/log/checkpoint").content.decode()
    line = w.cosign(signed, 1_700_000_000)
    r = client.post("/api/v1/log/witness", data=signed + line, content_type="text/plain")
    assert r.status_code == 200, r.content
    assert r.json()[0]["timestamp"] == 1_700_000_000
    assert Cosignature.objects.count() == 1
    served = client.get("/api/v1/log/checkpoint").content.decode()
    assert line in served
    assert note.verify_cosignature(served, line, w.verifier_key) == 1_700_000_000
    # a bare signature line for the latest checkpoint is accepted too
    assert (
        client.post(
            "/api/v1/log/witness", data=w.cosign(signed, 1_700_000_001), content_type="text/plain"
        ).status_code
        == 200
    )
    assert Cosignature.objects.get().timestamp == 1_700_000_001
    page = client.get("/journal/verifiable/").content.decode()
    assert "cosigné par witness.example" in page


def test_witness_errors(client):
    append(4)
    signed = client.get("/api/v1/log/checkpoint").content.decode()
    known, unknown = _witness("known.example"), _witness("unknown.example")
    register_witness(known.verifier_key)
    assert (
        client.post(
            "/api/v1/log/witness",
            data=signed + unknown.cosign(signed, 1),
            content_type="text/plain",
        ).status_code
        == 403
    )
    # cosignature over another checkpoint (different root, same size): mismatch
    body = note.checkpoint(note.parse_checkpoint(note.note_text(signed))[0], 4, b"\x01" * 32)
    assert (
        client.post(
            "/api/v1/log/witness",
            data=body + "\n" + known.cosign(body, 1),
            content_type="text/plain",
        ).status_code
        == 409
    )
    # a valid-looking line that does not verify over the latest checkpoint
    raw = base64.b64decode(known.cosign(body, 1).split()[-1])
    assert (
        client.post(
            "/api/v1/log/witness", data=known.cosign(body, 1), content_type="text/plain"
        ).status_code
        == 409
    )
    assert len(raw) == 4 + 8 + 64
    assert (
        client.post(
            "/api/v1/log/witness", data="n'importe quoi", content_type="text/plain"
        ).status_code
        == 400
    )
    assert client.post("/api/v1/log/witness", data="", content_type="text/plain").status_code == 400
    assert Cosignature.objects.count() == 0


def test_explorer_search_and_entry_page(client):
    append(3, type="pact.signed", project="alpha")
    append(2, type="project.created", project="beta")
    page = client.get("/journal/verifiable/?project=alpha").content.decode()
    assert (
        "Dernier point de contrôle signé" in page
        and "pact.signed" in page
        and "project.created" not in page
    )
    page = client.get("/journal/verifiable/?type=project.").content.decode()
    assert "project.created" in page and "pact.signed</code>" not in page
    cp = Checkpoint.objects.order_by("-size").first()
    r = client.get("/journal/entree/1/")
    html = r.content.decode()
    assert r.status_code == 200 and "Preuve vérifiée" in html and bytes(cp.root).hex() in html
    assert "Ce qui a été prouvé" in html and "pacte log verify" in html
    assert client.get("/journal/entree/999/").status_code == 404
    assert "journal/verifiable" in client.get("/journal/").content.decode()


def test_project_page_lists_the_entries_behind_each_fact(client, active):
    from pacte.journal.services import integrate

    integrate()
    slug = active.pact.project.slug
    html = project_page(client, slug)
    assert "Preuves dans le journal vérifiable" in html
    pact_events = Event.objects.filter(project_slug=slug, subject_type="pact")
    assert pact_events.count() >= 5
    for e in pact_events:
        assert f"/journal/entree/{e.index}/" in html
