"""Data requests: draft, edit, submit, withdraw, and the reviewers' decisions (request changes,
refuse, approve), the proportionality rules deciding the ceiling, the path and the terms.

Transitions run through ``lifecycles.REQUEST``; an approval that completes the path issues the
grant (``grants.issue_grant``) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.data import events
from pacte.data.grants import issue_grant
from pacte.data.lifecycles import EDITABLE_REQUEST_STATES, REQUEST
from pacte.data.models import DataRequest, Dataset, DatasetVersion, Grant, RequestReview
from pacte.data.selectors import active_version
from pacte.engines import proportionality
from pacte.errors import InvalidTransition, ValidationFailed
from pacte.pacts.models import Commitment, Pact, PactVersion, Status
from pacte.writes.references import next_reference
from pacte.writes.retry import retry_on_conflict

RETENTION_FREE_MONTHS = 36
REQUIRED_APPROVALS = {"one_reviewer": 1, "two_reviewers": 2, "committee": 3}
REQUEST_FIELDS = (
    "purpose",
    "columns",
    "aggregates",
    "tier",
    "legal_basis",
    "retention_months",
    "retention_justification",
    "recipients",
    "dpo_contact",
    "volumetry",
)


# ---------------------------------------------------------------- proportionality


def pact_facts(version: PactVersion) -> proportionality.PactFacts:
    c = version.content or {}
    commitments = c.get("commitments") or []
    measurable = {
        x.get("principle")
        for x in commitments
        if x.get("owner") == "carrier"
        and x.get("principle")
        and x.get("indicator")
        and x.get("threshold")
    }
    plan = c.get("impact_plan") or {}
    commons = c.get("commons") or {}
    attestations = sum(
        bool(commons.get(k)) for k in ("no_private_shareholding", "code_licence", "data_licence")
    )
    carrier_id = version.pact.project.carrier_id
    breaches = (
        Commitment.objects.filter(
            version__pact__project__carrier_id=carrier_id,
            status__in=(Commitment.State.BREACHED, Commitment.State.MISSED),
        ).count()
        + PactVersion.objects.filter(
            pact__project__carrier_id=carrier_id, status=Status.BROKEN
        ).count()
    )
    return proportionality.PactFacts(
        measurable_principles=len(measurable),
        bias_audit_commitment=bool(c.get("bias_correction_promise")) and bool(c.get("bias_risks")),
        preregistered_impact_plan=bool(plan.get("outcome") and plan.get("method")),
        commons_attestations=attestations,
        security_homologation=bool((c.get("security") or {}).get("homologation")),
        breaches=breaches,
    )


def assess(
    req: DataRequest, population: int, severity: int
) -> tuple[proportionality.Decision, proportionality.StrengthAssessment]:
    try:
        strength = proportionality.commitment_strength(pact_facts(req.pact_version))
        benefit = proportionality.benefit_band(int(population), int(severity))
        decision = proportionality.decide(req.dataset.sensitivity, strength, benefit)
    except (ValueError, TypeError) as e:
        raise ValidationFailed(_("Évaluation impossible : %(error)s") % {"error": e}) from None
    return decision, strength


# ---------------------------------------------------------------- the request form


def _as_int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _clean_columns(
    dv: DatasetVersion, fields: Mapping[str, Any], errors: dict[str, list[str]]
) -> list[str]:
    cols = fields.get("columns") or []
    if isinstance(cols, str):
        cols = [c.strip() for c in cols.replace("\n", ",").split(",") if c.strip()]
    known = {c["name"] for c in dv.columns}
    unknown = [c for c in cols if c not in known]
    if unknown:
        errors["columns"] = [
            _("Colonne(s) inconnue(s) : %(columns)s.") % {"columns": ", ".join(map(str, unknown))}
        ]
    return list(dict.fromkeys(cols))


def _clean_request(dv: DatasetVersion, fields: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    purpose = str(fields.get("purpose") or "").strip()
    if len(purpose) < 20:
        errors["purpose"] = [
            _(
                "Décrivez la finalité (20 caractères au moins) et comment elle sert la mission du "
                "pacte."
            )
        ]
    out["purpose"] = purpose
    tier = _as_int(fields.get("tier"))
    if tier not in (1, 2, 3, 4, 5):
        errors["tier"] = [_("Niveau d'accès inconnu (1 à 5).")]
    out["tier"] = tier
    out["columns"] = _clean_columns(dv, fields, errors)
    out["aggregates"] = str(fields.get("aggregates") or "").strip()
    for name, message in (
        ("legal_basis", _("Indiquez la base légale.")),
        ("recipients", _("Indiquez les destinataires.")),
        ("dpo_contact", _("Indiquez le contact protection des données.")),
    ):
        value = str(fields.get(name) or "").strip()
        if len(value) < 3:
            errors[name] = [message]
        out[name] = value
    retention = _as_int(fields.get("retention_months"))
    if not 1 <= retention <= 120:
        errors["retention_months"] = [_("Durée de conservation entre 1 et 120 mois.")]
    justification = str(fields.get("retention_justification") or "").strip()
    if retention > RETENTION_FREE_MONTHS and len(justification) < 20:
        errors["retention_justification"] = [
            _(
                "Au-delà de %(months)s mois, une justification est obligatoire (20 caractères au moins)."
            )
            % {"months": RETENTION_FREE_MONTHS}
        ]
    out["retention_months"], out["retention_justification"] = retention, justification
    out["volumetry"] = str(fields.get("volumetry") or "").strip()
    if errors:
        raise ValidationFailed(
            _("La demande est incomplète : corrigez les points signalés."), field_errors=errors
        )
    return out


def snapshot(req: DataRequest) -> dict[str, Any]:
    return {f: getattr(req, f) for f in REQUEST_FIELDS} | {
        "dataset_version": req.dataset_version.version
    }


def _lock_request(req: DataRequest) -> DataRequest:
    return (
        DataRequest.objects.select_for_update(of=("self",))
        .select_related(
            "dataset__publisher", "dataset_version", "project__carrier", "pact", "pact_version"
        )
        .get(pk=req.pk)
    )


# ---------------------------------------------------------------- the carrier's side


@retry_on_conflict
@transaction.atomic
def create_request(acting: Acting, pact: Pact, dataset: Dataset, **fields: Any) -> DataRequest:
    project = pact.project
    policy.require(acting, Action.DATA_REQUEST_WRITE, project)
    version = active_version(pact)
    if version is None:
        raise InvalidTransition(
            _("Une demande d'accès aux données se fait depuis un pacte en vigueur.")
        )
    dv = dataset.current_version
    if dv is None:
        raise ValidationFailed(_("Ce jeu de données n'a pas encore de version publiée."))
    clean = _clean_request(dv, fields)
    req = DataRequest.objects.create(
        reference=next_reference(DataRequest, "DEM"),
        dataset=dataset,
        dataset_version=dv,
        pact=pact,
        pact_version=version,
        project=project,
        carrier=project.carrier,
        requested_by=acting.user,
        purpose_limitation=(version.content.get("mission") or {}).get("purpose_limitation", ""),
        status_changed_at=timezone.now(),
        **clean,
    )
    events.request_event(
        req,
        "request.drafted",
        policy.actor_of(acting),
        pact=pact.reference,
        pact_version=version.number,
    )
    return req


@retry_on_conflict
@transaction.atomic
def update_request(acting: Acting, req: DataRequest, **fields: Any) -> DataRequest:
    req = _lock_request(req)
    policy.require(acting, Action.DATA_REQUEST_WRITE, req)
    if req.status not in EDITABLE_REQUEST_STATES:
        raise InvalidTransition(
            _("La demande n'est modifiable qu'en brouillon ou après une demande de modifications.")
        )
    merged = {f: getattr(req, f) for f in REQUEST_FIELDS} | {
        k: v for k, v in fields.items() if k in REQUEST_FIELDS
    }
    for k, v in _clean_request(req.dataset_version, merged).items():
        setattr(req, k, v)
    req.save()
    return req


@retry_on_conflict
@transaction.atomic
def submit_request(acting: Acting, req: DataRequest) -> DataRequest:
    req = _lock_request(req)
    REQUEST.check(acting, "submit", req)
    if active_version(req.pact) is None:
        raise InvalidTransition(
            _("Le pacte n'est plus en vigueur : la demande ne peut pas être soumise.")
        )
    _clean_request(req.dataset_version, {f: getattr(req, f) for f in REQUEST_FIELDS})
    req.submissions = [*req.submissions, {"at": timezone.now().isoformat(), **snapshot(req)}]
    REQUEST.apply(acting, "submit", req, submission=len(req.submissions))
    return req


@retry_on_conflict
@transaction.atomic
def withdraw_request(acting: Acting, req: DataRequest, reason: str) -> DataRequest:
    req = _lock_request(req)
    REQUEST.apply(acting, "withdraw", req, reason)
    return req


# ---------------------------------------------------------------- the reviewers' side


def _review(
    acting: Acting, req: DataRequest, decision: str, reason: str, rule_id: str = ""
) -> None:
    RequestReview.objects.create(
        request=req,
        submission=len(req.submissions),
        reviewer=acting.user,
        organisation=acting.organisation,
        decision=decision,
        reason=reason,
        rule_id=rule_id,
    )


@retry_on_conflict
@transaction.atomic
def request_changes(acting: Acting, req: DataRequest, reason: str) -> DataRequest:
    req = _lock_request(req)
    _move, reason = REQUEST.check(acting, "request_changes", req, reason)
    _review(acting, req, RequestReview.Decision.REQUEST_CHANGES, reason)
    REQUEST.apply(acting, "request_changes", req, reason)
    return req


@retry_on_conflict
@transaction.atomic
def refuse_request(acting: Acting, req: DataRequest, reason: str) -> DataRequest:
    req = _lock_request(req)
    _move, reason = REQUEST.check(acting, "refuse", req, reason)
    _review(acting, req, RequestReview.Decision.REFUSE, reason)
    REQUEST.apply(acting, "refuse", req, reason)
    return req


@dataclass(frozen=True)
class ApprovalOutcome:
    request: DataRequest
    grant: Grant | None
    approvals: int
    required: int


def _refuse_above_ceiling(
    acting: Acting, req: DataRequest, decision: proportionality.Decision
) -> ApprovalOutcome:
    tier = proportionality.Tier(req.tier)
    # stored and journaled: a record, written in French whatever the reader's language
    reason = (
        f"Niveau demandé {int(tier)} ({tier.label}) au-delà du plafond de la règle {decision.rule_id} "
        f"(version {decision.rules_version}) : niveau le plus exposant autorisé "
        f"{int(decision.highest_tier)} ({decision.highest_tier.label}). {decision.explanation}"
    )
    _review(acting, req, RequestReview.Decision.REFUSE, reason, decision.rule_id)
    REQUEST.apply(
        acting,
        "refuse",
        req,
        reason,
        rule_id=decision.rule_id,
        rules_version=decision.rules_version,
        highest_tier=int(decision.highest_tier),
    )
    return ApprovalOutcome(req, None, 0, 0)


@retry_on_conflict
@transaction.atomic
def approve_request(
    acting: Acting, req: DataRequest, *, population: int, severity: int, note: str = ""
) -> ApprovalOutcome:
    """Record one favourable review; the rules decide the ceiling, the path and the terms.

    A tier above the rule's ceiling is refused, citing the rule row.
    """
    req = _lock_request(req)
    REQUEST.check(acting, "approve", req)
    decision, strength = assess(req, population, severity)
    req.benefit_population, req.benefit_severity = int(population), int(severity)
    req.decision, req.strength = decision.as_dict(), strength.as_dict()
    if not decision.allows(proportionality.Tier(req.tier)):
        return _refuse_above_ceiling(acting, req, decision)
    submission = len(req.submissions)
    if req.reviews.filter(
        submission=submission, reviewer=acting.user, decision=RequestReview.Decision.APPROVE
    ).exists():
        raise InvalidTransition(
            _("Vous avez déjà donné un avis favorable : un autre instructeur est requis.")
        )
    _review(acting, req, RequestReview.Decision.APPROVE, note.strip(), decision.rule_id)
    approvals = (
        req.reviews.filter(submission=submission, decision=RequestReview.Decision.APPROVE)
        .values("reviewer")
        .distinct()
        .count()
    )
    required = REQUIRED_APPROVALS[decision.review.value]
    if approvals < required:
        req.save()
        events.request_event(
            req,
            "request.review_recorded",
            policy.actor_of(acting),
            approvals=approvals,
            required=required,
            rule_id=decision.rule_id,
        )
        return ApprovalOutcome(req, None, approvals, required)
    # lock order: the commitment the grant issuance marks met, before the log's lock
    Commitment.objects.select_for_update(of=("self",), no_key=True).filter(
        version=req.pact_version, key="state-data-access", owner=Commitment.Owner.INSTITUTION
    ).first()
    REQUEST.apply(
        acting,
        "approve",
        req,
        approvals=approvals,
        required=required,
        rule_id=decision.rule_id,
        rules_version=decision.rules_version,
        strength=strength.score,
        benefit=decision.benefit.value,
    )
    grant = issue_grant(acting, req, decision)
    return ApprovalOutcome(req, grant, approvals, required)
