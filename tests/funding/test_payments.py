"""Payments computed from published evidence: formula, cap, gate, equity, two-person rule,
withholding and release, break and recovery, late State payments, journal entries."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from pacte.accounts import policy
from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.funding import contracts, ledger, payments
from pacte.funding.models import OutcomeContract, PaymentOrder, Recovery
from pacte.journal.models import Event
from pacte.pacts import sanctions
from tests.funding.conftest import contract_in, published_audit, published_evaluation


def _window_paid(fund, contract, number=1, **evaluation):  # type: ignore[no-untyped-def]
    window = contract.windows.get(number=number)
    ev = published_evaluation(contract.version.pact.project, fund.evaluator, **evaluation)
    contracts.validate_window(fund.evaluator, window, ev.pk)
    return payments.prepare_window_payment(fund.officer, window)


def _recompute(order: PaymentOrder) -> Decimal:
    """Independent recomputation from what the order stores (Fraction, half-up)."""
    i = order.inputs
    price, base, cap = (Fraction(i["clause"][k]) for k in ("price", "base_fee", "cap"))
    low = Fraction(repr(i["evaluation"]["ci"][0]))
    outcome = price * i["evaluation"]["n"] * max(Fraction(0), low)
    raw = min(cap - Fraction(i["paid_so_far"]), base + outcome * Fraction(i["equity"]) * i["gate"])
    cents = raw * 100 + Fraction(1, 2)
    return Decimal(cents.numerator // cents.denominator) / 100


def test_reference_case_pays_on_the_lower_bound(fund, contract):  # type: ignore[no-untyped-def]
    order = _window_paid(fund, contract)
    # 1 500 € × 10 000 × 0.0175 = 262 500 €; + 20 000 € base; capped at 300 000 €
    assert order.amount_eur == Decimal("282500.00")
    assert order.formula_version == "outcome-payment/1"
    assert "1500.00 × 10000 × max(0, 0.0175) = 262500.00" in order.formula_text
    assert order.inputs["evaluation"]["data_sha256"] == "ab" * 32
    assert order.inputs["evaluation"]["estimand"] == "intention de traiter (ITT)"
    assert _recompute(order) == order.amount_eur
    prepared = json.loads(Event.objects.get(type="payment.prepared").entry)["data"]
    assert prepared["amount"] == "282500.00" and prepared["formula_version"] == "outcome-payment/1"


def test_inconclusive_evaluation_pays_the_base_fee_only(fund, contract):  # type: ignore[no-untyped-def]
    order = _window_paid(fund, contract, ci_low=-0.004, ci_high=0.012, estimate=0.004)
    assert order.amount_eur == Decimal("20000.00")
    assert _recompute(order) == order.amount_eur


def test_cap_counts_orders_already_made(fund, contract):  # type: ignore[no-untyped-def]
    first = _window_paid(fund, contract)
    second = _window_paid(fund, contract, number=2)
    assert first.amount_eur + second.amount_eur == contract.cap_eur
    assert second.amount_eur == Decimal("17500.00")
    assert _recompute(second) == second.amount_eur


def test_bias_gate_and_equity_bonus(fund, contract):  # type: ignore[no-untyped-def]
    project = contract.version.pact.project
    published_audit(project, fund.evaluator, breaches=1, in_need_ratios=[1.0, 1.2])
    gated = _window_paid(fund, contract, ci_low=0.001)
    assert gated.inputs["gate"] == 0 and gated.amount_eur == Decimal("20000.00")
    published_audit(project, fund.evaluator, breaches=0, in_need_ratios=[1.0, 1.05])
    bonus = _window_paid(fund, contract, number=2, ci_low=0.001)
    # 20 000 + 1 500 × 10 000 × 0.001 × 1.10 = 36 500
    assert bonus.inputs["equity"] == "1.1000" and bonus.amount_eur == Decimal("36500.00")
    assert _recompute(bonus) == bonus.amount_eur


def test_no_equity_bonus_when_people_in_need_are_reached_less_well(fund, contract):  # type: ignore[no-untyped-def]
    published_audit(
        contract.version.pact.project, fund.evaluator, breaches=0, in_need_ratios=[1.0, 0.9]
    )
    order = _window_paid(fund, contract, ci_low=0.001)
    assert order.inputs["equity"] == "1" and order.amount_eur == Decimal("35000.00")


def test_only_a_published_evaluation_of_this_project_validates_a_window(fund, contract, world):  # type: ignore[no-untyped-def]
    window = contract.windows.get(number=1)
    with pytest.raises(PermissionDenied):
        contracts.validate_window(fund.officer, window, 1)
    with pytest.raises(ValidationFailed):
        contracts.validate_window(fund.evaluator, window, 999_999)
    with pytest.raises(InvalidTransition):
        payments.prepare_window_payment(fund.officer, window)


def test_two_person_rule(fund, contract, world):  # type: ignore[no-untyped-def]
    from pacte.accounts.models import Role
    from tests.conftest import _acting

    order = _window_paid(fund, contract)
    # a finance officer who is also an approver still cannot approve their own order
    both = _acting(world.institution, [Role.FINANCE_OFFICER, Role.PAYMENT_APPROVER])
    with pytest.raises(PermissionDenied):
        payments.approve(fund.officer, order)
    contract2 = contracts.attach_contract(
        fund.officer,
        fund.programme,
        contract.version,
        contract_in(cap="50000", advance_eur=Decimal("10000")),
    )
    advance = payments.prepare_advance(both, contract2)
    with pytest.raises(PermissionDenied, match="quatre yeux"):
        payments.approve(both, advance)
    payments.approve(fund.approver, order)
    order.refresh_from_db()
    assert order.status == "approved" and order.approved_by_id == fund.approver.user.pk
    assert ledger.totals(programme=fund.programme)["payable"] == order.amount_eur
    payments.pay(fund.officer2, order)
    order.refresh_from_db()
    contract.refresh_from_db()
    assert order.status == "paid" and contract.paid_eur == order.amount_eur
    assert (
        ledger.totals(project_slug=contract.version.pact.project.slug)["paid"] == order.amount_eur
    )
    types = list(Event.objects.filter(subject_id=order.reference).values_list("type", flat=True))
    assert types == ["payment.prepared", "payment.approved", "payment.paid"]


def test_suspension_withholds_reinstatement_releases(fund, contract, world):  # type: ignore[no-untyped-def]
    version = contract.version
    order = _window_paid(fund, contract)
    payments.approve(fund.approver, order)
    sanctions.notify_breach(
        world.reviewer, version, "Rapport d'activité manquant depuis trois mois."
    )
    sanctions.suspend(world.reviewer, version, "Manquement non corrigé dans le délai.")
    order.refresh_from_db()
    assert order.status == "withheld" and order.held_from == "approved"
    assert ledger.totals(programme=fund.programme)["withheld"] == order.amount_eur
    with pytest.raises(InvalidTransition):
        payments.pay(fund.officer, order)
    sanctions.reinstate(world.reviewer, version, "Rapport remis et validé.")
    order.refresh_from_db()
    assert order.status == "approved"
    assert ledger.totals(programme=fund.programme)["withheld"] == 0
    assert Event.objects.filter(type="payment.withheld").count() == 1
    assert Event.objects.filter(type="payment.released").count() == 1


def test_break_cancels_unpaid_and_opens_a_recovery_of_unspent_advance(fund, active, world):  # type: ignore[no-untyped-def]
    contract = contracts.attach_contract(
        fund.officer,
        fund.programme,
        active,
        contract_in(cap="100000", advance_eur=Decimal("30000")),
    )
    advance = payments.prepare_advance(fund.officer, contract)
    payments.approve(fund.approver, advance)
    payments.pay(fund.officer, advance)
    order = _window_paid(fund, contract, ci_low=-0.01)  # inconclusive: 20 000 base fee
    sanctions.notify_breach(
        world.reviewer, active, "Rapport d'activité manquant depuis trois mois."
    )
    sanctions.suspend(world.reviewer, active, "Manquement non corrigé dans le délai.")
    sanctions.break_pact(world.reviewer, active, "Manquement persistant après suspension.")
    order.refresh_from_db()
    contract.refresh_from_db()
    fund.programme.refresh_from_db()
    assert order.status == "cancelled"
    assert contract.status == OutcomeContract.State.CANCELLED
    recovery = Recovery.objects.get(contract=contract)
    assert recovery.amount_eur == Decimal("30000.00")  # advance paid, nothing earned by results
    assert fund.programme.committed_eur == Decimal("30000.00")  # only what was paid stays committed
    totals = ledger.totals(programme=fund.programme)
    assert totals["receivable"] == Decimal("30000.00") and totals["paid"] == 0
    payments.recover(fund.officer, recovery)
    fund.programme.refresh_from_db()
    assert fund.programme.committed_eur == 0 and fund.programme.paid_eur == 0
    assert ledger.totals(programme=fund.programme)["available"] == fund.programme.budget_eur
    assert (
        Event.objects.filter(
            type__in=["recovery.opened", "recovery.recovered", "contract.cancelled"]
        ).count()
        == 3
    )


def test_late_state_payment_is_a_state_side_breach(fund, contract):  # type: ignore[no-untyped-def]
    order = _window_paid(fund, contract)
    assert order.due_on == date.today() + timedelta(days=30)
    assert payments.mark_late_payments(policy.SYSTEM, order.due_on) == []
    assert payments.mark_late_payments(policy.SYSTEM, order.due_on + timedelta(days=1)) == [
        order.reference
    ]
    order.refresh_from_db()
    assert order.late
    data = json.loads(Event.objects.get(type="payment.late").entry)["data"]
    assert data["state_side_breach"] is True and data["side"] == "institution"
    with pytest.raises(PermissionDenied):
        payments.mark_late_payments(fund.officer, order.due_on)


def test_programme_never_commits_more_than_its_budget(fund, active):  # type: ignore[no-untyped-def]
    from pacte.funding.errors import BudgetExceeded

    contracts.attach_contract(fund.officer, fund.programme, active, contract_in(cap="900000"))
    with pytest.raises(BudgetExceeded):
        contracts.attach_contract(
            fund.officer, fund.programme, active, contract_in(cap="100000.01")
        )
    fund.programme.refresh_from_db()
    assert fund.programme.committed_eur == Decimal("900000.00")
    assert ledger.totals(programme=fund.programme)["available"] == Decimal("100000.00")


def test_only_the_funding_institutions_finance_officer_attaches_contracts(fund, active, world):  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        contracts.attach_contract(world.reviewer, fund.programme, active, contract_in())
    with pytest.raises(PermissionDenied):
        contracts.attach_contract(fund.approver, fund.programme, active, contract_in())
    with pytest.raises(ValidationFailed):
        contracts.attach_contract(fund.officer, fund.programme, active, contract_in(cap="-1"))
    assert not OutcomeContract.objects.exists()


def test_the_daily_task_marks_late_payments(fund, contract):  # type: ignore[no-untyped-def]
    from pacte.funding.tasks import mark_late_payments_task

    order = _window_paid(fund, contract)
    PaymentOrder.objects.filter(pk=order.pk).update(due_on=date.today() - timedelta(days=1))
    assert mark_late_payments_task.call() == {"late": 1}
    order.refresh_from_db()
    assert order.late
