"""Keyset pages derived from a list's own order (`api_contract.keyset_of`): the evidence and
participation lists follow `next` through every row once while rows are added, and a cursor
the API did not write names no page."""

from __future__ import annotations

import pytest

from pacte.api_contract import keyset_of
from pacte.data.models import Dataset
from pacte.evidence import selectors as evidence_selectors
from pacte.participation import reuses
from pacte.participation import selectors as participation_selectors
from tests.participation.test_reuses import reuse_in

pytestmark = pytest.mark.django_db


def test_the_keyset_of_a_queryset_is_its_order_with_the_id_last_and_nulls_known():
    ks = keyset_of(participation_selectors.public_reuses())
    assert ks.order == ("-created_at", "-id") and ks.types == (str, int)
    ks = keyset_of(evidence_selectors.evaluations(None))
    assert ks.order == ("-published_at", "-created_at", "-id")
    assert ks.types == (str, str, int) and ks.nullable == frozenset({"published_at"})
    ks = keyset_of(evidence_selectors.audits())
    assert ks.order == ("-published_at", "-id") and ks.types == (str, int)


def test_reuses_follow_next_newest_first_while_reuses_are_declared(client, world, citizens):
    Dataset.objects.create(publisher=world.institution, slug="offres", title="Offres")
    for i in range(5):
        reuses.declare_reuse(citizens.alice_p, reuse_in(dataset="offres", title=f"Carte {i}"))
    every = client.get("/api/v1/reuses", {"limit": 100}).json()
    assert every["next"] is None and len(every["items"]) == 5
    page = client.get("/api/v1/reuses", {"limit": 2}).json()
    seen = [r["title"] for r in page["items"]]
    # declared while the client pages: newest first, so before the cursor, never shown
    reuses.declare_reuse(citizens.bob_p, reuse_in(dataset="offres", title="Nouvelle"))
    pages = 1
    while page["next"] is not None:
        page = client.get("/api/v1/reuses", {"limit": 2, "after": page["next"]}).json()
        seen += [r["title"] for r in page["items"]]
        pages += 1
    assert seen == [r["title"] for r in every["items"]] and pages == 3  # once each, in order
    assert page["count"] == 6  # the count is the list's, now


@pytest.mark.parametrize("url", ["/api/v1/reuses", "/api/v1/evaluations", "/api/v1/audits"])
def test_a_cursor_these_lists_did_not_write_names_no_page(client, world, url):
    for cursor in ("abc", "W10", "WzEsMl0"):
        r = client.get(url, {"after": cursor})
        assert r.status_code == 404, (url, cursor, r.content)
        assert "Curseur" in r.json()["message"]
    assert client.get(url).json()["next"] is None
