"""The funding pages, in French: programme (chart with its table), contract, payment with its
formula, simulator, the contract tab on the pact page, and the forms (two-person rule)."""

from __future__ import annotations

from django.test import Client

from pacte.funding import contracts, payments
from tests.funding.conftest import published_evaluation


def _login(acting) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(acting.user)
    return c


def _prepared(fund, contract):  # type: ignore[no-untyped-def]
    ev = published_evaluation(contract.version.pact.project, fund.evaluator)
    window = contract.windows.get(number=1)
    contracts.validate_window(fund.evaluator, window, ev.pk)
    return payments.prepare_window_payment(fund.officer, window)


def test_public_pages(client, fund, contract):  # type: ignore[no-untyped-def]
    order = _prepared(fund, contract)
    html = client.get("/financement/").content.decode()
    assert fund.programme.title in html and "Financement au résultat" in html
    html = client.get(f"/financement/programmes/{fund.programme.slug}/").content.decode()
    assert (
        'role="img"' in html
        and "Les mêmes chiffres sous forme de tableau" in html
        and "Grand livre" in html
    )
    assert "300000,00 €" in html  # French decimal comma
    html = client.get(f"/financement/contrats/{contract.reference}/").content.decode()
    assert order.reference in html
    html = client.get(f"/financement/paiements/{order.reference}/").content.decode()
    assert "1500.00 × 10000 × max(0, 0.0175) = 262500.00" in html and "outcome-payment/1" in html
    assert "Approuver" not in html  # the public sees, never acts
    v = contract.version
    html = client.get(f"/pactes/{v.pact.reference}/v{v.number}/").content.decode()
    assert contract.reference in html and "Financement au résultat" in html


def test_simulator_page(client):  # type: ignore[no-untyped-def]
    r = client.get(
        "/financement/simulateur/",
        {
            "price": "15",
            "n": "10000",
            "ci_low": "1.75",
            "ci_high": "2.47",
            "base": "20000",
            "cap": "300000",
            "equity": "1",
        },
    )
    assert r.status_code == 200 and "22625.00" in r.content.decode()
    r = client.get(
        "/financement/simulateur/",
        {
            "price": "quinze",
            "n": "1",
            "ci_low": "1",
            "ci_high": "2",
            "base": "0",
            "cap": "1",
            "equity": "1",
        },
    )
    assert r.status_code == 400 and "Vérifiez les nombres" in r.content.decode()


def test_forms_follow_the_two_person_rule(fund, contract):  # type: ignore[no-untyped-def]
    ev = published_evaluation(contract.version.pact.project, fund.evaluator)
    r = _login(fund.evaluator).post(
        f"/financement/contrats/{contract.reference}/fenetres/1/valider/", {"evaluation": ev.pk}
    )
    assert r.status_code == 302
    officer = _login(fund.officer)
    r = officer.post(f"/financement/contrats/{contract.reference}/fenetres/1/paiement/")
    order = contract.payments.get()
    assert r.status_code == 302 and r["Location"].endswith(
        f"/financement/paiements/{order.reference}/"
    )
    assert "Approuver" not in officer.get(r["Location"]).content.decode()
    officer.post(f"/financement/paiements/{order.reference}/approve/")
    order.refresh_from_db()
    assert order.status == "prepared"
    approver = _login(fund.approver)
    assert (
        "Approuver" in approver.get(f"/financement/paiements/{order.reference}/").content.decode()
    )
    approver.post(f"/financement/paiements/{order.reference}/approve/")
    order.refresh_from_db()
    assert order.status == "approved"


def test_finance_officer_opens_a_programme_and_attaches_a_contract(fund, active):  # type: ignore[no-untyped-def]
    from pacte.funding.models import OutcomeContract, Programme

    officer = _login(fund.officer)
    assert "Ouvrir un programme" in officer.get("/financement/").content.decode()
    r = officer.post(
        "/financement/programmes/nouveau/",
        {
            "title": "Insertion 2027",
            "budget_eur": "-1",
            "starts_on": "2027-01-01",
            "ends_on": "2027-12-31",
        },
    )
    assert r.status_code == 400 and not Programme.objects.filter(title="Insertion 2027").exists()
    r = officer.post(
        "/financement/programmes/nouveau/",
        {
            "title": "Insertion 2027",
            "budget_eur": "500000",
            "starts_on": "2027-01-01",
            "ends_on": "2027-12-31",
            "territories": "Val-de-Loire, Centre",
            "outcome": "Emploi durable",
            "price_eur": "100",
        },
    )
    programme = Programme.objects.get(title="Insertion 2027")
    assert r.status_code == 302 and programme.territories == ["Val-de-Loire", "Centre"]
    url = f"/financement/programmes/{programme.slug}/contrats/nouveau/"
    body = {
        "pact": active.pact.reference,
        "version": active.number,
        "outcome": "Emploi durable",
        "price_eur": "100",
        "base_fee_eur": "5000",
        "cap_eur": "600000",
        "equity_bonus": "0",
        "opens_on": "2027-01-01",
        "closes_on": "2027-06-30",
    }
    r = officer.post(url, body)
    assert r.status_code == 400 and "Budget insuffisant" in r.content.decode()
    r = officer.post(url, body | {"cap_eur": "100000"})
    contract = OutcomeContract.objects.get(programme=programme)
    assert r.status_code == 302 and r["Location"].endswith(
        f"/financement/contrats/{contract.reference}/"
    )
    assert (
        _login(fund.approver).post(url, body).status_code == 400
    )  # an approver does not attach contracts
    assert OutcomeContract.objects.filter(programme=programme).count() == 1
