"""Payment orders: computed from published evidence (never typed in), prepared by a finance officer,
approved by another person, paid; withheld, released or cancelled by the pact's sanctions.

Lock order in every use case: programme → contract → payment order → (reference counter) → journal.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action, Principal
from pacte.accounts.services import Acting
from pacte.engines import outcome_payments as formula
from pacte.errors import InvalidTransition, ValidationFailed
from pacte.funding import ledger
from pacte.funding.contracts import lock_contract
from pacte.funding.events import funding_event, money
from pacte.funding.evidence_inputs import bias_standing, published_evaluation
from pacte.funding.lifecycles import PAYMENT, RECOVERY
from pacte.funding.models import EvaluationWindow, OutcomeContract, PaymentOrder, Recovery
from pacte.funding.programmes import lock_programme
from pacte.pacts import ports as pact_ports
from pacte.pacts.models import PactVersion
from pacte.writes.references import next_reference
from pacte.writes.retry import retry_on_conflict

P = PaymentOrder.State
OUTSTANDING = (P.PREPARED, P.APPROVED, P.WITHHELD)
# An approved order without a due date (an advance) is due this many days after approval; a
# payment released after a suspension is due again no sooner than RELEASE_DELAY_DAYS later.
PAYMENT_DELAY_DAYS = 30
RELEASE_DELAY_DAYS = 15


def engaged(contract: OutcomeContract) -> Decimal:
    """Paid so far, plus what is already ordered and not cancelled: the formula's ``paid``."""
    ordered = contract.payments.filter(status__in=OUTSTANDING).aggregate(s=Sum("amount_eur"))["s"]
    return contract.paid_eur + (ordered or Decimal("0"))


def window_inputs(
    contract: OutcomeContract, window: EvaluationWindow
) -> tuple[formula.Result, dict[str, object]]:
    """The formula's inputs for a validated window, read from published evidence, and the result."""
    if window.evaluation_id is None:
        raise InvalidTransition(_("L'évaluateur indépendant n'a pas encore validé cette fenêtre."))
    evaluation = published_evaluation(window.evaluation_id)
    if evaluation is None:
        raise InvalidTransition(_("L'évaluation de cette fenêtre n'est pas publiée."))
    standing = bias_standing(evaluation.project_id)
    ratio = (
        None
        if standing.in_need_ratio_min is None
        else formula.to_decimal(standing.in_need_ratio_min)
    )
    equity = formula.equity_factor(contract.equity_bonus, ratio, standing.in_breach)
    paid = engaged(contract)
    result = formula.compute(
        formula.Inputs(
            price=contract.price_eur,
            n=evaluation.n_treatment,
            ci_low=formula.to_decimal(evaluation.ci_low),
            base=contract.base_fee_eur,
            cap=contract.cap_eur,
            paid=paid,
            equity=equity,
            gate=0 if standing.in_breach else 1,
        )
    )
    inputs: dict[str, object] = {
        "evaluation": {
            "id": evaluation.id,
            "title": evaluation.title,
            "data_sha256": evaluation.data_sha256,
            "estimand": evaluation.estimand,
            "estimate": evaluation.estimate,
            "ci": [evaluation.ci_low, evaluation.ci_high],
            "scale": evaluation.scale,
            "n": evaluation.n_treatment,
            "conclusive": evaluation.conclusive,
        },
        "bias_audit": {
            "id": standing.audit_id,
            "in_breach": standing.in_breach,
            "in_need_ratio_min": standing.in_need_ratio_min,
        },
        "clause": {
            "price": money(contract.price_eur),
            "base_fee": money(contract.base_fee_eur),
            "cap": money(contract.cap_eur),
            "equity_bonus": str(contract.equity_bonus),
        },
        "paid_so_far": money(paid),
        "equity": str(equity),
        "gate": 0 if standing.in_breach else 1,
        "outcome": money(result.outcome),
        "window": window.number,
    }
    return result, inputs


def _new_order(
    acting: Acting,
    contract: OutcomeContract,
    kind: str,
    amount: Decimal,
    *,
    window: EvaluationWindow | None,
    inputs: dict[str, object],
    formula_text: str,
    due_on: date | None,
) -> PaymentOrder:
    order = PaymentOrder.objects.create(
        reference=next_reference(PaymentOrder, "OP"),
        contract=contract,
        window=window,
        kind=kind,
        amount_eur=amount,
        inputs=inputs,
        formula_version=formula.FORMULA_VERSION if window else "",
        formula_text=formula_text,
        prepared_by=acting.user,
        due_on=due_on,
    )
    funding_event(
        "payment.prepared",
        acting,
        "payment",
        order.reference,
        project_slug=contract.version.pact.project.slug,
        contract=contract.reference,
        kind=kind,
        amount=money(amount),
        window=window.number if window else None,
        inputs=inputs,
        formula_version=order.formula_version,
        formula=formula_text,
        due_on=due_on.isoformat() if due_on else None,
    )
    return order


@retry_on_conflict
@transaction.atomic
def prepare_window_payment(acting: Acting, window: EvaluationWindow) -> PaymentOrder:
    """The finance officer prepares what a validated window pays, computed by the formula."""
    contract = lock_contract(window.contract_id)
    policy.require(acting, Action.PAYMENT_PREPARE, contract)
    window = EvaluationWindow.objects.get(pk=window.pk)
    if contract.status != OutcomeContract.State.ACTIVE:
        raise InvalidTransition(_("Ce contrat n'est plus en vigueur."))
    if PaymentOrder.objects.filter(window=window).exists():
        raise InvalidTransition(_("Un ordre de paiement existe déjà pour cette fenêtre."))
    result, inputs = window_inputs(contract, window)
    return _new_order(
        acting,
        contract,
        PaymentOrder.Kind.WINDOW,
        result.payment,
        window=window,
        inputs=inputs,
        formula_text=result.substituted(),
        due_on=window.payment_due_on,
    )


@retry_on_conflict
@transaction.atomic
def prepare_advance(
    acting: Acting, contract: OutcomeContract, due_on: date | None = None
) -> PaymentOrder:
    """The contract's advance (set in the clause), once."""
    contract = lock_contract(contract)
    policy.require(acting, Action.PAYMENT_PREPARE, contract)
    if contract.advance_eur <= 0:
        raise ValidationFailed(_("Ce contrat ne prévoit pas d'avance."))
    if (
        contract.payments.filter(kind=PaymentOrder.Kind.ADVANCE)
        .exclude(status=P.CANCELLED)
        .exists()
    ):
        raise InvalidTransition(_("L'avance de ce contrat est déjà ordonnée."))
    amount = min(contract.advance_eur, contract.cap_eur - engaged(contract))
    return _new_order(
        acting,
        contract,
        PaymentOrder.Kind.ADVANCE,
        amount,
        window=None,
        inputs={"clause": {"advance": money(contract.advance_eur), "cap": money(contract.cap_eur)}},
        formula_text="",
        due_on=due_on,
    )


def _commitment_key(order: PaymentOrder) -> str:
    return f"paiement-{order.reference}"


def _track(acting: Principal, contract: OutcomeContract, order: PaymentOrder) -> None:
    """The approved order becomes one of the pact's commitments, owned by the institution, due
    on ``order.due_on``: the compliance engine's clock marks it missed, then breached (a
    State-side breach, notified and published) if it is not paid in time."""
    assert order.due_on is not None
    pact_ports.add_state_commitment(
        acting,
        contract.version,
        key=_commitment_key(order),
        text=_("Verser %(amount)s € au porteur (ordre de paiement %(ref)s, contrat %(contract)s).")
        % {
            "amount": money(order.amount_eur),
            "ref": order.reference,
            "contract": contract.reference,
        },
        due_date=order.due_on,
        evidence_kind="payment",
        payment=order.reference,
    )


def _lock_order(order: PaymentOrder) -> tuple[OutcomeContract, PaymentOrder]:
    """Programme, then contract, then the order."""
    contract_id = PaymentOrder.objects.values_list("contract_id", flat=True).get(pk=order.pk)
    contract = OutcomeContract.objects.only("programme_id").get(pk=contract_id)
    lock_programme(contract.programme_id)
    contract = lock_contract(contract_id)
    locked = PaymentOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
    locked.contract = contract
    return contract, locked


@retry_on_conflict
@transaction.atomic
def approve(acting: Acting, order: PaymentOrder) -> PaymentOrder:
    """The second person approves (never the one who prepared it): the amount becomes payable."""
    contract, order = _lock_order(order)
    PAYMENT.apply(acting, "approve", order)
    order.approved_by = acting.user
    order.due_on = order.due_on or date.today() + timedelta(days=PAYMENT_DELAY_DAYS)
    order.save(update_fields=["approved_by", "due_on"])
    _track(acting, contract, order)
    ledger.move(
        acting,
        "payable",
        contract.programme,
        order.amount_eur,
        ledger.contract_account(contract, "payable"),
        ledger.contract_account(contract, "committed"),
        contract=contract,
        payment=order,
        memo=_("Ordre approuvé"),
    )
    return order


@retry_on_conflict
@transaction.atomic
def pay(acting: Principal, order: PaymentOrder, paid_on: date | None = None) -> PaymentOrder:
    """The finance officer records the payment made; paid after its due date, it stays late
    (a State-side breach, public)."""
    contract, order = _lock_order(order)
    paid_on = paid_on or date.today()
    move, reason = PAYMENT.check(acting, "pay", order)
    order.paid_on = paid_on
    order.late = order.late or bool(order.due_on and paid_on > order.due_on)
    PAYMENT.enter(acting, move, order, reason, paid_on=paid_on.isoformat(), late=order.late)
    pact_ports.settle_state_commitment(
        acting,
        contract.version,
        _commitment_key(order),
        note=_("Versé le %(date)s (dû le %(due)s).")
        % {
            "date": paid_on.strftime("%d/%m/%Y"),
            "due": order.due_on.strftime("%d/%m/%Y") if order.due_on else "—",
        },
        on=paid_on,
    )
    contract.paid_eur += order.amount_eur
    contract.save(update_fields=["paid_eur"])
    programme = contract.programme
    programme.paid_eur += order.amount_eur
    programme.save(update_fields=["paid_eur"])
    ledger.move(
        acting,
        "paid",
        programme,
        order.amount_eur,
        ledger.project_paid(contract),
        ledger.contract_account(contract, "payable"),
        contract=contract,
        payment=order,
        memo=_("Paiement versé au porteur"),
    )
    return order


def _cancel_locked(
    principal: Principal, contract: OutcomeContract, order: PaymentOrder, reason: str
) -> None:
    was = order.status
    held_from = order.held_from
    PAYMENT.apply(principal, "cancel", order, reason)
    pact_ports.withdraw_state_commitment(
        principal, contract.version, _commitment_key(order), reason=reason
    )
    source = (
        "payable"
        if was == P.APPROVED
        else "withheld"
        if (was == P.WITHHELD and held_from == P.APPROVED)
        else ""
    )
    if source:
        ledger.move(
            principal,
            "decommitted",
            contract.programme,
            order.amount_eur,
            ledger.contract_account(contract, "committed"),
            ledger.contract_account(contract, source),
            contract=contract,
            payment=order,
            memo=_("Ordre annulé"),
        )


@retry_on_conflict
@transaction.atomic
def cancel(principal: Principal, order: PaymentOrder, reason: str) -> PaymentOrder:
    contract, order = _lock_order(order)
    _cancel_locked(principal, contract, order, reason)
    return order


@retry_on_conflict
@transaction.atomic
def mark_late_payments(principal: Principal, today: date) -> list[str]:
    """The platform's clock: an order due before ``today`` and not paid (nor withheld by a
    sanction, nor cancelled) is late — a State-side breach, published as such."""
    policy.require(principal, Action.PLATFORM_CLOCK, None)
    late = []
    candidates = PaymentOrder.objects.filter(
        status__in=(P.PREPARED, P.APPROVED), due_on__lt=today, late=False
    )
    for order in candidates.select_related("contract__version__pact__project").order_by("pk"):
        PaymentOrder.objects.filter(pk=order.pk).update(late=True)
        pact = order.contract.version.pact
        funding_event(
            "payment.late",
            principal,
            "payment",
            order.reference,
            project_slug=pact.project.slug,
            contract=order.contract.reference,
            pact=pact.reference,
            amount=money(order.amount_eur),
            due_on=order.due_on.isoformat() if order.due_on else None,
            side="institution",
            state_side_breach=True,
        )
        late.append(order.reference)
    return late


# ------------------------------------------------------------------ sanctions (pacte.pacts.ports)


def on_pact_sanction(version: PactVersion, action: str) -> None:
    """Called by the pact's sanction use case, in its transaction: suspend → withhold,
    reinstate → release, break → cancel what is unpaid and open a recovery of unspent advances."""
    contracts = list(
        OutcomeContract.objects.filter(version__pact_id=version.pact_id)
        .order_by("programme_id", "pk")
        .values_list("pk", "programme_id")
    )
    for programme_id in sorted({p for _pk, p in contracts}):
        lock_programme(programme_id)
    reason = version.last_reason or _("Sanction du pacte %(pact)s.") % {
        "pact": version.pact.reference
    }
    for pk, _programme_id in contracts:
        contract = lock_contract(pk)
        orders = list(
            PaymentOrder.objects.select_for_update(of=("self",))
            .filter(contract=contract)
            .order_by("pk")
        )
        for order in orders:
            order.contract = contract
        if action == "suspend":
            for order in orders:
                if order.status in (P.PREPARED, P.APPROVED):
                    _withhold(contract, order, reason)
        elif action == "reinstate":
            for order in orders:
                if order.status == P.WITHHELD:
                    _release(contract, order)
        elif action == "break":
            _break(contract, orders, reason)


def _withhold(contract: OutcomeContract, order: PaymentOrder, reason: str) -> None:
    was = order.status
    order.held_from = was
    PAYMENT.apply(policy.SYSTEM, "withhold", order, reason)
    pact_ports.reschedule_state_commitment(
        policy.SYSTEM, contract.version, _commitment_key(order), due_date=None, reason=reason
    )
    if was == P.APPROVED:
        ledger.move(
            policy.SYSTEM,
            "withheld",
            contract.programme,
            order.amount_eur,
            ledger.contract_account(contract, "withheld"),
            ledger.contract_account(contract, "payable"),
            contract=contract,
            payment=order,
            memo=_("Paiement retenu : pacte suspendu"),
        )


def _release(contract: OutcomeContract, order: PaymentOrder) -> None:
    back = order.held_from or P.APPROVED
    move, reason = PAYMENT.check(policy.SYSTEM, "release", order)
    order.held_from = ""
    PAYMENT.enter(policy.SYSTEM, move, order, reason, target=back)
    if back == P.APPROVED:
        # the clock restarts: the State owes the payment again, no sooner than a fresh delay
        due = max(order.due_on or date.min, date.today() + timedelta(days=RELEASE_DELAY_DAYS))
        order.due_on = due
        order.save(update_fields=["due_on"])
        pact_ports.reschedule_state_commitment(
            policy.SYSTEM,
            contract.version,
            _commitment_key(order),
            due_date=due,
            reason=_("Pacte rétabli : le paiement est de nouveau dû."),
        )
    if back == P.APPROVED:
        ledger.move(
            policy.SYSTEM,
            "released",
            contract.programme,
            order.amount_eur,
            ledger.contract_account(contract, "payable"),
            ledger.contract_account(contract, "withheld"),
            contract=contract,
            payment=order,
            memo=_("Paiement libéré : pacte rétabli"),
        )


def _break(contract: OutcomeContract, orders: list[PaymentOrder], reason: str) -> None:
    for order in orders:
        if order.status in OUTSTANDING:
            _cancel_locked(policy.SYSTEM, contract, order, reason)
    programme = contract.programme
    rest = contract.cap_eur - contract.paid_eur
    if rest > 0:
        ledger.move(
            policy.SYSTEM,
            "decommitted",
            programme,
            rest,
            ledger.available(programme),
            ledger.contract_account(contract, "committed"),
            contract=contract,
            memo=_("Reste du plafond désengagé : pacte rompu"),
        )
        programme.committed_eur -= rest
        programme.save(update_fields=["committed_eur"])
    contract.status = OutcomeContract.State.CANCELLED
    contract.save(update_fields=["status"])
    advances = sum(
        (
            o.amount_eur
            for o in orders
            if o.kind == PaymentOrder.Kind.ADVANCE and o.status == P.PAID
        ),
        Decimal("0"),
    )
    earned = sum(
        (o.amount_eur for o in orders if o.kind == PaymentOrder.Kind.WINDOW and o.status == P.PAID),
        Decimal("0"),
    )
    unspent = advances - earned
    funding_event(
        "contract.cancelled",
        policy.SYSTEM,
        "contract",
        contract.reference,
        project_slug=contract.version.pact.project.slug,
        reason=reason,
        decommitted=money(max(rest, Decimal(0))),
        unspent_advance=money(max(unspent, Decimal(0))),
    )
    if unspent > 0:
        recovery = Recovery.objects.create(contract=contract, amount_eur=unspent, reason=reason)
        funding_event(
            "recovery.opened",
            policy.SYSTEM,
            "recovery",
            str(recovery.pk),
            project_slug=contract.version.pact.project.slug,
            contract=contract.reference,
            amount=money(unspent),
            reason=reason,
        )
        ledger.move(
            policy.SYSTEM,
            "recovery",
            programme,
            unspent,
            ledger.contract_account(contract, "receivable"),
            ledger.project_paid(contract),
            contract=contract,
            memo=_("Avance non consommée à recouvrer"),
        )


@retry_on_conflict
@transaction.atomic
def recover(acting: Acting, recovery: Recovery) -> Recovery:
    """The finance officer records the recovered advance: it returns to the programme's budget."""
    contract_id = Recovery.objects.values_list("contract_id", flat=True).get(pk=recovery.pk)
    programme = lock_programme(
        OutcomeContract.objects.values_list("programme_id", flat=True).get(pk=contract_id)
    )
    contract = lock_contract(contract_id)
    recovery = Recovery.objects.select_for_update().get(pk=recovery.pk)
    recovery.contract = contract
    RECOVERY.apply(acting, "recover", recovery)
    amount = recovery.amount_eur
    contract.paid_eur -= amount
    contract.save(update_fields=["paid_eur"])
    programme.paid_eur -= amount
    programme.committed_eur -= amount
    programme.save(update_fields=["paid_eur", "committed_eur"])
    ledger.move(
        acting,
        "recovered",
        programme,
        amount,
        ledger.available(programme),
        ledger.contract_account(contract, "receivable"),
        contract=contract,
        memo=_("Avance recouvrée"),
    )
    return recovery
