"""Keyset pagination of the lists that grow without bound: `next` cursors walk the whole list
once, in order, at a fixed cost in queries, and stay right while the list grows."""

from __future__ import annotations

import pytest

from pacte.journal.services import SYSTEM, NewEvent, record_events

pytestmark = pytest.mark.django_db


def _walk(client, url: str, limit: int, **filters: str) -> tuple[list[dict], int]:  # type: ignore[no-untyped-def]
    items, pages = [], 0
    page = client.get(url, {"limit": limit, **filters}).json()
    while True:
        pages += 1
        items += page["items"]
        if page["next"] is None:
            return items, pages
        page = client.get(url, {"limit": limit, "after": page["next"], **filters}).json()


def test_projects_follow_next_through_every_project_once_in_name_order(client, world):
    for name in ("Delta", "alpha", "Charlie", "Bravo", "Echo", "Alpha"):
        world.project(name=name)
    by_offset = client.get("/api/v1/projects", {"limit": 100}).json()
    items, pages = _walk(client, "/api/v1/projects", 2)
    assert [p["slug"] for p in items] == [p["slug"] for p in by_offset["items"]]
    assert pages == 3 and by_offset["count"] == len(items) == 6
    assert by_offset["next"] is None


def test_a_cursor_stays_right_when_rows_are_added_before_it(client, world):
    for name in ("B", "C", "D", "E"):
        world.project(name=name)
    first = client.get("/api/v1/projects", {"limit": 2}).json()
    assert [p["name"] for p in first["items"]] == ["B", "C"]
    world.project(name="A")  # sorts before the page already read: offset 2 would repeat C
    second = client.get("/api/v1/projects", {"limit": 2, "after": first["next"]}).json()
    assert [p["name"] for p in second["items"]] == ["D", "E"]
    assert second["count"] == 5


def test_events_follow_next_newest_first_and_count_from_the_log_size(client):
    record_events(NewEvent("x.a" if i % 2 else "y.b", SYSTEM, "t", i, {"i": i}) for i in range(11))
    items, pages = _walk(client, "/api/v1/events", 3)
    assert [e["index"] for e in items] == list(range(10, -1, -1))
    assert pages == 4
    assert client.get("/api/v1/events").json()["count"] == 11
    typed, _ = _walk(client, "/api/v1/events", 2, type="x.")
    assert [e["index"] for e in typed] == [9, 7, 5, 3, 1]
    assert client.get("/api/v1/events", {"type": "x."}).json()["count"] == 5


@pytest.mark.parametrize(
    "cursor", ["abc", "W10", "eyJhIjoxfQ", "WzEsMl0", "WyJhIiwiYiJd", "WzEuNV0"]
)
def test_a_cursor_the_api_did_not_write_names_no_page(client, world, cursor):
    world.project(name="Seul")
    for url in ("/api/v1/projects", "/api/v1/events"):
        r = client.get(url, {"after": cursor})
        assert r.status_code == 404, (url, cursor, r.content)
        body = r.json()
        assert body["error"] and "Curseur" in body["message"]


def test_a_keyset_page_costs_the_same_queries_deep_in_the_list(
    client, world, django_assert_max_num_queries
):
    for i in range(12):
        world.project(name=f"Projet {i:02d}")
    record_events(NewEvent("x.a", SYSTEM, "t", i, {"i": i}) for i in range(40))
    for url, budget in (("/api/v1/projects", 3), ("/api/v1/events", 2)):  # count, page, pacts
        page = client.get(url, {"limit": 3}).json()
        for _ in range(3):
            with django_assert_max_num_queries(budget):
                page = client.get(url, {"limit": 3, "after": page["next"]}).json()
            assert len(page["items"]) == 3


def _public_pacts(world, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """``n`` pacts whose current version is public (signed), newest last."""
    from pacte.pacts import drafting as pact_drafting
    from pacte.pacts.models import PactVersion, Status

    references = []
    for i in range(n):
        project = world.project(name=f"Projet pacte {i}")
        version = pact_drafting.create_pact(world.carrier_admin, project, world.institution, {})
        PactVersion.objects.filter(pk=version.pk).update(status=Status.ACTIVE)
        references.append(version.pact.reference)
    return references


def test_pacts_follow_next_newest_first_and_stay_right_while_pacts_are_added(client, world):
    made = _public_pacts(world, 5)
    by_offset = client.get("/api/v1/pacts", {"limit": 100}).json()
    items, pages = _walk(client, "/api/v1/pacts", 2)
    assert [p["reference"] for p in items] == [p["reference"] for p in by_offset["items"]]
    assert [p["reference"] for p in items] == made[::-1] and pages == 3
    assert by_offset["next"] is None
    # rows added while a client walks the list: the cursor neither repeats nor skips a pact
    first = client.get("/api/v1/pacts", {"limit": 2}).json()
    newer = _public_pacts(world, 2)  # newest first: they sort before the page already read
    seen = [p["reference"] for p in first["items"]]
    page = first
    while page["next"] is not None:
        page = client.get("/api/v1/pacts", {"limit": 2, "after": page["next"]}).json()
        seen += [p["reference"] for p in page["items"]]
    assert seen == made[::-1]  # every pact that existed when the walk began, once, in order
    assert page["count"] == 7 and not set(newer) & set(seen)
    r = client.get("/api/v1/pacts", {"after": "abc"})
    assert r.status_code == 404 and "Curseur" in r.json()["message"]


def test_commitments_follow_next_soonest_first_nulls_last_while_commitments_are_added(
    client, active
):
    """A nullable due date: the list puts commitments without one last (on both databases), and a
    cursor on either side of the NULLs neither repeats nor skips a commitment."""
    from datetime import date

    from pacte.pacts.models import Commitment

    version = active

    def add(key: str, due: date | None) -> None:
        Commitment.objects.create(version=version, key=key, owner="carrier", text=key, due_date=due)

    for i, due in enumerate([date(2030, 1, 2), None, date(2030, 1, 1), None, date(2030, 1, 2)]):
        add(f"k{i}", due)
    every = client.get("/api/v1/pacts/commitments", {"limit": 100}).json()
    assert every["next"] is None
    dues = [c["due_date"] for c in every["items"]]
    dated = [d for d in dues if d is not None]
    assert dues == dated + [None] * (len(dues) - len(dated)) and dated == sorted(dated)
    walked, pages = _walk(client, "/api/v1/pacts/commitments", 2)
    assert [(c["pact"], c["key"]) for c in walked] == [
        (c["pact"], c["key"]) for c in every["items"]
    ]
    assert pages == -(-len(walked) // 2)
    # commitments added while a client walks the list, before and after its cursor, dated or not
    page = client.get("/api/v1/pacts/commitments", {"limit": 3}).json()
    seen = [c["key"] for c in page["items"]]
    add("avant", date(2000, 1, 1))  # sorts before the pages already read: never shown
    add("apres", date(2099, 1, 1))  # after the cursor, before the NULLs: shown once
    add("sans-date", None)  # the newest id: last of the NULLs, shown once
    while page["next"] is not None:
        page = client.get("/api/v1/pacts/commitments", {"limit": 3, "after": page["next"]}).json()
        seen += [c["key"] for c in page["items"]]
    keys = [c["key"] for c in every["items"]]
    assert len(seen) == len(set(seen)) == len(keys) + 2
    assert "avant" not in seen and seen[-1] == "sans-date"
    assert [k for k in seen if k not in ("apres", "sans-date")] == keys
    r = client.get("/api/v1/pacts/commitments", {"after": "abc"})
    assert r.status_code == 404 and "Curseur" in r.json()["message"]
