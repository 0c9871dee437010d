"""The statements every public service owes, reachable from the footer of every page."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from pacte.opendata.accessibility import RGAA_CRITERIA, conformity
from pacte.opendata.views import CHECKLIST

pytestmark = pytest.mark.django_db

STATEMENTS = ("/accessibilite/", "/mentions-legales/", "/donnees-personnelles/")


@pytest.mark.parametrize(
    "page", ["/", "/projets/", "/journal/", "/statistiques/", "/donnees-ouvertes/", "/connexion/"]
)
def test_every_page_links_the_statements_from_its_footer(world, page):
    html = Client().get(page).content.decode()
    footer = html[html.index('<footer class="site-footer"') :]
    for url in STATEMENTS:
        assert f'href="{url}"' in footer, (page, url)


def test_the_statements_are_reachable_and_name_the_publisher(world, settings):
    settings.PUBLISHER_NAME = "Direction interministérielle fictive"
    settings.PUBLISHER_EMAIL = "contact@exemple.gouv.fr"
    settings.DATA_PROTECTION_EMAIL = "dpo@exemple.gouv.fr"
    for url in STATEMENTS:
        r = Client().get(url)
        assert r.status_code == 200, url
        assert (
            "Direction interministérielle fictive" in r.content.decode()
            or url == "/mentions-legales/"
        )
    legal = Client().get("/mentions-legales/").content.decode()
    assert "Direction interministérielle fictive" in legal and "contact@exemple.gouv.fr" in legal
    data = Client().get("/donnees-personnelles/").content.decode()
    for word in (
        "Finalité",
        "Base légale",
        "Durée de conservation",
        "Vos droits",
        "dpo@exemple.gouv.fr",
    ):
        assert word in data


def test_the_accessibility_statement_follows_the_rgaa_model(world):
    page = Client().get("/accessibilite/").content.decode()
    audit = conformity(json.loads(CHECKLIST.read_text()))
    assert f"{audit.rate} %".replace(".", ",") in page and audit.level in page
    for part in (
        "État de conformité",
        "Résultats des tests",
        "Contenus non accessibles",
        "Établissement de cette déclaration",
        "Retour d'information et contact",
        "Voies de recours",
        "Défenseur des droits",
    ):
        assert part in page
    footer = page[page.index('<footer class="site-footer"') :]
    assert f"Accessibilité : {audit.level}" in footer


def test_the_rate_is_computed_from_the_checklist():
    checklist = json.loads(CHECKLIST.read_text())
    assert len(checklist["criteria"]) == RGAA_CRITERIA
    audit = conformity(checklist)
    assert (
        audit.conforming + audit.non_conforming + audit.not_applicable + audit.not_evaluated == 106
    )
    # one criterion turns non-conforming: the rate and the level follow
    changed = json.loads(CHECKLIST.read_text())
    conforming = [c for c in changed["criteria"] if c["status"] == "C"]
    for c in conforming[: len(conforming) // 2 + 1]:
        c["status"] = "NC"
    worse = conformity(changed)
    assert worse.rate < 50 and worse.level == "non conforme"
    complete = json.loads(CHECKLIST.read_text())
    for c in complete["criteria"]:
        c["status"] = "C" if c["status"] in {"C", "NE"} else c["status"]
    assert conformity(complete).level == "totalement conforme"
    with pytest.raises(ValueError):
        conformity({**checklist, "criteria": checklist["criteria"][:-1]})


def test_automated_criteria_name_rules_that_the_axe_gate_runs():
    """A criterion marked conforming by automation must be checked by the axe audit (WCAG tags
    or the structure rules listed in tests/web/test_accessibility.py)."""
    from tests.web.test_accessibility import STRUCTURE_RULES

    wcag_rules = {
        "image-alt",
        "svg-img-alt",
        "input-image-alt",
        "area-alt",
        "role-img-alt",
        "color-contrast",
        "th-has-data-cells",
        "td-headers-attr",
        "link-name",
        "html-has-lang",
        "html-lang-valid",
        "document-title",
        "valid-lang",
        "list",
        "listitem",
        "label",
        "select-name",
        "button-name",
    }  # axe-core tags these wcag2a/wcag2aa, which the gate runs
    for c in json.loads(CHECKLIST.read_text())["criteria"]:
        if c["method"] == "automatique":
            assert c["axe_rules"] and set(c["axe_rules"]) <= wcag_rules | set(STRUCTURE_RULES), c
