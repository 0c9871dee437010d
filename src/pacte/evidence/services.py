"""Writes for evidence: panels, feedback, experiments, evaluations, audits, algorithm sheets.

One transaction per use case, each with its public journal event. The statistics come from
the pure engines (`pacte.engines.impact`, `bias`, `assignment`); this module validates inputs,
checks who may act, stores results and records events. The compliance engine lives in
`pacte.evidence.compliance` and is re-run on every new piece of evidence.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from pacte.accounts.models import Organisation, Role, User
from pacte.accounts.selectors import is_member
from pacte.accounts.services import Acting
from pacte.engines import assignment as asg
from pacte.engines import bias, canonical, impact
from pacte.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from pacte.evidence.models import (
    AGE_BANDS,
    PANEL_ATTRIBUTES,
    SITUATIONS,
    AlgorithmSheet,
    Assignment,
    Audit,
    Evaluation,
    Experiment,
    Feedback,
    PanelCall,
    PanelMember,
    Question,
    Volunteer,
)
from pacte.journal.services import SYSTEM, Actor, record_event
from pacte.notifications.notifier import notify
from pacte.pacts.models import Commitment, Pact, PactVersion, Status
from pacte.pacts.schema import parse_content
from pacte.pacts.services import require_reason
from pacte.projects.models import Project
from pacte.projects.services import actor_of
from pacte.writes.retry import retry_on_conflict

CONSENT_VERSION = "2026-01"
REMEDIATION_DAYS = 90
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_REPORTED_ERRORS = 10
DEFAULT_BAND = (0.8, 1.25)
SUPPRESSION_THRESHOLD = 5  # public aggregate cells below this are not shown

LIVE = (Status.ACTIVE, Status.BREACH_NOTIFIED, Status.SUSPENDED)


# ---------------------------------------------------------------- helpers

def _event(type: str, actor: Actor, subject_type: str, subject_id: str | int, project: Project,
           **data: Any) -> None:
    record_event(type, actor=actor, subject_type=subject_type, subject_id=subject_id,
                 project_slug=project.slug, data=data)


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _recompute(project: Project, today: date | None) -> None:
    from pacte.evidence.compliance import run_compliance

    run_compliance(_today(today), project=project)


def _lock_for_compliance(project: Project) -> None:
    """Before the use case's own event: lock what `_recompute` will change (lock order)."""
    from pacte.evidence.compliance import lock_for_compliance

    lock_for_compliance(project)


def live_version(project: Project, pact: Pact | None = None) -> PactVersion | None:
    qs = PactVersion.objects.select_related("pact__project__carrier", "pact__institution").filter(
        pact__project=project, status__in=LIVE)
    if pact is not None:
        qs = qs.filter(pact=pact)
    return qs.order_by("-pact__created_at", "-number").first()


def _is_carrier(acting: Acting, project: Project) -> bool:
    return acting.organisation.pk == project.carrier_id and (
        acting.has(Role.CARRIER_MEMBER) or acting.has(Role.CARRIER_ADMIN))


def _is_partner_institution(acting: Acting, project: Project) -> bool:
    return (acting.organisation.is_institution
            and project.pacts.filter(institution=acting.organisation).exists()
            and any(acting.has(r) for r in (Role.REVIEWER, Role.SIGNATORY, Role.DATA_STEWARD, Role.PLATFORM_ADMIN)))


def require_evaluator(acting: Acting, project: Project) -> None:
    """An independent evaluator: role `evaluator`, evaluation body, no tie to the carrier."""
    if not acting.has(Role.EVALUATOR) or acting.organisation.kind != Organisation.Kind.EVALUATOR:
        raise PermissionDenied(
            "Seul un évaluateur indépendant (rôle « évaluateur » d'un organisme d'évaluation) peut faire cela ; "
            "le porteur ne publie pas l'évaluation de son propre service.")
    if acting.organisation.pk == project.carrier_id or is_member(acting.user, project.carrier_id):
        raise PermissionDenied("Vous êtes membre du porteur : vous ne pouvez pas évaluer son service (indépendance).")


def _require_carrier_or_institution(acting: Acting, project: Project) -> None:
    if not (_is_carrier(acting, project) or _is_partner_institution(acting, project)):
        raise PermissionDenied("Seuls le porteur du projet et l'institution partenaire peuvent faire cela.")


def _require_carrier(acting: Acting, project: Project) -> None:
    if not _is_carrier(acting, project):
        raise PermissionDenied("Seuls les membres du porteur du projet peuvent faire cela.")


def _text(value: str, field: str, message: str, minimum: int = 3) -> str:
    value = (value or "").strip()
    if len(value) < minimum:
        raise ValidationFailed(message, field_errors={field: [message]})
    return value


# ================================================================ panels (S2, P2)

@retry_on_conflict
@transaction.atomic
def volunteer(user: User, *, consent: bool, contact_preference: str = "email", contact_value: str = "",
              age_band: str = "", territory: str = "", situation: str = "") -> Volunteer:
    """Join (or update) the pool of testers. Every attribute is optional: the person chooses."""
    if not consent:
        raise ValidationFailed("Votre consentement explicite est nécessaire pour rejoindre le panel.",
                               field_errors={"consent": ["Cochez la case de consentement."]})
    errors: dict[str, list[str]] = {}
    if contact_preference not in Volunteer.Contact.values:
        errors["contact_preference"] = ["Préférence de contact inconnue."]
    if age_band and age_band not in AGE_BANDS:
        errors["age_band"] = ["Tranche d'âge inconnue."]
    if situation and situation not in SITUATIONS:
        errors["situation"] = ["Situation inconnue."]
    if len(territory) > 120:
        errors["territory"] = ["120 caractères au plus."]
    if errors:
        raise ValidationFailed("Certains champs sont invalides.", field_errors=errors)
    v, _ = Volunteer.objects.get_or_create(user=user)
    v.consent_at = timezone.now()
    v.consent_text_version = CONSENT_VERSION
    v.contact_preference = contact_preference
    v.contact_value = contact_value.strip()[:200]
    v.age_band, v.territory, v.situation = age_band, territory.strip(), situation
    v.left_at = None
    v.save()
    return v


@retry_on_conflict
@transaction.atomic
def leave_panel(user: User) -> bool:
    """Leave at any time: every personal field is erased; the anonymous row keeps counts right."""
    v = Volunteer.objects.select_for_update().filter(user=user, left_at__isnull=True).first()
    if v is None:
        return False
    v.user = None
    v.contact_preference = v.contact_value = v.age_band = v.territory = v.situation = ""
    v.consent_at = None
    v.left_at = timezone.now()
    v.save()
    v.seats.update(left=True)
    return True


@retry_on_conflict
@transaction.atomic
def open_panel_call(acting: Acting, project: Project, *, title: str, target_size: int, stratify_by: str = "age_band",
                    targets: dict[str, int] | None = None, shares: dict[str, float] | None = None,
                    description: str = "", pact: Pact | None = None, today: date | None = None) -> PanelCall:
    _require_carrier_or_institution(acting, project)
    title = _text(title, "title", "Donnez un titre à l'appel.")
    if stratify_by not in PANEL_ATTRIBUTES:
        raise ValidationFailed("Critère de stratification inconnu.",
                               field_errors={"stratify_by": [f"Choisir parmi : {', '.join(PANEL_ATTRIBUTES)}."]})
    if target_size <= 0 or target_size > 100_000:
        raise ValidationFailed("La taille visée doit être entre 1 et 100 000.", field_errors={"target_size": ["Taille invalide."]})
    if targets:
        if any(int(v) < 0 for v in targets.values()):
            raise ValidationFailed("Les cibles par strate doivent être positives.")
        targets = {str(k): int(v) for k, v in targets.items()}
        if sum(targets.values()) != target_size:
            raise ValidationFailed(
                f"La somme des cibles par strate ({sum(targets.values())}) doit égaler la taille visée ({target_size}).",
                field_errors={"targets": ["Somme incohérente."]})
    elif shares:
        try:
            targets = asg.proportional_targets(shares, target_size)
        except ValueError as exc:
            raise ValidationFailed("Profil cible invalide : parts positives attendues.") from exc
    else:
        raise ValidationFailed("Indiquez le profil cible (cibles ou parts par strate).", field_errors={"targets": ["Obligatoire."]})
    if pact is None:
        v = live_version(project)
        pact = v.pact if v else None
    seed = asg.new_seed()
    call = PanelCall.objects.create(
        project=project, pact=pact, opened_by=acting.organisation, title=title, description=description.strip(),
        target_size=target_size, stratify_by=stratify_by, targets=targets, seed_commitment=asg.commit_seed(seed),
        seed_hex=seed.hex(), opened_on=_today(today))
    _lock_for_compliance(project)
    _event("panel.opened", actor_of(acting), "panel", call.pk, project, title=title, target_size=target_size,
           stratify_by=stratify_by, targets=targets, seed_commitment=call.seed_commitment,
           algorithm=asg.ASSIGNMENT_ALGORITHM, opened_by=acting.organisation.slug, opened_on=call.opened_on.isoformat())
    _recompute(project, today)
    return call


@retry_on_conflict
@transaction.atomic
def draw_panel(acting: Acting, call: PanelCall) -> PanelCall:
    call = PanelCall.objects.select_for_update(of=("self",)).select_related("project").get(pk=call.pk)
    if acting.organisation.pk != call.opened_by_id:
        raise PermissionDenied("Seule l'organisation qui a ouvert l'appel peut effectuer le tirage.")
    if call.status != PanelCall.State.OPEN:
        raise InvalidTransition("Le tirage de ce panel a déjà eu lieu.")
    pool = list(Volunteer.objects.filter(left_at__isnull=True, user__isnull=False).select_related("user"))
    by_id = {str(v.pk): v for v in pool}
    result = asg.stratified_draw([(str(v.pk), v.attribute(call.stratify_by)) for v in pool], call.targets,
                                 bytes.fromhex(call.seed_hex))
    PanelMember.objects.bulk_create(
        PanelMember(call=call, volunteer=by_id[vid], stratum=stratum)
        for stratum, ids in result.selected_by_stratum.items() for vid in ids)
    call.status = PanelCall.State.DRAWN
    call.drawn_at = timezone.now()
    call.shortfall = result.shortfall
    call.save()
    selected_digest = hashlib.sha256(",".join(sorted(result.selected)).encode()).hexdigest()
    _event("panel.drawn", actor_of(acting), "panel", call.pk, call.project, seed=call.seed_hex,
           seed_commitment=call.seed_commitment, selected=len(result.selected), complete=result.complete,
           selected_sha256=selected_digest)
    recipients = [
        (by_id[vid].contact_value or by_id[vid].user.email)
        for vid in result.selected
        if by_id[vid].contact_preference == Volunteer.Contact.EMAIL and (by_id[vid].contact_value or by_id[vid].user.email)
    ]
    for address in recipients:  # one message each: volunteers never see each other's address
        notify([address], f"Invitation au panel : {call.title}",
               f"Bonjour,\n\nVous avez été tiré au sort pour tester « {call.project.name} ».\n"
               f"{call.description}\n\nVous pouvez quitter le panel à tout moment depuis votre espace volontaire ; "
               "vos données personnelles sont alors effacées.\n", event="panel.invitation")
    return call


def panel_composition(call: PanelCall) -> list[dict[str, Any]]:
    """Target vs drawn (still present) per stratum, small cells grouped or masked."""
    present = getattr(call, "present_strata", None)  # prefetched by the API list (one query per page)
    if present is not None:
        actual = Counter(m.stratum for m in present)
    else:
        actual = Counter(call.members.filter(left=False).values_list("stratum", flat=True))
    strata = sorted(set(call.targets) | set(actual))
    rows: list[dict[str, Any]] = []
    small_target = small_actual = 0
    small: list[str] = []
    for s in strata:
        a = actual.get(s, 0)
        t = int(call.targets.get(s, 0))
        if 0 < a < SUPPRESSION_THRESHOLD:
            small.append(s)
            small_target += t
            small_actual += a
        else:
            rows.append({"stratum": s, "target": t, "actual": a, "masked": False})
    if small:
        label = "Autres strates regroupées (petits effectifs)" if len(small) > 1 else small[0]
        masked = small_actual < SUPPRESSION_THRESHOLD
        rows.append({"stratum": label, "target": small_target, "actual": None if masked else small_actual,
                     "masked": masked})
    return rows


# ================================================================ feedback loop

@retry_on_conflict
@transaction.atomic
def ask_question(acting: Acting, project: Project, text: str, *, scale_max: int = 0,
                 version: PactVersion | None = None) -> Question:
    _require_carrier(acting, project)
    text = _text(text, "text", "Écrivez la question.", 5)
    if not 0 <= scale_max <= 10:
        raise ValidationFailed("L'échelle de notation va de 0 (réponse libre) à 10.")
    q = Question.objects.create(project=project, version=version or live_version(project), text=text,
                                scale_max=scale_max)
    _event("feedback.question_added", actor_of(acting), "project", project.slug, project, question=q.pk, text=text)
    return q


@retry_on_conflict
@transaction.atomic
def give_feedback(user: User, project: Project, *, body: str = "", rating: int | None = None,
                  question: Question | None = None) -> Feedback:
    body = (body or "").strip()
    if question is not None and question.project_id != project.pk:
        raise ValidationFailed("Cette question ne concerne pas ce projet.")
    if rating is not None:
        if question is None or not question.scale_max or not 1 <= rating <= question.scale_max:
            raise ValidationFailed("Note hors de l'échelle de la question.", field_errors={"rating": ["Note invalide."]})
    if not body and rating is None:
        raise ValidationFailed("Écrivez un commentaire ou donnez une note.", field_errors={"body": ["Vide."]})
    if len(body) > 4000:
        raise ValidationFailed("4 000 caractères au plus.", field_errors={"body": ["Trop long."]})
    f = Feedback.objects.create(project=project, version=live_version(project), question=question, author=user,
                                body=body, rating=rating)
    _event("feedback.received", SYSTEM, "project", project.slug, project, feedback=f.pk,
           question=question.pk if question else None)
    return f


@retry_on_conflict
@transaction.atomic
def reply_feedback(acting: Acting, feedback: Feedback, reply: str) -> Feedback:
    feedback = Feedback.objects.select_for_update(of=("self",)).select_related("project").get(pk=feedback.pk)
    _require_carrier(acting, feedback.project)
    feedback.reply = _text(reply, "reply", "Écrivez la réponse publique.", 5)
    feedback.replied_at = timezone.now()
    feedback.save()
    _event("feedback.answered", actor_of(acting), "project", feedback.project.slug, feedback.project,
           feedback=feedback.pk, reply=feedback.reply)
    return feedback


@retry_on_conflict
@transaction.atomic
def hide_feedback(acting: Acting, feedback: Feedback, reason: str) -> Feedback:
    feedback = Feedback.objects.select_for_update(of=("self",)).select_related("project").get(pk=feedback.pk)
    _require_carrier_or_institution(acting, feedback.project)
    reason = require_reason(reason)
    if feedback.hidden:
        raise InvalidTransition("Ce commentaire est déjà masqué.")
    feedback.hidden, feedback.hidden_reason = True, reason
    feedback.save()
    _event("feedback.hidden", actor_of(acting), "project", feedback.project.slug, feedback.project,
           feedback=feedback.pk, reason=reason)
    return feedback


# ================================================================ experiments

def _design_fields(*, baseline_rate: float, mde_points: float, power: float, alpha: float,
                   ratio: list[int]) -> int:
    try:
        size = impact.required_sample_size(baseline_rate, mde_points / 100, alpha=alpha, power=power,
                                           ratio=ratio[1] / ratio[0])
    except ValueError as exc:
        raise ValidationFailed(
            "Paramètres de puissance invalides : le taux de base doit être entre 0 et 1, l'effet minimal détectable "
            "non nul et compatible avec ce taux, la puissance et le seuil entre 0 et 1.") from exc
    return max(size.n_treatment, size.n_control)


@retry_on_conflict
@transaction.atomic
def design_experiment(acting: Acting, project: Project, *, hypothesis: str, outcome: str, baseline_rate: float,
                      mde_points: float, power: float = 0.8, alpha: float = 0.05, design: str = "individual",
                      window_months: int = 6, unit: str = "personne", estimand: str = "intention de traiter (ITT)",
                      arms: list[str] | None = None, ratio: list[int] | None = None, slug: str = "") -> Experiment:
    if not (_is_carrier(acting, project) or acting.has(Role.EVALUATOR)):
        raise PermissionDenied("Seuls le porteur et l'évaluateur indépendant conçoivent une expérimentation.")
    hypothesis = _text(hypothesis, "hypothesis", "Énoncez l'hypothèse testée.", 10)
    outcome = _text(outcome, "outcome", "Indiquez le résultat social principal.")
    try:
        impact.ensure_social_outcome(outcome)
    except impact.AudienceMetricRefused as exc:
        raise ValidationFailed(str(exc), field_errors={"outcome": ["Mesure d'audience refusée comme résultat principal."]}) from exc
    if design not in Experiment.Design.values:
        raise ValidationFailed("Design inconnu : randomisation individuelle ou design d'encouragement.")
    if not 1 <= window_months <= 60:
        raise ValidationFailed("La fenêtre d'observation va de 1 à 60 mois.")
    arms = arms or ["control", "treatment"]
    ratio = ratio or [1] * len(arms)
    if len(arms) != 2 or len(set(arms)) != 2 or len(ratio) != 2 or min(ratio) < 1:
        raise ValidationFailed("Deux bras distincts avec un ratio entier positif sont attendus (témoin, traitement).")
    required = _design_fields(baseline_rate=baseline_rate, mde_points=mde_points, power=power, alpha=alpha, ratio=ratio)
    v = live_version(project)
    base = slugify(slug) or f"{project.slug}-exp"
    candidate, n = base, 1
    while Experiment.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    exp = Experiment.objects.create(
        slug=candidate, project=project, pact=v.pact if v else None, created_by=acting.organisation,
        hypothesis=hypothesis, outcome=outcome, estimand=estimand.strip() or "intention de traiter (ITT)",
        unit=unit.strip() or "personne", design=design, window_months=window_months, baseline_rate=baseline_rate,
        mde_points=mde_points, power=power, alpha=alpha, arms=arms, ratio=ratio, required_per_arm=required)
    _event("experiment.designed", actor_of(acting), "experiment", exp.slug, project, required_per_arm=required,
           outcome=outcome, design=design)
    return exp


def analysis_plan(exp: Experiment) -> dict[str, Any]:
    return {
        "experiment": exp.slug, "project": exp.project.slug, "hypothesis": exp.hypothesis, "outcome": exp.outcome,
        "estimand": exp.estimand, "unit": exp.unit, "design": exp.design, "window_months": exp.window_months,
        "baseline_rate": exp.baseline_rate, "mde_points": exp.mde_points, "power": exp.power, "alpha": exp.alpha,
        "arms": exp.arms, "ratio": exp.ratio, "required_per_arm": exp.required_per_arm,
        "analysis": ("Différence de proportions, intervalle de Newcombe à 95 %, test du score ; rapport de risques ; "
                     "analyse en intention de traiter, sans covariable."),
        "assignment_algorithm": asg.ASSIGNMENT_ALGORITHM,
    }


def _can_run(acting: Acting, exp: Experiment) -> None:
    if acting.organisation.pk != exp.created_by_id:
        raise PermissionDenied("Seule l'organisation qui a conçu l'expérimentation peut la conduire.")


@retry_on_conflict
@transaction.atomic
def preregister(acting: Acting, exp: Experiment) -> Experiment:
    """Log the analysis plan's hash and a commitment to the secret seed — before any assignment."""
    exp = Experiment.objects.select_for_update(of=("self",)).select_related("project").get(pk=exp.pk)
    _can_run(acting, exp)
    if exp.status != Experiment.State.DRAFT:
        raise InvalidTransition("Cette expérimentation est déjà pré-enregistrée.")
    seed = asg.new_seed()
    exp.plan = analysis_plan(exp)
    exp.plan_hash = asg.analysis_plan_hash(exp.plan)
    exp.seed_commitment = asg.commit_seed(seed)
    exp.seed_hex = seed.hex()
    exp.status = Experiment.State.PREREGISTERED
    exp.preregistered_at = timezone.now()
    exp.save()
    _event("experiment.preregistered", actor_of(acting), "experiment", exp.slug, exp.project, plan=exp.plan,
           plan_hash=exp.plan_hash, seed_commitment=exp.seed_commitment)
    return exp


_RANGE_RE = re.compile(r"^(.*?)(\d+)$")


def compact_units(ids: list[str]) -> dict[str, Any]:
    """Log form of the unit ids: a consecutive zero-padded range when it is one, else the list."""
    if len(ids) > 2:
        m = _RANGE_RE.match(ids[0])
        if m:
            prefix, first = m.group(1), m.group(2)
            width, start = len(first), int(first)
            if all(u == f"{prefix}{start + i:0{width}d}" for i, u in enumerate(ids)):
                return {"range": {"prefix": prefix, "start": start, "count": len(ids), "width": width}}
    return {"list": ids}


def expand_units(spec: dict[str, Any]) -> list[str]:
    if "range" in spec:
        r = spec["range"]
        return [f"{r['prefix']}{r['start'] + i:0{r['width']}d}" for i in range(r["count"])]
    return [str(u) for u in spec["list"]]


def allocation_digest(allocation: dict[str, str]) -> str:
    return canonical.sha256_hex(allocation)


@retry_on_conflict
@transaction.atomic
def assign_units(acting: Acting, exp: Experiment, unit_ids: list[str],
                 strata: dict[str, str] | None = None) -> dict[str, str]:
    """Allocate pseudonymous units to arms; the log gets everything needed to replay it."""
    exp = Experiment.objects.select_for_update(of=("self",)).select_related("project").get(pk=exp.pk)
    _can_run(acting, exp)
    if exp.status == Experiment.State.DRAFT:
        raise InvalidTransition("Pré-enregistrez le plan d'analyse avant toute affectation.")
    if exp.status != Experiment.State.PREREGISTERED:
        raise InvalidTransition("L'affectation a déjà été faite.")
    ids = [str(u).strip() for u in unit_ids]
    if not ids or any(not u or len(u) > 80 for u in ids):
        raise ValidationFailed("Identifiants d'unités vides ou trop longs (80 caractères au plus).")
    if len(set(ids)) != len(ids):
        raise ValidationFailed("Chaque unité doit apparaître une seule fois.")
    try:
        allocation = asg.assign(ids, bytes.fromhex(exp.seed_hex), arms=exp.arms, ratio=exp.ratio, strata=strata)
    except ValueError as exc:
        raise ValidationFailed(f"Affectation impossible : {exc}.") from exc
    Assignment.objects.bulk_create(
        (Assignment(experiment=exp, unit_id=u, arm=allocation[u], stratum=(strata or {}).get(u, "")) for u in ids),
        batch_size=5000)
    exp.allocation_sha256 = allocation_digest(allocation)
    exp.status = Experiment.State.ASSIGNED
    exp.assigned_at = timezone.now()
    exp.save()
    counts = Counter(allocation.values())
    _event("experiment.assigned", actor_of(acting), "experiment", exp.slug, exp.project,
           units=compact_units(ids), strata=strata or None, arms=exp.arms, ratio=exp.ratio,
           counts=dict(sorted(counts.items())), allocation_sha256=exp.allocation_sha256,
           seed=exp.seed_hex, seed_commitment=exp.seed_commitment)
    slug = exp.slug
    transaction.on_commit(lambda: _enqueue_replay(slug))
    return allocation


def _enqueue_replay(slug: str) -> None:
    """Ask the worker to replay the assignment once (the public API then serves its result)."""
    from pacte.evidence.tasks import store_replay_task

    store_replay_task.enqueue(slug)


@dataclass
class ReplayReport:
    experiment: str
    ok: bool
    checks: list[tuple[str, bool]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def replay_from_log(slug: str) -> ReplayReport:
    """Recompute an experiment's allocation from its public log entries alone."""
    import json

    from pacte.journal.models import Event

    entries = [json.loads(e.entry) for e in
               Event.objects.filter(subject_type="experiment", subject_id=slug).order_by("index")]
    if not entries:
        raise NotFound(f"Aucune entrée du journal pour l'expérimentation « {slug} ».")
    report = ReplayReport(experiment=slug, ok=False)
    pre = next((e for e in entries if e["type"] == "experiment.preregistered"), None)
    done = next((e for e in entries if e["type"] == "experiment.assigned"), None)
    report.checks.append(("plan d'analyse pré-enregistré", pre is not None))
    report.checks.append(("affectation inscrite au journal", done is not None))
    if pre is None or done is None:
        return report
    order_ok = entries.index(pre) < entries.index(done)
    report.checks.append(("pré-enregistrement antérieur à l'affectation", order_ok))
    plan_ok = asg.analysis_plan_hash(pre["data"]["plan"]) == pre["data"]["plan_hash"]
    report.checks.append(("empreinte du plan d'analyse", plan_ok))
    seed = bytes.fromhex(done["data"]["seed"])
    seed_ok = asg.verify_seed(seed, pre["data"]["seed_commitment"])
    report.checks.append(("graine conforme à l'engagement pré-enregistré", seed_ok))
    if not seed_ok:
        return report
    ids = expand_units(done["data"]["units"])
    redone = asg.assign(ids, seed, arms=done["data"]["arms"], ratio=done["data"]["ratio"],
                        strata=done["data"].get("strata"))
    digest_ok = allocation_digest(redone) == done["data"]["allocation_sha256"]
    report.checks.append(("affectation recalculée identique à celle publiée", digest_ok))
    exp = Experiment.objects.filter(slug=slug).first()
    if exp is not None:
        stored = dict(exp.assignments.values_list("unit_id", "arm"))
        report.checks.append(("affectation enregistrée identique au recalcul", stored == redone))
    report.counts = dict(sorted(Counter(redone.values()).items()))
    report.ok = all(ok for _, ok in report.checks)
    return report


# ================================================================ impact evaluations (C4)

ARM_ALIASES = {"treatment": "treatment", "traitement": "treatment", "traite": "treatment", "traité": "treatment",
               "t": "treatment", "1": "treatment", "control": "control", "controle": "control",
               "contrôle": "control", "temoin": "control", "témoin": "control", "c": "control", "0": "control"}
PERIOD_ALIASES = {"pre": 0, "avant": 0, "0": 0, "post": 1, "apres": 1, "après": 1, "1": 1}


@dataclass
class OutcomeTable:
    unit_ids: list[str]
    arms: list[str]  # "treatment" | "control"
    outcomes: list[float]
    periods: list[int] | None
    sha256: str

    @property
    def binary(self) -> bool:
        return all(o in (0.0, 1.0) for o in self.outcomes)


def _read_csv(data: bytes, required: tuple[str, ...], optional: tuple[str, ...]) -> tuple[list[str], list[list[str]]]:
    if not data:
        raise ValidationFailed("Le fichier est vide.", field_errors={"fichier": ["Fichier vide."]})
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed("Le fichier dépasse 200 Mo.", field_errors={"fichier": ["Fichier trop gros."]})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed("Le fichier doit être un CSV encodé en UTF-8.",
                               field_errors={"fichier": ["Encodage non UTF-8."]}) from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required + optional]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("colonne(s) manquante(s) : " + ", ".join(missing))
        if unknown:
            parts.append("colonne(s) inconnue(s) : " + ", ".join(unknown))
        expected = ", ".join(required) + (f" [, {', '.join(optional)}]" if optional else "")
        raise ValidationFailed(f"En-tête invalide ({' ; '.join(parts)}). Colonnes attendues : {expected}.",
                               field_errors={"fichier": ["En-tête invalide."]})
    return header, list(reader)


def _fail(errors: list[str], total: int) -> None:
    more = f" (et {total - len(errors)} autre(s))" if total > len(errors) else ""
    raise ValidationFailed(f"Le fichier contient {total} erreur(s){more} ; rien n'a été enregistré.",
                           field_errors={"fichier": errors})


def parse_outcomes_csv(data: bytes) -> OutcomeTable:
    """CSV `unit_id,arm,outcome[,period]`; every problem reported with its line, nothing kept on error."""
    header, rows = _read_csv(data, ("unit_id", "arm", "outcome"), ("period",))
    idx = {h: i for i, h in enumerate(header)}
    has_period = "period" in idx
    errors: list[str] = []
    n_errors = 0
    ids: list[str] = []
    arms: list[str] = []
    outcomes: list[float] = []
    periods: list[int] = []
    seen: set[tuple[str, int]] = set()

    def err(line: int, message: str) -> None:
        nonlocal n_errors
        n_errors += 1
        if len(errors) < MAX_REPORTED_ERRORS:
            errors.append(f"Ligne {line} : {message}")

    for n, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            err(n, f"{len(row)} valeur(s) au lieu de {len(header)}.")
            continue
        unit = row[idx["unit_id"]].strip()
        arm = ARM_ALIASES.get(row[idx["arm"]].strip().lower())
        raw = row[idx["outcome"]].strip().replace(",", ".")
        if not unit:
            err(n, "identifiant d'unité vide.")
            continue
        if arm is None:
            err(n, f"bras « {row[idx['arm']].strip()} » inconnu (attendu : treatment ou control).")
            continue
        try:
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            err(n, f"résultat « {raw} » n'est pas un nombre.")
            continue
        period = 0
        if has_period:
            p = PERIOD_ALIASES.get(row[idx["period"]].strip().lower())
            if p is None:
                err(n, f"période « {row[idx['period']].strip()} » inconnue (attendu : pre ou post).")
                continue
            period = p
        if (unit, period) in seen:
            err(n, f"unité « {unit} » en double" + (" pour cette période." if has_period else "."))
            continue
        seen.add((unit, period))
        ids.append(unit)
        arms.append(arm)
        outcomes.append(value)
        periods.append(period)
    if n_errors:
        _fail(errors, n_errors)
    if not ids:
        raise ValidationFailed("Le fichier ne contient aucune ligne de données.", field_errors={"fichier": ["Aucune donnée."]})
    for a, label in (("treatment", "traitement"), ("control", "témoin")):
        if a not in arms:
            raise ValidationFailed(f"Aucune unité dans le bras {label}.", field_errors={"fichier": [f"Bras {label} vide."]})
    return OutcomeTable(ids, arms, outcomes, periods if has_period else None, hashlib.sha256(data).hexdigest())


def _check_against_assignment(table: OutcomeTable, exp: Experiment) -> None:
    exp = Experiment.objects.get(pk=exp.pk)
    if exp.status != Experiment.State.ASSIGNED:
        raise ValidationFailed("L'expérimentation liée n'a pas encore d'affectation publiée.")
    assigned = dict(exp.assignments.values_list("unit_id", "arm"))
    arm_name = {"treatment": exp.arms[1], "control": exp.arms[0]}
    errors: list[str] = []
    total = 0
    for unit, arm in zip(table.unit_ids, table.arms, strict=True):
        expected = assigned.get(unit)
        if expected is None or expected != arm_name[arm]:
            total += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(f"Unité « {unit} » : " + ("absente de l'affectation publiée." if expected is None else
                              f"bras « {arm} » différent du bras affecté ({expected}) — analyse en intention de traiter."))
    if total:
        _fail(errors, total)


def _power(n_t: int, n_c: int, p_control: float, mde_points: float | None) -> float | None:
    if not mde_points:
        return None
    try:
        return impact.power_for(n_t, n_c, p_control, mde_points / 100)
    except ValueError:
        return None


@dataclass
class Computed:
    method: str
    est: impact.Estimate
    details: dict[str, Any]
    successes: tuple[int, int] | None = None
    power: float | None = None


def compute_from_counts(s_t: int, n_t: int, s_c: int, n_c: int, *, estimand: str,
                        mde_points: float | None) -> Computed:
    try:
        est = impact.difference_in_proportions(s_t, n_t, s_c, n_c, estimand=estimand)
    except ValueError as exc:
        raise ValidationFailed("Effectifs invalides : chaque bras doit compter au moins une unité, et les succès "
                               "être compris entre 0 et l'effectif du bras.") from exc
    details: dict[str, Any] = {"method_text": est.method, "rate_treatment": s_t / n_t, "rate_control": s_c / n_c}
    if s_c > 0:
        rr = impact.risk_ratio(s_t, n_t, s_c, n_c, estimand=estimand)
        details["risk_ratio"] = {"estimate": rr.estimate, "ci_low": rr.ci_low, "ci_high": rr.ci_high,
                                 "p_value": rr.p_value, "sentence": rr.sentence_fr()}
    return Computed(Evaluation.Method.PROPORTIONS, est, details, (s_t, s_c), _power(n_t, n_c, s_c / n_c, mde_points))


def compute_from_table(table: OutcomeTable, *, estimand: str, mde_points: float | None) -> Computed:
    import numpy as np

    y = np.asarray(table.outcomes, dtype=float)
    treated = np.asarray([a == "treatment" for a in table.arms])
    if table.periods is not None:
        post = np.asarray(table.periods, dtype=float)
        binary = table.binary
        try:
            est = impact.difference_in_differences(y, treated.astype(float), post, cluster=np.asarray(table.unit_ids),
                                                   unit="points" if binary else "", scale=100.0 if binary else 1.0)
        except ValueError as exc:
            raise ValidationFailed("Différence de différences impossible : il faut des observations avant et après, "
                                   "dans la cohorte traitée et dans la cohorte de comparaison.") from exc
        return Computed(Evaluation.Method.DID, est, {"method_text": est.method})
    if table.binary:
        s_t, n_t = int(y[treated].sum()), int(treated.sum())
        s_c, n_c = int(y[~treated].sum()), int((~treated).sum())
        return compute_from_counts(s_t, n_t, s_c, n_c, estimand=estimand, mde_points=mde_points)
    try:
        est = impact.welch_difference_in_means(y[treated], y[~treated], estimand=estimand)
    except ValueError as exc:
        raise ValidationFailed("Il faut au moins deux valeurs par bras pour une différence de moyennes.") from exc
    return Computed(Evaluation.Method.MEANS, est, {"method_text": est.method, "mean_treatment": float(y[treated].mean()),
                                                    "mean_control": float(y[~treated].mean())})


@dataclass
class _EvaluationFrame:
    """What every evaluation path checks the same way before computing: who, what, window, estimand."""

    version: PactVersion | None
    title: str
    outcome: str
    window_months: int
    estimand: str
    mde_points: float | None


def _evaluation_frame(acting: Acting, project: Project, *, title: str, outcome: str, window_months: int | None,
                      experiment: Experiment | None, estimand: str, mde_points: float | None) -> _EvaluationFrame:
    """Shared by the aggregate, upload and gateway paths. ``window_months=None`` with an experiment takes
    the pre-registered window (the upload path always does)."""
    require_evaluator(acting, project)
    title = _text(title, "title", "Donnez un titre à l'évaluation.")
    if experiment is not None and experiment.project_id != project.pk:
        raise ValidationFailed("Cette expérimentation ne concerne pas ce projet.")
    v = live_version(project)
    plan = parse_content(v.content).impact_plan if v else None
    outcome = (outcome or (experiment.outcome if experiment else "") or (plan.outcome if plan else "")).strip()
    _text(outcome, "outcome", "Indiquez le résultat social mesuré.")
    try:
        impact.ensure_social_outcome(outcome)
    except impact.AudienceMetricRefused as exc:
        raise ValidationFailed(str(exc), field_errors={"outcome": ["Mesure d'audience refusée."]}) from exc
    if experiment is not None:
        window_months = window_months or experiment.window_months
        estimand = estimand or experiment.estimand
        mde_points = mde_points or experiment.mde_points
    window_months = 6 if window_months is None else window_months
    estimand = estimand.strip() or "intention de traiter (ITT)"
    if mde_points is None and plan is not None:
        mde_points = plan.mde_points
    if not 1 <= window_months <= 60:
        raise ValidationFailed("La fenêtre d'observation va de 1 à 60 mois.")
    return _EvaluationFrame(v, title, outcome, window_months, estimand, mde_points)


def _store_evaluation(acting: Acting, project: Project, frame: _EvaluationFrame, experiment: Experiment | None,
                      computed: Computed, *, source: str, data_sha: str = "",
                      extra_details: dict[str, Any] | None = None) -> Evaluation:
    est = computed.est
    v = frame.version
    return Evaluation.objects.create(
        project=project, pact=v.pact if v else (experiment.pact if experiment else None), experiment=experiment,
        evaluator=acting.organisation, title=frame.title, outcome=frame.outcome, window=f"{frame.window_months} mois",
        estimand=frame.estimand, method=computed.method, source=source, data_sha256=data_sha,
        n_treatment=est.n_treatment, n_control=est.n_control,
        successes_treatment=computed.successes[0] if computed.successes else None,
        successes_control=computed.successes[1] if computed.successes else None, estimate=est.estimate,
        ci_low=est.ci_low, ci_high=est.ci_high, p_value=est.p_value, scale=est.scale, unit=est.unit,
        conclusive=est.conclusive, sentence=est.sentence_fr(), power=computed.power, mde_points=frame.mde_points,
        details=computed.details | (extra_details or {}))


@retry_on_conflict
@transaction.atomic
def create_evaluation(acting: Acting, project: Project, *, title: str, outcome: str = "", window_months: int = 6,
                      counts: dict[str, int] | None = None, csv_data: bytes | None = None,
                      experiment: Experiment | None = None, estimand: str = "",
                      mde_points: float | None = None) -> Evaluation:
    """The independent evaluator records outcomes (aggregate counts or a CSV file); a draft is computed."""
    frame = _evaluation_frame(acting, project, title=title, outcome=outcome,
                              window_months=None if experiment is not None else window_months,
                              experiment=experiment, estimand=estimand, mde_points=mde_points)
    if (counts is None) == (csv_data is None):
        raise ValidationFailed("Donnez soit les effectifs agrégés, soit un fichier CSV de résultats.")
    data_sha = ""
    if counts is not None:
        try:
            s_t, n_t = int(counts["successes_treatment"]), int(counts["n_treatment"])
            s_c, n_c = int(counts["successes_control"]), int(counts["n_control"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationFailed("Effectifs attendus : n_treatment, successes_treatment, n_control, successes_control.") from exc
        computed = compute_from_counts(s_t, n_t, s_c, n_c, estimand=frame.estimand, mde_points=frame.mde_points)
        source = "aggregate"
    else:
        table = parse_outcomes_csv(csv_data or b"")
        if experiment is not None:
            _check_against_assignment(table, experiment)
        computed = compute_from_table(table, estimand=frame.estimand, mde_points=frame.mde_points)
        data_sha, source = table.sha256, "upload"
    return _store_evaluation(acting, project, frame, experiment, computed, source=source, data_sha=data_sha)


# ---------------------------------------------------------------- outcomes from the data gateway

GATEWAY_MIN_MATCHED_PER_ARM = 11  # the tier-2 k: never publish an arm computed on fewer people


def _gateway_grant(grant: Any, exp: Experiment) -> None:
    """An ACTIVE (or renewal-due, still usable) tier-2 grant of the experiment's own project."""
    from pacte.data.services import GrantForbidden, check_usable

    if grant.project_id != exp.project_id:
        raise PermissionDenied(f"L'accès {grant.reference} a été accordé à un autre projet : il ne peut pas "
                               "servir à évaluer cette expérimentation (limitation de finalité).")
    try:
        check_usable(grant)
    except GrantForbidden:
        raise
    except DomainError as exc:  # expired: a 401 makes no sense for a signed-in evaluator
        raise GrantForbidden(exc.message) from exc
    if grant.tier != 2:
        raise ValidationFailed(
            f"L'accès {grant.reference} est de niveau {grant.tier} ; la jointure pseudonyme des résultats "
            "demande un accès de niveau 2 (extrait pseudonymisé).", field_errors={"grant": ["Niveau 2 requis."]})


def _gateway_columns(grant: Any, outcome_column: str) -> tuple[str, dict[str, Any]]:
    dv = grant.dataset_version
    person = dv.person_column
    col = dv.column(outcome_column) if outcome_column else None
    if col is None:
        raise ValidationFailed(
            f"Colonne de résultat « {outcome_column} » inconnue dans « {dv} ». Colonnes : "
            + ", ".join(c["name"] for c in dv.columns) + ".", field_errors={"outcome_column": ["Colonne inconnue."]})
    if outcome_column not in grant.columns:
        raise ValidationFailed(f"La colonne « {outcome_column} » n'est pas couverte par l'accès {grant.reference}.",
                               field_errors={"outcome_column": ["Colonne non couverte par l'accès."]})
    if col["type"] not in ("int", "float", "bool") or col["classification"] == "direct_identifier":
        raise ValidationFailed(f"La colonne « {outcome_column} » n'est pas un résultat numérique.",
                               field_errors={"outcome_column": ["Résultat numérique attendu."]})
    try:
        impact.ensure_social_outcome(outcome_column.replace("_", " "))
    except impact.AudienceMetricRefused as exc:
        raise ValidationFailed(str(exc), field_errors={"outcome_column": ["Mesure d'audience refusée."]}) from exc
    if not person or person == outcome_column:
        raise ValidationFailed(f"« {dv} » ne déclare pas de colonne personne : pas de jointure pseudonyme possible.")
    if person not in grant.columns:
        raise ValidationFailed(f"L'accès {grant.reference} ne couvre pas la colonne personne « {person} » : "
                               "la jointure pseudonyme est impossible.", field_errors={"grant": ["Sans clé de jointure."]})
    return person, col


def _gateway_read(grant: Any, person: str, col: dict[str, Any]) -> tuple[Any, str, dict[str, Any]]:
    """(pseudonym, outcome) rows of the grant's dataset, never leaving the platform.

    Normally the grant's own tier-2 view (`data.services.tier2_view`), restricted to the join key and
    the outcome: with no quasi-identifier among the columns read, k-anonymity has nothing to generalise
    and suppresses nothing (unless the whole dataset has fewer than k rows), and the key is an HMAC
    pseudonym under the grant's key. When the outcome is itself classified quasi-identifier, that view
    would generalise it (e.g. 0/1 → '*'), so the same pseudonymisation engine is run inside the
    platform on the dataset directly, with the outcome kept exact: the evaluator never sees rows,
    only the published aggregate; the event says which mode was used.
    """
    import polars as pl

    from pacte.data.services import tier2_view
    from pacte.engines import pseudonymise

    dv = grant.dataset_version
    if col["classification"] == "quasi_identifier":
        mode = "in_platform"
        result = pseudonymise.pseudonymised_extract(
            list(dv.paths), pseudonymise.ExtractSpec(pseudonymised=[person], kept=[col["name"]]),
            bytes(grant.pseudonym_key), k=1)
    else:
        mode = "tier2_view"
        result = tier2_view(grant, [person, col["name"]])
    frame = result.frame.select(pl.col(person).alias("pseudonym"),
                                pl.col(col["name"]).cast(pl.Float64).alias("y")).collect()
    r = result.report
    return frame, mode, {"k": r.k, "rows_in": r.rows_in, "rows_out": r.rows_out, "rows_suppressed": r.rows_suppressed,
                         "levels": r.levels}


@dataclass
class GatewayJoin:
    table: OutcomeTable
    counts: dict[str, Any]


def _join_assignment(exp: Experiment, key: bytes, view: Any) -> GatewayJoin:
    """Join the published assignment to the view. Units are matched as person ids (pseudonymised with
    the grant's key) or, when the assignment already holds pseudonyms under that key, as they are."""
    import polars as pl

    from pacte.engines.pseudonymise import pseudonym

    rows = list(exp.assignments.order_by("unit_id").values_list("unit_id", "arm"))
    arm_of = {exp.arms[1]: "treatment", exp.arms[0]: "control"}
    units = pl.DataFrame({"unit_id": [u for u, _ in rows], "arm": [arm_of.get(a, "") for _, a in rows]},
                         schema={"unit_id": pl.Utf8, "arm": pl.Utf8})
    units = units.with_columns(pl.Series("hashed", [pseudonym(key, u) for u, _ in rows], dtype=pl.Utf8))
    v = view.with_columns(pl.lit(True).alias("found"))
    j = (units.join(v.rename({"y": "y_h", "found": "f_h"}), left_on="hashed", right_on="pseudonym", how="left")
         .join(v.rename({"y": "y_d", "found": "f_d"}), left_on="unit_id", right_on="pseudonym", how="left"))
    if j.height != units.height:  # a pseudonym present on several rows multiplied a unit
        raise ValidationFailed("Le jeu de données compte plusieurs lignes pour une même personne de l'expérimentation : "
                               "le résultat n'est pas défini sans règle d'agrégation pré-enregistrée.")
    j = j.with_columns(
        pl.when(pl.col("f_h")).then(pl.lit("person_id")).when(pl.col("f_d")).then(pl.lit("pseudonym"))
        .otherwise(pl.lit(None)).alias("via"),
        pl.when(pl.col("f_h")).then(pl.col("y_h")).otherwise(pl.col("y_d")).alias("y"))
    matched = j.filter(pl.col("via").is_not_null() & pl.col("y").is_not_null())
    by_arm: dict[str, dict[str, int]] = {}
    for arm in ("treatment", "control"):
        a = j.filter(pl.col("arm") == arm)
        m = int(matched.filter(pl.col("arm") == arm).height)
        missing = int(a.filter(pl.col("via").is_not_null() & pl.col("y").is_null()).height)
        by_arm[arm] = {"assigned": a.height, "matched": m, "unmatched": a.height - m - missing,
                       "missing_outcome": missing}
    counts = {
        "assigned": units.height, "matched": matched.height,
        "unmatched": sum(b["unmatched"] for b in by_arm.values()),
        "missing_outcome": sum(b["missing_outcome"] for b in by_arm.values()),
        "by_arm": by_arm,
        "matched_via": {k: int(matched.filter(pl.col("via") == k).height) for k in ("person_id", "pseudonym")},
    }
    ids, arms, ys = matched["unit_id"].to_list(), matched["arm"].to_list(), matched["y"].to_list()
    # the hash is the one of the CSV the evaluator would have uploaded for the same units
    csv_text = "unit_id,arm,outcome\n" + "".join(f"{u},{a},{y:g}\n" for u, a, y in zip(ids, arms, ys, strict=True))
    table = OutcomeTable(ids, arms, ys, None, hashlib.sha256(csv_text.encode()).hexdigest())
    return GatewayJoin(table, counts)


@retry_on_conflict
@transaction.atomic
def evaluate_from_gateway(acting: Acting, experiment: Experiment, grant: Any, outcome_column: str, *,
                          title: str = "", outcome: str = "", window_months: int | None = None,
                          estimand: str = "", mde_points: float | None = None, publish: bool = True,
                          today: date | None = None) -> Evaluation:
    """Outcomes loaded from the data gateway, linked to the published assignment through pseudonyms.

    Same rules as the upload path (independent evaluator, audience outcomes refused, published
    results final) and the same computation (`compute_from_table`). Reads only the join key and the
    outcome of a usable tier-2 grant of the experiment's project (see `_gateway_read`), logs a
    `data.query` event and — by default — publishes, all in this one transaction.
    """
    exp = Experiment.objects.select_related("project").get(pk=experiment.pk)
    project = exp.project
    frame = _evaluation_frame(acting, project, title=title or f"Évaluation de {exp.slug} (passerelle de données)",
                              outcome=outcome, window_months=window_months, experiment=exp, estimand=estimand,
                              mde_points=mde_points)
    if exp.status != Experiment.State.ASSIGNED:
        raise ValidationFailed("L'expérimentation n'a pas encore d'affectation publiée.")
    _gateway_grant(grant, exp)
    person, col = _gateway_columns(grant, outcome_column)
    view, mode, report = _gateway_read(grant, person, col)
    joined = _join_assignment(exp, bytes(grant.pseudonym_key), view)
    c = joined.counts
    for arm, label in (("treatment", "traitement"), ("control", "témoin")):
        if c["by_arm"][arm]["matched"] < GATEWAY_MIN_MATCHED_PER_ARM:
            b = c["by_arm"][arm]
            raise ValidationFailed(
                f"Trop peu d'unités du bras {label} retrouvées dans « {grant.dataset_version} » : {b['matched']} "
                f"appariée(s) sur {b['assigned']} ({b['unmatched']} non appariée(s), {b['missing_outcome']} sans "
                f"résultat) ; il en faut au moins {GATEWAY_MIN_MATCHED_PER_ARM} par bras. Au total : "
                f"{c['matched']} appariée(s), {c['unmatched']} non appariée(s).",
                field_errors={"grant": ["Trop peu d'unités appariées."]})
    computed = compute_from_table(joined.table, estimand=frame.estimand, mde_points=frame.mde_points)
    dv = grant.dataset_version
    fingerprint = canonical.sha256_hex({
        "tier": 2, "dataset": str(dv), "columns": [person, col["name"]], "mode": mode, "experiment": exp.slug,
        "allocation_sha256": exp.allocation_sha256})
    gateway = {"grant": grant.reference, "dataset": str(dv), "tier": 2, "outcome_column": col["name"], "mode": mode,
               "fingerprint": fingerprint, "rows_read": report["rows_in"], "k_report": report, **c}
    if window_months and window_months != exp.window_months:
        gateway["preregistered_window_months"] = exp.window_months
    evaluation = _store_evaluation(acting, project, frame, exp, computed, source="gateway",
                                   data_sha=joined.table.sha256, extra_details={"gateway": gateway})
    _event("data.query", actor_of(acting), "grant", grant.reference, grant.project, tier=2, dataset=dv.dataset.slug,
           version=dv.version, fingerprint=fingerprint, rows_read=report["rows_in"], rho_spent=0.0,
           output_sha256=joined.table.sha256, outcome="served", purpose="impact_evaluation", mode=mode,
           experiment=exp.slug, evaluation=evaluation.pk, columns=[person, col["name"]], matched=c["matched"],
           unmatched=c["unmatched"], missing_outcome=c["missing_outcome"])
    if publish:
        evaluation = publish_evaluation(acting, evaluation, today)
    return evaluation


def _own_evaluation(acting: Acting, evaluation: Evaluation) -> Evaluation:
    evaluation = Evaluation.objects.select_for_update(of=("self",)).select_related("project").get(pk=evaluation.pk)
    require_evaluator(acting, evaluation.project)
    if evaluation.evaluator_id != acting.organisation.pk:
        raise PermissionDenied("Seul l'évaluateur qui a produit ce résultat peut le publier ou le modifier.")
    return evaluation


@retry_on_conflict
@transaction.atomic
def publish_evaluation(acting: Acting, evaluation: Evaluation, today: date | None = None) -> Evaluation:
    """Publish as computed — positive, null or negative alike. Published results are final."""
    evaluation = _own_evaluation(acting, evaluation)
    if evaluation.status == Evaluation.State.PUBLISHED:
        raise InvalidTransition("Cette évaluation est déjà publiée ; une publication est définitive.")
    evaluation.status = Evaluation.State.PUBLISHED
    evaluation.published_at = timezone.now()
    evaluation.published_on = _today(today)
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=evaluation.status, published_at=evaluation.published_at, published_on=evaluation.published_on)
    _lock_for_compliance(evaluation.project)
    _event("evaluation.published", actor_of(acting), "evaluation", evaluation.pk, evaluation.project,
           title=evaluation.title, outcome=evaluation.outcome, window=evaluation.window, estimand=evaluation.estimand,
           method=evaluation.method, n_treatment=evaluation.n_treatment, n_control=evaluation.n_control,
           estimate=evaluation.estimate, ci_low=evaluation.ci_low, ci_high=evaluation.ci_high,
           p_value=evaluation.p_value, power=evaluation.power, conclusive=evaluation.conclusive,
           sentence=evaluation.sentence, data_sha256=evaluation.data_sha256 or None,
           experiment=evaluation.experiment.slug if evaluation.experiment else None,
           pact=evaluation.pact.reference if evaluation.pact else None)
    _recompute(evaluation.project, today)
    return evaluation


@retry_on_conflict
@transaction.atomic
def delete_evaluation(acting: Acting, evaluation: Evaluation) -> None:
    evaluation = _own_evaluation(acting, evaluation)
    if evaluation.status == Evaluation.State.PUBLISHED:
        raise InvalidTransition("Une évaluation publiée ne peut être ni modifiée ni supprimée.")
    evaluation.delete()


# ================================================================ bias audits (C3)

@dataclass
class AuditTable:
    groups: list[str]
    y_true: list[int]
    y_pred: list[int]
    in_need: list[int] | None
    sha256: str


def parse_audit_csv(data: bytes) -> AuditTable:
    header, rows = _read_csv(data, ("group", "y_true", "y_pred"), ("in_need",))
    idx = {h: i for i, h in enumerate(header)}
    has_need = "in_need" in idx
    groups: list[str] = []
    yt: list[int] = []
    yp: list[int] = []
    need: list[int] = []
    errors: list[str] = []
    total = 0
    for n, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        problem = ""
        if len(row) != len(header):
            problem = f"{len(row)} valeur(s) au lieu de {len(header)}."
        else:
            values = {k: row[i].strip() for k, i in idx.items()}
            if not values["group"]:
                problem = "groupe vide."
            else:
                bad = [k for k in ("y_true", "y_pred", "in_need") if k in values and values[k] not in ("0", "1")]
                if bad:
                    problem = f"{', '.join(bad)} doit valoir 0 ou 1."
        if problem:
            total += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(f"Ligne {n} : {problem}")
            continue
        groups.append(values["group"])
        yt.append(int(values["y_true"]))
        yp.append(int(values["y_pred"]))
        if has_need:
            need.append(int(values["in_need"]))
    if total:
        _fail(errors, total)
    if not groups:
        raise ValidationFailed("Le fichier ne contient aucune ligne de données.", field_errors={"fichier": ["Aucune donnée."]})
    return AuditTable(groups, yt, yp, need if has_need else None, hashlib.sha256(data).hexdigest())


def pact_band(version: PactVersion | None) -> tuple[tuple[float, float], str]:
    """The pact's tolerated ratio when stricter than the 80 % rule, else the default band."""
    if version is not None:
        ratios = [r.tolerated_ratio for r in parse_content(version.content).bias_risks]
        strictest = max(ratios, default=0.0)
        if strictest > DEFAULT_BAND[0]:
            return (strictest, round(1 / strictest, 6)), f"seuil du pacte {version.pact.reference} ({strictest:g})"
    return DEFAULT_BAND, "règle des 80 % (bande [0,8 ; 1,25])"


@retry_on_conflict
@transaction.atomic
def publish_audit(acting: Acting, project: Project, *, title: str, decision: str, csv_data: bytes | None = None,
                  table: AuditTable | None = None, min_group_size: int = 30, n_bootstrap: int = 200,
                  reference_group: str | None = None, today: date | None = None) -> Audit:
    require_evaluator(acting, project)
    title = _text(title, "title", "Donnez un titre à l'audit.")
    decision = _text(decision, "decision", "Indiquez la décision auditée.")
    if not 5 <= min_group_size <= 10_000:
        raise ValidationFailed("La taille minimale de groupe va de 5 à 10 000.")
    if table is None:
        table = parse_audit_csv(csv_data or b"")
    v = live_version(project)
    band, band_source = pact_band(v)
    try:
        result = bias.audit(table.y_true, table.y_pred, table.groups, in_need=table.in_need,
                            reference_group=reference_group or None, band=band, min_group_size=min_group_size,
                            n_bootstrap=n_bootstrap, seed=int(table.sha256[:8], 16))
    except ValueError as exc:
        raise ValidationFailed(f"Audit impossible : {exc}.") from exc
    now = timezone.now()
    audit_obj = Audit.objects.create(
        project=project, pact=v.pact if v else None, auditor=acting.organisation, title=title, decision=decision,
        band_low=band[0], band_high=band[1], band_source=band_source, min_group_size=min_group_size,
        reference_group=result.reference_group, n_rows=len(table.groups), data_sha256=table.sha256,
        rows=_json_safe(result.rows()),
        groups=[{"group": g.group, "n": g.n, "n_in_need": g.n_in_need} for g in result.groups],
        breach_count=len(result.breaches), insufficient_count=len(result.insufficient),
        published_at=now, published_on=_today(today))
    breaches = [{"group": c.group, "metric": c.metric, "ratio": round(c.ratio or 0, 4)} for c in result.breaches]
    _lock_for_compliance(project)
    _event("audit.published", actor_of(acting), "audit", audit_obj.pk, project, title=title, decision=decision,
           band=list(band), band_source=band_source, reference_group=result.reference_group, n_rows=audit_obj.n_rows,
           breaches=breaches, insufficient=len(result.insufficient), data_sha256=table.sha256,
           pact=v.pact.reference if v else None)
    if breaches and v is not None:
        audit_obj.remediation_key = _open_remediation(v, audit_obj, result, _today(today))
        Audit.objects.filter(pk=audit_obj.pk).update(remediation_key=audit_obj.remediation_key)
    _recompute(project, today)
    return audit_obj


def _json_safe(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()})
    return out


def _open_remediation(version: PactVersion, audit_obj: Audit, result: bias.AuditResult, today: date) -> str:
    label = bias.METRIC_LABELS_FR[result.breaches[0].metric].lower()
    key = f"remediation-audit-{audit_obj.pk}"
    listed = "; ".join(f"{c.group} ({bias.METRIC_LABELS_FR[c.metric].lower()} : rapport {c.ratio:.2f})"
                       for c in result.breaches[:5])
    c = Commitment.objects.create(
        version=version, key=key, owner=Commitment.Owner.CARRIER, principle="equality",
        text=f"Corriger les écarts trouvés par l'audit « {audit_obj.title} » : {listed}.",
        indicator=f"Rapport de {label} au groupe de référence dans la bande",
        threshold=f"[{audit_obj.band_low:.2f} ; {audit_obj.band_high:.2f}] au prochain audit",
        due_date=today + timedelta(days=REMEDIATION_DAYS), evidence_kind="audit",
        status=Commitment.State.ON_TRACK, status_changed_at=timezone.now())
    record_event("remediation.opened", actor=SYSTEM, subject_type="pact", subject_id=version.pact.reference,
                 project_slug=version.pact.project.slug,
                 data={"version": version.number, "commitment": c.key, "audit": audit_obj.pk, "owner": c.owner,
                       "due_date": c.due_date.isoformat() if c.due_date else None,
                       "breaches": [{"group": b.group, "metric": b.metric, "ratio": round(b.ratio or 0, 4)}
                                    for b in result.breaches]})
    return key


# ================================================================ algorithm sheets (C6)

SHEET_FIELDS = ("title", "purpose", "contribution_degree", "contribution_mode", "operations", "human_oversight",
                "risks", "objection_contact")


def _validate_sheet(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for f in SHEET_FIELDS:
        value = str(data.get(f, "") or "").strip()
        if len(value) < 3:
            errors[f] = ["Champ obligatoire (CRPA L311-3-1 / R311-3-1-2)."]
        clean[f] = value
    if clean["contribution_degree"] and clean["contribution_degree"] not in AlgorithmSheet.Degree.values:
        errors["contribution_degree"] = ["Choisir : support, partial ou automated."]
    sources = data.get("data_sources") or []
    if not isinstance(sources, list) or not sources or not all(isinstance(s, dict) and s.get("name") and s.get("source") for s in sources):
        errors["data_sources"] = ["Listez les données traitées et leur source ({name, source})."]
    params = data.get("parameters") or []
    keys: set[str] = set()
    if not isinstance(params, list) or not params:
        errors["parameters"] = ["Listez les paramètres et leur pondération."]
    else:
        for i, p in enumerate(params):
            if not isinstance(p, dict) or not re.fullmatch(r"[a-z][a-z0-9_]*", str(p.get("key", ""))) or not p.get("label"):
                errors[f"parameters.{i}"] = ["Chaque paramètre a une clé (minuscules, chiffres, _) et un libellé."]
                continue
            try:
                float(p.get("weight"))
            except (TypeError, ValueError):
                errors[f"parameters.{i}.weight"] = ["La pondération doit être un nombre."]
            if p["key"] in keys:
                errors[f"parameters.{i}.key"] = ["Clé en double."]
            keys.add(p["key"])
    if errors:
        raise ValidationFailed("La fiche algorithme est incomplète.", field_errors=errors)
    clean["data_sources"] = [{"name": str(s["name"]), "source": str(s["source"]),
                              "description": str(s.get("description", ""))} for s in sources]
    clean["parameters"] = [{"key": p["key"], "label": str(p["label"]), "weight": float(p["weight"]),
                            "description": str(p.get("description", ""))} for p in params]
    return clean


@retry_on_conflict
@transaction.atomic
def create_sheet(acting: Acting, project: Project, data: dict[str, Any]) -> AlgorithmSheet:
    _require_carrier(acting, project)
    clean = _validate_sheet(data)
    version = AlgorithmSheet.objects.filter(project=project, title=clean["title"]).count() + 1
    return AlgorithmSheet.objects.create(project=project, version=version, **clean)


def sheet_document(sheet: AlgorithmSheet) -> dict[str, Any]:
    return {f: getattr(sheet, f) for f in (*SHEET_FIELDS, "data_sources", "parameters", "legal_basis", "version")} | {
        "project": sheet.project.slug}


@retry_on_conflict
@transaction.atomic
def publish_sheet(acting: Acting, sheet: AlgorithmSheet, today: date | None = None) -> AlgorithmSheet:
    sheet = AlgorithmSheet.objects.select_for_update(of=("self",)).select_related("project").get(pk=sheet.pk)
    _require_carrier(acting, sheet.project)
    if sheet.status == AlgorithmSheet.State.PUBLISHED:
        raise InvalidTransition("Cette fiche est déjà publiée ; publiez une nouvelle version pour la changer.")
    sheet.status = AlgorithmSheet.State.PUBLISHED
    sheet.published_at = timezone.now()
    sheet.published_on = _today(today)
    sheet.save()
    digest = canonical.sha256_hex(sheet_document(sheet))
    _lock_for_compliance(sheet.project)
    _event("algorithm_sheet.published", actor_of(acting), "algorithm_sheet", sheet.pk, sheet.project,
           title=sheet.title, version=sheet.version, degree=sheet.contribution_degree, sha256=digest)
    _recompute(sheet.project, today)
    return sheet


def explain(sheet: AlgorithmSheet, situation: dict[str, Any]) -> dict[str, Any]:
    """For one person's situation: each parameter's value, weight and contribution (weighted sum)."""
    if sheet.status != AlgorithmSheet.State.PUBLISHED:
        raise NotFound("Cette fiche algorithme n'est pas publiée.")
    keys = [p["key"] for p in sheet.parameters]
    errors: dict[str, list[str]] = {}
    for k in situation:
        if k not in keys:
            errors[k] = ["Paramètre inconnu de cet algorithme."]
    values: dict[str, float] = {}
    for k in keys:
        if k not in situation:
            errors[k] = ["Valeur manquante pour ce paramètre."]
            continue
        raw = situation[k]
        try:
            values[k] = float(raw) if not isinstance(raw, bool) else float(int(raw))
            if not math.isfinite(values[k]):
                raise ValueError
        except (TypeError, ValueError):
            errors[k] = ["Un nombre (ou vrai/faux) est attendu."]
    if errors:
        raise ValidationFailed("Situation incomplète ou invalide.", field_errors=errors)
    rows = [{"key": p["key"], "label": p["label"], "value": values[p["key"]], "weight": p["weight"],
             "contribution": values[p["key"]] * p["weight"], "description": p["description"]} for p in sheet.parameters]
    score = sum(r["contribution"] for r in rows)
    total_abs = sum(abs(r["contribution"]) for r in rows) or 1.0
    for r in rows:
        r["share"] = abs(r["contribution"]) / total_abs
    rows.sort(key=lambda r: -abs(r["contribution"]))
    return {
        "sheet": sheet.pk, "version": sheet.version, "title": sheet.title, "score": score, "parameters": rows,
        "contribution_degree": sheet.contribution_degree,
        "contribution_degree_label": sheet.get_contribution_degree_display(),
        "human_oversight": sheet.human_oversight, "objection_contact": sheet.objection_contact,
        "notice": ("Explication individuelle (CRPA R311-3-1-2) : paramètres appliqués à la situation donnée, "
                   "avec leur pondération. Vous pouvez contester la décision auprès du contact indiqué."),
    }


def atrs_export(sheet: AlgorithmSheet) -> dict[str, Any]:
    """The sheet in the UK Algorithmic Transparency Recording Standard layout (tiers 1 and 2)."""
    project = sheet.project
    carrier = project.carrier
    params = "; ".join(f"{p['label']} (pondération {p['weight']:g})" for p in sheet.parameters)
    return {
        "schema": "Algorithmic Transparency Recording Standard (UK), tier 1 and tier 2 layout",
        "tier_1": {
            "name": sheet.title,
            "description": sheet.purpose,
            "website": project.website or "",
            "contact_email": sheet.objection_contact,
        },
        "tier_2": {
            "owner_and_responsibility": {
                "organisation": carrier.name,
                "team": carrier.name,
                "senior_responsible_owner": carrier.name,
                "external_supplier_involvement": "Non",
                "external_supplier": "",
                "companies_house_number": "",
                "external_supplier_role": "",
                "procurement_procedure_type": "",
                "data_access_terms": "Pacte de Service Public Citoyen : accès limité à la finalité du pacte.",
            },
            "description_and_rationale": {
                "detailed_description": f"{sheet.purpose}\n\nOpérations effectuées : {sheet.operations}",
                "scope": sheet.purpose,
                "benefit": "",
                "previous_process": "",
                "alternatives_considered": "",
            },
            "decision_making_process": {
                "process_integration": sheet.contribution_mode,
                "provided_information": params,
                "frequency_and_scale_of_usage": "",
                "human_decisions_and_review": sheet.human_oversight,
                "required_training": "",
                "appeals_and_review": sheet.objection_contact,
                "degree_of_automation": sheet.get_contribution_degree_display(),
            },
            "tool_specification": {
                "system_architecture": sheet.operations,
                "phase": "production" if sheet.status == AlgorithmSheet.State.PUBLISHED else "pre-deployment",
                "maintenance": "",
                "models": [{"model_name": sheet.title, "model_type": "score pondéré",
                            "model_task": sheet.purpose, "model_input": ", ".join(p["label"] for p in sheet.parameters),
                            "model_output": "score", "model_architecture": "somme pondérée des paramètres",
                            "model_performance": "", "datasets": [s["name"] for s in sheet.data_sources],
                            "dataset_purposes": params}],
            },
            "data_specification": {
                "source_data_name": ", ".join(s["name"] for s in sheet.data_sources),
                "data_modality": "tabulaire",
                "data_description": "; ".join(f"{s['name']} : {s['description']}".rstrip(" :") for s in sheet.data_sources),
                "data_quantity": "",
                "sensitive_attributes": "",
                "data_completeness_and_representativeness": "",
                "source_data_url": "",
                "data_collection": "; ".join(f"{s['name']} (source : {s['source']})" for s in sheet.data_sources),
                "data_cleaning": "",
                "data_sharing_agreements": "",
                "data_access_and_storage": "",
            },
            "risks_mitigations_and_impact_assessments": {
                "impact_assessment": [],
                "risks": [{"risk_name": "Risques déclarés", "risk_description": sheet.risks,
                           "mitigation": sheet.human_oversight}],
            },
        },
        "fr_legal": {"basis": sheet.legal_basis, "degree": sheet.contribution_degree,
                     "parameters": sheet.parameters, "version": sheet.version},
    }
