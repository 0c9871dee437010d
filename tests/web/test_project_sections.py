"""The project page's sections: an explicit registry filled once at start-up, in page order; the
first rendered with the page, the others announced and served at their own URL (a page without
JavaScript, a fragment for htmx)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from pacte.web.project_sections import PROJECT_SECTIONS, ProjectSections
from tests.project_page import fragment, project_page, section_urls


def test_the_domains_sections_are_registered_once_at_start_up_in_page_order():
    from django.apps import apps

    assert PROJECT_SECTIONS.names() == ("data", "journal", "evidence", "channels", "participation")
    apps.get_app_config("web").ready()  # a second ready() adds nothing
    assert PROJECT_SECTIONS.names() == ("data", "journal", "evidence", "channels", "participation")


def test_a_registry_keeps_order_leaves_out_empty_sections_and_refuses_a_name_twice():
    registry = ProjectSections()
    calls: list[tuple[str, Any, Any]] = []

    def first(project: Any, acting: Any) -> dict[str, Any]:
        calls.append(("first", project, acting))
        return {"title": "Un", "template": "t1.html", "context": {}}

    def nothing(project: Any, acting: Any) -> None:
        calls.append(("nothing", project, acting))
        return None

    def last(project: Any, acting: Any) -> dict[str, Any]:
        return {"title": "Deux", "template": "t2.html", "context": {"n": 2}}

    registry.register("first", first)
    registry.register("nothing", nothing)
    registry.register("last", last)
    assert [s["title"] for s in registry.render("projet", "acteur")] == ["Un", "Deux"]
    assert [s["name"] for s in registry.render("projet", "acteur")] == ["first", "last"]
    assert calls == [("first", "projet", "acteur"), ("nothing", "projet", "acteur")] * 2
    with pytest.raises(ValueError, match="already registered"):
        registry.register("first", last)
    registry.unregister("nothing")
    assert registry.names() == ("first", "last")
    with pytest.raises(KeyError):
        registry.unregister("nothing")


def test_a_lazy_section_is_announced_with_its_title_and_rendered_only_alone():
    registry = ProjectSections()
    calls: list[str] = []

    def eager(project: Any, acting: Any) -> dict[str, Any]:
        calls.append("eager")
        return {"title": "Tout de suite", "template": "t1.html", "context": {}}

    def later(project: Any, acting: Any) -> dict[str, Any] | None:
        calls.append(f"later:{acting}")
        return (
            None
            if project == "vide"
            else {"title": "Plus tard", "template": "t.html", "context": {}}
        )

    registry.register("eager", eager)
    registry.register("later", later, title="Titre annoncé", lazy=True)
    assert registry.render("projet", None) == [
        {"name": "eager", "title": "Tout de suite", "template": "t1.html", "context": {}},
        {"name": "later", "title": "Titre annoncé", "lazy": True},
    ]
    assert calls == ["eager"]  # the lazy provider is not called with the page
    assert registry.lazy_names() == ("later",)
    title, section = registry.render_one("later", "projet", "acteur")
    assert (title, section and section["template"]) == ("Plus tard", "t.html")
    assert registry.render_one("later", "vide", "acteur") == ("Titre annoncé", None)
    assert calls == ["eager", "later:acteur", "later:acteur"]
    with pytest.raises(KeyError):
        registry.render_one("inconnue", "projet", None)
    with pytest.raises(ValueError, match="needs a title"):
        registry.register("sans-titre", later, lazy=True)


@pytest.mark.django_db
@override_settings(PUBLIC_PAGE_CACHE_SECONDS=0)
def test_the_public_project_page_shows_the_registered_sections_in_order(client, world):
    project = world.project()
    seen: list[Any] = []

    def extra(p: Any, acting: Any) -> dict[str, Any]:
        seen.append((p.slug, acting))
        return {
            "title": "Section ajoutée par un domaine",
            "template": "journal/_project_section.html",
            "context": {"project": p, "facts": []},
        }

    PROJECT_SECTIONS.register("test-extra", extra, title="Section annoncée", lazy=True)
    try:
        bare = client.get(f"/projets/{project.slug}/").content.decode()
        assert seen == []  # announced by the page, not rendered with it
        page = project_page(client, project.slug)
        alone = client.get(f"/projets/{project.slug}/sections/test-extra/").content.decode()
    finally:
        PROJECT_SECTIONS.unregister("test-extra")
    assert seen == [(project.slug, None)] * 2  # anonymous visitor: the fragment, then the page
    journal = page.index("Preuves dans le journal vérifiable")
    evidence = page.index("Preuves : impact, biais, transparence, panels")
    participation = page.index("Suivre et réutiliser")
    added = page.index("Section annoncée")
    assert journal < evidence < participation < added
    # each section's body arrived in its place, from its URL
    assert journal < page.index("Chaque fait public de ce projet correspond") < evidence
    assert evidence < page.index("Aucune preuve publiée pour l'instant") < participation
    # the data section, announced like the others, has nothing to show for this project
    data = page.index("Accès aux données")
    assert data < journal
    assert "Rien à montrer dans cette section pour ce projet." in page[data:journal]
    # without JavaScript: a plain link to each section's own page, with a heading and the way back
    for name in ("data", "journal", "evidence", "channels", "participation"):
        url = f"/projets/{project.slug}/sections/{name}/"
        assert f'<a href="{url}">' in bare, name
    assert f"<h1>{project.name}</h1>" in alone and ">Section ajoutée par un domaine</h2>" in alone
    assert f'<a href="/projets/{project.slug}/">{project.name}</a>' in alone
    assert PROJECT_SECTIONS.names() == ("data", "journal", "evidence", "channels", "participation")


@pytest.mark.django_db
@override_settings(PUBLIC_PAGE_CACHE_SECONDS=0)
def test_an_empty_lazy_section_says_so_and_an_unknown_one_is_not_found(client, world):
    project = world.project()
    # no channel considers the project and no takeover institution: nothing to show
    body = fragment(client, f"/projets/{project.slug}/sections/channels/")
    assert "Rien à montrer dans cette section pour ce projet." in body
    r = client.get(f"/projets/{project.slug}/sections/inconnue/")
    assert r.status_code == 404 and "Cette section n" in r.content.decode()
    assert client.get("/projets/inconnu/sections/journal/").status_code == 404
    assert client.get("/projets/inconnu/evenements/").status_code == 404


@pytest.mark.django_db(transaction=True)  # the cache keys on committed state (pacte.public_cache)
@override_settings(PUBLIC_PAGE_CACHE_SECONDS=60)
def test_the_public_page_cache_keeps_a_sections_page_and_its_fragment_apart(client, world):
    project = world.project()
    url = f"/projets/{project.slug}/sections/journal/"
    for served in ("miss", "hit"):  # the second round is served from the cache
        page = client.get(url)
        body = client.get(url, headers={"HX-Request": "true"})
        assert "<html" in page.content.decode() and "<html" not in body.content.decode()
        assert "HX-Request" in page["Vary"] and "HX-Request" in body["Vary"]
        assert page["X-Pacte-Cache"] == body["X-Pacte-Cache"] == served
    assert section_urls(client.get(f"/projets/{project.slug}/").content.decode())
