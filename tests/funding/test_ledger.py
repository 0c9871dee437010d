"""The double-entry ledger: its balance invariant is enforced by the database itself."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacte.accounts import policy
from pacte.funding import ledger
from pacte.funding.models import LedgerAccount, LedgerEntry, LedgerTransaction
from pacte.journal.models import Event

cents = (
    st.integers(min_value=-(10**9), max_value=10**9)
    .filter(lambda c: c != 0)
    .map(lambda c: Decimal(c) / 100)
)


def _accounts(fund, n: int) -> list[LedgerAccount]:  # type: ignore[no-untyped-def]
    return [
        ledger._account(
            f"test:{i}",
            f"Compte {i}",
            "available",
            programme=fund.programme,
            institution_id=fund.programme.institution_id,
        )
        for i in range(n)
    ]


def _raw_post(fund, amounts: list[Decimal], accounts: list[LedgerAccount]) -> LedgerTransaction:  # type: ignore[no-untyped-def]
    """Bypass Python's checks: write rows as any code path could, then post."""
    tx = LedgerTransaction.objects.create(kind="allocated", programme=fund.programme, year=2026)
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(transaction=tx, account=accounts[i % len(accounts)], amount_eur=a)
            for i, a in enumerate(amounts)
        ]
    )
    LedgerTransaction.objects.filter(pk=tx.pk).update(posted=True)
    return tx


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=st.lists(cents, min_size=1, max_size=6), balance=st.booleans())
def test_database_posts_only_balanced_transactions(fund, amounts, balance):  # type: ignore[no-untyped-def]
    accounts = _accounts(fund, 3)
    if balance:
        amounts = [*amounts, -sum(amounts, Decimal(0))]
        amounts = [a for a in amounts if a != 0]
    balanced = len(amounts) >= 2 and sum(amounts, Decimal(0)) == 0
    try:
        with transaction.atomic():
            tx = _raw_post(fund, amounts, accounts)
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute("SET CONSTRAINTS funding_ledger_balanced IMMEDIATE")
            posted = LedgerTransaction.objects.get(pk=tx.pk).posted
    except (IntegrityError, DatabaseError):
        assert not balanced
    else:
        assert balanced and posted


def test_a_posted_transaction_cannot_be_changed_nor_extended(fund):  # type: ignore[no-untyped-def]
    a, b = _accounts(fund, 2)
    tx = _raw_post(fund, [Decimal("10.00"), Decimal("-10.00")], [a, b])
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        LedgerEntry.objects.filter(transaction=tx).update(amount_eur=Decimal("11.00"))
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        LedgerEntry.objects.create(transaction=tx, account=a, amount_eur=Decimal("1.00"))
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        LedgerTransaction.objects.filter(pk=tx.pk).update(posted=False)
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        LedgerTransaction.objects.create(
            kind="allocated", programme=fund.programme, year=2026, posted=True
        )
    assert sorted(
        LedgerEntry.objects.filter(transaction=tx).values_list("amount_eur", flat=True)
    ) == [Decimal("-10.00"), Decimal("10.00")]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="deferred constraint trigger: PostgreSQL only"
)
def test_postgres_checks_every_transaction_at_commit_posted_or_not(fund):  # type: ignore[no-untyped-def]
    a, _b = _accounts(fund, 2)
    with pytest.raises(IntegrityError), transaction.atomic():
        tx = LedgerTransaction.objects.create(kind="allocated", programme=fund.programme, year=2026)
        LedgerEntry.objects.create(transaction=tx, account=a, amount_eur=Decimal("5.00"))
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS funding_ledger_balanced IMMEDIATE")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moves=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), cents.map(abs)), min_size=1, max_size=8
    )
)
def test_totals_match_the_posted_moves(fund, moves):  # type: ignore[no-untyped-def]
    accounts = _accounts(fund, 4)
    before = {
        a.pk: sum(a.entries.values_list("amount_eur", flat=True), Decimal(0)) for a in accounts
    }
    expected = dict(before)
    with transaction.atomic():
        for debit, credit, amount in moves:
            if debit == credit:
                continue
            ledger.move(
                policy.SYSTEM,
                "allocated",
                fund.programme,
                amount,
                accounts[debit],
                accounts[credit],
                journal=False,
            )
            expected[accounts[debit].pk] += amount
            expected[accounts[credit].pk] -= amount
    for a in accounts:
        assert sum(a.entries.values_list("amount_eur", flat=True), Decimal(0)) == expected[a.pk]
    grand = sum(LedgerEntry.objects.values_list("amount_eur", flat=True), Decimal(0))
    assert grand == 0  # every account together always balances


def test_python_refuses_an_unbalanced_post_with_a_clear_error(fund):  # type: ignore[no-untyped-def]
    a, b = _accounts(fund, 2)
    with pytest.raises(ValueError), transaction.atomic():
        ledger.post(
            policy.SYSTEM,
            "allocated",
            fund.programme,
            [ledger.Leg(a, Decimal("1.00")), ledger.Leg(b, Decimal("-0.99"))],
        )


def test_each_transaction_is_a_journal_entry_in_the_same_transaction(fund):  # type: ignore[no-untyped-def]
    tx = LedgerTransaction.objects.get(programme=fund.programme, kind="allocated")
    event = Event.objects.get(type="ledger.allocated", subject_id=str(tx.pk))
    assert json.loads(event.entry)["data"]["entries"] == [
        {"account": "programme:emploi-durable-2026:available", "amount": "1000000.00"},
        {"account": f"appropriation:{fund.programme.institution.slug}", "amount": "-1000000.00"},
    ]
    assert ledger.totals(programme=fund.programme)["available"] == Decimal("1000000.00")


def test_post_batch_posts_balanced_transactions_and_refuses_others(fund):  # type: ignore[no-untyped-def]
    a, b, c = _accounts(fund, 3)
    with transaction.atomic():
        n = ledger.post_batch(
            "allocated",
            fund.programme,
            [
                [ledger.Leg(a, Decimal("1.10")), ledger.Leg(b, Decimal("-1.10"))],
                [
                    ledger.Leg(a, Decimal("2.00")),
                    ledger.Leg(b, Decimal("-0.50")),
                    ledger.Leg(c, Decimal("-1.50")),
                ],
            ],
        )
    assert n == 2
    assert sum(a.entries.values_list("amount_eur", flat=True), Decimal(0)) == Decimal("3.10")
    for bad in (
        [ledger.Leg(a, Decimal("1.005")), ledger.Leg(b, Decimal("-1.005"))],
        [ledger.Leg(a, Decimal("1.00")), ledger.Leg(b, Decimal("-0.99"))],
    ):
        with pytest.raises(ValueError), transaction.atomic():
            ledger.post_batch("allocated", fund.programme, [bad])
    assert LedgerTransaction.objects.filter(posted=False).count() == 0
