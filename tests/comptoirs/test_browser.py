"""Real Chromium: a citizen posts a problem at the comptoir and the institution's named contact
answers it; a carrier with a pact in force asks an expert for an exchange and gets slots."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault(
    "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
)  # Playwright's sync API runs an event loop

from playwright.sync_api import expect  # noqa: E402

from tests.factories import PASSWORD  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# The machine running the suite may be loaded: generous waits (they bound a hang, they assert no
# timing).
WAIT_MS = 120_000


@pytest.fixture(autouse=True)
def _patient_expectations():  # type: ignore[no-untyped-def]
    expect.set_options(timeout=WAIT_MS)
    yield
    expect.set_options(timeout=5_000)


def _context(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="fr-FR")
    context.set_default_timeout(WAIT_MS)
    return context


def _sign_in(browser, live_server, username):  # type: ignore[no-untyped-def]
    page = _context(browser).new_page()
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/espace/")
    return page


def test_a_citizen_posts_and_the_institution_answers(browser, live_server, world, desk):  # type: ignore[no-untyped-def]
    citizen = _sign_in(browser, live_server, desk.citizen.username)
    citizen.goto(f"{live_server.url}/comptoir/")
    citizen.get_by_role("link", name="Déposer au comptoir").click()
    citizen.get_by_role("link", name="Signaler un problème").click()
    citizen.get_by_label("Titre").fill("Les offres d'emploi ne sont qu'en ligne")
    citizen.get_by_label("Thème").select_option("emploi")
    citizen.get_by_label("Territoire").fill("Val-de-Loire")
    citizen.get_by_label("Qui est concerné ?").fill("Les personnes sans internet")
    citizen.get_by_label("Combien de personnes").fill("4000")
    citizen.get_by_label("Que se passe-t-il aujourd'hui").fill("Elles repartent sans offre.")
    citizen.get_by_label("Ce que vous observez").fill("Le panneau d'affichage a disparu.")
    citizen.get_by_role("button", name="Envoyer").click()
    expect(citizen.locator("#routed-to")).to_contain_text("Référent innovation")
    expect(citizen.locator("#status")).to_contain_text("Réponse attendue avant le")
    post_url = citizen.url

    contact = _sign_in(browser, live_server, desk.contact.user.username)
    contact.goto(post_url)
    contact.get_by_role("button", name="Mettre en examen").click()
    expect(contact.locator("#status")).to_contain_text("En cours d'examen")
    contact.get_by_label("Votre réponse (publique)").fill(
        "Nous rouvrons un panneau d'affichage dans chaque agence."
    )
    contact.get_by_role("button", name="Publier la réponse").click()
    expect(contact.locator("#status")).to_contain_text("Répondu")

    public = _context(browser).new_page()
    public.goto(post_url)
    expect(public.locator("#answer")).to_contain_text("panneau d'affichage")
    expect(public.get_by_role("button", name="Publier la réponse")).to_have_count(0)


def test_a_carrier_asks_an_expert_and_gets_an_exchange(browser, live_server, world, active, expert):  # type: ignore[no-untyped-def]
    carrier = _sign_in(browser, live_server, world.carrier_member.user.username)
    carrier.goto(f"{live_server.url}/experts/")
    carrier.get_by_role("link", name="Camille Expert").click()
    carrier.get_by_label("Sujet de l'échange").fill("Mesurer le retour à l'emploi")
    carrier.get_by_label("Votre question").fill("Quelle source suivre à six mois ?")
    carrier.get_by_role("button", name="Envoyer la demande").click()
    expect(carrier.locator("#status")).to_contain_text("en attente de réponse")
    request_url = carrier.url

    desk = _sign_in(browser, live_server, world.reviewer.user.username)
    desk.goto(request_url)
    desk.get_by_label("Créneaux proposés").fill("Mardi 14 h\nJeudi 10 h")
    desk.get_by_role("button", name="Accepter l'échange").click()
    expect(desk.locator("#status")).to_contain_text("Accepté")

    carrier.reload()
    expect(carrier.locator("#slots")).to_contain_text("Mardi 14 h ; Jeudi 10 h")
