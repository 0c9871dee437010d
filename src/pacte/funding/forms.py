"""The finance officer's forms: open a programme, attach an outcome contract to a pact version."""

from __future__ import annotations

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
