"""The funding demo: one programme, three contracts (paid on the reference case, inconclusive →
base fee only and late, withheld), every payment recomputed independently from what it stores."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pacte.funding import ledger
from pacte.funding.models import LedgerEntry, OutcomeContract, PaymentOrder, Programme
from pacte.pacts.models import Commitment
from tests.funding.test_payments import _recompute

pytestmark = pytest.mark.django_db


def test_funding_demo(demo_data):  # type: ignore[no-untyped-def]
    programme = Programme.objects.get()
    assert OutcomeContract.objects.filter(programme=programme).count() >= 3
    paid = PaymentOrder.objects.get(
        contract__version__pact__project__slug="la-bonne-boite-citoyenne"
    )
    ci = paid.inputs["evaluation"]["ci"]
    assert round(ci[0] * 100, 2) == 1.75 and round(ci[1] * 100, 2) == 2.47
    assert paid.status == "paid" and paid.inputs["gate"] == 1 and paid.inputs["equity"] == "1.1000"
    # 20 000 + 150 × 100 000 × L × 1.10 with L = 0.01753… (shown 1.75 points)
    assert Decimal("308750.00") < paid.amount_eur < Decimal("310000.00")
    base_only = PaymentOrder.objects.get(
        contract__version__pact__project__slug="atelier-cv-solidaire"
    )
    assert base_only.inputs["evaluation"][
        "conclusive"
    ] is False and base_only.amount_eur == Decimal("15000.00")
    assert base_only.late and base_only.status == "approved"
    promise = Commitment.objects.get(key=f"paiement-{base_only.reference}")
    assert promise.owner == "institution" and promise.status == "breached"
    assert promise.due_date == base_only.due_on
    withheld = PaymentOrder.objects.get(
        contract__version__pact__project__slug="garde-enfants-emploi"
    )
    assert withheld.status == "withheld" and withheld.kind == "advance"
    for order in PaymentOrder.objects.filter(kind="window"):
        assert _recompute(order) == order.amount_eur
    assert sum(LedgerEntry.objects.values_list("amount_eur", flat=True), Decimal(0)) == 0
    totals = ledger.totals(programme=programme)
    assert totals["paid"] == paid.amount_eur and totals["withheld"] == withheld.amount_eur
