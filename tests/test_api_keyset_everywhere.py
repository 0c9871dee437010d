"""Keyset pages on every public list whose offsets grow (issue 15 item 3): funding, comptoirs,
channels, panels, experiments, algorithm sheets, compliance cases and the data lists. Over the
demo, a walk that follows `next` one row at a time sees every row of the list once, in the
list's order; a row added during the walk is seen at most once; a cursor the API did not write
names no page; and a page deep in the list costs no more queries than the whole list at once."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

LISTS = [
    "/api/v1/funding/programmes",
    "/api/v1/funding/ledger",
    "/api/v1/funding/contracts",
    "/api/v1/funding/payments",
    "/api/v1/comptoir/posts",
    "/api/v1/experts",
    "/api/v1/experts/requests",
    "/api/v1/challenges",
    "/api/v1/channels",
    "/api/v1/panels",
    "/api/v1/experiments",
    "/api/v1/algorithm-sheets",
    "/api/v1/compliance/cases",
    "/api/v1/datasets",
    "/api/v1/grants",
]


def _walk(client, url: str, limit: int = 1) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    page = client.get(url, {"limit": limit}).json()
    seen, pages = [json.dumps(i, sort_keys=True) for i in page["items"]], 1
    while page["next"] is not None:
        r = client.get(url, {"limit": limit, "after": page["next"]})
        assert r.status_code == 200, (url, r.content)
        page = r.json()
        seen += [json.dumps(i, sort_keys=True) for i in page["items"]]
        pages += 1
    return seen, pages


def test_every_list_walks_by_next_over_each_row_once_at_a_fixed_cost(client, demo_data):
    """One demo load for all the lists (loading it costs seconds)."""
    deep = 0
    for url in LISTS:
        whole = client.get(url, {"limit": 100})
        assert whole.status_code == 200, (url, whole.content)
        every = whole.json()
        assert every["next"] is None and every["count"] == len(every["items"]), url
        seen, pages = _walk(client, url)
        assert seen == [json.dumps(i, sort_keys=True) for i in every["items"]], url
        assert pages == max(len(seen), 1), url
        first = client.get(url, {"limit": 1}).json()
        if first["next"] is not None:  # a deeper page costs no more than the whole list
            deep += 1  # (related rows are fetched in bulk, per page, whatever its depth)
            with CaptureQueriesContext(connection) as whole_list:
                client.get(url, {"limit": 100})
            with CaptureQueriesContext(connection) as deeper:
                client.get(url, {"limit": 1, "after": first["next"]})
            assert len(deeper.captured_queries) <= len(whole_list.captured_queries), url
        for cursor in ("abc", "W10", "WzEsMl0"):  # a cursor this list did not write
            r = client.get(url, {"after": cursor})
            assert r.status_code == 404, (url, cursor, r.content)
            assert "Curseur" in r.json()["message"]
    assert deep >= 10  # the demo gives most lists two rows or more


def test_posts_added_during_a_walk_are_seen_at_most_once_and_the_old_ones_exactly_once(
    client, demo_data
):
    from pacte.comptoirs.models import Post

    url = "/api/v1/comptoir/posts"
    before = [i["id"] for i in client.get(url, {"limit": 100}).json()["items"]]
    page = client.get(url, {"limit": 1}).json()
    seen = [i["id"] for i in page["items"]]
    template = Post.objects.order_by("pk").first()
    assert template is not None
    added = 0
    while page["next"] is not None:
        clone = Post.objects.get(pk=template.pk)
        clone.pk, clone.created_at = None, timezone.now()  # posted now: the newest
        added += 1
        clone.save()  # newest first: before the cursor, never shown to this walk
        page = client.get(url, {"limit": 1, "after": page["next"]}).json()
        seen += [i["id"] for i in page["items"]]
    assert seen == before
    assert client.get(url).json()["count"] == len(before) + added
