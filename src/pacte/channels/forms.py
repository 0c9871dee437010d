"""Web forms of the channels domain (French labels, through gettext)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pacte.channels.models import Channel
from pacte.channels.texts import CLAUSE_LABELS
from pacte.engines.channel_rules import CLAUSE_ORDER


def split_words(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class ChannelForm(forms.Form):
    name = forms.CharField(label=_("Nom du canal"), max_length=200)
    kind = forms.ChoiceField(label=_("Type de canal"), choices=Channel.Kind.choices)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    clauses = forms.MultipleChoiceField(
        label=_("Clauses de la condition d'inscription"),
        choices=[(str(c), CLAUSE_LABELS[c]) for c in CLAUSE_ORDER],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    min_lower_bound_points = forms.DecimalField(
        label=_("Seuil de la borne basse de l'effet (points de pourcentage)"),
        initial=0,
        min_value=-100,
        max_value=100,
        decimal_places=2,
        help_text=_("0 : un effet positif suffit. 1 : la borne basse doit dépasser 1 point."),
    )
    territories = forms.CharField(
        label=_("Territoires couverts (séparés par des virgules)"),
        required=False,
        help_text=_("Laisser vide pour tout le territoire national."),
    )
    needs = forms.CharField(
        label=_("Besoins couverts (séparés par des virgules)"),
        required=False,
        help_text=_("Par exemple : emploi, logement, santé. Laisser vide pour tous les besoins."),
    )
    listing_delay_days = forms.IntegerField(
        label=_("Délai d'inscription promis (jours)"),
        min_value=0,
        max_value=365,
        initial=0,
        help_text=_(
            "0 : le service est inscrit automatiquement le jour où il remplit la condition. "
            "Au-delà du délai, le retard est un manquement de l'État, publié."
        ),
    )

    @classmethod
    def for_channel(cls, channel: Channel, data: Mapping[str, Any] | None = None) -> ChannelForm:
        return cls(
            data,
            initial={
                "name": channel.name,
                "kind": channel.kind,
                "description": channel.description,
                "clauses": channel.clauses,
                "min_lower_bound_points": round(channel.min_lower_bound * 100, 2),
                "territories": ", ".join(channel.territories),
                "needs": ", ".join(channel.needs),
                "listing_delay_days": channel.listing_delay_days,
            },
        )


class CoverageForm(forms.Form):
    territories = forms.CharField(
        label=_("Territoires où le service est proposé (séparés par des virgules)"),
        help_text=_("« France » pour un service national."),
    )
    needs = forms.CharField(label=_("Besoins auxquels il répond (séparés par des virgules)"))


class TakeoverForm(forms.Form):
    takeover_on = forms.DateField(
        label=_("Date de la reprise (AAAA-MM-JJ)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    terms = forms.CharField(
        label=_("Modalités de la reprise"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ServiceFilterForm(forms.Form):
    territory = forms.CharField(label=_("Territoire"), required=False, max_length=120)
    need = forms.CharField(label=_("Besoin"), required=False, max_length=120)
