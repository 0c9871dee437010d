"""The public ledger (page and API): totals of a selection and per programme, institution, project
and year, every movement with its balanced entries; and the programme amendment (form and use
case: budget raised or lowered through the ledger, never below what is committed)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from pacte.errors import PermissionDenied, ValidationFailed
from pacte.funding import ledger, payments, programmes, selectors
from pacte.funding.models import LedgerEntry, LedgerTransaction
from pacte.journal.models import Event
from tests.funding.conftest import programme_in
from tests.funding.test_pages import _prepared


def _paid(fund, contract):  # type: ignore[no-untyped-def]
    order = _prepared(fund, contract)
    payments.approve(fund.approver, order)
    return payments.pay(fund.officer, order)


def test_group_totals_add_up_to_the_whole_ledger(fund, contract):  # type: ignore[no-untyped-def]
    order = _paid(fund, contract)
    whole = ledger.totals()
    for group in selectors.LEDGER_GROUPS:
        rows = selectors.totals_by(group)
        assert rows, group
        if group == "project":  # only the contract's and the carrier's accounts name a project
            (row,) = rows
            assert row["key"] == contract.version.pact.project.slug
            assert row["paid"] == order.amount_eur
            continue
        for figure in ("available", "committed", "paid", "withheld", "receivable"):
            assert sum(r[figure] for r in rows) == whole[figure], (group, figure)
    # independent oracle: the sum of every entry of the ledger is zero, and paid = the order
    assert sum(LedgerEntry.objects.values_list("amount_eur", flat=True)) == 0
    assert whole["paid"] == order.amount_eur


def test_ledger_page_filters_paginates_and_refuses_bad_filters(client, fund, contract):  # type: ignore[no-untyped-def]
    _paid(fund, contract)
    html = client.get("/financement/grand-livre/").content.decode()
    assert "Grand livre public du financement" in html and 'id="selection-totals"' in html
    assert fund.programme.title in html and "Versé — " in html
    project = contract.version.pact.project.slug
    r = client.get("/financement/grand-livre/", {"project": project, "par": "year"})
    assert r.status_code == 200
    n = selectors.ledger_transactions(project=project).count()
    assert (
        n < LedgerTransaction.objects.filter(posted=True).count()
    )  # the budget is not the project's
    assert f"{n} mouvement" in r.content.decode()
    r = client.get("/financement/grand-livre/", {"year": "deux mille", "par": "ailleurs"})
    assert r.status_code == 400 and "Saisissez un nombre entier" in r.content.decode()


def test_ledger_api(client, fund, contract):  # type: ignore[no-untyped-def]
    order = _paid(fund, contract)
    inst = fund.programme.institution.slug
    totals = client.get("/api/v1/funding/totals", {"institution": inst}).json()
    assert Decimal(totals["paid"]) == order.amount_eur
    assert Decimal(totals["appropriated"]) == fund.programme.budget_eur
    by_year = client.get("/api/v1/funding/totals/year").json()
    assert by_year["count"] == len(by_year["items"]) >= 1
    assert client.get("/api/v1/funding/totals/planet").status_code == 422 or (
        client.get("/api/v1/funding/totals/planet").status_code == 400
    )
    page = client.get("/api/v1/funding/ledger", {"limit": 2}).json()
    assert page["count"] == LedgerTransaction.objects.filter(posted=True).count()
    assert len(page["items"]) == 2
    for t in page["items"]:
        assert sum(Decimal(e["amount_eur"]) for e in t["entries"]) == 0
    paid = client.get("/api/v1/funding/ledger", {"project": contract.version.pact.project.slug})
    assert any(t["payment"] == order.reference for t in paid.json()["items"])


def test_amending_a_programme_moves_its_budget_through_the_ledger(fund, contract, world):  # type: ignore[no-untyped-def]
    programme = fund.programme
    raised = programmes.amend_programme(fund.officer, programme, programme_in(budget="1200000.00"))
    assert raised.budget_eur == Decimal("1200000.00")
    assert ledger.totals(programme=programme)["appropriated"] == Decimal("1200000.00")
    lowered = programmes.amend_programme(fund.officer, programme, programme_in(budget="400000.00"))
    assert lowered.budget_eur == Decimal("400000.00")
    totals = ledger.totals(programme=programme)
    assert totals["appropriated"] == Decimal("400000.00")
    assert totals["available"] == Decimal("400000.00") - lowered.committed_eur
    with pytest.raises(ValidationFailed) as err:
        programmes.amend_programme(fund.officer, programme, programme_in(budget="1000.00"))
    assert "budget_eur" in err.value.field_errors
    from datetime import date

    with pytest.raises(ValidationFailed):
        programmes.amend_programme(
            fund.officer, programme, programme_in(starts_on=date(2026, 2, 1))
        )
    with pytest.raises(PermissionDenied):
        programmes.amend_programme(fund.approver, programme, programme_in())
    assert Event.objects.filter(type="programme.amended").count() == 2
    programme.refresh_from_db()
    assert programme.budget_eur == Decimal("400000.00")  # refused amendments left it as it was


def test_the_finance_officer_amends_a_programme_in_the_browser_form(fund):  # type: ignore[no-untyped-def]
    officer = Client()
    officer.force_login(fund.officer.user)
    url = f"/financement/programmes/{fund.programme.slug}/modifier/"
    page = officer.get(url)
    assert page.status_code == 200 and "Emploi durable 2026" in page.content.decode()
    assert (
        "Modifier le programme"
        in officer.get(f"/financement/programmes/{fund.programme.slug}/").content.decode()
    )
    body = {
        "title": "Emploi durable 2026-2027",
        "budget_eur": "1500000",
        "starts_on": "2026-01-01",
        "ends_on": "2027-12-31",
        "territories": "Val-de-Loire",
        "investigation_eur": "60000",
        "investigation_months": "4",
        "construction_eur": "200000",
    }
    r = officer.post(url, body)  # construction without its duration
    assert r.status_code == 400 and "ou aucun des deux" in r.content.decode()
    body["construction_months"] = "6"
    r = officer.post(url, body)
    assert r.status_code == 302
    fund.programme.refresh_from_db()
    assert fund.programme.title == "Emploi durable 2026-2027"
    assert {g.phase: g.amount_eur for g in fund.programme.phase_grants.all()} == {
        "investigation": Decimal("60000.00"),
        "construction": Decimal("200000.00"),
    }
    approver = Client()
    approver.force_login(fund.approver.user)
    assert approver.get(url).status_code == 403
