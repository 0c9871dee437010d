"""The project page's sections: an explicit registry filled once at start-up, rendered in order."""

from __future__ import annotations

from typing import Any

import pytest

from pacte.web.project_sections import PROJECT_SECTIONS, ProjectSections


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
    assert calls == [("first", "projet", "acteur"), ("nothing", "projet", "acteur")]
    with pytest.raises(ValueError, match="already registered"):
        registry.register("first", last)
    registry.unregister("nothing")
    assert registry.names() == ("first", "last")
    with pytest.raises(KeyError):
        registry.unregister("nothing")


@pytest.mark.django_db
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

    PROJECT_SECTIONS.register("test-extra", extra)
    try:
        page = client.get(f"/projets/{project.slug}/").content.decode()
    finally:
        PROJECT_SECTIONS.unregister("test-extra")
    assert seen == [(project.slug, None)]  # anonymous visitor
    journal = page.index("Preuves dans le journal vérifiable")
    evidence = page.index("Preuves et expérimentation")
    participation = page.index("Suivre et réutiliser")
    added = page.index("Section ajoutée par un domaine")
    assert journal < evidence < participation < added
    assert "Accès aux données" not in page  # the data section has nothing to show: left out
    assert PROJECT_SECTIONS.names() == ("data", "journal", "evidence", "channels", "participation")
