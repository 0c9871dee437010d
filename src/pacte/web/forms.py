"""Forms of the back office. They translate between HTML fields and the pact content;
the rules themselves live in the schema and the services (one place)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from pacte.accounts.models import Organisation
from pacte.input_limits import DOCUMENT, LABEL, PARAGRAPH, SENTENCE, TITLE
from pacte.links import LINK_MESSAGE, MAX_LINK_LENGTH, web_link_validator
from pacte.pacts.schema import IMPACT_METHODS, OPEN_LICENCES, PRINCIPLES

# Labels of the pact schema (pacte.pacts.schema keeps them in French): marked here so that makemessages
# extracts them and the choices below (and the templates, with {% translate label %}) show them translated.
SCHEMA_LABELS = [
    gettext_noop("Continuité du service"),
    gettext_noop("Égalité de traitement"),
    gettext_noop("Adaptabilité (mutabilité)"),
    gettext_noop("Neutralité"),
    gettext_noop("Transparence"),
    gettext_noop("Accessibilité et inclusion"),
    gettext_noop("Protection des données"),
    gettext_noop("Essai randomisé"),
    gettext_noop("Design d'encouragement"),
    gettext_noop("Cohorte de comparaison"),
    gettext_noop("Document déposé"),
    gettext_noop("Évaluation d'impact"),
    gettext_noop("Audit de biais"),
    gettext_noop("Sonde de disponibilité"),
    gettext_noop("Publication"),
    gettext_noop("Accès aux données accordé"),
    gettext_noop("Panel de testeurs ouvert"),
    gettext_noop("Versement"),
    gettext_noop("Ponctuel"),
    gettext_noop("Mensuel"),
    gettext_noop("Trimestriel"),
    gettext_noop("Semestriel"),
    gettext_noop("Annuel"),
]


def _translated(items: Any) -> list[tuple[str, Any]]:
    return [(k, _(v)) for k, v in items]


class WebLinkField(forms.URLField):
    """An http(s) address ("example.org" becomes "https://example.org"); other schemes refused."""

    default_validators = [web_link_validator]
    default_error_messages = {"invalid": LINK_MESSAGE}


class ProjectForm(forms.Form):
    name = forms.CharField(label=_("Nom du projet"), max_length=200)
    pitch = forms.CharField(label=_("Le projet en une phrase"), max_length=300)
    description = forms.CharField(
        max_length=PARAGRAPH,
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    territory = forms.CharField(label=_("Territoire"), max_length=120, required=False)
    target_users = forms.CharField(label=_("Publics visés"), max_length=300, required=False)
    website = WebLinkField(
        label=_("Site web"), required=False, assume_scheme="https", max_length=MAX_LINK_LENGTH
    )
    repository = WebLinkField(
        label=_("Dépôt de code"), required=False, assume_scheme="https", max_length=MAX_LINK_LENGTH
    )
    licence = forms.CharField(label=_("Licence du code (SPDX)"), max_length=60, required=False)
    takeover_institution = forms.ModelChoiceField(
        label=_("Institution qui reprendra le service (P4)"),
        queryset=Organisation.objects.filter(kind=Organisation.Kind.INSTITUTION),
        required=False,
    )


class NewPactForm(forms.Form):
    institution = forms.ModelChoiceField(
        label=_("Institution signataire"),
        queryset=Organisation.objects.filter(kind=Organisation.Kind.INSTITUTION),
    )
    title = forms.CharField(label=_("Titre du pacte"), max_length=200)


# Fields the rules ask for at submission (pacte.pacts.schema.completeness_errors): saving a draft
# accepts them empty, the page marks them as required. "bias_risks" and "sanctions" are lists
# (rows, pacte.web.pact_rows): their sections carry the mark.
REQUIRED_AT_SUBMIT = (
    "title",
    "mission_problem",
    "mission_population",
    "mission_population_size",
    "mission_territory",
    "mission_purpose_limitation",
    "principles",
    "bias_risks",
    "bias_correction_promise",
    "impact_outcome",
    "impact_method",
    "impact_evaluator",
    "commons_legal_form",
    "commons_no_private_shareholding",
    "commons_code_licence",
    "term_end",
    "sanctions",
)
# One guided section per principle in the editor: what a commitment for it looks like.
PRINCIPLE_GUIDES = {
    "continuity": _("Le service reste disponible : par exemple un taux de disponibilité mensuel."),
    "equality": _(
        "Chacun est traité de la même façon : par exemple la couverture des publics éloignés."
    ),
    "adaptability": _("Le service évolue avec les besoins : par exemple les retours traités."),
    "neutrality": _(
        "Aucun acteur n'est favorisé : par exemple des critères de classement publiés."
    ),
    "transparency": _("Le fonctionnement est public : fiche algorithme, budget, code."),
    "accessibility": _("Tout le monde peut s'en servir : par exemple un score RGAA."),
    "data_protection": _("Les données sont protégées : par exemple une analyse d'impact à jour."),
}


class PactForm(forms.Form):
    """The pact's single fields. Its lists are rows (pacte.web.pact_rows, one formset each) and
    the channels are checkboxes built from the channels declared on the platform."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from pacte.web import pact_rows

        for name in REQUIRED_AT_SUBMIT:
            if name in self.fields:
                self.fields[name].required_at_submit = True  # type: ignore[attr-defined]
        pact_rows.add_channel_fields(self, list(self.initial.get("state_channels") or []))

    title = forms.CharField(label=_("Titre du pacte"), max_length=200, required=False)
    mission_problem = forms.CharField(
        max_length=DOCUMENT,
        label=_("Problème de société visé (et non la solution)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    mission_population = forms.CharField(
        max_length=SENTENCE, label=_("Population concernée"), required=False
    )
    mission_population_size = forms.IntegerField(
        label=_("Ordre de grandeur de la population"), min_value=0, required=False
    )
    mission_territory = forms.CharField(max_length=LABEL, label=_("Territoire"), required=False)
    mission_purpose_limitation = forms.CharField(
        max_length=DOCUMENT,
        label=_("Clause de limitation des finalités"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    principles = forms.MultipleChoiceField(
        label=_("Principes protégés"),
        choices=_translated(PRINCIPLES.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    bias_correction_promise = forms.BooleanField(
        label=_("Nous corrigerons les biais découverts par les audits"), required=False
    )
    impact_outcome = forms.CharField(
        max_length=SENTENCE,
        label=_("Résultat social mesuré"),
        required=False,
        help_text=_("Pas de mesure d'audience (visites, téléchargements…)."),
    )
    impact_method = forms.ChoiceField(
        label=_("Méthode"),
        choices=[("", "—"), *_translated(IMPACT_METHODS.items())],
        required=False,
    )
    impact_evaluator = forms.CharField(
        max_length=TITLE, label=_("Évaluateur indépendant"), required=False
    )
    impact_window_months = forms.IntegerField(
        label=_("Fenêtre (mois)"), min_value=1, max_value=60, initial=6
    )
    impact_mde_points = forms.FloatField(
        label=_("Effet minimal détectable (points)"), min_value=0.01, initial=2.0
    )
    commons_legal_form = forms.CharField(
        max_length=LABEL, label=_("Forme juridique"), required=False
    )
    commons_no_private_shareholding = forms.BooleanField(
        label=_("J'atteste l'absence d'actionnariat privé"), required=False
    )
    commons_code_licence = forms.ChoiceField(
        label=_("Licence du code"),
        choices=[("", "—")] + [(x, x) for x in sorted(OPEN_LICENCES)],
        required=False,
    )
    commons_data_licence = forms.CharField(
        max_length=LABEL, label=_("Licence des données"), required=False
    )
    transparency_algorithm_sheet = forms.BooleanField(
        label=_("Fiche algorithme publiée"), required=False, initial=True
    )
    transparency_source_code_url = WebLinkField(
        label=_("Adresse du code source"),
        required=False,
        assume_scheme="https",
        max_length=MAX_LINK_LENGTH,
    )
    transparency_budget_twice_yearly = forms.BooleanField(
        label=_("Budget publié deux fois par an"), required=False, initial=True
    )
    state_panel_size = forms.IntegerField(
        label=_("Taille du panel de testeurs"), min_value=0, initial=0
    )
    state_panel_profile = forms.CharField(
        max_length=SENTENCE, label=_("Profil du panel"), required=False
    )
    state_channels = forms.MultipleChoiceField(
        label=_("Canaux de diffusion (S4)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Cochez les canaux de l'État qui diffuseront le service ; la condition est facultative."
        ),
    )
    state_seed_funding_eur = forms.IntegerField(
        label=_("Financement d'amorçage (€)"), min_value=0, initial=0
    )
    state_outcome_price_eur = forms.IntegerField(
        label=_("Prix par résultat additionnel (€)"), min_value=0, required=False
    )
    state_outcome_base_fee_eur = forms.IntegerField(
        label=_("Part fixe (€)"), min_value=0, required=False
    )
    state_outcome_cap_eur = forms.IntegerField(
        label=_("Plafond du contrat à impact (€)"), min_value=0, required=False
    )
    term_start = forms.DateField(
        label=_("Début"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    term_end = forms.DateField(
        label=_("Fin"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    cure_days = forms.IntegerField(
        label=_("Délai pour remédier à un manquement (jours)"),
        min_value=1,
        max_value=180,
        initial=30,
    )

    def to_content(
        self, commitments: list[dict[str, Any]], lists: dict[str, list[Any]] | None = None
    ) -> dict[str, Any]:
        """The content, from the fields and the rows' lists (by content path, e.g.
        "state.data"; see pacte.web.pact_rows.LISTS)."""
        from pacte.web import pact_rows

        lists = lists or {}
        d = self.cleaned_data
        oc = None
        if d.get("state_outcome_cap_eur"):
            oc = {
                "price_per_outcome_eur": d.get("state_outcome_price_eur") or 0,
                "base_fee_eur": d.get("state_outcome_base_fee_eur") or 0,
                "cap_eur": d["state_outcome_cap_eur"],
            }
        return {
            "title": d["title"],
            "mission": {
                "problem": d["mission_problem"],
                "population": d["mission_population"],
                "population_size": d.get("mission_population_size") or 0,
                "territory": d["mission_territory"],
                "purpose_limitation": d["mission_purpose_limitation"],
            },
            "principles": d["principles"],
            "bias_risks": lists.get("bias_risks", []),
            "bias_correction_promise": d["bias_correction_promise"],
            "impact_plan": {
                "outcome": d["impact_outcome"],
                "method": d["impact_method"],
                "evaluator": d["impact_evaluator"],
                "window_months": d.get("impact_window_months") or 6,
                "mde_points": d.get("impact_mde_points") or 2.0,
            },
            "commons": {
                "legal_form": d["commons_legal_form"],
                "no_private_shareholding": d["commons_no_private_shareholding"],
                "funding_sources": lists.get("commons.funding_sources", []),
                "code_licence": d["commons_code_licence"],
                "data_licence": d["commons_data_licence"],
            },
            "transparency": {
                "algorithm_sheet": d["transparency_algorithm_sheet"],
                "source_code_url": d["transparency_source_code_url"],
                "budget_twice_yearly": d["transparency_budget_twice_yearly"],
            },
            "state": {
                "data": lists.get("state.data", []),
                "panel_size": d.get("state_panel_size") or 0,
                "panel_profile": d["state_panel_profile"],
                "experts": lists.get("state.experts", []),
                "channels": pact_rows.channels_content(self),
                "seed_funding_eur": d.get("state_seed_funding_eur") or 0,
                "outcome_contract": oc,
            },
            "term": {"start": d.get("term_start"), "end": d.get("term_end")},
            "cure_days": d.get("cure_days") or 30,
            "sanctions": lists.get("sanctions", []),
            "commitments": commitments,
        }

    @staticmethod
    def initial_from(content: dict[str, Any]) -> dict[str, Any]:
        """The fields' initial values (the lists go to the rows: pact_rows.LISTS)."""
        from pacte.web import pact_rows

        m, ip, c = (
            content.get("mission", {}),
            content.get("impact_plan", {}),
            content.get("commons", {}),
        )
        t, s, term = (
            content.get("transparency", {}),
            content.get("state", {}),
            content.get("term", {}),
        )
        oc = s.get("outcome_contract") or {}
        return {
            "title": content.get("title", ""),
            "mission_problem": m.get("problem", ""),
            "mission_population": m.get("population", ""),
            "mission_population_size": m.get("population_size", 0),
            "mission_territory": m.get("territory", ""),
            "mission_purpose_limitation": m.get("purpose_limitation", ""),
            "principles": content.get("principles", []),
            "bias_correction_promise": content.get("bias_correction_promise", False),
            "impact_outcome": ip.get("outcome", ""),
            "impact_method": ip.get("method", ""),
            "impact_evaluator": ip.get("evaluator", ""),
            "impact_window_months": ip.get("window_months", 6),
            "impact_mde_points": ip.get("mde_points", 2.0),
            "commons_legal_form": c.get("legal_form", ""),
            "commons_no_private_shareholding": c.get("no_private_shareholding", False),
            "commons_code_licence": c.get("code_licence", ""),
            "commons_data_licence": c.get("data_licence", ""),
            "transparency_algorithm_sheet": t.get("algorithm_sheet", True),
            "transparency_source_code_url": t.get("source_code_url", ""),
            "transparency_budget_twice_yearly": t.get("budget_twice_yearly", True),
            "state_panel_size": s.get("panel_size", 0),
            "state_panel_profile": s.get("panel_profile", ""),
            "state_seed_funding_eur": s.get("seed_funding_eur", 0),
            "state_outcome_price_eur": oc.get("price_per_outcome_eur"),
            "state_outcome_base_fee_eur": oc.get("base_fee_eur"),
            "state_outcome_cap_eur": oc.get("cap_eur"),
            "term_start": term.get("start"),
            "term_end": term.get("end"),
            "cure_days": content.get("cure_days", 30),
            **pact_rows.channels_initial(content),
        }


# schema path prefix → form field, for inline errors coming back from the rules
FIELD_FOR_PATH = {
    "title": "title",
    "principles": "principles",
    "bias_correction_promise": "bias_correction_promise",
    "term": "term_end",
    "cure_days": "cure_days",
    "state.channels": "state_channels",
}


def field_for(path: str) -> str | None:
    for prefix, name in FIELD_FOR_PATH.items():
        if path == prefix or path.startswith(prefix + "."):
            return name
    parts = path.split(".")
    if len(parts) >= 2:
        candidate = {"impact_plan": "impact"}.get(parts[0], parts[0]) + "_" + parts[1]
        if candidate in PactForm.base_fields:
            return candidate
    return None


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000
    )


class EvidenceForm(forms.Form):
    progress = forms.IntegerField(label=_("Progression (%)"), min_value=0, max_value=100)
    note = forms.CharField(
        max_length=PARAGRAPH, label=_("Preuve apportée"), widget=forms.Textarea(attrs={"rows": 2})
    )
    url = WebLinkField(
        label=_("Lien vers la preuve"),
        required=False,
        assume_scheme="https",
        max_length=MAX_LINK_LENGTH,
    )
    met = forms.BooleanField(label=_("L'engagement est tenu"), required=False)


class PhaseCloseForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Décision"), choices=[("continue", _("Continuer")), ("stop", _("Arrêter"))]
    )
    reason = forms.CharField(
        max_length=PARAGRAPH, label=_("Motif publié"), widget=forms.Textarea(attrs={"rows": 3})
    )
    next_kind = forms.ChoiceField(
        label=_("Phase suivante"),
        required=False,
        choices=[
            ("", _("Suivante dans l'ordre")),
            ("construction", _("Construction")),
            ("acceleration", _("Accélération")),
            ("consolidation", _("Consolidation")),
            ("operated", _("Opéré durablement")),
            ("transferred", _("Transféré")),
            ("abandoned", _("Abandonné")),
        ],
    )


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Nom du jeton"), max_length=80)
