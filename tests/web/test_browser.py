"""Real Chromium (Debian's) driven by Playwright: sign in, write and submit a pact, review it,
sign it on both sides, and see it in the public registry."""

from __future__ import annotations

import os

import pytest

from pacte.accounts.services import add_member
from tests.factories import PASSWORD, UserFactory

os.environ.setdefault(
    "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
)  # Playwright's sync API runs an event loop

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def visible(locator):  # type: ignore[no-untyped-def]
    expect(locator).to_be_visible()  # auto-waits for the page to get there
    return True


def sign_in(browser, live_server, username):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_navigation_timeout(120_000)  # a busy shared machine: the first page is slow
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/espace/")
    return page


def test_pact_from_draft_to_public(browser, live_server, world, content):
    from pacte.pacts import documents as pact_documents

    project = world.project(name="Coach Citoyen", pitch="Un coach pour chercher un emploi")
    # people who sign in through the browser
    carrier_user, reviewer_user, signatory_user = UserFactory(), UserFactory(), UserFactory()
    add_member(carrier_user, world.carrier, ["carrier_admin"])
    add_member(reviewer_user, world.institution, ["reviewer"])
    add_member(signatory_user, world.institution, ["signatory"])

    # 1. the carrier writes the pact in the form and submits it
    page = sign_in(browser, live_server, carrier_user.username)
    page.goto(f"{live_server.url}/espace/projets/{project.slug}/pacte/")
    page.get_by_label("Institution signataire").select_option(label=world.institution.name)
    page.get_by_label("Titre du pacte").fill("Pacte Coach Citoyen")
    page.get_by_role("button", name="Créer le brouillon").click()
    page.wait_for_url("**/modifier/")
    # a first submit with gaps shows inline errors, in French
    page.get_by_role("button", name="Enregistrer et soumettre").click()
    assert visible(page.get_by_text("Principes obligatoires manquants").first)
    assert visible(page.get_by_text("Le pacte n'est pas complet").first)
    # fill the rest in the form (same values as the content fixture)
    m = content["mission"]
    page.get_by_label("Problème de société visé").fill(m["problem"])
    page.get_by_label("Population concernée").fill(m["population"])
    page.get_by_label("Ordre de grandeur de la population").fill(str(m["population_size"]))
    page.locator("#id_mission_territory").fill(m["territory"])
    page.get_by_label("Clause de limitation des finalités").fill(m["purpose_limitation"])
    for label in [
        "Continuité du service",
        "Égalité de traitement",
        "Neutralité",
        "Transparence",
        "Accessibilité et inclusion",
    ]:
        page.get_by_role("checkbox", name=label, exact=True).check()
    page.get_by_role("button", name="Ajouter un risque de biais").click()
    page.locator("#id_biais-0-group").fill("Personnes sans diplôme")
    page.locator("#id_biais-0-mechanism").fill("Moins de recours aux outils numériques")
    page.locator("#id_biais-0-metric").fill("Couverture parmi les personnes dans le besoin")
    page.get_by_label("Nous corrigerons les biais").check()
    page.get_by_label("Résultat social mesuré").fill("Retour à l'emploi durable à 6 mois")
    page.get_by_label("Méthode").select_option("randomised")
    page.get_by_label("Évaluateur indépendant").fill("Laboratoire indépendant")
    page.get_by_label("Forme juridique").fill("association")
    page.get_by_label("J'atteste l'absence d'actionnariat privé").check()
    page.get_by_label("Licence du code").select_option("AGPL-3.0-or-later")
    page.get_by_label("Début", exact=True).fill("2026-01-01")
    page.locator("#id_term_end").fill("2027-12-31")
    page.get_by_role("button", name="Ajouter une sanction").click()
    page.locator("#id_sanctions-0-trigger").fill("Manquement non corrigé")
    page.locator("#id_sanctions-0-measure").fill("Suspension des versements")
    # commitments, one guided section per principle: the four mandatory ones have a row already;
    # the fifth principle's row comes from "Ajouter un engagement" (htmx: no page load)
    page.evaluate("window.__same_page = true")
    page.get_by_role("button", name="Ajouter un engagement — Autres engagements").click()
    expect(page.locator("#id_c-4-text")).to_be_visible()
    page.locator("#id_c-4-principle").select_option("accessibility")
    assert page.evaluate("window.__same_page === true")  # added without a round trip
    assert page.locator("#id_c-TOTAL_FORMS").input_value() == "5"
    principles = ["continuity", "equality", "neutrality", "transparency", "accessibility"]
    for idx, p in enumerate(principles):
        assert page.locator(f"#id_c-{idx}-principle").input_value() == p
        page.locator(f"#id_c-{idx}-text").fill(f"Garantir {p}")
        page.locator(f"#id_c-{idx}-indicator").fill("Indicateur publié")
        page.locator(f"#id_c-{idx}-threshold").fill("≥ 90 %")
        page.locator(f"#id_c-{idx}-due_date").fill("2026-12-31")
    # required fields are marked as such
    assert "* (obligatoire pour soumettre)" in " ".join(
        page.locator("label[for=id_mission_problem]").inner_text().split()
    )
    # one sitting: a single submission
    page.get_by_role("button", name="Enregistrer et soumettre").click()
    page.wait_for_url("**/v1/")
    assert visible(page.get_by_text("Pacte soumis à l'instruction"))
    version = project.pacts.get().versions.get()
    assert version.status == "submitted"

    # 2. the reviewer sees it in the queue with its clock and approves it
    rpage = sign_in(browser, live_server, reviewer_user.username)
    assert visible(rpage.get_by_role("cell", name="0 jour").first)
    rpage.get_by_role("link", name=f"{version.pact.reference} v1").click()
    rpage.get_by_role("button", name="Approuver").click()
    assert visible(rpage.get_by_text("Pacte approuvé. Prochaine étape : la signature"))

    # 3. both sides sign
    page.goto(f"{live_server.url}/pactes/{version.pact.reference}/v1/")
    page.get_by_role("button", name="Signer").click()  # an irreversible act: confirm first
    assert visible(page.get_by_text("Cette action ne peut pas être annulée."))
    page.get_by_role("button", name="Oui, signer").click()
    assert visible(page.get_by_text("Votre signature est enregistrée."))
    spage = sign_in(browser, live_server, signatory_user.username)
    spage.goto(f"{live_server.url}/pactes/{version.pact.reference}/v1/")
    spage.get_by_role("button", name="Signer").click()
    spage.get_by_role("button", name="Oui, signer").click()
    assert visible(spage.get_by_text("les deux parties ont signé, le pacte est en vigueur"))
    assert visible(spage.get_by_text("En vigueur").first)

    # 4. anyone sees it public, with two valid signatures and the commitments board
    public = browser.new_context(locale="fr-FR").new_page()
    public.goto(f"{live_server.url}/projets/?status=active")
    public.get_by_role("link", name="Coach Citoyen").click()
    expect(public.get_by_text("Signature valide")).to_have_count(2)
    assert visible(public.get_by_role("heading", name="Engagements du porteur").first)
    # keyboard users can skip to the content
    public.keyboard.press("Tab")
    assert public.evaluate("document.activeElement.textContent") == "Aller au contenu"
    version.refresh_from_db()
    assert version.status == "active"
    assert all(pact_documents.verify_signature(s) for s in version.signatures.all())
