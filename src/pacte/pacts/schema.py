"""The content of a pact version (C1–C8, S1–S5), validated at the boundary with Pydantic.

Two levels: `PactContent` checks structure and types (a draft can be incomplete);
`completeness_errors` checks the rules a pact must meet before it is submitted.
Messages are written for a person, in French.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from pacte.links import LINK_MESSAGE, is_web_link

PRINCIPLES: dict[str, str] = {
    "continuity": _("Continuité du service"),
    "equality": _("Égalité de traitement"),
    "adaptability": _("Adaptabilité (mutabilité)"),
    "neutrality": _("Neutralité"),
    "transparency": _("Transparence"),
    "accessibility": _("Accessibilité et inclusion"),
    "data_protection": _("Protection des données"),
}
MANDATORY_PRINCIPLES = ("continuity", "equality", "neutrality", "transparency")
IMPACT_METHODS = {
    "randomised": _("Essai randomisé"),
    "encouragement": _("Design d'encouragement"),
    "comparison_cohort": _("Cohorte de comparaison"),
}
EVIDENCE_KINDS = {
    "document": _("Document déposé"),
    "evaluation": _("Évaluation d'impact"),
    "audit": _("Audit de biais"),
    "uptime": _("Sonde de disponibilité"),
    "publication": _("Publication"),
    "grant": _("Accès aux données accordé"),
    "panel": _("Panel de testeurs ouvert"),
    "payment": _("Versement"),
}
RECURRENCES = {
    "none": "Ponctuel",
    "monthly": "Mensuel",
    "quarterly": "Trimestriel",
    "semiannual": "Semestriel",
    "yearly": "Annuel",
}
OPEN_LICENCES = {
    "AGPL-3.0-or-later",
    "AGPL-3.0-only",
    "GPL-3.0-or-later",
    "GPL-3.0-only",
    "LGPL-3.0-or-later",
    "MPL-2.0",
    "EUPL-1.2",
    "Apache-2.0",
    "MIT",
    "BSD-3-Clause",
    "BSD-2-Clause",
    "CECILL-2.1",
    "CECILL-B",
    "CECILL-C",
    "ISC",
}
OPEN_DATA_LICENCES = {"etalab-2.0", "ODbL-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "LO-2.0"}
FUNDING_KINDS = {
    "public_grant": "Subvention publique",
    "donation": "Don",
    "revenue": "Recettes",
    "loan": "Prêt",
    "outcome_contract": "Contrat à impact",
    "equity": "Prise de participation",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Mission(_Model):
    problem: str = ""
    population: str = ""
    population_size: int = Field(default=0, ge=0)
    territory: str = ""
    purpose_limitation: str = ""


class BiasRisk(_Model):
    group: str
    mechanism: str
    metric: str
    tolerated_ratio: float = Field(default=0.8, gt=0, le=1)


class ImpactPlan(_Model):
    outcome: str = ""
    method: Literal["randomised", "encouragement", "comparison_cohort", ""] = ""
    evaluator: str = ""
    window_months: int = Field(default=6, ge=1, le=60)
    mde_points: float = Field(default=2.0, gt=0, le=100)


class FundingSource(_Model):
    name: str
    kind: Literal["public_grant", "donation", "revenue", "loan", "outcome_contract", "equity"]


class Commons(_Model):
    legal_form: str = ""
    no_private_shareholding: bool = False
    funding_sources: list[FundingSource] = []
    code_licence: str = ""
    data_licence: str = ""


class Transparency(_Model):
    algorithm_sheet: bool = True
    source_code_url: str = Field(
        default="", description="Adresse http(s) du code source ; tout autre schéma est refusé."
    )
    statistics_public: bool = True
    budget_twice_yearly: bool = True
    notes: str = ""

    @field_validator("source_code_url")
    @classmethod
    def _web_link(cls, value: str, info: ValidationInfo) -> str:
        # New input only (parse_content(..., new_input=True)): content stored before this rule
        # still loads, and templates render a stored address as a link only if it is http(s).
        if value and (info.context or {}).get("new_input") and not is_web_link(value):
            raise PydanticCustomError("web_link", str(LINK_MESSAGE))
        return value


class DataRequest(_Model):
    dataset: str
    tier: int = Field(ge=1, le=5)
    sensitivity: int = Field(ge=0, le=3)
    purpose: str = ""


class Channel(_Model):
    channel: str
    condition: str = ""


class OutcomeContract(_Model):
    price_per_outcome_eur: int = Field(ge=0)
    base_fee_eur: int = Field(default=0, ge=0)
    cap_eur: int = Field(ge=0)


class StateCommitments(_Model):
    data: list[DataRequest] = []
    panel_size: int = Field(default=0, ge=0)
    panel_profile: str = ""
    experts: list[str] = []
    channels: list[Channel] = []
    seed_funding_eur: int = Field(default=0, ge=0)
    outcome_contract: OutcomeContract | None = None

    @property
    def total_funding_eur(self) -> int:
        cap = self.outcome_contract.cap_eur if self.outcome_contract else 0
        return self.seed_funding_eur + cap

    @property
    def asks_restricted_data(self) -> bool:
        return any(d.sensitivity >= 2 for d in self.data)


class Term(_Model):
    start: date | None = None
    end: date | None = None
    review_dates: list[date] = []


class Sanction(_Model):
    trigger: str
    measure: str


class CommitmentSpec(_Model):
    key: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")
    owner: Literal["carrier", "institution"]
    principle: str = ""
    text: str = Field(min_length=1)
    indicator: str = ""
    threshold: str = ""
    due_date: date | None = None
    recurrence: Literal["none", "monthly", "quarterly", "semiannual", "yearly"] = "none"
    evidence: Literal[
        "document", "evaluation", "audit", "uptime", "publication", "grant", "panel", "payment"
    ] = "document"

    @property
    def measurable(self) -> bool:
        return bool(
            self.indicator and self.threshold and (self.due_date or self.recurrence != "none")
        )


class PactContent(_Model):
    title: str = ""
    mission: Mission = Mission()
    principles: list[str] = []
    bias_risks: list[BiasRisk] = []
    bias_correction_promise: bool = False
    impact_plan: ImpactPlan = ImpactPlan()
    commons: Commons = Commons()
    transparency: Transparency = Transparency()
    state: StateCommitments = StateCommitments()
    term: Term = Term()
    cure_days: int = Field(default=30, ge=1, le=180)
    sanctions: list[Sanction] = []
    commitments: list[CommitmentSpec] = []


def parse_content(data: object, *, new_input: bool = False) -> PactContent:
    """Structural validation; raises ValidationFailed with per-field French messages.
    `new_input` (what a person is writing now) also applies the rules added since older
    versions were stored, e.g. http(s)-only links."""
    from pacte.errors import ValidationFailed

    try:
        return PactContent.model_validate(data, context={"new_input": new_input})
    except ValidationError as exc:
        fields: dict[str, list[str]] = {}
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"]) or "content"
            fields.setdefault(path, []).append(_french(err))
        raise ValidationFailed(
            _("Le contenu du pacte est mal formé."), field_errors=fields
        ) from exc


def _french(e: ErrorDetails) -> str:
    kind = e["type"]
    ctx = e.get("ctx") or {}
    messages = {
        "missing": _("Champ obligatoire."),
        "extra_forbidden": _("Champ inconnu."),
        "int_parsing": _("Un nombre entier est attendu."),
        "float_parsing": _("Un nombre est attendu."),
        "date_from_datetime_parsing": _("Une date AAAA-MM-JJ est attendue."),
        "date_parsing": _("Une date AAAA-MM-JJ est attendue."),
        "literal_error": _("Valeur non permise (attendu : %(expected)s).")
        % {"expected": ctx.get("expected", "")},
        "greater_than_equal": _("Doit être supérieur ou égal à %(n)s.") % {"n": ctx.get("ge", "")},
        "greater_than": _("Doit être supérieur à %(n)s.") % {"n": ctx.get("gt", "")},
        "less_than_equal": _("Doit être inférieur ou égal à %(n)s.") % {"n": ctx.get("le", "")},
        "string_too_short": _("Ce champ ne peut pas être vide."),
        "string_pattern_mismatch": _("Lettres minuscules, chiffres et tirets seulement."),
        "bool_parsing": _("Oui ou non attendu."),
        "list_type": _("Une liste est attendue."),
    }
    return messages.get(kind, e["msg"])


def completeness_errors(content: PactContent) -> dict[str, list[str]]:
    """Rules a pact must satisfy to be submitted (design note pact.md)."""
    from pacte.engines.impact import is_audience_metric

    errors: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    if not content.title:
        add("title", _("Donnez un titre au pacte."))
    m = content.mission
    if len(m.problem) < 20:
        add(
            "mission.problem",
            _(
                "Décrivez le problème de société visé (et non la solution), en 20 caractères au moins."
            ),
        )
    if not m.population:
        add("mission.population", _("Indiquez la population concernée."))
    if m.population_size <= 0:
        add("mission.population_size", _("Donnez un ordre de grandeur de la population concernée."))
    if not m.territory:
        add("mission.territory", _("Indiquez le territoire."))
    if not m.purpose_limitation:
        add(
            "mission.purpose_limitation",
            _("La clause de limitation des finalités est obligatoire (C1)."),
        )
    unknown = [p for p in content.principles if p not in PRINCIPLES]
    if unknown:
        add("principles", _("Principe(s) inconnu(s) : %(names)s.") % {"names": ", ".join(unknown)})
    missing = [PRINCIPLES[p] for p in MANDATORY_PRINCIPLES if p not in content.principles]
    if missing:
        add(
            "principles",
            _("Principes obligatoires manquants : %(names)s.") % {"names": ", ".join(missing)},
        )
    for p in content.principles:
        if p in PRINCIPLES and not any(
            c.principle == p and c.measurable for c in content.commitments
        ):
            add(
                "commitments",
                _(
                    "Le principe « %(principle)s » doit être garanti par au moins un engagement mesurable "
                    "(indicateur, seuil et échéance ou récurrence)."
                )
                % {"principle": PRINCIPLES[p]},
            )
    keys = [c.key for c in content.commitments]
    if len(keys) != len(set(keys)):
        add("commitments", _("Chaque engagement doit avoir une clé unique."))
    for i, c in enumerate(content.commitments):
        if c.principle and c.principle not in PRINCIPLES:
            add(f"commitments.{i}.principle", _("Principe inconnu."))
    if not content.bias_risks:
        add(
            "bias_risks",
            _("Déclarez au moins un risque de biais (groupe, mécanisme, métrique) — C3."),
        )
    if not content.bias_correction_promise:
        add(
            "bias_correction_promise",
            _("Le pacte doit promettre de corriger les biais découverts ensuite (C3)."),
        )
    ip = content.impact_plan
    if not ip.outcome:
        add(
            "impact_plan.outcome",
            _(
                "Indiquez le résultat social mesuré (par ex. « retour à l'emploi durable à 6 mois »)."
            ),
        )
    elif is_audience_metric(ip.outcome):
        add(
            "impact_plan.outcome",
            _(
                "Une mesure d'audience (visites, pages vues, téléchargements, inscriptions…) n'est pas un "
                "impact social : indiquez ce qui change dans la vie des personnes (C4)."
            ),
        )
    if not ip.method:
        add("impact_plan.method", _("Choisissez la méthode d'évaluation."))
    if not ip.evaluator:
        add("impact_plan.evaluator", _("Nommez l'évaluateur indépendant."))
    commons = content.commons
    if not commons.legal_form:
        add("commons.legal_form", _("Indiquez la forme juridique du porteur."))
    if not commons.no_private_shareholding:
        add("commons.no_private_shareholding", _("Attestez l'absence d'actionnariat privé (C5)."))
    for i, f in enumerate(commons.funding_sources):  # each one named, so the editor shows it there
        if f.kind == "equity":
            add(
                f"commons.funding_sources.{i}.kind",
                _("Aucun financement en capital n'est permis (C5)."),
            )
    if commons.code_licence not in OPEN_LICENCES:
        add(
            "commons.code_licence",
            _(
                "Choisissez une licence libre reconnue (identifiant SPDX, par ex. AGPL-3.0-or-later)."
            ),
        )
    if commons.data_licence and commons.data_licence not in OPEN_DATA_LICENCES:
        add(
            "commons.data_licence", _("Licence de données inconnue (par ex. etalab-2.0, ODbL-1.0).")
        )
    t = content.term
    if not t.start or not t.end:
        add("term", _("Le pacte doit avoir une date de début et une date de fin."))
    elif t.end <= t.start:
        add("term.end", _("La fin doit être postérieure au début."))
    if not content.sanctions:
        add("sanctions", _("Listez les sanctions applicables en cas de manquement (C7)."))
    s = content.state
    if (
        s.data or s.panel_size or s.seed_funding_eur or s.outcome_contract or s.channels
    ) and not any(c.owner == "institution" for c in content.commitments):
        add(
            "commitments",
            _(
                "Les engagements de l'institution (données, panel, diffusion, financement) doivent figurer au tableau des engagements."
            ),
        )
    return errors
