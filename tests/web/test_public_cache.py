"""The public page cache is never stale: a write that appends no log event shows at once.

Transactional tests: the cache keys on the state of the database a request sees, which only means
something outside a transaction (pacte.public_cache), as in production (autocommit)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pacte import public_cache
from pacte.accounts.models import Organisation
from pacte.pacts.models import Commitment
from pacte.projects.models import Phase, PhaseKind, Project
from pacte.public_cache import CACHE_HEADER, data_state

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cache_on(settings):  # type: ignore[no-untyped-def]
    settings.PUBLIC_PAGE_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def _get(client, url: str):  # type: ignore[no-untyped-def]
    return client.get(url, headers={"HX-Request": "true"} if url.startswith("hx:") else {})


def _text(response) -> str:  # type: ignore[no-untyped-def]
    """What a reader sees, case-folded (JSON unescaped)."""
    if response["Content-Type"].startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False).casefold()
    return response.content.decode().casefold()


# -------------------------------------------------------------- writes that append no log event


def _pitch(project: Project, commitment: Commitment) -> str:
    Project.objects.filter(pk=project.pk).update(pitch="Un pitch réécrit sans événement")
    return "un pitch réécrit sans événement"


def _name(project: Project, commitment: Commitment) -> str:
    Project.objects.filter(pk=project.pk).update(name="Un nom changé sans événement")
    return "un nom changé sans événement"


def _phase(project: Project, commitment: Commitment) -> str:
    Phase.objects.create(project=project, kind=PhaseKind.CONSOLIDATION, started_on=date(2099, 1, 1))
    return "consolidation"


def _commitment(project: Project, commitment: Commitment) -> str:
    Commitment.objects.filter(pk=commitment.pk).update(status=Commitment.State.MET)
    return "status-met"


def _organisation(project: Project, commitment: Commitment) -> str:
    Organisation.objects.filter(pk=project.carrier_id).update(name="Porteurs renommés")
    return "porteurs renommés"


WRITES: dict[str, Callable[[Project, Commitment], str]] = {
    "pitch": _pitch,
    "name": _name,
    "phase": _phase,
    "commitment": _commitment,
    "organisation": _organisation,
}

# (url template, write): every pair where the write shows at that URL
CASES = [
    ("/projets/{slug}/", "pitch"),
    ("/projets/{slug}/", "phase"),
    ("/projets/{slug}/", "commitment"),
    ("/projets/{slug}/", "organisation"),
    ("/projets/{slug}/sections/journal/", "name"),
    ("/projets/", "pitch"),
    ("/projets/", "organisation"),
    ("/api/v1/projects", "pitch"),
    ("/api/v1/projects", "phase"),
]


@pytest.mark.parametrize(("url", "write"), CASES)
def test_a_write_without_log_event_shows_at_once(client, active, cache_on, url, write):  # type: ignore[no-untyped-def]
    project = active.pact.project
    commitment = active.commitments.first()
    url = url.format(slug=project.slug)
    before = client.get(url)
    assert before.status_code == 200 and before[CACHE_HEADER] == "miss"
    again = client.get(url)
    assert again[CACHE_HEADER] == "hit" and again.content == before.content  # served cached
    expected = WRITES[write](project, commitment)
    assert expected not in _text(before)
    after = client.get(url)
    assert after.status_code == 200 and expected in _text(after)
    assert after[CACHE_HEADER] == "miss"


@pytest.mark.parametrize("url", ["/projets/{slug}/", "/projets/{slug}/sections/journal/"])
def test_a_deleted_project_is_not_found_at_once(client, world, cache_on, url):  # type: ignore[no-untyped-def]
    project = world.project(name="Projet éphémère")
    url = url.format(slug=project.slug)
    assert client.get(url).status_code == 200
    assert client.get(url)[CACHE_HEADER] == "hit"
    listing = client.get("/api/v1/projects")
    assert project.slug in listing.content.decode()
    Project.objects.filter(pk=project.pk).delete()
    assert client.get(url).status_code == 404
    assert project.slug not in client.get("/api/v1/projects").content.decode()
    assert "Projet éphémère" not in client.get("/projets/").content.decode()


def test_the_api_lists_are_byte_identical_to_the_uncached_response(client, active, cache_on):  # type: ignore[no-untyped-def]
    for url in ("/api/v1/projects", "/api/v1/events", "/api/v1/events?limit=3"):
        miss, hit = client.get(url), client.get(url)
        assert (miss[CACHE_HEADER], hit[CACHE_HEADER]) == ("miss", "hit")
        with override_settings(PUBLIC_PAGE_CACHE_SECONDS=0):
            plain = client.get(url)
        assert CACHE_HEADER not in plain
        assert hit.content == plain.content == miss.content
        assert hit["Content-Type"] == plain["Content-Type"]
        for header in ("Authorization", "Cookie", "Accept-Language"):
            assert header in hit["Vary"]
        json.loads(hit.content)


def test_the_api_lists_are_not_cached_for_a_token_holder(client, world, active, cache_on):  # type: ignore[no-untyped-def]
    from pacte.accounts.services import create_api_token

    _, raw = create_api_token(world.carrier_admin.user, world.carrier, "t")
    auth = {"Authorization": f"Bearer {raw}"}
    for _ in range(2):
        assert CACHE_HEADER not in client.get("/api/v1/projects", headers=auth)
    assert (
        client.get("/api/v1/projects", headers={"Authorization": "Bearer faux"}).status_code == 401
    )


def test_the_openapi_document_is_unchanged_by_the_cache(client, db):  # type: ignore[no-untyped-def]
    with override_settings(PUBLIC_PAGE_CACHE_SECONDS=60):
        on = client.get("/api/v1/openapi.json").json()
    projects = on["paths"]["/api/v1/projects"]["get"]
    events = on["paths"]["/api/v1/events"]["get"]
    assert [p["name"] for p in projects["parameters"]] == [
        "q",
        "status",
        "institution",
        "principle",
        "territory",
        "limit",
        "offset",
        "after",
    ]
    assert {p["name"] for p in events["parameters"]} == {
        "type",
        "project",
        "limit",
        "offset",
        "after",
    }


def test_no_cached_page_carries_a_csp_nonce_or_a_form_token(client, active, cache_on):  # type: ignore[no-untyped-def]
    slug = active.pact.project.slug
    urls = [
        "/",
        "/projets/",
        f"/projets/{slug}/",
        f"/projets/{slug}/sections/journal/",
        "hx:" + f"/projets/{slug}/sections/journal/",
        f"/projets/{slug}/evenements/",
        f"/pactes/{active.pact.reference}/v{active.number}/",
        "/api/v1/projects",
        "/api/v1/events",
    ]
    cached = 0
    for url in urls:
        _get(client, url)
        r = _get(client, url)
        if r.get(CACHE_HEADER) == "hit":
            cached += 1
            body = r.content.decode()
            assert "nonce=" not in body and "csrfmiddlewaretoken" not in body, url
            assert not r.cookies, url
    assert cached >= 6  # the public pages above are cached


def test_a_page_with_a_form_token_is_not_cached(client, db, cache_on):  # type: ignore[no-untyped-def]
    """The sign-in page carries a CSRF token (this visitor's): never stored."""
    for _ in range(2):
        r = client.get("/connexion/")
        assert r.status_code == 200 and CACHE_HEADER not in r


def test_no_key_inside_a_transaction(db):  # type: ignore[no-untyped-def]
    from django.db import transaction

    assert data_state() is not None
    with transaction.atomic():
        assert data_state() is None


def test_the_key_moves_with_every_commit_and_only_then(db):  # type: ignore[no-untyped-def]
    first = data_state()
    assert data_state() == first  # reads move nothing
    Project.objects.count()
    assert data_state() == first

    def other_connection() -> None:
        try:
            Organisation.objects.update(name="Écrit par une autre connexion")
        finally:
            connections.close_all()

    Organisation.objects.create(slug="une-org", name="Une organisation")
    own = data_state()
    assert own != first  # this connection's own write
    writer = threading.Thread(target=other_connection)
    writer.start()
    writer.join()
    assert data_state() not in (first, own)  # another connection's commit


def test_a_commit_between_the_key_and_the_render_never_serves_a_stale_page(  # type: ignore[no-untyped-def]
    client, active, cache_on, monkeypatch
):
    """Another connection commits after the key is read and before the view renders: the page is
    rendered from the newer data and stored under the older key, which no later request computes."""
    project = active.pact.project
    url = f"/projets/{project.slug}/"
    keys: list[str | None] = []
    committed = threading.Event()
    read = public_cache.data_state

    def commit_elsewhere() -> None:
        try:
            Project.objects.filter(pk=project.pk).update(pitch="Écrit entre la clé et le rendu")
            committed.set()
        finally:
            connections.close_all()

    def key_then_commit(conn=connection):  # type: ignore[no-untyped-def]
        state = read(conn)
        keys.append(state)
        if len(keys) == 1:
            writer = threading.Thread(target=commit_elsewhere)
            writer.start()
            writer.join()
        return state

    monkeypatch.setattr(public_cache, "data_state", key_then_commit)
    first = client.get(url)
    assert committed.is_set() and first[CACHE_HEADER] == "miss"
    assert "Écrit entre la clé et le rendu" in first.content.decode()  # newer than its key
    second = client.get(url)
    assert keys[1] != keys[0]  # the commit moved the state past the first key
    assert second[CACHE_HEADER] == "miss"
    Project.objects.filter(pk=project.pk).update(pitch="Et encore après")
    assert "Et encore après" in client.get(url).content.decode()


# -------------------------------------------------------------- random writes and reads vs an oracle

READS = (
    "/projets/{slug}/",
    "/projets/{slug}/sections/journal/",
    "hx:/projets/{slug}/sections/journal/",
    "/projets/",
    "/api/v1/projects",
    "/api/v1/events",
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.sampled_from(READS)),
        st.tuples(st.just("write"), st.sampled_from(sorted(WRITES) + ["rename_again"])),
    ),
    min_size=4,
    max_size=14,
)


@pytest.mark.django_db(transaction=True)
def test_cached_responses_equal_an_uncached_render_under_random_writes(client, active, settings):  # type: ignore[no-untyped-def]
    project = active.pact.project
    commitment = active.commitments.first()
    counter = iter(range(10**6))
    hits: list[str] = []

    @hypothesis_settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(STEPS)
    def run(steps: list[tuple[str, str]]) -> None:
        settings.PUBLIC_PAGE_CACHE_SECONDS = 60
        cache.clear()
        for kind, what in steps:
            if kind == "write":
                if what == "rename_again":  # a value never seen before
                    Project.objects.filter(pk=project.pk).update(pitch=f"Pitch {next(counter)}")
                else:
                    WRITES[what](project, commitment)
                continue
            url = what.format(slug=project.slug)
            r = _get(client, url)
            if r.get(CACHE_HEADER) == "hit":
                hits.append(url)
            with override_settings(PUBLIC_PAGE_CACHE_SECONDS=0):
                oracle = _get(client, url)  # the view itself, cache off
            assert (r.status_code, r.content) == (oracle.status_code, oracle.content), url

    run()
    assert hits  # the comparison did meet cached responses
