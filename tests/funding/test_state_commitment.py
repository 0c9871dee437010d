"""The State-side funding commitment is one of the pact's commitments: an approved payment order
becomes an institution-owned commitment due on its date; the compliance engine's clock marks it
missed then breached (a State-side breach, reported and published); paying settles it; a
suspension stops its clock, reinstatement restarts it; a cancelled order withdraws it."""

from __future__ import annotations

import json
from datetime import date, timedelta

from pacte.evidence.compliance import BREACH_GRACE_DAYS, run_compliance
from pacte.funding import contracts, payments
from pacte.journal.models import Event
from pacte.pacts import sanctions
from pacte.pacts.models import Commitment
from tests.funding.conftest import published_evaluation


def _approved(fund, contract):  # type: ignore[no-untyped-def]
    window = contract.windows.get(number=1)
    ev = published_evaluation(contract.version.pact.project, fund.evaluator)
    contracts.validate_window(fund.evaluator, window, ev.pk)
    order = payments.prepare_window_payment(fund.officer, window)
    return payments.approve(fund.approver, order)


def _commitment(order) -> Commitment:  # type: ignore[no-untyped-def]
    return Commitment.objects.get(key=f"paiement-{order.reference}")


def test_an_approved_order_is_an_institution_commitment_due_on_its_date(fund, contract):  # type: ignore[no-untyped-def]
    order = _approved(fund, contract)
    c = _commitment(order)
    assert c.owner == Commitment.Owner.INSTITUTION and c.evidence_kind == "payment"
    assert c.due_date == order.due_on and c.status == Commitment.State.ON_TRACK
    assert order.reference in c.text and contract.reference in c.text
    added = json.loads(Event.objects.get(type="commitment.added").entry)["data"]
    assert added["commitment"] == c.key and added["owner"] == "institution"
    assert added["due_date"] == order.due_on.isoformat()


def test_unpaid_after_its_grace_period_is_a_state_side_breach(fund, contract):  # type: ignore[no-untyped-def]
    order = _approved(fund, contract)
    assert order.due_on is not None
    run_compliance(order.due_on + timedelta(days=1))
    assert _commitment(order).status == Commitment.State.MISSED
    report = run_compliance(order.due_on + timedelta(days=BREACH_GRACE_DAYS + 1))
    c = _commitment(order)
    assert c.status == Commitment.State.BREACHED
    assert f"{contract.version.pact.reference}:{c.key}" in report.state_breaches
    contract.version.refresh_from_db()
    assert contract.version.status == "active"  # the State's failure never sanctions the carrier
    # paid late: met, and the lateness stays in the evidence and the journal
    payments.pay(fund.officer, order, paid_on=order.due_on + timedelta(days=20))
    c = _commitment(order)
    assert c.status == Commitment.State.MET and "dû le" in c.evidence_note
    settled = json.loads(Event.objects.filter(type="commitment.evidence").latest("index").entry)[
        "data"
    ]
    assert settled["late"] is True and settled["previous"] == "breached"
    assert Event.objects.filter(type="commitment.breached").exists()


def test_paid_in_time_is_met_and_stays_met(fund, contract):  # type: ignore[no-untyped-def]
    order = _approved(fund, contract)
    payments.pay(fund.officer, order, paid_on=date.today())
    assert _commitment(order).status == Commitment.State.MET
    assert order.due_on is not None
    run_compliance(order.due_on + timedelta(days=BREACH_GRACE_DAYS + 5))
    assert _commitment(order).status == Commitment.State.MET


def test_suspension_stops_the_clock_and_reinstatement_restarts_it(fund, contract, world):  # type: ignore[no-untyped-def]
    version = contract.version
    order = _approved(fund, contract)
    sanctions.notify_breach(
        world.reviewer, version, "Rapport d'activité manquant depuis trois mois."
    )
    sanctions.suspend(world.reviewer, version, "Manquement non corrigé dans le délai.")
    c = _commitment(order)
    assert c.due_date is None
    assert order.due_on is not None
    run_compliance(order.due_on + timedelta(days=BREACH_GRACE_DAYS + 5))
    assert _commitment(order).status == Commitment.State.ON_TRACK  # withheld: not the State's fault
    sanctions.reinstate(world.reviewer, version, "Rapport remis et validé.")
    order.refresh_from_db()
    c = _commitment(order)
    assert c.due_date == order.due_on and order.due_on >= date.today() + timedelta(
        days=payments.RELEASE_DELAY_DAYS
    )
    assert Event.objects.filter(type="commitment.rescheduled").count() == 2


def test_a_cancelled_order_withdraws_the_promise_unless_already_late(fund, contract):  # type: ignore[no-untyped-def]
    order = _approved(fund, contract)
    payments.cancel(fund.officer, order, "Ordre saisi sur le mauvais contrat.")
    assert not Commitment.objects.filter(key=f"paiement-{order.reference}").exists()
    assert Event.objects.filter(type="commitment.withdrawn").count() == 1
