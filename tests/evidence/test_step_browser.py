"""Issue 14, in Chromium: each evidence journey from the workspace (or the project page) to its
public result — the evaluator files a bias audit, the carrier publishes an algorithm sheet, the
partner institution runs a panel draw — with axe-core run on every page the journey shows, at
320 CSS px (nothing may scroll sideways)."""

from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

from playwright.sync_api import expect  # noqa: E402

from pacte.evidence.demo import _audit_csv  # noqa: E402
from pacte.evidence.models import AlgorithmSheet, Audit, PanelCall  # noqa: E402
from tests.web.test_accessibility import AXE_JS, axe, describe  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Journey:
    """One signed-in person in Chromium at 320 px; every page seen is audited by axe-core."""

    def __init__(self, browser: Any, live_server: Any, user: Any) -> None:
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        self.base = live_server.url
        self.context = browser.new_context(
            locale="fr-FR", viewport={"width": 320, "height": 900}, bypass_csp=True
        )
        host = live_server.url.split("//", 1)[1].split(":")[0]
        self.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "domain": host,
                    "path": "/",
                }
            ]
        )
        self.page = self.context.new_page()
        self.problems: dict[str, list[str]] = {}

    def check(self) -> None:
        url = self.page.url.removeprefix(self.base)
        found = describe(axe(self.page))
        width = self.page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if width[0] > width[1]:
            found.append(f"scrolls sideways at 320 px: {width}")
        if found:
            self.problems[url] = found

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.base}{path}")
        self.check()

    def click(self, role: str, name: str) -> None:
        self.page.get_by_role(role, name=name).first.click()  # type: ignore[arg-type]
        self.page.wait_for_load_state()
        self.check()


@pytest.fixture
def browser(browser):  # type: ignore[no-untyped-def]
    """The run's Chromium (tests/conftest.py), once axe-core is known to be installed."""
    if not AXE_JS.exists():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `npm ci --prefix tests/web/axe`")
    return browser


def test_evaluator_files_a_bias_audit(browser, live_server, evaluator, project):
    j = Journey(browser, live_server, evaluator.user)
    j.goto("/espace/")
    j.click("link", "Preuves et transparence : audits, fiches, panels, expérimentations")
    j.click("link", "Publier un audit de biais")
    page = j.page
    page.get_by_label("Projet").select_option(project.slug)
    page.get_by_label("Titre de l'audit").fill("Audit de l'orientation")
    page.get_by_label("Décision auditée").fill("Orientation vers l'accompagnement")
    j.click("button", "Publier l'audit")  # no file: the error is beside the field
    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient des erreurs")
    page.get_by_label("Fichier CSV des décisions").set_input_files(
        {"name": "decisions.csv", "mimeType": "text/csv", "buffer": _audit_csv()}
    )
    page.get_by_label("Titre de l'audit").fill("Audit de l'orientation")
    page.get_by_label("Décision auditée").fill("Orientation vers l'accompagnement")
    j.click("button", "Publier l'audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit de l'orientation")
    expect(page.get_by_text("Audit publié")).to_be_visible()
    assert Audit.objects.count() == 1
    assert j.problems == {}


def test_carrier_publishes_an_algorithm_sheet(browser, live_server, world, project):
    j = Journey(browser, live_server, world.carrier_admin.user)
    j.goto(f"/projets/{project.slug}/")
    # the evidence section arrives when the reader scrolls to it (htmx, on reveal)
    j.page.get_by_role(
        "heading", name="Preuves : impact, biais, transparence, panels"
    ).scroll_into_view_if_needed()
    j.click("link", "Agir sur les preuves de ce projet")
    j.click("link", "Rédiger une fiche algorithme")
    page = j.page
    fields = {
        "Nom de l'algorithme": "Classement des entreprises",
        "Finalité et décision concernée": "Proposer une liste d'entreprises à qui candidater.",
        "Mode de contribution": "Le score ordonne une liste ; la personne choisit.",
        "Opérations effectuées": "Somme pondérée, tri décroissant.",
        "Contrôle humain": "Le conseiller valide la liste.",
        "Risques": "Biais territorial.",
        "Contester une décision : à qui s'adresser": "contestation@example.org",
        "Donnée 1": "Embauches",
        "Paramètre 1": "Embauches récentes",
    }
    for label, value in fields.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("Aide à la décision : un agent décide").check()
    page.get_by_label("Sa source").first.fill("Agence")
    page.get_by_label("Sa pondération", exact=False).first.fill("0,5")
    j.click("button", "Enregistrer le brouillon")
    expect(page.get_by_text("Brouillon enregistré")).to_be_visible()
    j.click("button", "Publier la fiche…")
    expect(page.get_by_text("Cette action ne peut pas être annulée.")).to_be_visible()
    j.click("button", "Oui, publier")
    expect(page.get_by_text("Fiche publiée")).to_be_visible()
    assert AlgorithmSheet.objects.get().status == "published"
    j.click("link", "Fiches algorithmes")  # the header's link: the public list
    expect(page.get_by_role("link", name="Classement des entreprises")).to_be_visible()
    assert j.problems == {}


def test_partner_runs_a_panel_draw(browser, live_server, world, project):
    from pacte.evidence import panels
    from tests.factories import UserFactory

    for i in range(8):
        panels.volunteer(UserFactory(), consent=True, age_band=["16-25", "26-40"][i % 2])
    j = Journey(browser, live_server, world.reviewer.user)
    j.goto("/espace/")
    j.click("link", "Preuves et transparence : audits, fiches, panels, expérimentations")
    j.click("link", "Ouvrir un appel à panel")
    page = j.page
    page.get_by_label("Titre de l'appel").fill("Testeurs du simulateur")
    page.get_by_label("Nombre de personnes à tirer au sort").fill("4")
    page.get_by_label("Tranche d'âge", exact=True).check()
    page.get_by_label("16 à 25 ans").first.fill("50")
    page.get_by_label("26 à 40 ans").first.fill("50")
    j.click("button", "Ouvrir l'appel")
    expect(page.get_by_text("Appel ouvert.")).to_be_visible()
    j.click("button", "Lancer le tirage au sort…")
    j.click("button", "Oui, tirer au sort")
    expect(page.get_by_text("Tirage effectué.")).to_be_visible()
    call = PanelCall.objects.get()
    assert call.status == "drawn" and call.members.count() == 4
    expect(
        page.get_by_text(call.seed_hex, exact=True)
    ).to_be_visible()  # the public record of the draw
    assert j.problems == {}
