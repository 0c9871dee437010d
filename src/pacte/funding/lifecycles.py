"""The payment order's and the recovery's state machines, declared once as tables of moves.

    prepared ──approve──▶ approved ──pay──▶ paid
       │  ╲                 │  ╲
       │   withhold ◀───────┘   cancel (reason) ──▶ cancelled
       ▼                         ▲
    withheld ──release──▶ (back to prepared or approved)
       └──────────cancel─────────┘

Withholding and release follow the pact's sanctions (``payments.on_pact_sanction``): only the
platform makes them. The two-person rule lives in the policy (``Action.PAYMENT_APPROVE``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from pacte.accounts.policy import Action, Principal
from pacte.funding.events import funding_event, money
from pacte.funding.models import PaymentOrder, Recovery
from pacte.writes.lifecycle import Lifecycle, Move

P = PaymentOrder.State


def _set_payment_state(order: PaymentOrder, state: str, reason: str) -> None:
    order.status = state
    if reason:
        order.last_reason = reason
    order.save()


def _record_payment(
    order: PaymentOrder, event: str, principal: Principal, data: dict[str, Any]
) -> None:
    contract = order.contract
    funding_event(
        event,
        principal,
        "payment",
        order.reference,
        project_slug=contract.version.pact.project.slug,
        contract=contract.reference,
        pact=contract.version.pact.reference,
        status=order.status,
        amount=money(order.amount_eur),
        **data,
    )


PAYMENT: Lifecycle[PaymentOrder] = Lifecycle.declare(
    "payment",
    [
        Move.of(
            "approve",
            [P.PREPARED],
            P.APPROVED,
            Action.PAYMENT_APPROVE,
            "payment.approved",
            wrong_state=_("Seul un ordre préparé peut être approuvé."),
        ),
        Move.of(
            "pay",
            [P.APPROVED],
            P.PAID,
            Action.PAYMENT_PREPARE,
            "payment.paid",
            wrong_state=_("Seul un ordre approuvé peut être payé."),
        ),
        Move.of(
            "withhold",
            [P.PREPARED, P.APPROVED],
            P.WITHHELD,
            Action.PAYMENT_SANCTION,
            "payment.withheld",
            reason=True,
        ),
        Move.of("release", [P.WITHHELD], P.APPROVED, Action.PAYMENT_SANCTION, "payment.released"),
        Move.of(
            "cancel",
            [P.PREPARED, P.APPROVED, P.WITHHELD],
            P.CANCELLED,
            Action.PAYMENT_PREPARE,
            "payment.cancelled",
            reason=True,
            wrong_state=_("Un ordre payé ou déjà annulé ne peut plus être annulé."),
        ),
    ],
    state_of=lambda o: str(o.status),
    set_state=_set_payment_state,
    record=_record_payment,
    state_label=lambda s: str(P(s).label),
)

R = Recovery.State


def _set_recovery_state(recovery: Recovery, state: str, reason: str) -> None:
    from django.utils import timezone

    recovery.status = state
    recovery.closed_at = timezone.now()
    recovery.save()


def _record_recovery(
    recovery: Recovery, event: str, principal: Principal, data: dict[str, Any]
) -> None:
    contract = recovery.contract
    funding_event(
        event,
        principal,
        "recovery",
        str(recovery.pk),
        project_slug=contract.version.pact.project.slug,
        contract=contract.reference,
        amount=money(recovery.amount_eur),
        **data,
    )


RECOVERY: Lifecycle[Recovery] = Lifecycle.declare(
    "recovery",
    [
        Move.of(
            "recover",
            [R.OPEN],
            R.RECOVERED,
            Action.PAYMENT_PREPARE,
            "recovery.recovered",
            wrong_state=_("Ce recouvrement est déjà clos."),
        )
    ],
    state_of=lambda r: str(r.status),
    set_state=_set_recovery_state,
    record=_record_recovery,
    state_label=lambda s: str(R(s).label),
)
