"""Outcome contracts on a pact version, and the evaluation windows the independent evaluator
validates. Attaching a contract commits its cap on the programme's budget: the programme row is
locked first, so concurrent attachments never commit more than the budget (and the database's
``programme_within_budget`` check would refuse it anyway)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.errors import InvalidTransition, ValidationFailed
from pacte.funding import ledger
from pacte.funding.errors import BudgetExceeded
from pacte.funding.events import funding_event, money
from pacte.funding.evidence_inputs import published_evaluation
from pacte.funding.models import EvaluationWindow, OutcomeContract, Programme
from pacte.funding.programmes import lock_programme
from pacte.pacts.models import PactVersion, Status
from pacte.writes.references import next_reference
from pacte.writes.retry import retry_on_conflict

ATTACHABLE = (Status.APPROVED, Status.SIGNING, Status.ACTIVE)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ContractIn:
    outcome: str
    price_eur: Decimal
    base_fee_eur: Decimal
    cap_eur: Decimal
    windows: list[tuple[date, date]]
    equity_bonus: Decimal = Decimal("0")
    advance_eur: Decimal = Decimal("0")
    payment_days: int = 30
    commitment_key: str = ""
    experiment_slug: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _check(data: ContractIn) -> None:
    errors: dict[str, list[str]] = {}
    if not data.outcome.strip():
        errors["outcome"] = [_("Nommez le résultat payé.")]
    for name in ("price_eur", "base_fee_eur", "cap_eur", "advance_eur"):
        value: Decimal = getattr(data, name)
        if value < 0 or value != value.quantize(CENT):
            errors[name] = [_("Un montant positif, au centime près.")]
    if data.cap_eur <= 0:
        errors["cap_eur"] = [_("Le plafond doit être positif.")]
    if data.advance_eur > data.cap_eur:
        errors["advance_eur"] = [_("L'avance ne peut pas dépasser le plafond.")]
    if not Decimal("0") <= data.equity_bonus <= Decimal("1"):
        errors["equity_bonus"] = [_("Le bonus d'équité est compris entre 0 et 1 (0,10 = +10 %).")]
    if not 1 <= data.payment_days <= 365:
        errors["payment_days"] = [_("Le délai de paiement va de 1 à 365 jours.")]
    if not data.windows:
        errors["windows"] = [_("Prévoyez au moins une fenêtre d'évaluation.")]
    elif any(end < start for start, end in data.windows):
        errors["windows"] = [_("Chaque fenêtre se termine après son début.")]
    if errors:
        raise ValidationFailed(
            _("Le contrat à impact est incomplet ou incohérent."), field_errors=errors
        )


@retry_on_conflict
@transaction.atomic
def attach_contract(
    acting: Acting, programme: Programme, version: PactVersion, data: ContractIn
) -> OutcomeContract:
    programme = lock_programme(programme)
    policy.require(acting, Action.FUNDING_CONTRACT, programme)
    _check(data)
    version = PactVersion.objects.select_related("pact__project", "pact__institution").get(
        pk=version.pk
    )
    if version.pact.institution_id != programme.institution_id:
        raise ValidationFailed(_("Ce pacte n'est pas signé avec l'institution du programme."))
    if version.status not in ATTACHABLE:
        raise InvalidTransition(
            _("Un contrat à impact s'attache à un pacte approuvé ou en vigueur.")
        )
    if programme.status != Programme.State.OPEN:
        raise InvalidTransition(_("Ce programme est clos."))
    if programme.committed_eur + data.cap_eur > programme.budget_eur:
        raise BudgetExceeded(
            _(
                "Budget insuffisant : %(available)s € disponibles, le plafond demandé est de %(cap)s €."
            )
            % {"available": money(programme.available_eur), "cap": money(data.cap_eur)}
        )
    contract = OutcomeContract.objects.create(
        reference=next_reference(OutcomeContract, "CI"),
        programme=programme,
        version=version,
        outcome=data.outcome.strip(),
        commitment_key=data.commitment_key,
        experiment_slug=data.experiment_slug,
        price_eur=data.price_eur,
        base_fee_eur=data.base_fee_eur,
        cap_eur=data.cap_eur,
        advance_eur=data.advance_eur,
        equity_bonus=data.equity_bonus,
        payment_days=data.payment_days,
    )
    EvaluationWindow.objects.bulk_create(
        [
            EvaluationWindow(contract=contract, number=i, opens_on=start, closes_on=end)
            for i, (start, end) in enumerate(data.windows, start=1)
        ]
    )
    programme.committed_eur += data.cap_eur
    programme.save(update_fields=["committed_eur"])
    funding_event(
        "contract.attached",
        acting,
        "contract",
        contract.reference,
        project_slug=version.pact.project.slug,
        programme=programme.slug,
        pact=version.pact.reference,
        version=version.number,
        outcome=contract.outcome,
        price=money(contract.price_eur),
        base_fee=money(contract.base_fee_eur),
        cap=money(contract.cap_eur),
        advance=money(contract.advance_eur),
        equity_bonus=str(contract.equity_bonus),
        payment_days=contract.payment_days,
        windows=[[s.isoformat(), e.isoformat()] for s, e in data.windows],
    )
    ledger.move(
        acting,
        "committed",
        programme,
        contract.cap_eur,
        ledger.contract_account(contract, "committed"),
        ledger.available(programme),
        contract=contract,
        memo=_("Plafond du contrat engagé"),
    )
    return contract


def lock_contract(contract: OutcomeContract | int) -> OutcomeContract:
    pk = contract if isinstance(contract, int) else contract.pk
    return (
        OutcomeContract.objects.select_for_update(of=("self",))
        .select_related("programme__institution", "version__pact__project")
        .get(pk=pk)
    )


@retry_on_conflict
@transaction.atomic
def validate_window(
    acting: Acting, window: EvaluationWindow, evaluation_id: int, today: date | None = None
) -> EvaluationWindow:
    """The independent evaluator validates a window with a published evaluation of this project."""
    contract = lock_contract(window.contract_id)
    window = EvaluationWindow.objects.select_for_update().get(pk=window.pk)
    policy.require(acting, Action.FUNDING_WINDOW_VALIDATE, contract)
    if window.evaluation_id is not None:
        raise InvalidTransition(_("Cette fenêtre est déjà validée."))
    if contract.status != OutcomeContract.State.ACTIVE:
        raise InvalidTransition(_("Ce contrat n'est plus en vigueur."))
    evaluation = published_evaluation(evaluation_id)
    if evaluation is None:
        raise ValidationFailed(
            _("Seule une évaluation publiée peut valider une fenêtre."),
            field_errors={"evaluation": [_("Évaluation inconnue ou non publiée.")]},
        )
    pact = contract.version.pact
    if evaluation.project_id != pact.project_id or evaluation.pact_id not in (None, pact.pk):
        raise ValidationFailed(
            _("Cette évaluation ne porte pas sur le projet de ce contrat."),
            field_errors={"evaluation": [_("Évaluation d'un autre projet.")]},
        )
    window.evaluation_id = evaluation.id
    window.validated_by = acting.organisation
    window.validated_at = timezone.now()
    due = (today or date.today()) + timedelta(days=contract.payment_days)
    window.payment_due_on = due
    window.save()
    funding_event(
        "window.validated",
        acting,
        "contract",
        contract.reference,
        project_slug=pact.project.slug,
        window=window.number,
        evaluation=evaluation.id,
        data_sha256=evaluation.data_sha256,
        estimand=evaluation.estimand,
        ci=[evaluation.ci_low, evaluation.ci_high],
        n=evaluation.n_treatment,
        payment_due_on=due.isoformat(),
    )
    return window
