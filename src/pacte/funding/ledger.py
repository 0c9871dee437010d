"""The public double-entry ledger: every movement of money is a balanced transaction between named
accounts, posted in the same database transaction as the change it records and as its journal event.

Sign convention: a debit is positive, a credit negative; a transaction's entries sum to zero (the
database refuses to post it otherwise, see migration 0002). Accounts, by code:

* ``appropriation:<institution>``        the institution's credits (source of every programme);
* ``programme:<slug>:available``         budget not yet committed;
* ``contract:<ref>:committed``           committed to a contract, not yet payable;
* ``contract:<ref>:payable``             approved, to be paid;
* ``contract:<ref>:withheld``            payable but withheld while the pact is suspended;
* ``project:<slug>:paid``                paid to the carrier (no equity, ever: C5);
* ``contract:<ref>:receivable``          unspent advance to recover after a broken pact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from pacte.accounts.policy import Principal
from pacte.funding.events import funding_event, money
from pacte.funding.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    OutcomeContract,
    PaymentOrder,
    Programme,
)
from pacte.writes.rows import bulk_insert

Kind = LedgerAccount.Kind
CENT = Decimal("0.01")


def appropriation(programme: Programme) -> LedgerAccount:
    inst = programme.institution
    return _account(
        f"appropriation:{inst.slug}",
        f"Crédits — {inst.name}",
        Kind.APPROPRIATION,
        programme=None,
        institution_id=inst.pk,
    )


def available(programme: Programme) -> LedgerAccount:
    return _account(
        f"programme:{programme.slug}:available",
        f"Disponible — {programme.title}",
        Kind.AVAILABLE,
        programme=programme,
        institution_id=programme.institution_id,
    )


def contract_account(contract: OutcomeContract, kind: str) -> LedgerAccount:
    programme = contract.programme
    labels = {
        Kind.COMMITTED: "Engagé",
        Kind.PAYABLE: "À payer",
        Kind.WITHHELD: "Retenu",
        Kind.RECEIVABLE: "À recouvrer",
    }
    return _account(
        f"contract:{contract.reference}:{kind}",
        f"{labels[Kind(kind)]} — {contract.reference}",
        kind,
        programme=programme,
        institution_id=programme.institution_id,
        project_slug=contract.version.pact.project.slug,
    )


def project_paid(contract: OutcomeContract) -> LedgerAccount:
    project = contract.version.pact.project
    return _account(
        f"project:{project.slug}:paid",
        f"Versé — {project.name}",
        Kind.PAID,
        programme=None,
        institution_id=contract.programme.institution_id,
        project_slug=project.slug,
    )


def _account(
    code: str,
    name: str,
    kind: str,
    *,
    programme: Programme | None,
    institution_id: int,
    project_slug: str = "",
) -> LedgerAccount:
    account, _created = LedgerAccount.objects.get_or_create(
        code=code,
        defaults={
            "name": name[:300],
            "kind": kind,
            "programme": programme,
            "institution_id": institution_id,
            "project_slug": project_slug,
        },
    )
    return account


@dataclass(frozen=True)
class Leg:
    account: LedgerAccount
    amount: Decimal  # debit > 0, credit < 0


def post(
    principal: Principal,
    kind: str,
    programme: Programme,
    legs: Sequence[Leg],
    *,
    memo: str = "",
    contract: OutcomeContract | None = None,
    payment: PaymentOrder | None = None,
    journal: bool = True,
) -> LedgerTransaction:
    """Write one balanced transaction and post it (inside the caller's transaction), then its
    journal event. The database checks the balance; Python checks it first for a clear message."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger.post runs inside the transaction of the change it records")
    legs = [leg for leg in legs if leg.amount != 0]
    if not legs:
        raise ValueError("a ledger transaction moves money")
    if sum((leg.amount for leg in legs), Decimal(0)) != 0 or len(legs) < 2:
        raise ValueError("a ledger transaction's entries sum to zero")
    tx = LedgerTransaction.objects.create(
        kind=kind,
        programme=programme,
        contract=contract,
        payment=payment,
        memo=memo[:300],
        year=timezone.now().year,
    )
    LedgerEntry.objects.bulk_create(
        [LedgerEntry(transaction=tx, account=leg.account, amount_eur=leg.amount) for leg in legs]
    )
    LedgerTransaction.objects.filter(pk=tx.pk).update(posted=True)
    tx.posted = True
    if journal:
        funding_event(
            f"ledger.{kind}",
            principal,
            "ledger",
            str(tx.pk),
            project_slug=contract.version.pact.project.slug if contract else "",
            programme=programme.slug,
            contract=contract.reference if contract else None,
            payment=payment.reference if payment else None,
            memo=memo,
            entries=[{"account": leg.account.code, "amount": money(leg.amount)} for leg in legs],
        )
    return tx


def post_batch(
    kind: str, programme: Programme, batch: Sequence[Sequence[Leg]], *, memo: str = ""
) -> int:
    """Post many transactions of one kind at once (imports, replays, the benchmark): one INSERT of
    transactions, one bulk insert of entries (:func:`pacte.writes.rows.bulk_insert`: COPY on
    PostgreSQL, one prepared executemany on SQLite), one UPDATE that posts them — the database
    checks each balance as it posts (SQLite: the posting trigger; PostgreSQL: the posting trigger
    and the deferred constraint trigger at commit — its row events, even if made immediate by
    the caller, fire at the end of the one COPY statement, when every entry is in). No journal
    event here: the caller records one for the batch."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger.post_batch runs inside the transaction of the change it records")
    for legs in batch:  # a clear error before the database's own refusal
        if (
            len(legs) < 2
            or sum((leg.amount for leg in legs), Decimal(0)) != 0
            or any(leg.amount == 0 or leg.amount != leg.amount.quantize(CENT) for leg in legs)
        ):
            raise ValueError(
                "each ledger transaction has two entries or more, to the cent, summing to zero"
            )
    year = timezone.now().year
    txs = LedgerTransaction.objects.bulk_create(
        [
            LedgerTransaction(kind=kind, programme=programme, memo=memo[:300], year=year)
            for _legs in batch
        ]
    )
    # the entries go in as plain rows (the ORM's per-object cost would dominate a large batch)
    rows = [
        (tx.pk, leg.account.pk, str(leg.amount))
        for tx, legs in zip(txs, batch, strict=True)
        for leg in legs
    ]
    bulk_insert(LedgerEntry._meta.db_table, ("transaction_id", "account_id", "amount_eur"), rows)
    return LedgerTransaction.objects.filter(pk__in=[tx.pk for tx in txs]).update(posted=True)


def move(
    principal: Principal,
    kind: str,
    programme: Programme,
    amount: Decimal,
    debit: LedgerAccount,
    credit: LedgerAccount,
    **kw: object,
) -> LedgerTransaction:
    """The common two-legged case: ``amount`` from ``credit`` to ``debit``."""
    return post(principal, kind, programme, [Leg(debit, amount), Leg(credit, -amount)], **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------ totals (reads)


def balances(**filters: object) -> dict[str, Decimal]:
    """Balance per account kind over posted transactions, filtered on the transaction
    (``programme``, ``year``) or the account (``institution``, ``project_slug``)."""
    q = Q(transaction__posted=True)
    for key, value in filters.items():
        if key in ("programme", "year"):
            q &= Q(**{f"transaction__{key}": value})
        else:
            q &= Q(**{f"account__{key}": value})
    rows = LedgerEntry.objects.filter(q).values("account__kind").annotate(total=Sum("amount_eur"))
    # SQLite sums decimals without their scale: every total goes back to the cent
    return {row["account__kind"]: Decimal(row["total"] or 0).quantize(CENT) for row in rows}


def totals(**filters: object) -> dict[str, Decimal]:
    """Allocated, committed, paid, withheld, to recover — the public figures."""
    return public_figures(balances(**filters))


def public_figures(b: dict[str, Decimal]) -> dict[str, Decimal]:
    """Balances per account kind → the public figures (the sign convention undone)."""
    z = Decimal("0.00")
    return {
        "available": b.get(Kind.AVAILABLE, z),
        "committed": b.get(Kind.COMMITTED, z) + b.get(Kind.PAYABLE, z) + b.get(Kind.WITHHELD, z),
        "payable": b.get(Kind.PAYABLE, z),
        "withheld": b.get(Kind.WITHHELD, z),
        "paid": b.get(Kind.PAID, z),
        "receivable": b.get(Kind.RECEIVABLE, z),
        "appropriated": -b.get(Kind.APPROPRIATION, z),
    }
