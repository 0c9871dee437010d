"""Issue 14, in real Chromium (Playwright) on the whole demo: the demo carrier writes a pact with five
principles in one sitting with the editor's pickers (rows added and removed with htmx, the focus
checked after each), submits it, and the pact's page names the chosen data, channel and funding in
words. Then axe-core on the editor and on the list of bias audits at 320 px: no violation, nothing
scrolls sideways."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CARRIER = "asso-coach-emploi"


def _sign_in(browser: Any, live_server: Any, **context: Any) -> Any:
    """The demo carrier, acting for the association that carries "coach-emploi"."""
    from pacte.accounts.models import Organisation
    from pacte.demo import DEMO_PASSWORD

    page = browser.new_context(locale="fr-FR", **context).new_page()
    page.set_default_navigation_timeout(120_000)  # a busy shared machine
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").fill("porteur")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/espace/")
    page.locator("#acting-org").select_option(str(Organisation.objects.get(slug=CARRIER).pk))
    page.get_by_role("button", name="Changer", exact=True).click()
    page.wait_for_load_state()
    return page


def _new_draft(page: Any, live_server: Any, title: str) -> None:
    page.goto(f"{live_server.url}/espace/projets/coach-emploi/pacte/")
    page.get_by_label("Institution signataire").select_option(label="Région Val-de-Loire (fictive)")
    page.get_by_label("Titre du pacte").fill(title)
    page.get_by_role("button", name="Créer le brouillon").click()
    page.wait_for_url("**/modifier/")


def _add(page: Any, button: str, first_field: str) -> None:
    """htmx "add a row": no page load, the focus lands in the new row's first field."""
    page.get_by_role("button", name=button).click()
    expect(page.locator(f"#{first_field}")).to_be_focused()


def test_demo_carrier_writes_a_pact_with_the_pickers(browser, live_server, demo_data):  # type: ignore[no-untyped-def]
    from pacte.channels.demo import REGIONAL
    from pacte.channels.models import Channel
    from pacte.data.demo import HIRING
    from pacte.data.models import Dataset
    from pacte.pacts.models import PactVersion

    dataset = Dataset.objects.get(slug=HIRING)
    channel = Channel.objects.get(slug=REGIONAL)
    page = _sign_in(browser, live_server)
    _new_draft(page, live_server, "Pacte Coach emploi, saison 2")
    page.evaluate("window.__same_page = true")  # gone if anything below reloads the page

    page.get_by_label("Problème de société visé").fill(
        "Des offres d'emploi restent hors de portée des personnes sans solution de mobilité."
    )
    page.get_by_label("Population concernée").fill("Demandeurs d'emploi du Val-de-Loire")
    page.get_by_label("Ordre de grandeur de la population").fill("60000")
    page.locator("#id_mission_territory").fill("Val-de-Loire")
    page.get_by_label("Clause de limitation des finalités").fill(
        "Les données et moyens du pacte ne servent qu'à cette mission."
    )
    for label in ("Continuité du service", "Égalité de traitement", "Neutralité"):
        page.get_by_role("checkbox", name=label, exact=True).check()
    for label in ("Transparence", "Accessibilité et inclusion"):
        page.get_by_role("checkbox", name=label, exact=True).check()

    # bias risks: one labelled field each; a second row added then removed
    _add(page, "Ajouter un risque de biais", "id_biais-0-group")
    expect(page.locator("#row-status")).to_have_text(re.compile("Risque de biais ajouté"))
    page.locator("#id_biais-0-group").fill("Personnes sans diplôme")
    page.locator("#id_biais-0-mechanism").fill("Moins de recours aux outils numériques")
    page.locator("#id_biais-0-metric").fill("Couverture parmi les personnes dans le besoin")
    _add(page, "Ajouter un risque de biais", "id_biais-1-group")
    page.locator("#id_biais-1-group").fill("Une ligne de trop")
    page.get_by_role("button", name="Retirer : Risque de biais 2").click()
    expect(page.get_by_role("button", name="Ajouter un risque de biais")).to_be_focused()
    expect(page.locator("#row-biais-1")).to_be_hidden()
    expect(page.locator("#row-status")).to_have_text(re.compile("Risque de biais retiré"))
    page.get_by_label("Nous corrigerons les biais").check()

    page.get_by_label("Résultat social mesuré").fill("Retour à l'emploi durable à 6 mois")
    page.locator("#id_impact_method").select_option(label="Essai randomisé")
    page.get_by_label("Évaluateur indépendant").fill("Laboratoire d'évaluation indépendant")
    page.get_by_label("Forme juridique").fill("association loi 1901")
    page.get_by_label("J'atteste l'absence d'actionnariat privé").check()
    page.get_by_label("Licence du code").select_option("AGPL-3.0-or-later")

    # funding: the kind in words
    _add(page, "Ajouter une source de financement", "id_financement-0-name")
    page.locator("#id_financement-0-name").fill("Région Val-de-Loire")
    page.locator("#id_financement-0-kind").select_option(label="Subvention publique")
    # data: a dataset of the catalogue, by its title
    _add(page, "Ajouter un jeu de données", "id_donnees-0-dataset")
    page.locator("#id_donnees-0-dataset").select_option(label=dataset.title)
    page.locator("#id_donnees-0-tier").select_option("3")
    page.locator("#id_donnees-0-purpose").fill("Mesurer le retour à l'emploi")
    # experts and channels
    _add(page, "Ajouter un expert", "id_experts-0-name")
    page.locator("#id_experts-0-name").fill("Conseillère emploi référente")
    page.get_by_role("checkbox", name=re.compile(re.escape(channel.name))).check()
    page.locator(f"#id_channel_condition_{channel.slug}").fill("Évaluation publiée")

    page.get_by_label("Début", exact=True).fill("2027-01-01")
    page.locator("#id_term_end").fill("2028-12-31")
    _add(page, "Ajouter une sanction", "id_sanctions-0-trigger")
    page.locator("#id_sanctions-0-trigger").fill("Manquement non corrigé")
    page.locator("#id_sanctions-0-measure").fill("Suspension des versements")

    # commitments: the four mandatory principles have a row; the fifth principle's and the
    # institution's come from "Autres engagements"
    others = "Ajouter un engagement — Autres engagements"
    _add(page, others, "id_c-4-text")
    page.locator("#id_c-4-principle").select_option("accessibility")
    _add(page, others, "id_c-5-text")
    page.locator("#id_c-5-owner").select_option(label="Institution")
    page.locator("#id_c-5-evidence").select_option("grant")
    principles = ["continuity", "equality", "neutrality", "transparency", "accessibility", ""]
    for i, p in enumerate(principles):
        assert page.locator(f"#id_c-{i}-principle").input_value() == p
        page.locator(f"#id_c-{i}-text").fill(f"Garantir {p or 'l’accès aux données'}")
        page.locator(f"#id_c-{i}-indicator").fill("Indicateur publié")
        page.locator(f"#id_c-{i}-threshold").fill("≥ 90 %")
        page.locator(f"#id_c-{i}-due_date").fill("2027-12-31")
    assert page.evaluate("window.__same_page === true")  # every row came without a reload
    assert page.locator("#id_c-TOTAL_FORMS").input_value() == "6"

    # one sitting: a single submission
    page.get_by_role("button", name="Enregistrer et soumettre").click()
    page.wait_for_url("**/v1/")
    expect(page.get_by_text("Pacte soumis à l'instruction")).to_be_visible()
    # the page says what was chosen, in words
    expect(page.get_by_role("link", name=dataset.title)).to_be_visible()
    expect(page.get_by_text(re.compile(re.escape(channel.name))).first).to_be_visible()
    expect(
        page.get_by_text(re.compile("Région Val-de-Loire \\(Subvention publique\\)"))
    ).to_be_visible()
    version = PactVersion.objects.get(content__title="Pacte Coach emploi, saison 2")
    assert version.status == "submitted"
    state = version.content["state"]
    assert state["data"] == [
        {
            "dataset": HIRING,
            "tier": 3,
            "sensitivity": dataset.sensitivity,
            "purpose": "Mesurer le retour à l'emploi",
        }
    ]
    assert state["channels"] == [{"channel": REGIONAL, "condition": "Évaluation publiée"}]
    assert version.content["commons"]["funding_sources"] == [
        {"name": "Région Val-de-Loire", "kind": "public_grant"}
    ]
    assert [b["group"] for b in version.content["bias_risks"]] == ["Personnes sans diplôme"]
    assert len(version.content["commitments"]) == 6


def test_editor_and_audit_list_at_320_px_pass_axe(browser, live_server, demo_data):  # type: ignore[no-untyped-def]
    from tests.web.test_accessibility import AXE_JS, axe, describe

    if not AXE_JS.exists():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `npm ci --prefix tests/web/axe`")
    # axe-core is injected as an inline script, which our CSP refuses (rightly): bypassed here
    page = _sign_in(browser, live_server, bypass_csp=True, viewport={"width": 320, "height": 800})
    _new_draft(page, live_server, "Pacte à relire à 320 px")
    for button, field in [
        ("Ajouter un risque de biais", "id_biais-0-group"),
        ("Ajouter une source de financement", "id_financement-0-name"),
        ("Ajouter un jeu de données", "id_donnees-0-dataset"),
        ("Ajouter un expert", "id_experts-0-name"),
        ("Ajouter une sanction", "id_sanctions-0-trigger"),
    ]:
        _add(page, button, field)
    problems: dict[str, list[str]] = {}
    too_wide: dict[str, list[int]] = {}

    def check(name: str) -> None:
        width = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if width[0] > width[1]:
            too_wide[name] = width
        found = describe(axe(page))
        if found:
            problems[name] = found

    check("éditeur, une ligne par liste")
    # errors beside the rows: a row half filled
    page.locator("#id_biais-0-group").fill("Jeunes")
    page.locator("#id_biais-0-tolerated_ratio").fill("2")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_load_state()
    expect(page.locator("#id_biais-0-mechanism_error")).to_be_visible()
    check("éditeur, erreurs dans une ligne")
    for url in ("/audits/", "/audits/?verdict=ecart", "/evaluations/"):
        page.goto(f"{live_server.url}{url}")
        check(url)
    assert page.locator("a[href='/audits/']").count() >= 1
    assert not too_wide, f"horizontal scrolling at 320 px: {too_wide}"
    assert not problems, f"axe-core violations: {problems}"
