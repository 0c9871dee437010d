"""A page of an API list costs a fixed number of queries, whatever the number of items on it."""

from __future__ import annotations

import pytest

from pacte.evidence import evaluations, panels
from tests.evidence.conftest import REFERENCE, evaluator, project  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

# url → most queries for a full page (the count, the page, what each item needs, batched)
BUDGET = {
    "/api/v1/projects": 2,
    "/api/v1/pacts": 2,
    "/api/v1/pacts/commitments": 2,
    "/api/v1/events": 2,
    "/api/v1/evaluations": 2,
    "/api/v1/audits": 2,
    "/api/v1/panels": 3,
}


def _more(world, project, evaluator, n):  # type: ignore[no-untyped-def]  # noqa: F811
    from pacte.pacts.drafting import create_pact

    for i in range(n):
        p = world.project(name=f"Projet {i}")
        create_pact(world.carrier_admin, p, world.institution, {})
        ev = evaluations.create_evaluation(evaluator, project, title=f"Essai {i}", counts=REFERENCE)
        evaluations.publish_evaluation(evaluator, ev)
        panels.open_panel_call(
            world.reviewer, project, title=f"Panel {i}", target_size=4, targets={"16-25": 4}
        )


@pytest.mark.parametrize("url", sorted(BUDGET))
def test_list_pages_cost_a_fixed_number_of_queries(
    client,
    world,
    project,  # noqa: F811  (the fixture imported above)
    evaluator,  # noqa: F811
    url,
    django_assert_max_num_queries,
):
    _more(world, project, evaluator, 2)
    with django_assert_max_num_queries(BUDGET[url]):
        small = client.get(url)
    _more(world, project, evaluator, 6)
    with django_assert_max_num_queries(BUDGET[url]):
        large = client.get(url)
    assert small.status_code == large.status_code == 200
    assert large.json()["count"] >= small.json()["count"]


def test_project_list_items_match_the_project_pages(client, world, active):
    """The light rows of the API list say what the detailed view says (pacts, versions, phase)."""
    from pacte.pacts.drafting import create_pact

    create_pact(
        world.carrier_admin, world.project(name="Autre"), world.institution, {}
    )  # a private draft
    listed = {p["slug"]: p for p in client.get("/api/v1/projects?limit=100").json()["items"]}
    for slug, item in listed.items():
        detail = client.get(f"/api/v1/projects/{slug}").json()
        assert item == {k: detail[k] for k in item}, slug


def test_the_project_count_is_the_whole_list_on_every_page(client, world):
    """The first page reads its count with its rows (COUNT(*) OVER ()); a page after a cursor,
    past the end or behind a filter that joins pacts still says the count of the whole list."""
    from pacte.pacts.drafting import create_pact
    from pacte.pacts.models import PactVersion, Status
    from pacte.projects.models import Project

    for i in range(5):
        version = create_pact(
            world.carrier_admin, world.project(name=f"Compté {i}"), world.institution, {}
        )
        if i < 3:
            PactVersion.objects.filter(pk=version.pk).update(status=Status.ACTIVE)
    total = Project.objects.count()
    first = client.get("/api/v1/projects", {"limit": 2}).json()
    assert first["count"] == total and len(first["items"]) == 2
    second = client.get("/api/v1/projects", {"limit": 2, "after": first["next"]}).json()
    assert second["count"] == total and second["items"][0] != first["items"][-1]
    past = client.get("/api/v1/projects", {"limit": 2, "offset": total + 5}).json()
    assert past == {"count": total, "items": [], "next": None}
    # a filter through the pacts (a DISTINCT list): counted apart, the same count as the list
    every = client.get("/api/v1/projects", {"limit": 100}).json()["items"]
    with_active = [p for p in every if any(x["status"] == "active" for x in p["pacts"])]
    active = client.get("/api/v1/projects", {"status": "active", "limit": 1}).json()
    assert active["count"] == len(with_active) >= 3 and len(active["items"]) == 1
