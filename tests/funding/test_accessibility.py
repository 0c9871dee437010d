"""The funding pages pass axe-core (WCAG 2.1 A/AA) in real Chromium, on the full demo."""

from __future__ import annotations

import pytest

from tests.web.test_accessibility import Audit, browser, full_demo, new_page, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_funding_pages_have_no_axe_violation(browser, live_server, full_demo):  # type: ignore[no-untyped-def]  # noqa: F811
    from pacte.funding.models import OutcomeContract, PaymentOrder, Programme

    programme = Programme.objects.get()
    urls = [
        "/financement/",
        f"/financement/programmes/{programme.slug}/",
        "/financement/grand-livre/",
        "/financement/grand-livre/?par=project&year=deux",
        "/financement/simulateur/?price=150&n=100000&ci_low=1.75&ci_high=2.47&base=20000&cap=400000&equity=1",
        "/financement/simulateur/?price=x&n=1&ci_low=1&ci_high=2&base=0&cap=1&equity=1",
    ]
    urls += [f"/financement/contrats/{c.reference}/" for c in OutcomeContract.objects.all()]
    urls += [f"/financement/paiements/{p.reference}/" for p in PaymentOrder.objects.all()]
    pact = OutcomeContract.objects.first().version  # type: ignore[union-attr]
    urls.append(f"/pactes/{pact.pact.reference}/v{pact.number}/")
    audit = Audit()
    page = new_page(browser)
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        audit.check(page, url)
    approver = sign_in(browser, live_server, "approbateur")
    approver.goto(
        f"{live_server.url}/financement/paiements/{PaymentOrder.objects.filter(status='approved').first().reference}/"
    )  # type: ignore[union-attr]
    audit.check(approver, "paiement (approbateur)")
    officer = sign_in(browser, live_server, "financier")
    officer.goto(f"{live_server.url}/financement/programmes/{programme.slug}/modifier/")
    audit.check(officer, "modifier le programme (agent financier)")
    audit.assert_clean()
