"""Experiments: designed with their power calculation, pre-registered (the analysis plan's hash and a
commitment to the secret seed go to the log before anything else), then units are assigned to arms
with everything needed to replay the allocation from the log alone (see ``pacte.evidence.replay``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.services import Acting
from pacte.engines import assignment as asg
from pacte.engines import impact
from pacte.errors import ValidationFailed
from pacte.evidence import events
from pacte.evidence.inputs import required_text
from pacte.evidence.lifecycles import EXPERIMENT
from pacte.evidence.models import Assignment, Experiment
from pacte.evidence.selectors import live_version
from pacte.evidence.tasks import store_replay_task
from pacte.projects.models import Project
from pacte.writes.retry import retry_on_conflict
from pacte.writes.rows import bulk_insert

DEFAULT_ESTIMAND = "intention de traiter (ITT)"
MAX_UNIT_ID_LENGTH = 80
SLUG_ATTEMPTS = 50


def _required_per_arm(
    *, baseline_rate: float, mde_points: float, power: float, alpha: float, ratio: list[int]
) -> int:
    try:
        size = impact.required_sample_size(
            baseline_rate, mde_points / 100, alpha=alpha, power=power, ratio=ratio[1] / ratio[0]
        )
    except ValueError as exc:
        raise ValidationFailed(
            _(
                "Paramètres de puissance invalides : le taux de base doit être entre 0 et 1, l'effet minimal "
                "détectable non nul et compatible avec ce taux, la puissance et le seuil entre 0 et 1."
            )
        ) from exc
    return max(size.n_treatment, size.n_control)


def _check_design(
    hypothesis: str,
    outcome: str,
    design: str,
    window_months: int,
    arms: list[str],
    ratio: list[int],
) -> tuple[str, str]:
    hypothesis = required_text(hypothesis, "hypothesis", _("Énoncez l'hypothèse testée."), 10)
    outcome = required_text(outcome, "outcome", _("Indiquez le résultat social principal."))
    try:
        impact.ensure_social_outcome(outcome)
    except impact.AudienceMetricRefused as exc:
        raise ValidationFailed(
            str(exc),
            field_errors={"outcome": [_("Mesure d'audience refusée comme résultat principal.")]},
        ) from exc
    if design not in Experiment.Design.values:
        raise ValidationFailed(
            _("Design inconnu : randomisation individuelle ou design d'encouragement.")
        )
    if not 1 <= window_months <= 60:
        raise ValidationFailed(_("La fenêtre d'observation va de 1 à 60 mois."))
    if len(arms) != 2 or len(set(arms)) != 2 or len(ratio) != 2 or min(ratio) < 1:
        raise ValidationFailed(
            _(
                "Deux bras distincts avec un ratio entier positif sont attendus (témoin, traitement)."
            )
        )
    return hypothesis, outcome


def _create_with_free_slug(base: str, **fields: Any) -> Experiment:
    """Create the experiment under ``base``, ``base-2``, ``base-3``… whichever is free.

    The slug is unique in the database; two designs racing for the same slug both see it free,
    the second insert fails on the constraint (PostgreSQL makes it wait for the first commit) and
    takes the next suffix inside a savepoint, so neither request fails."""
    candidate, n = base, 1
    for _attempt in range(SLUG_ATTEMPTS):
        while Experiment.objects.filter(slug=candidate).exists():
            n += 1
            candidate = f"{base}-{n}"
        try:
            with transaction.atomic():
                return Experiment.objects.create(slug=candidate, **fields)
        except IntegrityError:
            if not Experiment.objects.filter(slug=candidate).exists():
                raise
    raise ValidationFailed(
        _("Identifiant d'expérimentation indisponible : choisissez-en un autre."),
        field_errors={"slug": [_("Identifiant déjà pris.")]},
    )


@retry_on_conflict
@transaction.atomic
def design_experiment(
    acting: Acting,
    project: Project,
    *,
    hypothesis: str,
    outcome: str,
    baseline_rate: float,
    mde_points: float,
    power: float = 0.8,
    alpha: float = 0.05,
    design: str = "individual",
    window_months: int = 6,
    unit: str = "personne",
    estimand: str = DEFAULT_ESTIMAND,
    arms: list[str] | None = None,
    ratio: list[int] | None = None,
    slug: str = "",
) -> Experiment:
    policy.require(acting, policy.Action.EXPERIMENT_DESIGN, project)
    arms = arms or ["control", "treatment"]
    ratio = ratio or [1] * len(arms)
    hypothesis, outcome = _check_design(hypothesis, outcome, design, window_months, arms, ratio)
    required = _required_per_arm(
        baseline_rate=baseline_rate, mde_points=mde_points, power=power, alpha=alpha, ratio=ratio
    )
    v = live_version(project)
    exp = _create_with_free_slug(
        slugify(slug) or f"{project.slug}-exp",
        project=project,
        pact=v.pact if v else None,
        created_by=acting.organisation,
        hypothesis=hypothesis,
        outcome=outcome,
        estimand=estimand.strip() or DEFAULT_ESTIMAND,
        unit=unit.strip() or "personne",
        design=design,
        window_months=window_months,
        baseline_rate=baseline_rate,
        mde_points=mde_points,
        power=power,
        alpha=alpha,
        arms=arms,
        ratio=ratio,
        required_per_arm=required,
    )
    events.record(
        "experiment.designed",
        acting,
        "experiment",
        exp.slug,
        project,
        required_per_arm=required,
        outcome=outcome,
        design=design,
    )
    return exp


def analysis_plan(exp: Experiment) -> dict[str, Any]:
    return {
        "experiment": exp.slug,
        "project": exp.project.slug,
        "hypothesis": exp.hypothesis,
        "outcome": exp.outcome,
        "estimand": exp.estimand,
        "unit": exp.unit,
        "design": exp.design,
        "window_months": exp.window_months,
        "baseline_rate": exp.baseline_rate,
        "mde_points": exp.mde_points,
        "power": exp.power,
        "alpha": exp.alpha,
        "arms": exp.arms,
        "ratio": exp.ratio,
        "required_per_arm": exp.required_per_arm,
        "analysis": (
            "Différence de proportions, intervalle de Newcombe à 95 %, test du score ; rapport de risques ; "
            "analyse en intention de traiter, sans covariable."
        ),
        "assignment_algorithm": asg.ASSIGNMENT_ALGORITHM,
    }


@retry_on_conflict
@transaction.atomic
def preregister(acting: Acting, exp: Experiment) -> Experiment:
    """Log the analysis plan's hash and a commitment to the secret seed — before any assignment."""
    exp = (
        Experiment.objects.select_for_update(of=("self",)).select_related("project").get(pk=exp.pk)
    )
    EXPERIMENT.check(acting, "preregister", exp)
    seed = asg.new_seed()
    exp.plan = analysis_plan(exp)
    exp.plan_hash = asg.analysis_plan_hash(exp.plan)
    exp.seed_commitment = asg.commit_seed(seed)
    exp.seed_hex = seed.hex()
    EXPERIMENT.apply(
        acting,
        "preregister",
        exp,
        plan=exp.plan,
        plan_hash=exp.plan_hash,
        seed_commitment=exp.seed_commitment,
    )
    return exp


def _unit_ids(unit_ids: list[str]) -> list[str]:
    ids = [str(u).strip() for u in unit_ids]
    if not ids or any(not u or len(u) > MAX_UNIT_ID_LENGTH for u in ids):
        raise ValidationFailed(
            _("Identifiants d'unités vides ou trop longs (80 caractères au plus).")
        )
    if len(set(ids)) != len(ids):
        raise ValidationFailed(_("Chaque unité doit apparaître une seule fois."))
    return ids


@retry_on_conflict
@transaction.atomic
def assign_units(
    acting: Acting, exp: Experiment, unit_ids: list[str], strata: dict[str, str] | None = None
) -> dict[str, str]:
    """Allocate pseudonymous units to arms; the log gets everything needed to replay it."""
    exp = (
        Experiment.objects.select_for_update(of=("self",)).select_related("project").get(pk=exp.pk)
    )
    EXPERIMENT.check(acting, "assign", exp)
    ids = _unit_ids(unit_ids)
    try:
        allocation = asg.assign(
            ids, bytes.fromhex(exp.seed_hex), arms=exp.arms, ratio=exp.ratio, strata=strata
        )
    except ValueError as exc:
        raise ValidationFailed(_("Affectation impossible : %(error)s.") % {"error": exc}) from exc
    _insert_assignments(exp, ids, allocation, strata or {})
    exp.allocation_sha256 = asg.allocation_digest(allocation)
    counts = Counter(allocation.values())
    EXPERIMENT.apply(
        acting,
        "assign",
        exp,
        units=asg.compact_units(ids),
        strata=strata or None,
        arms=exp.arms,
        ratio=exp.ratio,
        counts=dict(sorted(counts.items())),
        allocation_sha256=exp.allocation_sha256,
        seed=exp.seed_hex,
        seed_commitment=exp.seed_commitment,
    )
    slug = exp.slug
    transaction.on_commit(lambda: _enqueue_replay(slug))
    return allocation


def _insert_assignments(
    exp: Experiment, ids: list[str], allocation: dict[str, str], strata: dict[str, str]
) -> None:
    """Plain rows (an experiment may allocate hundreds of thousands of units: one model instance
    per row cost ~40x the insert itself). Same table, constraint and transaction."""
    columns = {f.name: str(f.column) for f in Assignment._meta.concrete_fields}
    bulk_insert(
        Assignment._meta.db_table,
        [columns[name] for name in ("experiment", "unit_id", "stratum", "arm")],
        [(exp.pk, u, strata.get(u, ""), allocation[u]) for u in ids],
    )


def _enqueue_replay(slug: str) -> None:
    """Ask the worker to replay the assignment once (the public API then serves its result)."""
    store_replay_task.enqueue(slug)
