"""The uncached project page: its log sections are paged (only what it shows is loaded) and its
cost in queries does not grow with the project's history (no N+1)."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from pacte.journal.models import Event
from pacte.journal.services import SYSTEM, NewEvent, record_events
from pacte.pacts import drafting as pact_drafting

pytestmark = pytest.mark.django_db

# 29 after the merges of session 4; 24 since the page reads the project with its pacts, versions
# and phases once (no section reads them again), the channel standings read only this project's
# pacts and the breaches of both sides come in one query. The test also asserts the count does
# not grow with history.
PROJECT_PAGE_QUERIES = 24


def _history(slug: str, n: int, start: int = 0) -> None:
    record_events(
        NewEvent("x.fait", SYSTEM, "fait", f"f{(start + i) % 7}", {"i": start + i}, slug)
        for i in range(n)
    )


def _page(client, url, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(PROJECT_PAGE_QUERIES) as ctx:
        r = client.get(url)
    assert r.status_code == 200
    return r.content.decode(), len(ctx.captured_queries)


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
    # only one page of the project's events is rendered, newest first, each with its entry
    shown = [int(i) for i in re.findall(r"<code>#(\d+)</code>", html)]
    newest = list(
        Event.objects.filter(project_slug=project.slug)
        .order_by("-index")
        .values_list("index", flat=True)[:10]
    )
    assert shown == newest
    # the proofs section shows the newest 20 entries, and points to the explorer for the rest
    proofs = {int(i) for i in re.findall(r'href="/journal/entree/(\d+)/"', html)}
    assert proofs == set(
        Event.objects.filter(project_slug=project.slug)
        .order_by("-index")
        .values_list("index", flat=True)[:20]
    )
    assert f"/journal/verifiable/?project={project.slug}" in html


@override_settings(PUBLIC_PAGE_CACHE_SECONDS=0)
def test_project_page_pages_through_its_events_by_keyset(
    client, active, django_assert_max_num_queries
):
    project = active.pact.project
    _history(project.slug, 25)
    every = list(
        Event.objects.filter(project_slug=project.slug)
        .order_by("-index")
        .values_list("index", flat=True)
    )
    url, seen = f"/projets/{project.slug}/", []
    while True:
        html, _ = _page(client, url, django_assert_max_num_queries)
        seen += [int(i) for i in re.findall(r"<code>#(\d+)</code>", html)]
        older = re.search(r'href="\?avant=(\d+)#h-events"', html)
        if older is None:
            break
        url = f"/projets/{project.slug}/?avant={older.group(1)}"
    assert seen == every  # every event once, in order, no page overlapping another
    # a malformed cursor is the first page, never an error
    html, _ = _page(client, f"/projets/{project.slug}/?avant=abc", django_assert_max_num_queries)
    assert [int(i) for i in re.findall(r"<code>#(\d+)</code>", html)] == every[:10]
