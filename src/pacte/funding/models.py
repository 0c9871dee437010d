"""Funding tied to measured impact (issue 11): programmes, outcome contracts, payment orders and a
public double-entry ledger.

Money is ``Decimal`` to the cent everywhere (:func:`money`); amounts are computed by
``pacte.engines.outcome_payments`` from published evidence, never typed in. The ledger's balance
invariant (every transaction sums to zero) is enforced by the database itself: triggers created in
migration 0002 (a deferred constraint trigger on PostgreSQL, a posting trigger on SQLite).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from pacte.accounts.models import Organisation, User
from pacte.pacts.models import PactVersion

ZERO = Decimal("0.00")


def money(
    verbose_name: Any = None, **options: Any
) -> models.DecimalField[Decimal | int | str, Decimal]:
    """An amount in euros, to the cent."""
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **options)


class Programme(models.Model):
    """A funding programme an institution opens: budget, period, eligibility, phase grants, prices."""

    class State(models.TextChoices):
        OPEN = "open", _("Ouvert")
        CLOSED = "closed", _("Clos")

    slug = models.SlugField(max_length=80, unique=True)
    institution = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="funding_programmes"
    )
    title = models.CharField(_("intitulé"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    budget_eur = money(_("budget (€)"))
    committed_eur = money(_("engagé (€)"), default=ZERO)
    paid_eur = money(_("payé (€)"), default=ZERO)
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"))
    eligible_problems = models.JSONField(default=list, blank=True)
    territories = models.JSONField(default=list, blank=True)
    approvers = models.ManyToManyField(
        User,
        blank=True,
        related_name="+",
        help_text="if set, only these people may approve payment orders",
    )
    status = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "slug"]
        verbose_name = _("programme de financement")
        constraints = [
            # the budget is never over-committed, whatever the code path
            models.CheckConstraint(
                condition=Q(committed_eur__lte=F("budget_eur")), name="programme_within_budget"
            ),
            models.CheckConstraint(
                condition=Q(paid_eur__lte=F("committed_eur")),
                name="programme_paid_within_committed",
            ),
            models.CheckConstraint(
                condition=Q(budget_eur__gte=0) & Q(committed_eur__gte=0) & Q(paid_eur__gte=0),
                name="programme_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="programme_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def available_eur(self) -> Decimal:
        return self.budget_eur - self.committed_eur


class PhaseGrant(models.Model):
    """The programme's default grant for a phase (investigation, construction, acceleration…)."""

    class Phase(models.TextChoices):
        INVESTIGATION = "investigation", _("Investigation")
        CONSTRUCTION = "construction", _("Construction")
        ACCELERATION = "acceleration", _("Accélération")

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="phase_grants")
    phase = models.CharField(max_length=20, choices=Phase.choices)
    amount_eur = money()
    duration_months = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["programme", "phase"], name="uniq_phase_grant")
        ]

    def __str__(self) -> str:
        return f"{self.get_phase_display()} — {self.amount_eur} €"


class PriceListEntry(models.Model):
    """A price the programme offers per additional outcome."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="prices")
    outcome = models.CharField(max_length=300)
    unit = models.CharField(max_length=60, default="personne")
    price_eur = money()

    class Meta:
        ordering = ["outcome"]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.price_eur} €"


class OutcomeContract(models.Model):
    """An outcome contract attached to one pact version."""

    class State(models.TextChoices):
        ACTIVE = "active", _("En vigueur")
        CANCELLED = "cancelled", _("Annulé (pacte rompu)")
        COMPLETED = "completed", _("Soldé")

    reference = models.CharField(max_length=40, unique=True)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="contracts")
    version = models.ForeignKey(
        PactVersion, on_delete=models.PROTECT, related_name="outcome_contracts"
    )
    outcome = models.CharField(_("résultat"), max_length=300)
    commitment_key = models.CharField(
        max_length=60, blank=True, help_text="the pact's impact commitment"
    )
    experiment_slug = models.CharField(
        max_length=120, blank=True, help_text="pre-registered experiment"
    )
    price_eur = money(_("prix par résultat additionnel (€)"))
    base_fee_eur = money(_("part fixe par fenêtre (€)"))
    cap_eur = money(_("plafond (€)"))
    advance_eur = money(_("avance (€)"), default=ZERO)
    equity_bonus = models.DecimalField(
        _("bonus d'équité"), max_digits=5, decimal_places=4, default=Decimal("0")
    )
    payment_days = models.PositiveSmallIntegerField(_("délai de paiement (jours)"), default=30)
    paid_eur = money(default=ZERO)
    status = models.CharField(max_length=12, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reference"]
        verbose_name = _("contrat à impact")
        constraints = [
            models.CheckConstraint(
                condition=Q(paid_eur__lte=F("cap_eur")), name="contract_paid_within_cap"
            ),
            models.CheckConstraint(
                condition=Q(advance_eur__lte=F("cap_eur")), name="contract_advance_within_cap"
            ),
            models.CheckConstraint(
                condition=Q(price_eur__gte=0)
                & Q(base_fee_eur__gte=0)
                & Q(cap_eur__gte=0)
                & Q(paid_eur__gte=0)
                & Q(equity_bonus__gte=0),
                name="contract_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    # read by pacte.accounts.policy
    @property
    def institution_id(self) -> int:
        return int(self.programme.institution_id)

    @property
    def carrier_id(self) -> int:
        return int(self.version.pact.project.carrier_id)

    @property
    def project(self):  # type: ignore[no-untyped-def]
        return self.version.pact.project


class EvaluationWindow(models.Model):
    """One evaluation window of a contract; the independent evaluator validates it with a published
    evaluation."""

    contract = models.ForeignKey(OutcomeContract, on_delete=models.CASCADE, related_name="windows")
    number = models.PositiveSmallIntegerField()
    opens_on = models.DateField()
    closes_on = models.DateField()
    evaluation_id = models.PositiveIntegerField(null=True, blank=True)
    validated_by = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    validated_at = models.DateTimeField(null=True, blank=True)
    payment_due_on = models.DateField(
        null=True, blank=True, help_text="the State pays by then (State-side commitment)"
    )

    class Meta:
        ordering = ["contract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="uniq_window_number")
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} / {self.number}"


class PaymentOrder(models.Model):
    """What one window pays (or an advance), prepared by a finance officer, approved by someone else."""

    class State(models.TextChoices):
        PREPARED = "prepared", _("Préparé")
        APPROVED = "approved", _("Approuvé, à payer")
        PAID = "paid", _("Payé")
        WITHHELD = "withheld", _("Retenu (pacte suspendu)")
        CANCELLED = "cancelled", _("Annulé")

    class Kind(models.TextChoices):
        WINDOW = "window", _("Paiement au résultat")
        ADVANCE = "advance", _("Avance")

    reference = models.CharField(max_length=50, unique=True)
    contract = models.ForeignKey(OutcomeContract, on_delete=models.PROTECT, related_name="payments")
    window = models.OneToOneField(
        EvaluationWindow, null=True, blank=True, on_delete=models.PROTECT, related_name="payment"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.WINDOW)
    amount_eur = money()
    inputs = models.JSONField(
        default=dict, help_text="evaluation id, fingerprint, estimand, CI, N, clause…"
    )
    formula_version = models.CharField(max_length=40, blank=True)
    formula_text = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=State.choices, default=State.PREPARED, db_index=True
    )
    held_from = models.CharField(
        max_length=10, blank=True, help_text="state to return to on release"
    )
    prepared_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    late = models.BooleanField(
        default=False, help_text="paid, or still unpaid, after its due date (State-side breach)"
    )
    last_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ordre de paiement")
        constraints = [
            models.CheckConstraint(condition=Q(amount_eur__gte=0), name="payment_not_negative")
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def institution_id(self) -> int:
        return self.contract.institution_id

    @property
    def carrier_id(self) -> int:
        return self.contract.carrier_id


class Recovery(models.Model):
    """An advance to recover after a broken pact (the unspent part)."""

    class State(models.TextChoices):
        OPEN = "open", _("En cours de recouvrement")
        RECOVERED = "recovered", _("Recouvré")

    contract = models.ForeignKey(
        OutcomeContract, on_delete=models.PROTECT, related_name="recoveries"
    )
    amount_eur = money()
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.contract.reference}: {self.amount_eur} €"

    @property
    def institution_id(self) -> int:
        return self.contract.institution_id

    @property
    def carrier_id(self) -> int:
        return self.contract.carrier_id


# ------------------------------------------------------------------ the public double-entry ledger


class LedgerAccount(models.Model):
    """A named account. Amounts are signed: a debit is positive, a credit negative."""

    class Kind(models.TextChoices):
        APPROPRIATION = "appropriation", _("Crédits de l'institution")
        AVAILABLE = "available", _("Budget disponible du programme")
        COMMITTED = "committed", _("Engagé sur le contrat")
        PAYABLE = "payable", _("À payer")
        WITHHELD = "withheld", _("Retenu")
        PAID = "paid", _("Versé au porteur")
        RECEIVABLE = "receivable", _("À recouvrer")

    code = models.CharField(max_length=160, unique=True)
    name = models.CharField(max_length=300)
    kind = models.CharField(max_length=15, choices=Kind.choices)
    programme = models.ForeignKey(
        Programme, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    project_slug = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class LedgerTransaction(models.Model):
    """A balanced movement between named accounts; ``posted`` once its entries are all written
    (the database refuses to post an unbalanced transaction, and any change after posting)."""

    class Kind(models.TextChoices):
        ALLOCATED = "allocated", _("Budget alloué")
        REDUCED = "reduced", _("Budget abaissé")
        COMMITTED = "committed", _("Engagé")
        PAYABLE = "payable", _("À payer")
        PAID = "paid", _("Payé")
        WITHHELD = "withheld", _("Retenu")
        RELEASED = "released", _("Libéré")
        DECOMMITTED = "decommitted", _("Désengagé")
        RECOVERY = "recovery", _("Recouvrement ouvert")
        RECOVERED = "recovered", _("Recouvré")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="transactions")
    contract = models.ForeignKey(
        OutcomeContract, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment = models.ForeignKey(
        PaymentOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    memo = models.CharField(max_length=300, blank=True)
    year = models.PositiveSmallIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    posted = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class LedgerEntry(models.Model):
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount_eur = money()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount_eur=0), name="ledger_entry_not_zero")
        ]

    def __str__(self) -> str:
        return f"{self.account.code} {self.amount_eur}"
