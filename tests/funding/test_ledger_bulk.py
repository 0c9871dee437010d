"""The ledger's batch insert goes through ``pacte.writes.rows.bulk_insert`` (COPY on
PostgreSQL): the database's balance checks still hold on that path."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from pacte.funding import ledger
from pacte.funding.models import LedgerAccount, LedgerEntry, LedgerTransaction
from pacte.writes.rows import bulk_insert

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="deferred constraint trigger: PostgreSQL only"
)
COLUMNS = ("transaction_id", "account_id", "amount_eur")


def _accounts(fund, n: int) -> list[LedgerAccount]:  # type: ignore[no-untyped-def]
    return [
        ledger._account(
            f"bulk:{i}",
            f"Compte {i}",
            "available",
            programme=fund.programme,
            institution_id=fund.programme.institution_id,
        )
        for i in range(n)
    ]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_an_unbalanced_batch_copied_in_is_refused_at_commit_and_leaves_nothing(fund):  # type: ignore[no-untyped-def]
    a, b = _accounts(fund, 2)
    entries_before = LedgerEntry.objects.count()
    with pytest.raises(IntegrityError, match="unbalanced"):
        with transaction.atomic():
            txs = LedgerTransaction.objects.bulk_create(
                [
                    LedgerTransaction(
                        kind="allocated", programme=fund.programme, year=2026, memo="bulk"
                    )
                    for _ in range(2)
                ]
            )
            rows = [
                (txs[0].pk, a.pk, "10.00"),
                (txs[0].pk, b.pk, "-10.00"),
                (txs[1].pk, a.pk, "7.00"),  # the second transaction does not balance
                (txs[1].pk, b.pk, "-6.99"),
            ]
            bulk_insert(LedgerEntry._meta.db_table, COLUMNS, rows)  # COPY: accepted for now
            assert LedgerEntry.objects.filter(transaction__memo="bulk").count() == 4
        # the deferred constraint trigger refuses the transaction at COMMIT
    assert not LedgerTransaction.objects.filter(memo="bulk").exists()
    assert LedgerEntry.objects.count() == entries_before


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_post_batch_after_constraints_made_immediate_checks_each_balance_after_the_copy(fund):  # type: ignore[no-untyped-def]
    """A governance transaction that already recorded an event runs with ``SET CONSTRAINTS ALL
    IMMEDIATE`` (the log's lock order): the balance trigger's row events then fire at the end
    of the COPY statement, when every entry of the batch is in."""
    a, b, c = _accounts(fund, 3)
    batch = [
        [ledger.Leg(a, Decimal("1.10")), ledger.Leg(b, Decimal("-1.10"))],
        [
            ledger.Leg(a, Decimal("2.00")),
            ledger.Leg(b, Decimal("-0.50")),
            ledger.Leg(c, Decimal("-1.50")),
        ],
    ]
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        assert ledger.post_batch("allocated", fund.programme, batch, memo="immediate") == 2
    assert LedgerTransaction.objects.filter(memo="immediate", posted=True).count() == 2
    assert sum(c.entries.values_list("amount_eur", flat=True), Decimal(0)) == Decimal("-1.50")
    # the same check refuses an unbalanced COPY at once, and nothing stays
    with pytest.raises((IntegrityError, DatabaseError), match="unbalanced"):
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            tx = LedgerTransaction.objects.create(
                kind="allocated", programme=fund.programme, year=2026, memo="refused"
            )
            bulk_insert(
                LedgerEntry._meta.db_table, COLUMNS, [(tx.pk, a.pk, "3.00"), (tx.pk, b.pk, "-2.00")]
            )
    assert not LedgerTransaction.objects.filter(memo="refused").exists()


def test_post_batch_entries_are_the_legs_and_the_posting_trigger_refuses_an_unbalanced_copy(fund):  # type: ignore[no-untyped-def]
    """Both databases: the rows bulk-inserted are exactly the legs; posting a transaction whose
    bulk-inserted entries do not balance is refused by the posting trigger, and rolled back."""
    a, b = _accounts(fund, 2)
    with transaction.atomic():
        ledger.post_batch(
            "allocated",
            fund.programme,
            [[ledger.Leg(a, Decimal("12.34")), ledger.Leg(b, Decimal("-12.34"))]] * 3,
            memo="legs",
        )
    got = sorted(
        (e.account_id, e.amount_eur) for e in LedgerEntry.objects.filter(transaction__memo="legs")
    )
    assert got == sorted([(a.pk, Decimal("12.34")), (b.pk, Decimal("-12.34"))] * 3)
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        tx = LedgerTransaction.objects.create(
            kind="allocated", programme=fund.programme, year=2026, memo="unposted"
        )
        bulk_insert(
            LedgerEntry._meta.db_table, COLUMNS, [(tx.pk, a.pk, "5.00"), (tx.pk, b.pk, "-4.00")]
        )
        LedgerTransaction.objects.filter(pk=tx.pk).update(posted=True)
    assert not LedgerTransaction.objects.filter(memo="unposted").exists()
