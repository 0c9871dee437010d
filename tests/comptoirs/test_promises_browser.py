"""Real Chromium (issue 12, promises): an institution's signatory adds a row to the comptoir's
routing table in the browser — first refused with the error beside its field and what was typed
kept — then sees the new version on the public table; an expert is withdrawn from its page. The
new pages pass axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

import os

import pytest

from tests.web.test_accessibility import Audit, browser, new_page  # noqa: F401 (fixtures)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

from playwright.sync_api import expect  # noqa: E402

from tests.factories import PASSWORD  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_MS = 120_000  # a loaded machine: generous waits bound a hang, they assert no timing


@pytest.fixture(autouse=True)
def _patient_expectations():  # type: ignore[no-untyped-def]
    expect.set_options(timeout=WAIT_MS)
    yield
    expect.set_options(timeout=5_000)


def _sign_in(browser, live_server, acting):  # type: ignore[no-untyped-def]  # noqa: F811
    page = new_page(browser)
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").fill(acting.user.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/espace/")
    return page


def test_a_signatory_keeps_the_routing_table_and_withdraws_an_expert(  # type: ignore[no-untyped-def]
    browser,  # noqa: F811
    live_server,
    world,
    desk,
    expert,
):
    audit = Audit()
    page = _sign_in(browser, live_server, world.signatory)
    page.goto(f"{live_server.url}/comptoir/routage/")
    page.get_by_role("link", name="Gérer les lignes de votre institution").click()
    audit.check(page, "gérer la table de routage")
    page.get_by_label("Thème").select_option("logement")
    page.get_by_label("Territoire").fill("Indre")
    page.get_by_label("Contact nommé").fill("Pôle habitat")
    page.get_by_label("Délai de réponse (jours)").fill("400")
    page.get_by_role("button", name="Publier la ligne").click()
    expect(page.locator("#id_clock_days_error")).to_contain_text("inférieure ou égale à 365")
    expect(page.get_by_label("Territoire")).to_have_value("Indre")
    expect(page.get_by_label("Contact nommé")).to_have_value("Pôle habitat")
    audit.check(page, "ligne refusée (erreurs)")
    page.get_by_label("Délai de réponse (jours)").fill("15")
    page.get_by_label("Motif du changement (public, facultatif)").fill("Ouverture du pôle habitat.")
    page.get_by_role("button", name="Publier la ligne").click()
    expect(page.get_by_role("table").first).to_contain_text("Pôle habitat")
    page.get_by_role("link", name="Modifier ou retirer la ligne « Pôle habitat »").click()
    audit.check(page, "modifier une ligne")
    page.goto(f"{live_server.url}/comptoir/routage/")
    expect(page.locator("#history + div table")).to_contain_text("Ouverture du pôle habitat.")
    expect(page.locator("main")).to_contain_text("de la table, publiée le")
    audit.check(page, "table de routage publique")

    desk_page = _sign_in(browser, live_server, world.reviewer)
    desk_page.goto(f"{live_server.url}/experts/{expert.pk}/")
    desk_page.get_by_role("link", name="Retirer cet expert").click()
    audit.check(desk_page, "retirer un expert")
    desk_page.get_by_label("Motif du retrait (public)").fill("Mutation dans un autre service.")
    desk_page.get_by_role("button", name="Envoyer").click()
    expect(desk_page.locator("#withdrawn")).to_contain_text("Mutation dans un autre service.")
    audit.assert_clean()
