"""Proportionality rules as code: from (sensitivity, commitment strength, benefit)
to the access terms of a data grant.

Pure module (no Django). The rule table is public and versioned: every
:class:`Decision` cites the row (``rule_id``) of :data:`RULE_TABLE` that produced it,
and :func:`table_as_rows` gives the table in a publishable form.

Tiers
-----
The tier *numbers* are names (they come from the design document), not an order of
risk. What orders them is how much of the data leaves the institution
(:data:`EXPOSURE_ORDER`, least exposing first)::

    5 consentement citoyen  <  3 agrégats DP  <  4 salle sécurisée
        <  2 extrait pseudonymisé  <  1 extrait ouvert

A row grants a *ceiling* on that ladder: every tier at or below the ceiling is
allowed, none above it (:func:`allowed_tiers`). So "allows more" has one meaning:
a higher ceiling.

Policy encoded by the table
---------------------------
* sensitivity 0 (open): open extract for everyone.
* sensitivity 1 (internal): secure room; pseudonymised extract when commitments are not
  weak and strength + benefit reach "medium + medium" (or "strong + low").
* sensitivity 2 (personal): DP aggregates for weak projects; secure room for the middle;
  pseudonymised extract (committee) only when strength and benefit are high enough.
* sensitivity 3 (sensitive): never an extract. Weak commitments: citizen consent only;
  medium: DP aggregates; strong: secure room when the benefit is at least medium.

Privacy budget (zCDP ρ): default 0.05 per grant and 0.005 per query, scaled down with
sensitivity and up with strength/benefit, within :data:`RHO_GRANT_CAP` /
:data:`RHO_QUERY_CAP`. ρ is 0 when DP aggregates are not allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Final

__all__ = [
    "RULES_VERSION",
    "RULE_TABLE",
    "EXPOSURE_ORDER",
    "RHO_GRANT_DEFAULT",
    "RHO_QUERY_DEFAULT",
    "RHO_GRANT_CAP",
    "RHO_QUERY_CAP",
    "MAX_DURATION_MONTHS",
    "Tier",
    "CommitmentStrength",
    "Benefit",
    "ReviewPath",
    "Rule",
    "Decision",
    "PactFacts",
    "FactorScore",
    "StrengthAssessment",
    "decide",
    "allowed_tiers",
    "commitment_strength",
    "strength_band",
    "benefit_band",
    "rule_for",
    "table_as_rows",
]

RULES_VERSION: Final = "2026-11"

RHO_GRANT_DEFAULT: Final = 0.05
RHO_QUERY_DEFAULT: Final = 0.005
RHO_GRANT_CAP: Final = 0.1
RHO_QUERY_CAP: Final = 0.01
MAX_DURATION_MONTHS: Final = 36


class Tier(IntEnum):
    """Access tiers. The value is the tier's *name* in the design, not a risk order."""

    OPEN_EXTRACT = 1
    PSEUDONYMISED_EXTRACT = 2
    DP_AGGREGATES = 3
    SECURE_ROOM = 4
    CITIZEN_CONSENT = 5

    @property
    def label(self) -> str:
        return _TIER_LABELS[self]

    @property
    def exposure(self) -> int:
        """Position on the exposure ladder (0 = least exposing)."""
        return EXPOSURE_ORDER.index(self)


_TIER_LABELS: Final[Mapping[Tier, str]] = {
    Tier.OPEN_EXTRACT: "extrait ouvert",
    Tier.PSEUDONYMISED_EXTRACT: "extrait pseudonymisé",
    Tier.DP_AGGREGATES: "agrégats en confidentialité différentielle",
    Tier.SECURE_ROOM: "salle sécurisée",
    Tier.CITIZEN_CONSENT: "transmission sur consentement du citoyen",
}

EXPOSURE_ORDER: Final[tuple[Tier, ...]] = (
    Tier.CITIZEN_CONSENT,
    Tier.DP_AGGREGATES,
    Tier.SECURE_ROOM,
    Tier.PSEUDONYMISED_EXTRACT,
    Tier.OPEN_EXTRACT,
)


class CommitmentStrength(StrEnum):
    WEAK = "weak"
    MEDIUM = "medium"
    STRONG = "strong"

    @property
    def rank(self) -> int:
        return _BAND_RANK[self.value]

    @property
    def label(self) -> str:
        return {"weak": "faible", "medium": "moyenne", "strong": "forte"}[self.value]


class Benefit(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _BAND_RANK[self.value]

    @property
    def label(self) -> str:
        return {"low": "faible", "medium": "moyen", "high": "élevé"}[self.value]


_BAND_RANK: Final[Mapping[str, int]] = {
    "weak": 0,
    "low": 0,
    "medium": 1,
    "strong": 2,
    "high": 2,
}


class ReviewPath(StrEnum):
    ONE_REVIEWER = "one_reviewer"
    TWO_REVIEWERS = "two_reviewers"
    COMMITTEE = "committee"

    @property
    def rank(self) -> int:
        return {"one_reviewer": 0, "two_reviewers": 1, "committee": 2}[self.value]

    @property
    def label(self) -> str:
        return {
            "one_reviewer": "un instructeur",
            "two_reviewers": "deux instructeurs",
            "committee": "comité (type Comité du secret statistique)",
        }[self.value]


SENSITIVITY_LABELS: Final[Mapping[int, str]] = {
    0: "ouverte",
    1: "interne",
    2: "personnelle",
    3: "sensible",
}


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the public rule table."""

    id: str
    sensitivity: int
    strength: CommitmentStrength
    benefit: Benefit
    highest_tier: Tier
    review: ReviewPath
    max_duration_months: int
    rho_grant: float
    rho_query: float

    @property
    def allowed(self) -> tuple[Tier, ...]:
        return EXPOSURE_ORDER[: self.highest_tier.exposure + 1]


def _ceiling(s: int, st: CommitmentStrength, b: Benefit) -> Tier:
    merit = st.rank + b.rank  # 0..4
    if s == 0:
        return Tier.OPEN_EXTRACT
    if s == 1:
        if merit >= 2 and st is not CommitmentStrength.WEAK:
            return Tier.PSEUDONYMISED_EXTRACT
        return Tier.SECURE_ROOM
    if s == 2:
        if merit >= 3:
            return Tier.PSEUDONYMISED_EXTRACT
        return Tier.SECURE_ROOM if merit >= 1 else Tier.DP_AGGREGATES
    # s == 3: never an extract
    if st is CommitmentStrength.WEAK:
        return Tier.CITIZEN_CONSENT
    if st is CommitmentStrength.STRONG and b is not Benefit.LOW:
        return Tier.SECURE_ROOM
    return Tier.DP_AGGREGATES


def _review(s: int, ceiling: Tier) -> ReviewPath:
    if s <= 1:
        return ReviewPath.ONE_REVIEWER
    if s == 2:
        if ceiling is Tier.PSEUDONYMISED_EXTRACT:
            return ReviewPath.COMMITTEE
        return ReviewPath.TWO_REVIEWERS
    return ReviewPath.COMMITTEE


_DURATION_BASE: Final[Mapping[int, int]] = {0: 24, 1: 24, 2: 18, 3: 12}
_DURATION_CAP: Final[Mapping[int, int]] = {0: 36, 1: 36, 2: 24, 3: 18}
_DURATION_STRENGTH: Final[Mapping[CommitmentStrength, float]] = {
    CommitmentStrength.WEAK: 0.5,
    CommitmentStrength.MEDIUM: 1.0,
    CommitmentStrength.STRONG: 1.5,
}
_DURATION_BENEFIT: Final[Mapping[Benefit, int]] = {
    Benefit.LOW: 0,
    Benefit.MEDIUM: 0,
    Benefit.HIGH: 6,
}


def _duration(s: int, st: CommitmentStrength, b: Benefit) -> int:
    raw = math.floor(_DURATION_BASE[s] * _DURATION_STRENGTH[st]) + _DURATION_BENEFIT[b]
    return min(_DURATION_CAP[s], MAX_DURATION_MONTHS, raw)


_RHO_SENSITIVITY: Final[Mapping[int, float]] = {0: 1.5, 1: 1.25, 2: 1.0, 3: 0.5}
_RHO_STRENGTH: Final[Mapping[CommitmentStrength, float]] = {
    CommitmentStrength.WEAK: 0.5,
    CommitmentStrength.MEDIUM: 1.0,
    CommitmentStrength.STRONG: 1.5,
}
_RHO_BENEFIT: Final[Mapping[Benefit, float]] = {
    Benefit.LOW: 0.8,
    Benefit.MEDIUM: 1.0,
    Benefit.HIGH: 1.25,
}


def _rho(s: int, st: CommitmentStrength, b: Benefit, ceiling: Tier) -> tuple[float, float]:
    if ceiling.exposure < Tier.DP_AGGREGATES.exposure:
        return 0.0, 0.0
    factor = _RHO_SENSITIVITY[s] * _RHO_STRENGTH[st] * _RHO_BENEFIT[b]
    grant = round(min(RHO_GRANT_CAP, RHO_GRANT_DEFAULT * factor), 6)
    query = round(min(RHO_QUERY_CAP, RHO_QUERY_DEFAULT * factor, grant), 6)
    return grant, query


def _rule_id(s: int, st: CommitmentStrength, b: Benefit) -> str:
    return f"R-{s}-{st.value}-{b.value}"


def _build_table() -> tuple[Rule, ...]:
    rows: list[Rule] = []
    for s in (0, 1, 2, 3):
        for st in CommitmentStrength:
            for b in Benefit:
                ceiling = _ceiling(s, st, b)
                grant, query = _rho(s, st, b, ceiling)
                rows.append(
                    Rule(
                        id=_rule_id(s, st, b),
                        sensitivity=s,
                        strength=st,
                        benefit=b,
                        highest_tier=ceiling,
                        review=_review(s, ceiling),
                        max_duration_months=_duration(s, st, b),
                        rho_grant=grant,
                        rho_query=query,
                    )
                )
    return tuple(rows)


RULE_TABLE: Final[tuple[Rule, ...]] = _build_table()
_BY_ID: Final[Mapping[str, Rule]] = {r.id: r for r in RULE_TABLE}


def rule_for(sensitivity: int, strength: CommitmentStrength, benefit: Benefit) -> Rule:
    _check_sensitivity(sensitivity)
    return _BY_ID[_rule_id(sensitivity, CommitmentStrength(strength), Benefit(benefit))]


def table_as_rows() -> list[dict[str, object]]:
    """The rule table in publishable form (JSON-serialisable dicts)."""
    return [
        {
            "rules_version": RULES_VERSION,
            "id": r.id,
            "sensitivity": r.sensitivity,
            "sensitivity_label": SENSITIVITY_LABELS[r.sensitivity],
            "strength": r.strength.value,
            "benefit": r.benefit.value,
            "highest_tier": int(r.highest_tier),
            "highest_tier_label": r.highest_tier.label,
            "allowed_tiers": [int(t) for t in r.allowed],
            "review": r.review.value,
            "max_duration_months": r.max_duration_months,
            "rho_grant": r.rho_grant,
            "rho_query": r.rho_query,
        }
        for r in RULE_TABLE
    ]


# --------------------------------------------------------------------------- decision


@dataclass(frozen=True, slots=True)
class Decision:
    rules_version: str
    rule_id: str
    sensitivity: int
    strength: CommitmentStrength
    benefit: Benefit
    highest_tier: Tier
    allowed: tuple[Tier, ...]
    review: ReviewPath
    max_duration_months: int
    rho_grant: float
    rho_query: float
    explanation: str
    strength_score: int | None = None

    def allows(self, tier: Tier | int) -> bool:
        return Tier(tier) in self.allowed

    def as_dict(self) -> dict[str, object]:
        return {
            "rules_version": self.rules_version,
            "rule_id": self.rule_id,
            "sensitivity": self.sensitivity,
            "strength": self.strength.value,
            "strength_score": self.strength_score,
            "benefit": self.benefit.value,
            "highest_tier": int(self.highest_tier),
            "allowed_tiers": [int(t) for t in self.allowed],
            "review": self.review.value,
            "max_duration_months": self.max_duration_months,
            "rho_grant": self.rho_grant,
            "rho_query": self.rho_query,
            "explanation": self.explanation,
        }


def allowed_tiers(decision: Decision) -> frozenset[Tier]:
    return frozenset(decision.allowed)


def _check_sensitivity(sensitivity: int) -> None:
    if (
        isinstance(sensitivity, bool)
        or not isinstance(sensitivity, int)
        or not 0 <= sensitivity <= 3
    ):
        raise ValueError(
            f"Niveau de sensibilité invalide : {sensitivity!r} (attendu 0, 1, 2 ou 3)."
        )


def _explain(rule: Rule, score: int | None) -> str:
    force = rule.strength.label if score is None else f"{rule.strength.label} ({score}/100)"
    allowed = ", ".join(f"{int(t)} ({t.label})" for t in rule.allowed)
    parts = [
        f"Règle {rule.id} (version {RULES_VERSION}) : données de sensibilité "
        f"{rule.sensitivity} ({SENSITIVITY_LABELS[rule.sensitivity]}), force des engagements "
        f"{force}, bénéfice attendu {rule.benefit.label}.",
        f"Niveau d'accès le plus exposant autorisé : {int(rule.highest_tier)} "
        f"({rule.highest_tier.label}). Niveaux autorisés : {allowed}.",
        f"Instruction : {rule.review.label}. Durée maximale de l'accès : "
        f"{rule.max_duration_months} mois.",
    ]
    if rule.rho_grant > 0:
        parts.append(
            f"Budget de confidentialité (zCDP) : ρ = {rule.rho_grant:g} pour l'accès, "
            f"ρ = {rule.rho_query:g} au plus par requête."
        )
    else:
        parts.append("Aucun budget de confidentialité : les agrégats DP ne sont pas ouverts.")
    if rule.sensitivity == 3:
        parts.append("Données sensibles : aucun extrait n'est jamais délivré.")
    return " ".join(parts)


def decide(
    sensitivity: int,
    strength: CommitmentStrength | StrengthAssessment | int | str,
    benefit: Benefit | str,
) -> Decision:
    """Decide the access terms. ``strength`` may be a band, an assessment or a 0–100 score."""
    _check_sensitivity(sensitivity)
    score: int | None = None
    if isinstance(strength, StrengthAssessment):
        score, band = strength.score, strength.band
    elif isinstance(strength, CommitmentStrength):
        band = strength
    elif isinstance(strength, str):
        try:
            band = CommitmentStrength(strength)
        except ValueError:
            raise ValueError(f"Force des engagements invalide : {strength!r}.") from None
    else:
        score, band = strength, strength_band(strength)  # rejects bools and out-of-range
    try:
        ben = Benefit(benefit)
    except ValueError:
        raise ValueError(f"Bénéfice invalide : {benefit!r} (attendu low, medium, high).") from None
    rule = rule_for(sensitivity, band, ben)
    return Decision(
        rules_version=RULES_VERSION,
        rule_id=rule.id,
        sensitivity=sensitivity,
        strength=band,
        benefit=ben,
        highest_tier=rule.highest_tier,
        allowed=rule.allowed,
        review=rule.review,
        max_duration_months=rule.max_duration_months,
        rho_grant=rule.rho_grant,
        rho_query=rule.rho_query,
        explanation=_explain(rule, score),
        strength_score=score,
    )


# --------------------------------------------------------------------------- strength

STRONG_THRESHOLD: Final = 70
MEDIUM_THRESHOLD: Final = 40


def strength_band(score: int) -> CommitmentStrength:
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise ValueError(f"Score de force invalide : {score!r} (attendu un entier de 0 à 100).")
    if score >= STRONG_THRESHOLD:
        return CommitmentStrength.STRONG
    if score >= MEDIUM_THRESHOLD:
        return CommitmentStrength.MEDIUM
    return CommitmentStrength.WEAK


@dataclass(frozen=True, slots=True)
class PactFacts:
    """What the pact says, reduced to the facts the strength score uses."""

    measurable_principles: int = 0
    """Principles whose commitments carry an indicator and a threshold."""
    bias_audit_commitment: bool = False
    preregistered_impact_plan: bool = False
    commons_attestations: int = 0
    """Among: no private shareholding, open code licence, open data licence (0..3)."""
    security_homologation: bool = False
    breaches: int = 0
    """Commitments breached in the compliance record (this pact and predecessors)."""


@dataclass(frozen=True, slots=True)
class FactorScore:
    key: str
    label: str
    points: int
    max_points: int
    detail: str


@dataclass(frozen=True, slots=True)
class StrengthAssessment:
    score: int
    band: CommitmentStrength
    factors: tuple[FactorScore, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        return {
            "score": self.score,
            "band": self.band.value,
            "factors": [
                {
                    "key": f.key,
                    "label": f.label,
                    "points": f.points,
                    "max_points": f.max_points,
                    "detail": f.detail,
                }
                for f in self.factors
            ],
        }


POINTS_PER_PRINCIPLE: Final = 5
MAX_PRINCIPLES_POINTS: Final = 25
POINTS_BIAS_AUDIT: Final = 15
POINTS_IMPACT_PLAN: Final = 20
POINTS_PER_ATTESTATION: Final = 5
MAX_ATTESTATIONS: Final = 3
POINTS_HOMOLOGATION: Final = 15
POINTS_CLEAN_RECORD: Final = 10
POINTS_PER_BREACH: Final = 10
MAX_BREACH_PENALTY: Final = 30


def _count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} doit être un entier positif ou nul (reçu {value!r}).")
    return value


def commitment_strength(facts: PactFacts) -> StrengthAssessment:
    """0–100 score with a per-factor breakdown. Maximum points sum to 100."""
    n_principles = _count("measurable_principles", facts.measurable_principles)
    n_attest = _count("commons_attestations", facts.commons_attestations)
    breaches = _count("breaches", facts.breaches)

    p_principles = min(MAX_PRINCIPLES_POINTS, POINTS_PER_PRINCIPLE * n_principles)
    p_attest = POINTS_PER_ATTESTATION * min(MAX_ATTESTATIONS, n_attest)
    # Clean record earns points; each breach beyond that costs points (negative factor).
    p_record = POINTS_CLEAN_RECORD - min(
        POINTS_CLEAN_RECORD + MAX_BREACH_PENALTY, POINTS_PER_BREACH * breaches
    )
    factors = (
        FactorScore(
            "measurable_principles",
            "Principes assortis d'indicateurs mesurables",
            p_principles,
            MAX_PRINCIPLES_POINTS,
            f"{n_principles} principe(s) mesurable(s), {POINTS_PER_PRINCIPLE} points chacun, "
            f"plafond {MAX_PRINCIPLES_POINTS}.",
        ),
        FactorScore(
            "bias_audit",
            "Engagement d'audit des biais",
            POINTS_BIAS_AUDIT if facts.bias_audit_commitment else 0,
            POINTS_BIAS_AUDIT,
            "Engagement pris." if facts.bias_audit_commitment else "Aucun engagement d'audit.",
        ),
        FactorScore(
            "impact_plan",
            "Plan d'évaluation d'impact pré-enregistré",
            POINTS_IMPACT_PLAN if facts.preregistered_impact_plan else 0,
            POINTS_IMPACT_PLAN,
            "Plan pré-enregistré."
            if facts.preregistered_impact_plan
            else "Pas de plan pré-enregistré.",
        ),
        FactorScore(
            "commons",
            "Attestations de communs",
            p_attest,
            POINTS_PER_ATTESTATION * MAX_ATTESTATIONS,
            f"{min(MAX_ATTESTATIONS, n_attest)} attestation(s) sur {MAX_ATTESTATIONS}.",
        ),
        FactorScore(
            "security_homologation",
            "Homologation de sécurité",
            POINTS_HOMOLOGATION if facts.security_homologation else 0,
            POINTS_HOMOLOGATION,
            "Homologation obtenue." if facts.security_homologation else "Pas d'homologation.",
        ),
        FactorScore(
            "compliance_record",
            "Historique de conformité",
            p_record,
            POINTS_CLEAN_RECORD,
            "Aucun manquement." if breaches == 0 else f"{breaches} manquement(s) constaté(s).",
        ),
    )
    score = max(0, min(100, sum(f.points for f in factors)))
    return StrengthAssessment(score=score, band=strength_band(score), factors=factors)


# --------------------------------------------------------------------------- benefit


def benefit_band(population: int, severity: int) -> Benefit:
    """Benefit from the population concerned × the severity of the problem (1..3).

    Population points: < 1 000 → 0, < 100 000 → 1, otherwise 2; severity adds 0..2.
    Total 0–1 → low, 2 → medium, 3–4 → high.
    """
    if isinstance(population, bool) or not isinstance(population, int) or population < 0:
        raise ValueError(f"Population invalide : {population!r} (entier positif attendu).")
    if isinstance(severity, bool) or not isinstance(severity, int) or not 1 <= severity <= 3:
        raise ValueError(f"Gravité invalide : {severity!r} (attendu 1, 2 ou 3).")
    pop_points = 0 if population < 1_000 else 1 if population < 100_000 else 2
    total = pop_points + severity - 1
    if total >= 3:
        return Benefit.HIGH
    if total == 2:
        return Benefit.MEDIUM
    return Benefit.LOW
