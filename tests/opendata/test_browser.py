"""In real Chromium: axe-core finds no violation on the new pages, and a mediator records an
assisted consent and prints the receipt."""

from __future__ import annotations

import os

import pytest

from pacte.mediation.assistance import code_sha256
from pacte.mediation.models import AssistedAction
from tests.web.test_accessibility import Audit, browser, new_page, sign_in  # noqa: F401

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(db, settings, monkeypatch):  # type: ignore[no-untyped-def]
    """The spine's demo plus this branch's parts (a mediator and two assisted actions, a dump)."""
    from pacte import demo as spine_demo
    from tests import demo_data as demo_copy

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr(
        spine_demo, "DEMO_EXTENSIONS", ["pacte.mediation.demo", "pacte.opendata.demo"]
    )
    demo_copy.load()  # loaded once per run, restored afterwards (tests/demo_data.py)


def test_the_new_pages_have_no_axe_violation(browser, live_server, demo):  # noqa: F811
    audit = Audit()
    page = new_page(browser)
    for name, url in [
        ("données ouvertes", "/donnees-ouvertes/"),
        ("statistiques", "/statistiques/"),
        ("déclaration d'accessibilité", "/accessibilite/"),
        ("mentions légales", "/mentions-legales/"),
        ("données personnelles", "/donnees-personnelles/"),
    ]:
        page.goto(f"{live_server.url}{url}")
        audit.check(page, name)
    mediator = sign_in(browser, live_server, "mediatrice", "agence-emploi")
    mediator.goto(f"{live_server.url}/accompagnement/")
    audit.check(mediator, "accompagnement")
    mediator.get_by_role("button", name="Enregistrer et imprimer le reçu").click()
    mediator.wait_for_load_state()
    audit.check(mediator, "accompagnement (erreurs)")
    reference = AssistedAction.objects.order_by("created_at").first().reference
    mediator.goto(f"{live_server.url}/accompagnement/recus/{reference}/")
    audit.check(mediator, "reçu")
    citizen = sign_in(browser, live_server, "membre")
    citizen.goto(f"{live_server.url}/accompagnement/reprendre/")
    audit.check(citizen, "reprendre une démarche")
    audit.assert_clean()


def test_a_mediator_records_an_assisted_consent_and_prints_the_receipt(
    browser,  # noqa: F811
    live_server,
    demo,
):
    page = sign_in(browser, live_server, "mediatrice", "agence-emploi")
    page.goto(f"{live_server.url}/accompagnement/")
    page.get_by_label("Nom ou pseudonyme de la personne").fill("Mme Lefèvre")
    page.get_by_label("Comment la personne a donné son accord").select_option("paper")
    page.get_by_label("Démarche", exact=True).select_option("panel_join")
    page.get_by_label("Territoire (panel, facultatif)").fill("Tours")
    page.get_by_label("J'atteste que la personne").check()
    page.get_by_role("button", name="Enregistrer et imprimer le reçu").click()
    page.wait_for_url("**/accompagnement/recus/**")
    action = AssistedAction.objects.get(person_label="Mme Lefèvre")
    assert action.reference in page.url
    code = page.locator("#claim-code").inner_text().strip()
    assert code_sha256(code) == action.claim_code_sha256
    assert action.volunteer is not None and action.volunteer.territory == "Tours"
    # the printable receipt: Chromium's own print rendering, with the code on it
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    assert page.get_by_text(code).is_visible()
