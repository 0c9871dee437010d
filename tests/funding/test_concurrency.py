"""Concurrent contract attachments never commit more than the programme's budget (the programme row
is locked; the database's check constraint backs it up)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from pacte.errors import DomainError
from pacte.funding import contracts, ledger
from pacte.funding.models import OutcomeContract, Programme
from tests.funding.conftest import contract_in

THREADS = 6


def _attach_at_once(fund, version) -> list[str]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            try:
                contracts.attach_contract(
                    fund.officer,
                    Programme.objects.get(pk=fund.programme.pk),
                    version,
                    contract_in(cap="300000"),
                )
                result = "ok"
            except DomainError as exc:
                result = exc.code
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    ts = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return outcomes


def _check(fund, outcomes: list[str]) -> None:  # type: ignore[no-untyped-def]
    # budget 1 000 000 €, caps of 300 000 €: exactly three fit
    assert sorted(outcomes) == ["budget_exceeded"] * (THREADS - 3) + ["ok"] * 3
    programme = Programme.objects.get(pk=fund.programme.pk)
    assert programme.committed_eur == Decimal("900000.00") <= programme.budget_eur
    assert OutcomeContract.objects.filter(programme=programme).count() == 3
    assert ledger.totals(programme=programme)["available"] == Decimal("100000.00")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL variant")
def test_concurrent_attachments_never_overcommit_on_postgres(fund, active):  # type: ignore[no-untyped-def]
    _check(fund, _attach_at_once(fund, active))


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite variant")
def test_concurrent_attachments_never_overcommit_on_sqlite(fund, active):  # type: ignore[no-untyped-def]
    _check(fund, _attach_at_once(fund, active))


def _approve_at_once(fund, contract) -> list[str]:  # type: ignore[no-untyped-def]
    from pacte.accounts.models import Role
    from pacte.funding import payments
    from pacte.funding.models import PaymentOrder
    from tests.conftest import _acting
    from tests.funding.conftest import published_evaluation

    ev = published_evaluation(contract.version.pact.project, fund.evaluator)
    contracts.validate_window(fund.evaluator, contract.windows.get(number=1), ev.pk)
    order = payments.prepare_window_payment(fund.officer, contract.windows.get(number=1))
    approvers = [fund.approver] + [
        _acting(fund.programme.institution, [Role.PAYMENT_APPROVER]) for _ in range(THREADS - 1)
    ]
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(approver) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            try:
                payments.approve(approver, PaymentOrder.objects.get(pk=order.pk))
                result = "ok"
            except DomainError as exc:
                result = exc.code
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    ts = [threading.Thread(target=worker, args=(a,)) for a in approvers]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(outcomes) == ["invalid_transition"] * (THREADS - 1) + ["ok"]
    assert ledger.totals(programme=fund.programme)["payable"] == order.amount_eur  # moved once
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL variant")
def test_concurrent_approvals_move_the_money_once_on_postgres(fund, contract):  # type: ignore[no-untyped-def]
    _approve_at_once(fund, contract)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite variant")
def test_concurrent_approvals_move_the_money_once_on_sqlite(fund, contract):  # type: ignore[no-untyped-def]
    _approve_at_once(fund, contract)
