"""The sign-up journey in real Chromium, with axe-core on every account page: sign up, read the
confirmation link from the test mail outbox, confirm, sign in, then the account pages.

The live server runs in the test process, so Django's locmem e-mail backend (which
pytest-django installs for tests) puts every message in ``django.core.mail.outbox``, where the
test reads it: no file or SMTP server needed."""

from __future__ import annotations

import os
import re

import pytest
from django.core import mail

from tests.web.test_accessibility import Audit, new_page

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "une phrase de passe assez longue"


def test_sign_up_confirm_from_the_outbox_sign_in_and_account_pages_are_accessible(
    browser, live_server
):
    audit = Audit()
    page = new_page(browser)
    page.goto(f"{live_server.url}/inscription/")
    audit.check(page, "inscription")
    page.get_by_role("button", name="Créer mon compte").click()  # empty: errors announced
    page.wait_for_load_state()
    assert page.title().startswith("Erreur")
    audit.check(page, "inscription, erreurs")
    page.locator("#id_email").fill("louise@example.org")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_label("Nom affiché").fill("Louise")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", name="Confirmez votre adresse électronique")).to_be_visible()
    audit.check(page, "confirmation envoyée")

    (message,) = mail.outbox
    link = re.search(r"https?://\S+/compte/confirm-email/\S+", message.body)
    assert link and message.to == ["louise@example.org"]
    page.goto(link.group(0))
    expect(page.get_by_text("louise@example.org")).to_be_visible()
    audit.check(page, "confirmer l'adresse")
    page.get_by_role("button", name="Confirmer").click()
    page.wait_for_url(re.compile(r".*/connexion/.*|.*/compte/.*|.*/espace/.*"))

    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").fill("louise@example.org")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/espace/")
    expect(page.get_by_role("heading", name="Mon espace — Louise")).to_be_visible()
    audit.check(page, "espace citoyen")
    for name, path in [
        ("mon compte", "/compte/"),
        ("adresses", "/compte/email/"),
        ("mot de passe", "/compte/password/change/"),
        ("identités liées", "/compte/tiers/"),
        ("ré-authentification", "/compte/reauthenticate/"),
    ]:
        page.goto(f"{live_server.url}{path}")
        audit.check(page, name)
    page.goto(f"{live_server.url}/compte/reauthenticate/?next=/compte/suppression/")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button").filter(has_text=re.compile("Confirm", re.I)).first.click()
    page.wait_for_url(f"{live_server.url}/compte/suppression/")
    audit.check(page, "suppression du compte")
    anonymous = new_page(browser)
    for name, path in [("mot de passe oublié", "/compte/password/reset/")]:
        anonymous.goto(f"{live_server.url}{path}")
        audit.check(anonymous, name)
    audit.assert_clean()
