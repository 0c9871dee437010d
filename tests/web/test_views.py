from __future__ import annotations

import pytest
from django.test import override_settings

from pacte.pacts import drafting as pact_drafting
from pacte.pacts import sanctions as pact_sanctions
from pacte.pacts.models import PactVersion, Status
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, acting):  # type: ignore[no-untyped-def]
    client.force_login(acting.user)


def test_public_pages_need_no_account(client, active):
    ref = active.pact.reference
    slug = active.pact.project.slug
    for url in [
        "/",
        "/projets/",
        f"/projets/{slug}/",
        f"/pactes/{ref}/v1/",
        "/journal/",
        f"/organisations/{active.pact.institution.slug}/",
    ]:
        r = client.get(url)
        assert r.status_code == 200, url
        assert b'lang="fr"' in r.content and b'class="skip-link"' in r.content
    page = client.get(f"/projets/{slug}/").content.decode()
    assert "Signature valide" in page and "Engagements de l'institution" in page


def test_canonical_text_download_matches_signed_hash(client, active):
    import hashlib

    r = client.get(f"/pactes/{active.pact.reference}/v1/canonique.json")
    assert hashlib.sha256(r.content).hexdigest() == active.canonical_sha256


def test_registry_filters_and_empty_state(client, active):
    assert "1 projet trouvé" in client.get("/projets/?status=active").content.decode()
    r = client.get("/projets/?q=zzz").content.decode()
    assert "Aucun projet ne correspond" in r


def test_draft_is_hidden_from_the_public(client, draft):
    assert client.get(f"/pactes/{draft.pact.reference}/v1/").status_code == 404


def test_login_page_errors_and_throttling(client, world):
    r = client.post(
        "/connexion/", {"login": world.carrier_admin.user.username, "password": "bad password!!"}
    )
    assert r.status_code == 401 and "incorrect" in r.content.decode()
    with override_settings(AXES_FAILURE_LIMIT=1):
        r = client.post(
            "/connexion/", {"login": world.carrier_admin.user.username, "password": PASSWORD}
        )
        assert r.status_code == 429
    r = client.post("/connexion/", {"login": world.reviewer.user.username, "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/espace/"


def test_dashboard_shows_review_queue_with_clock(client, world, draft):
    from pacte.pacts import drafting as pact_drafting

    pact_drafting.submit(world.carrier_admin, draft)
    login(client, world.reviewer)
    from html import unescape

    page = unescape(client.get("/espace/").content.decode())
    # the reviewer holds the ball: the pact is in "À vous d'agir", with its clock
    turn = page[page.index("À vous d'agir") : page.index("En attente d'une autre partie")]
    assert draft.pact.reference in turn and "0 jour" in turn
    # the carrier waits for the institution
    login(client, world.carrier_admin)
    page = unescape(client.get("/espace/").content.decode())
    others = page[page.index("En attente d'une autre partie") :]
    assert draft.pact.reference in others and "à l'institution" in others


def test_back_office_requires_login(client, db):
    r = client.get("/espace/")
    assert r.status_code == 302 and "/connexion/" in r["Location"]


def test_edit_form_shows_inline_errors_on_submit(client, world, draft):
    from tests.web.editor_data import editor_data

    login(client, world.carrier_admin)
    url = f"/espace/pactes/{draft.pact.reference}/v1/modifier/"
    r = client.get(url)
    assert r.status_code == 200
    data = editor_data(r)
    data["principles"] = ["continuity"]
    data["impact_outcome"] = "Nombre de pages vues"
    data.update({"c-TOTAL_FORMS": "0", "c-INITIAL_FORMS": "0", "submit": "1"})
    r = client.post(url, data)
    assert r.status_code == 422
    html = r.content.decode()
    assert "mesure d&#x27;audience" in html and "Principes obligatoires manquants" in html
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_edit_form_round_trip_and_submit(client, world, draft):
    from tests.web.editor_data import editor_data

    login(client, world.carrier_admin)
    url = f"/espace/pactes/{draft.pact.reference}/v1/modifier/"
    r = client.get(url)
    data = {**editor_data(r), "submit": "1"}
    r = client.post(url, data)
    assert r.status_code == 302, r.context["form"].errors if r.context else r
    assert PactVersion.objects.get(pk=draft.pk).status == Status.SUBMITTED


def test_action_buttons_and_negative_reason(client, world, draft):

    pact_drafting.submit(world.carrier_admin, draft)
    login(client, world.reviewer)
    page = client.get(f"/pactes/{draft.pact.reference}/v1/").content.decode()
    assert 'data-action="approve"' in page and 'data-action="request_changes"' in page
    r = client.post(
        f"/espace/pactes/{draft.pact.reference}/v1/request_changes/", {"reason": ""}, follow=True
    )
    assert "Un motif écrit est obligatoire" in r.content.decode()
    client.post(f"/espace/pactes/{draft.pact.reference}/v1/approve/", {"reason": ""})
    assert PactVersion.objects.get(pk=draft.pk).status == Status.APPROVED


def test_unknown_page_is_a_french_404(client, db):
    r = client.get("/pas-de-page/")
    assert r.status_code == 404 and "n&#x27;existe pas" in r.content.decode()


def test_switching_organisation(client, world):
    from pacte.accounts.services import add_member

    add_member(world.carrier_admin.user, world.other_institution, ["reviewer"])
    login(client, world.carrier_admin)
    r = client.post(
        "/espace/organisation/", {"organisation": world.other_institution.pk}, follow=True
    )
    assert r.context["acting"].organisation == world.other_institution
    r = client.post("/espace/organisation/", {"organisation": world.institution.pk})
    assert r.status_code == 403


def test_api_token_page_shows_token_once(client, world):
    login(client, world.carrier_admin)
    r = client.post("/espace/jetons/", {"name": "mon script"})
    raw = r.context["raw"]
    assert raw and raw in r.content.decode()
    assert raw not in client.get("/espace/jetons/").content.decode()


def test_registry_list_costs_a_fixed_number_of_queries(client, world, active):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/projets/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(8):
        world.project(name=f"Projet {i}")
    assert count() == few  # no query per project (N+1)
    with CaptureQueriesContext(connection) as ctx:
        client.get("/api/v1/projects?limit=20")
    api_many = len(ctx.captured_queries)
    world.project(name="Encore un")
    with CaptureQueriesContext(connection) as ctx:
        client.get("/api/v1/projects?limit=20")
    assert len(ctx.captured_queries) == api_many


@pytest.mark.django_db(transaction=True)  # the cache keys on committed state (pacte.public_cache)
def test_public_pages_are_cached_until_the_next_public_event(client, world, active, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 60
    url = f"/projets/{active.pact.project.slug}/"
    first = client.get(url).content.decode()
    assert "Manquement notifié" not in first
    again = client.get(url)
    assert again.content.decode() == first and again["X-Pacte-Cache"] == "hit"  # served again
    pact_sanctions.notify_breach(world.reviewer, active, "Audit de biais non publié.")
    after = client.get(url).content.decode()
    assert "Manquement notifié" in after  # the new log entry made the cached page stale


def test_language_switch_by_get_sets_the_cookie_and_stays_on_site(client, db):
    r = client.get("/langue/?language=en&next=/projets/")
    assert (
        r.status_code == 302
        and r["Location"] == "/projets/"
        and r.cookies["django_language"].value == "en"
    )
    assert 'lang="en"' in client.get("/projets/").content.decode()
    r = client.get("/langue/?language=fr&next=https://evil.example/")
    assert r["Location"] == "/"
