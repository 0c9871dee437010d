"""The finance officer's forms: open a programme, attach an outcome contract to a pact version."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

MONEY_FIELD: dict[str, Any] = {"min_value": Decimal("0"), "max_digits": 14, "decimal_places": 2}


class ProgrammeForm(forms.Form):
    title = forms.CharField(label=_("Intitulé du programme"), max_length=200)
    budget_eur = forms.DecimalField(label=_("Budget (€)"), **MONEY_FIELD)
    starts_on = forms.DateField(label=_("Début (AAAA-MM-JJ)"))
    ends_on = forms.DateField(label=_("Fin (AAAA-MM-JJ)"))
    eligible_problems = forms.CharField(
        label=_("Problèmes éligibles (séparés par des virgules)"), required=False
    )
    territories = forms.CharField(label=_("Territoires (séparés par des virgules)"), required=False)
    outcome = forms.CharField(
        label=_("Résultat payé (liste de prix)"), max_length=300, required=False
    )
    price_eur = forms.DecimalField(
        label=_("Prix par résultat additionnel (€)"), required=False, **MONEY_FIELD
    )
    investigation_eur = forms.DecimalField(
        label=_("Aide de la phase d'investigation (€)"), required=False, **MONEY_FIELD
    )
    investigation_months = forms.IntegerField(
        label=_("Durée de la phase d'investigation (mois)"), required=False, min_value=1
    )
    construction_eur = forms.DecimalField(
        label=_("Aide de la phase de construction (€)"), required=False, **MONEY_FIELD
    )
    construction_months = forms.IntegerField(
        label=_("Durée de la phase de construction (mois)"), required=False, min_value=1
    )
    acceleration_eur = forms.DecimalField(
        label=_("Aide de la phase d'accélération (€)"), required=False, **MONEY_FIELD
    )
    acceleration_months = forms.IntegerField(
        label=_("Durée de la phase d'accélération (mois)"), required=False, min_value=1
    )
    approvers = forms.MultipleChoiceField(
        label=_("Qui approuve les paiements (jamais la personne qui prépare l'ordre)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    PHASES = ("investigation", "construction", "acceleration")

    def __init__(
        self, *args: Any, approvers: Sequence[tuple[str, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["approvers"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = list(approvers)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for phase in self.PHASES:
            amount, months = data.get(f"{phase}_eur"), data.get(f"{phase}_months")
            if (amount is None) != (months is None):
                self.add_error(
                    f"{phase}_months" if months is None else f"{phase}_eur",
                    _("Indiquez le montant et la durée de la phase, ou aucun des deux."),
                )
        return data


class ContractForm(forms.Form):
    pact = forms.CharField(label=_("Référence du pacte"), max_length=30)
    version = forms.IntegerField(label=_("Version du pacte"), min_value=1)
    outcome = forms.CharField(label=_("Résultat payé"), max_length=300)
    price_eur = forms.DecimalField(label=_("Prix par résultat additionnel (€)"), **MONEY_FIELD)
    base_fee_eur = forms.DecimalField(label=_("Part fixe par fenêtre (€)"), **MONEY_FIELD)
    cap_eur = forms.DecimalField(label=_("Plafond (€)"), **MONEY_FIELD)
    equity_bonus = forms.DecimalField(
        label=_("Bonus d'équité (0,10 = +10 %)"),
        min_value=Decimal("0"),
        max_value=Decimal("1"),
        decimal_places=4,
        initial=Decimal("0"),
    )
    opens_on = forms.DateField(label=_("Début de la fenêtre d'évaluation (AAAA-MM-JJ)"))
    closes_on = forms.DateField(label=_("Fin de la fenêtre d'évaluation (AAAA-MM-JJ)"))


class LedgerFilterForm(forms.Form):
    """The ledger page's filters (GET): every field optional."""

    programme = forms.SlugField(label=_("Programme"), required=False, max_length=120)
    institution = forms.SlugField(
        label=_("Institution qui finance"), required=False, max_length=120
    )
    project = forms.SlugField(label=_("Projet"), required=False, max_length=120)
    year = forms.IntegerField(label=_("Année"), required=False, min_value=2000, max_value=2100)
    par = forms.ChoiceField(
        label=_("Totaux par"),
        required=False,
        choices=[
            ("institution", _("institution")),
            ("programme", _("programme")),
            ("project", _("projet")),
            ("year", _("année")),
        ],
    )
