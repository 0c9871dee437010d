"""Reads of the funding domain. Everything here is public (the money is public to the cent): no
access filtering is needed beyond what the pact's own publicity already is (a contract is attached
to a pact the institution approved)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from pacte.accounts.models import Organisation
from pacte.accounts.state_record import PromiseFigures, figures_from_items
from pacte.errors import NotFound
from pacte.funding.models import OutcomeContract, PaymentOrder, Programme


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
