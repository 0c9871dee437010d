"""Forms of the evidence steps (issue 14): bias audits, algorithm sheets, panel calls, experiments.

They only translate HTML fields into the arguments of the use cases (audits, sheets, panels,
experiments); the rules stay in the use cases, whose field errors come back beside the fields
(``show_domain_errors``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from pacte.errors import DomainError
from pacte.evidence.models import AGE_BANDS, SITUATIONS, AlgorithmSheet, Experiment
from pacte.projects.models import Project

SOURCE_ROWS = 3  # data sources of an algorithm sheet offered on the page (empty rows are ignored)
PARAMETER_ROWS = 6
# the strata a call can target from the page: the attributes with a closed list of values
STRATA: dict[str, dict[str, str]] = {"age_band": AGE_BANDS, "situation": SITUATIONS}
STRATIFY_CHOICES = [
    ("age_band", _("Tranche d'âge")),
    ("situation", _("Situation (emploi, études, retraite…)")),
]
MAX_UNITS_ON_PAGE = 20_000


def decimal_input() -> forms.TextInput:
    """A text box for a decimal number: « 0,5 » and « 0.5 » are both read (``localize=True``)."""
    return forms.TextInput(attrs={"inputmode": "decimal"})


class PageForm(forms.Form):
    """The fields shown one under the other; row fields (sources, parameters, shares) go in their
    own fieldsets on the page."""

    ROW_PREFIXES = ("source_", "param_", "share_")

    def main_fields(self) -> list[forms.BoundField]:
        return [f for f in self if not f.name.startswith(self.ROW_PREFIXES)]


class ProjectChoiceForm(PageForm):
    """A form whose first field picks one of the projects the person may act on."""

    project = forms.ChoiceField(label=_("Projet"))

    def __init__(self, *args: Any, projects: Iterable[Project] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.projects = {p.slug: p for p in projects}
        field = self.fields["project"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(slug, p.name) for slug, p in self.projects.items()]

    def chosen_project(self) -> Project:
        return self.projects[self.cleaned_data["project"]]

    def show_domain_errors(self, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
        """The use case's message on top, each field error beside its field (or on top)."""
        aliases = aliases or {}
        if exc.message:
            self.add_error(None, exc.message)
        for key, messages in exc.field_errors.items():
            name = aliases.get(key, key)
            for m in messages:
                self.add_error(name if name in self.fields else None, m)


class AuditForm(ProjectChoiceForm):
    title = forms.CharField(label=_("Titre de l'audit"), max_length=200)
    decision = forms.CharField(
        label=_("Décision auditée"),
        max_length=200,
        help_text=_("Par exemple : orientation vers un accompagnement renforcé."),
    )
    file = forms.FileField(
        label=_("Fichier CSV des décisions"),
        help_text=_(
            "Une ligne par personne, colonnes group (le groupe), y_true (1 si la personne "
            "relevait du dispositif), y_pred (1 si l'algorithme l'y a orientée) et, si vous "
            "l'avez, in_need. Le fichier n'est pas conservé : seule son empreinte est publiée."
        ),
    )
    min_group_size = forms.IntegerField(
        label=_("Effectif minimal d'un groupe"),
        min_value=5,
        max_value=10_000,
        initial=30,
        help_text=_(
            "En dessous, un groupe est déclaré « données insuffisantes », jamais « équitable »."
        ),
    )
    reference_group = forms.CharField(
        label=_("Groupe de référence (facultatif)"),
        max_length=120,
        required=False,
        help_text=_("Par défaut, le groupe le plus nombreux."),
    )


class SheetForm(ProjectChoiceForm):
    title = forms.CharField(label=_("Nom de l'algorithme"), max_length=200)
    purpose = forms.CharField(
        label=_("Finalité et décision concernée"), widget=forms.Textarea(attrs={"rows": 3})
    )
    contribution_degree = forms.ChoiceField(
        label=_("Degré de contribution à la décision"),
        choices=AlgorithmSheet.Degree.choices,
        widget=forms.RadioSelect,
    )
    contribution_mode = forms.CharField(
        label=_("Mode de contribution"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Ce que l'algorithme produit et comment l'agent s'en sert."),
    )
    operations = forms.CharField(
        label=_("Opérations effectuées"), widget=forms.Textarea(attrs={"rows": 3})
    )
    human_oversight = forms.CharField(
        label=_("Contrôle humain"), widget=forms.Textarea(attrs={"rows": 2})
    )
    risks = forms.CharField(label=_("Risques"), widget=forms.Textarea(attrs={"rows": 2}))
    objection_contact = forms.CharField(
        label=_("Contester une décision : à qui s'adresser"), max_length=300
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, SOURCE_ROWS + 1):
            self.fields[f"source_{i}_name"] = forms.CharField(
                label=_("Donnée %(n)s") % {"n": i}, max_length=200, required=False
            )
            self.fields[f"source_{i}_source"] = forms.CharField(
                label=_("Sa source"), max_length=200, required=False
            )
            self.fields[f"source_{i}_description"] = forms.CharField(
                label=_("Ce qu'elle contient (facultatif)"), max_length=500, required=False
            )
        for i in range(1, PARAMETER_ROWS + 1):
            self.fields[f"param_{i}_label"] = forms.CharField(
                label=_("Paramètre %(n)s") % {"n": i}, max_length=200, required=False
            )
            self.fields[f"param_{i}_weight"] = forms.FloatField(
                label=_("Sa pondération (un nombre, négatif s'il fait baisser le score)"),
                required=False,
                localize=True,
                widget=decimal_input(),
            )
            self.fields[f"param_{i}_description"] = forms.CharField(
                label=_("Ce qu'il mesure (facultatif)"), max_length=500, required=False
            )

    def source_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"source_{i}_{part}"] for part in ("name", "source", "description")]
            for i in range(1, SOURCE_ROWS + 1)
        ]

    def parameter_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"param_{i}_{part}"] for part in ("label", "weight", "description")]
            for i in range(1, PARAMETER_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        sources, params = [], []
        for i in range(1, SOURCE_ROWS + 1):
            name = (data.get(f"source_{i}_name") or "").strip()
            source = (data.get(f"source_{i}_source") or "").strip()
            if name and not source:
                self.add_error(f"source_{i}_source", _("Indiquez d'où vient cette donnée."))
            elif source and not name:
                self.add_error(f"source_{i}_name", _("Nommez la donnée."))
            elif name:
                desc = (data.get(f"source_{i}_description") or "").strip()
                sources.append({"name": name, "source": source, "description": desc})
        keys: set[str] = set()
        for i in range(1, PARAMETER_ROWS + 1):
            label = (data.get(f"param_{i}_label") or "").strip()
            weight = data.get(f"param_{i}_weight")
            if label and weight is None and f"param_{i}_weight" not in self.errors:
                self.add_error(f"param_{i}_weight", _("Indiquez la pondération de ce paramètre."))
            elif weight is not None and not label:
                self.add_error(f"param_{i}_label", _("Nommez ce paramètre."))
            elif label and weight is not None:
                key = parameter_key(label, keys)
                keys.add(key)
                desc = (data.get(f"param_{i}_description") or "").strip()
                params.append({"key": key, "label": label, "weight": weight, "description": desc})
        if not sources and "source_1_name" not in self.errors:
            self.add_error("source_1_name", _("Listez au moins une donnée traitée et sa source."))
        if not params and "param_1_label" not in self.errors:
            self.add_error("param_1_label", _("Listez au moins un paramètre et sa pondération."))
        data["data_sources"], data["parameters"] = sources, params
        return data

    def sheet_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            k: d[k]
            for k in (
                "title",
                "purpose",
                "contribution_degree",
                "contribution_mode",
                "operations",
                "human_oversight",
                "risks",
                "objection_contact",
                "data_sources",
                "parameters",
            )
        }


def parameter_key(label: str, taken: set[str]) -> str:
    """A parameter's key (lower case, digits, _), derived from its label: the person never types it."""
    base = re.sub(r"[^a-z0-9_]", "", slugify(label).replace("-", "_"))[:40] or "parametre"
    if not base[0].isalpha():
        base = f"p_{base}"
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    return key


class PanelForm(ProjectChoiceForm):
    title = forms.CharField(label=_("Titre de l'appel"), max_length=200)
    description = forms.CharField(
        label=_("Ce que les testeurs feront (facultatif)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    target_size = forms.IntegerField(
        label=_("Nombre de personnes à tirer au sort"), min_value=1, max_value=100_000
    )
    stratify_by = forms.ChoiceField(
        label=_("Répartir le tirage selon"),
        choices=STRATIFY_CHOICES,
        widget=forms.RadioSelect,
        initial="age_band",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for attribute, values in STRATA.items():
            for i, (_code, name) in enumerate(values.items()):
                self.fields[f"share_{attribute}_{i}"] = forms.IntegerField(
                    label=name, min_value=0, max_value=100, required=False
                )

    def share_fields(self) -> list[tuple[str, Any, list[forms.BoundField]]]:
        return [
            (
                attribute,
                label,
                [self[f"share_{attribute}_{i}"] for i in range(len(STRATA[attribute]))],
            )
            for attribute, label in STRATIFY_CHOICES
        ]

    def shares(self) -> dict[str, float] | None:
        """The chosen attribute's shares (percent), blank ones left out; None when all are blank."""
        attribute = self.cleaned_data["stratify_by"]
        out: dict[str, float] = {}
        for i, code in enumerate(STRATA[attribute]):
            value = self.cleaned_data.get(f"share_{attribute}_{i}")
            if value:
                out[code] = float(value)
        return out or None


class ExperimentForm(ProjectChoiceForm):
    hypothesis = forms.CharField(
        label=_("Hypothèse testée"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Ce que le service doit changer pour les personnes, en une ou deux phrases."),
    )
    outcome = forms.CharField(
        label=_("Résultat principal mesuré"),
        max_length=300,
        help_text=_(
            "Un résultat pour les personnes (par exemple : emploi durable à 6 mois), jamais une "
            "mesure d'audience."
        ),
    )
    baseline_rate = forms.FloatField(
        label=_("Taux attendu sans le service (%)"),
        localize=True,
        widget=decimal_input(),
        min_value=0,
        max_value=100,
        help_text=_("La part des personnes qui atteindraient le résultat sans le service."),
    )
    mde_points = forms.FloatField(
        label=_("Plus petit effet à pouvoir détecter (points de pourcentage)"),
        localize=True,
        widget=decimal_input(),
        help_text=_(
            "L'écart le plus petit qui compterait : plus il est petit, plus il faut de personnes."
        ),
    )
    power = forms.FloatField(
        label=_("Puissance (%)"),
        localize=True,
        widget=decimal_input(),
        min_value=1,
        max_value=99,
        initial=80,
        help_text=_("La chance de voir l'effet s'il existe (l'usage : 80 %)."),
    )
    alpha = forms.FloatField(
        label=_("Seuil de significativité"),
        min_value=0.0001,
        max_value=0.5,
        initial=0.05,
        help_text=_("Le risque accepté de conclure à tort à un effet ; 0,05 est l'usage."),
        localize=True,
        widget=decimal_input(),
    )
    design = forms.ChoiceField(
        label=_("Façon de constituer les groupes"),
        choices=Experiment.Design.choices,
        widget=forms.RadioSelect,
        initial="individual",
    )
    window_months = forms.IntegerField(
        label=_("Durée d'observation (mois)"), min_value=1, max_value=60, initial=6
    )
    unit = forms.CharField(
        label=_("Unité tirée au sort"), max_length=100, initial="personne", required=False
    )

    def design_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "hypothesis": d["hypothesis"],
            "outcome": d["outcome"],
            "baseline_rate": d["baseline_rate"] / 100,
            "mde_points": d["mde_points"],
            "power": d["power"] / 100,
            "alpha": d["alpha"],
            "design": d["design"],
            "window_months": d["window_months"],
            "unit": d["unit"] or "personne",
        }


class AssignForm(PageForm):
    unit_ids = forms.CharField(
        label=_("Identifiants des unités, un par ligne"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Des identifiants pseudonymes (jamais un nom ni un numéro de sécurité sociale), "
            "80 caractères au plus chacun."
        ),
    )

    def clean_unit_ids(self) -> list[str]:
        ids = [line.strip() for line in self.cleaned_data["unit_ids"].splitlines() if line.strip()]
        if len(ids) > MAX_UNITS_ON_PAGE:
            raise forms.ValidationError(
                _("%(max)s unités au plus depuis cette page ; au-delà, passez par l'API.")
                % {"max": MAX_UNITS_ON_PAGE}
            )
        return ids
