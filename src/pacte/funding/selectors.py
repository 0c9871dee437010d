"""Reads of the funding domain. Everything here is public (the money is public to the cent): no
access filtering is needed beyond what the pact's own publicity already is (a contract is attached
to a pact the institution approved)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from pacte.accounts.models import Organisation
from pacte.accounts.state_record import PromiseFigures, figures_from_items
from pacte.errors import NotFound
from pacte.funding.ledger import CENT, public_figures
from pacte.funding.models import (
    LedgerEntry,
    LedgerTransaction,
    OutcomeContract,
    PaymentOrder,
    Programme,
)


def programmes() -> QuerySet[Programme]:
    return Programme.objects.select_related("institution").order_by("-starts_on", "slug")


def get_programme(slug: str) -> Programme:
    programme = programmes().filter(slug=slug).first()
    if programme is None:
        raise NotFound(_("Programme inconnu."))
    return programme


def contracts(*, programme: str = "", pact: str = "") -> QuerySet[OutcomeContract]:
    qs = OutcomeContract.objects.select_related(
        "programme__institution", "version__pact__project__carrier"
    )
    if programme:
        qs = qs.filter(programme__slug=programme)
    if pact:
        qs = qs.filter(version__pact__reference=pact)
    return qs.order_by("reference")


def get_contract(reference: str) -> OutcomeContract:
    contract = contracts().filter(reference=reference).first()
    if contract is None:
        raise NotFound(_("Contrat inconnu."))
    return contract


def payments(
    *, contract: str = "", status: str = "", programme: str = ""
) -> QuerySet[PaymentOrder]:
    qs = PaymentOrder.objects.select_related(
        "contract__programme__institution", "contract__version__pact__project", "window"
    )
    if contract:
        qs = qs.filter(contract__reference=contract)
    if status:
        qs = qs.filter(status=status)
    if programme:
        qs = qs.filter(contract__programme__slug=programme)
    return qs.order_by("-created_at", "-pk")


def get_payment(reference: str) -> PaymentOrder:
    order = payments().filter(reference=reference).first()
    if order is None:
        raise NotFound(_("Ordre de paiement inconnu."))
    return order


def late_payments() -> QuerySet[PaymentOrder]:
    """State-side breaches: payments the institution made (or still owes) after their due date."""
    return payments().filter(late=True).exclude(status=PaymentOrder.State.CANCELLED)


# ------------------------------------------------------------------ the public ledger

LEDGER_GROUPS = ("programme", "institution", "project", "year")


def ledger_transactions(
    *, programme: str = "", institution: str = "", project: str = "", year: int = 0
) -> QuerySet[LedgerTransaction]:
    """Posted transactions, newest first, filtered by programme slug, funding institution slug,
    project slug (any of its entries' accounts) or year."""
    qs = LedgerTransaction.objects.filter(posted=True)
    if programme:
        qs = qs.filter(programme__slug=programme)
    if institution:
        qs = qs.filter(programme__institution__slug=institution)
    if project:
        qs = qs.filter(entries__account__project_slug=project).distinct()
    if year:
        qs = qs.filter(year=year)
    return qs.select_related("programme", "contract", "payment").order_by("-at", "-pk")


def ledger_filters(
    *, programme: str = "", institution: str = "", project: str = "", year: int = 0
) -> dict[str, object]:
    """The same filters, in the form :func:`pacte.funding.ledger.totals` takes."""
    filters: dict[str, object] = {}
    if programme:
        filters["programme"] = get_programme(programme)
    if institution:
        filters["institution__slug"] = institution
    if project:
        filters["project_slug"] = project
    if year:
        filters["year"] = year
    return filters


def totals_by(group: str) -> list[dict[str, object]]:
    """The public figures per programme, funding institution, project or year, in one query:
    ``[{"key": …, "label": …, "available": …, "committed": …, …}]``."""
    if group not in LEDGER_GROUPS:
        raise ValueError(group)
    column = {
        "programme": "transaction__programme__slug",
        "institution": "account__institution__slug",
        "project": "account__project_slug",
        "year": "transaction__year",
    }[group]
    label_column = {
        "programme": "transaction__programme__title",
        "institution": "account__institution__name",
        "project": "account__project_slug",
        "year": "transaction__year",
    }[group]
    rows = (
        LedgerEntry.objects.filter(transaction__posted=True)
        .values(column, label_column, "account__kind")
        .annotate(total=Sum("amount_eur"))
        .order_by(column, "account__kind")
    )
    balances: dict[object, dict[str, Decimal]] = {}
    labels: dict[object, object] = {}
    for row in rows:
        key = row[column]
        if group == "project" and not key:
            continue  # the institution's and the programme's own accounts belong to no project
        labels[key] = row[label_column]
        balances.setdefault(key, {})[row["account__kind"]] = Decimal(row["total"] or 0).quantize(
            CENT
        )
    return [{"key": key, "label": labels[key], **public_figures(b)} for key, b in balances.items()]


def payment_figures(institution: Organisation, now: datetime) -> PromiseFigures:
    """The State's record (issue 12): payment orders of this institution's programmes with a due
    date — received when prepared, answered when paid, due at the end of their due day. Cancelled
    and withheld orders (a sanction of the carrier) are not owed."""
    P = PaymentOrder.State
    rows = (
        PaymentOrder.objects.filter(
            contract__programme__institution=institution, due_on__isnull=False
        )
        .exclude(status__in=(P.CANCELLED, P.WITHHELD))
        .values_list("created_at", "paid_on", "due_on")
    )

    def end_of(day: date) -> datetime:
        return datetime.combine(day, time.max, tzinfo=UTC)

    return figures_from_items(
        (
            (created, end_of(paid) if paid else None, end_of(due))
            for created, paid, due in rows
            if due is not None  # filtered above; the stubs do not know
        ),
        now,
    )
