"""Issue 14: the registry's search ignores accents and case, on PostgreSQL and SQLite alike."""

from __future__ import annotations

import pytest

from pacte.projects.models import Project, folded
from pacte.projects.selectors import search_projects

pytestmark = pytest.mark.django_db


def test_folded_removes_accents_and_case():
    assert folded("Mobilité Rurale ÉLAN œuvre") == "mobilite rurale elan œuvre"


def test_search_ignores_accents_and_case(world):
    mobility = world.project(name="Mobilité Rurale Emploi", pitch="Des trajets partagés")
    world.project(name="Offre culturelle", pitch="Écouter une œuvre")
    for q in ("mobilite", "MOBILITÉ", "Mobilite rurale", "trajets partages", "porteuse"):
        names = [p.name for p in search_projects(q=q)]
        assert mobility.name in names, q
        if q != "porteuse":  # the carrier's name is searched too (both projects share it)
            assert names == [mobility.name], q
    assert [p.name for p in search_projects(q="ecouter")] == ["Offre culturelle"]
    assert list(search_projects(q="mobilite velo")) == []  # every word must match


def test_search_text_follows_edits(world):
    project = world.project(name="Atelier CV")
    project.name = "Atelier CV Solidarité"
    project.save(update_fields=["name"])
    assert Project.objects.get(pk=project.pk).search_text.startswith("atelier cv solidarite")
    assert [p.pk for p in search_projects(q="solidarite")] == [project.pk]


def test_registry_page_finds_without_accents(client, world):
    world.project(name="Mobilité Rurale Emploi")
    page = client.get("/projets/?q=mobilite").content.decode()
    assert "1 projet trouvé" in page and "Mobilité Rurale Emploi" in page
