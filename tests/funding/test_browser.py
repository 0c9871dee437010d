"""Real Chromium: the finance officer prepares a payment, the approver approves it, the public
sees the payment and its formula with the numbers substituted."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault(
    "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
)  # Playwright's sync API runs an event loop

from playwright.sync_api import expect  # noqa: E402

from pacte.funding import contracts  # noqa: E402
from tests.factories import PASSWORD  # noqa: E402
from tests.funding.conftest import published_evaluation  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(browser, live_server, username):  # type: ignore[no-untyped-def]
    page = browser.new_context(locale="fr-FR").new_page()
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/espace/")
    return page


def test_prepare_approve_and_the_public_formula(browser, live_server, fund, contract):  # type: ignore[no-untyped-def]
    ev = published_evaluation(contract.version.pact.project, fund.evaluator)
    contracts.validate_window(fund.evaluator, contract.windows.get(number=1), ev.pk)
    officer = _sign_in(browser, live_server, fund.officer.user.username)
    officer.goto(f"{live_server.url}/financement/contrats/{contract.reference}/")
    officer.get_by_role("button", name="Préparer l'ordre de paiement").click()
    expect(officer.locator("#amount")).to_contain_text("282")
    expect(officer.get_by_role("button", name="Approuver l'ordre de paiement")).to_have_count(0)
    payment_url = officer.url

    approver = _sign_in(browser, live_server, fund.approver.user.username)
    approver.goto(payment_url)
    approver.get_by_role("button", name="Approuver l'ordre de paiement").click()
    expect(approver.locator("#amount")).to_contain_text("Approuvé, à payer")

    public = browser.new_context(locale="fr-FR").new_page()
    public.goto(payment_url)
    expect(public.get_by_role("heading", level=1)).to_contain_text("Paiement OP-")
    expect(public.locator("#formula")).to_contain_text(
        "1500.00 × 10000 × max(0, 0.0175) = 262500.00"
    )
    expect(public.locator("#formula")).to_contain_text("outcome-payment/1")
    expect(public.get_by_role("button", name="Approuver l'ordre de paiement")).to_have_count(0)
