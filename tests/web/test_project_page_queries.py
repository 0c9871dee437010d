"""The uncached project page and its lazy sections: the page loads only its pacts and its first
section, each other section is its own page (a fragment for htmx), the log section is paged by
keyset, and none of them costs more queries as the project's history grows (no N+1)."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from pacte.journal.models import Event
from pacte.journal.services import SYSTEM, NewEvent, record_events
from pacte.pacts import drafting as pact_drafting
from pacte.web.project_sections import PROJECT_SECTIONS
from tests.project_page import fragment, section_urls

pytestmark = pytest.mark.django_db

# 24 when every section was rendered with the page (29 after the merges of session 4, 31 on the
# demo); 7 when the sections other than the first loaded from their own URL; 5 since every section
# does (issue 15 item 3): the project (1), its visible versions with their pacts (1), the
# signatures and the commitments of the shown versions (2, whatever the number of pacts), its
# phases (1).
PROJECT_PAGE_QUERIES = 5
# each section alone, the project read once included (on the demo: data 3, channels 13, where
# channels consider the project's pacts and read its evidence, coverage and listings)
FRAGMENT_QUERIES = {
    "data": 2,
    "journal": 2,
    "evidence": 9,
    "channels": 7,
    "participation": 3,
    "evenements": 2,
}


def _history(slug: str, n: int, start: int = 0) -> None:
    record_events(
        NewEvent("x.fait", SYSTEM, "fait", f"f{(start + i) % 7}", {"i": start + i}, slug)
        for i in range(n)
    )


def _page(client, url, django_assert_max_num_queries, budget=PROJECT_PAGE_QUERIES, **headers):  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(budget) as ctx:
        r = client.get(url, headers=headers)
    assert r.status_code == 200, (url, r.status_code)
    return r.content.decode(), len(ctx.captured_queries)


def _fragments(slug: str) -> dict[str, str]:
    urls = {name: f"/projets/{slug}/sections/{name}/" for name in PROJECT_SECTIONS.names()}
    return urls | {"evenements": f"/projets/{slug}/evenements/"}


@override_settings(PUBLIC_PAGE_CACHE_SECONDS=0)
def test_project_page_costs_the_same_queries_whatever_its_history(
    client, world, active, django_assert_max_num_queries
):
    project = active.pact.project
    url = f"/projets/{project.slug}/"
    _history(project.slug, 3)
    _, few = _page(client, url, django_assert_max_num_queries)
    # more log entries, another pact with its own events: the same number of queries
    pact_drafting.create_pact(world.carrier_admin, project, world.other_institution, {})
    _history(project.slug, 300, start=3)
    html, many = _page(client, url, django_assert_max_num_queries)
    assert many == few  # not one query per entry, per subject or per private pact
    # no log entry is rendered with the page: the log sections are announced, loaded apart
    assert "<code>#" not in html and "/journal/entree/" not in html
    assert section_urls(html) == [
        f"/projets/{project.slug}/sections/{name}/" for name in PROJECT_SECTIONS.lazy_names()
    ] + [f"/projets/{project.slug}/evenements/"]


@override_settings(PUBLIC_PAGE_CACHE_SECONDS=0)
def test_each_section_alone_costs_the_same_queries_whatever_the_history(
    client, world, active, django_assert_max_num_queries
):
    project = active.pact.project
    _history(project.slug, 3)
    urls = _fragments(project.slug)
    few = {
        name: _page(client, url, django_assert_max_num_queries, FRAGMENT_QUERIES[name])[1]
        for name, url in urls.items()
    }
    pact_drafting.create_pact(world.carrier_admin, project, world.other_institution, {})
    _history(project.slug, 300, start=3)
    for name, url in urls.items():
        # as htmx asks for it (the body alone) and as a page of its own: the same queries
        for headers in ({"HX-Request": "true"}, {}):
            body, many = _page(
                client, url, django_assert_max_num_queries, FRAGMENT_QUERIES[name], **headers
            )
            assert many == few[name], name
            assert ("<html" in body) is not bool(headers), name


@override_settings(PUBLIC_PAGE_CACHE_SECONDS=0)
def test_the_proofs_section_shows_the_newest_entries_and_points_to_the_explorer(client, active):
    project = active.pact.project
    _history(project.slug, 40)
    html = fragment(client, f"/projets/{project.slug}/sections/journal/")
    proofs = {int(i) for i in re.findall(r'href="/journal/entree/(\d+)/"', html)}
    assert proofs == set(
        Event.objects.filter(project_slug=project.slug)
        .order_by("-index")
        .values_list("index", flat=True)[:20]
    )
    assert f"/journal/verifiable/?project={project.slug}" in html


@override_settings(PUBLIC_PAGE_CACHE_SECONDS=0)
def test_the_events_section_pages_through_its_events_by_keyset_while_events_arrive(
    client, active, django_assert_max_num_queries
):
    project = active.pact.project
    _history(project.slug, 25)
    every = list(
        Event.objects.filter(project_slug=project.slug)
        .order_by("-index")
        .values_list("index", flat=True)
    )
    first = f"/projets/{project.slug}/evenements/"
    # the section in the page: the newest 10 entries, and a link to the older ones
    body, _ = _page(client, first, django_assert_max_num_queries, 2, **{"HX-Request": "true"})
    assert [int(i) for i in re.findall(r"<code>#(\d+)</code>", body)] == every[:10]
    url, seen, pages = first, [], 0
    while True:
        html, _ = _page(client, url, django_assert_max_num_queries, 2)
        pages += 1
        seen += [int(i) for i in re.findall(r"<code>#(\d+)</code>", html)]
        if pages == 1:  # entries logged while the reader pages: no repeat, no gap
            _history(project.slug, 7, start=25)
        older = re.search(rf'href="{first}\?avant=(\d+)" rel="next"', html)
        if older is None:
            break
        url = f"{first}?avant={older.group(1)}"
    assert seen == every  # every event once, in order, no page overlapping another
    assert pages == -(-len(every) // 10)
    # a malformed cursor is the first page, never an error
    html, _ = _page(client, f"{first}?avant=abc", django_assert_max_num_queries, 2)
    newest = list(
        Event.objects.filter(project_slug=project.slug)
        .order_by("-index")
        .values_list("index", flat=True)[:10]
    )
    assert [int(i) for i in re.findall(r"<code>#(\d+)</code>", html)] == newest


@override_settings(PUBLIC_PAGE_CACHE_SECONDS=0)
def test_each_public_pact_is_shown_with_no_query_of_its_own(
    client, world, active, django_assert_max_num_queries
):
    """Versions, signatures and commitments are read for all the shown pacts at once: a second
    public pact adds its section to the page, not a query; a private draft is not shown."""
    from pacte.pacts.models import PactVersion, Status

    project = active.pact.project
    url = f"/projets/{project.slug}/"
    _, one = _page(client, url, django_assert_max_num_queries)
    draft = pact_drafting.create_pact(world.carrier_admin, project, world.other_institution, {})
    html, with_draft = _page(client, url, django_assert_max_num_queries)
    assert draft.pact.reference not in html and with_draft == one
    PactVersion.objects.filter(pk=draft.pk).update(status=Status.ACTIVE)
    html, two = _page(client, url, django_assert_max_num_queries)
    assert two == one
    assert f'id="pact-{active.pact.reference}"' in html
    assert f'id="pact-{draft.pact.reference}"' in html
    assert html.count("Tableau des engagements") == 2
