"""Impact evaluations (C4): an independent evaluator records outcomes (aggregate counts or a CSV
file, or through the data gateway: ``pacte.evidence.gateway_evaluations``), a draft is computed by
the impact engine, and publishing it — positive, null or negative alike — is final."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.services import Acting
from pacte.engines import impact
from pacte.errors import InvalidTransition, ValidationFailed
from pacte.evidence.compliance import lock_for_compliance, run_compliance
from pacte.evidence.csv_tables import MAX_REPORTED_ERRORS, OutcomeTable, fail, parse_outcomes_csv
from pacte.evidence.inputs import required_text
from pacte.evidence.lifecycles import EVALUATION
from pacte.evidence.models import Evaluation, Experiment
from pacte.evidence.selectors import live_version
from pacte.pacts.models import PactVersion
from pacte.pacts.schema import parse_content
from pacte.projects.models import Project
from pacte.writes.retry import retry_on_conflict

DEFAULT_ESTIMAND = "intention de traiter (ITT)"


def check_against_assignment(table: OutcomeTable, exp: Experiment) -> None:
    """Every unit of the file in the arm it was assigned to (intention to treat), or the file is refused."""
    exp = Experiment.objects.get(pk=exp.pk)
    if exp.status != Experiment.State.ASSIGNED:
        raise ValidationFailed(_("L'expérimentation liée n'a pas encore d'affectation publiée."))
    assigned = dict(exp.assignments.values_list("unit_id", "arm"))
    arm_name = {"treatment": exp.arms[1], "control": exp.arms[0]}
    errors: list[str] = []
    total = 0
    for unit, arm in zip(table.unit_ids, table.arms, strict=True):
        expected = assigned.get(unit)
        if expected is None or expected != arm_name[arm]:
            total += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(
                    _("Unité « %(unit)s » : absente de l'affectation publiée.") % {"unit": unit}
                    if expected is None
                    else _(
                        "Unité « %(unit)s » : bras « %(arm)s » différent du bras affecté (%(expected)s) — "
                        "analyse en intention de traiter."
                    )
                    % {"unit": unit, "arm": arm, "expected": expected}
                )
    if total:
        fail(errors, total)


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


def compute_from_counts(
    s_t: int, n_t: int, s_c: int, n_c: int, *, estimand: str, mde_points: float | None
) -> Computed:
    try:
        est = impact.difference_in_proportions(s_t, n_t, s_c, n_c, estimand=estimand)
    except ValueError as exc:
        raise ValidationFailed(
            _(
                "Effectifs invalides : chaque bras doit compter au moins une unité, et les succès "
                "être compris entre 0 et l'effectif du bras."
            )
        ) from exc
    details: dict[str, Any] = {
        "method_text": est.method,
        "rate_treatment": s_t / n_t,
        "rate_control": s_c / n_c,
    }
    if s_c > 0:
        rr = impact.risk_ratio(s_t, n_t, s_c, n_c, estimand=estimand)
        details["risk_ratio"] = {
            "estimate": rr.estimate,
            "ci_low": rr.ci_low,
            "ci_high": rr.ci_high,
            "p_value": rr.p_value,
            "sentence": rr.sentence_fr(),
        }
    return Computed(
        Evaluation.Method.PROPORTIONS,
        est,
        details,
        (s_t, s_c),
        _power(n_t, n_c, s_c / n_c, mde_points),
    )


def compute_from_table(table: OutcomeTable, *, estimand: str, mde_points: float | None) -> Computed:
    import numpy as np

    y = np.asarray(table.outcomes, dtype=float)
    treated = np.asarray([a == "treatment" for a in table.arms])
    if table.periods is not None:
        post = np.asarray(table.periods, dtype=float)
        binary = table.binary
        try:
            est = impact.difference_in_differences(
                y,
                treated.astype(float),
                post,
                cluster=np.asarray(table.unit_ids),
                unit="points" if binary else "",
                scale=100.0 if binary else 1.0,
            )
        except ValueError as exc:
            raise ValidationFailed(
                _(
                    "Différence de différences impossible : il faut des observations avant et "
                    "après, dans la cohorte traitée et dans la cohorte de comparaison."
                )
            ) from exc
        return Computed(Evaluation.Method.DID, est, {"method_text": est.method})
    if table.binary:
        s_t, n_t = int(y[treated].sum()), int(treated.sum())
        s_c, n_c = int(y[~treated].sum()), int((~treated).sum())
        return compute_from_counts(s_t, n_t, s_c, n_c, estimand=estimand, mde_points=mde_points)
    try:
        est = impact.welch_difference_in_means(y[treated], y[~treated], estimand=estimand)
    except ValueError as exc:
        raise ValidationFailed(
            _("Il faut au moins deux valeurs par bras pour une différence de moyennes.")
        ) from exc
    return Computed(
        Evaluation.Method.MEANS,
        est,
        {
            "method_text": est.method,
            "mean_treatment": float(y[treated].mean()),
            "mean_control": float(y[~treated].mean()),
        },
    )


@dataclass
class EvaluationFrame:
    """What every evaluation path checks the same way before computing: who, what, window, estimand."""

    version: PactVersion | None
    title: str
    outcome: str
    window_months: int
    estimand: str
    mde_points: float | None


def evaluation_frame(
    acting: Acting,
    project: Project,
    *,
    title: str,
    outcome: str,
    window_months: int | None,
    experiment: Experiment | None,
    estimand: str,
    mde_points: float | None,
) -> EvaluationFrame:
    """Shared by the aggregate, upload and gateway paths. ``window_months=None`` with an experiment takes
    the pre-registered window (the upload path always does)."""
    policy.require(acting, policy.Action.PROJECT_EVALUATE, project)
    title = required_text(title, "title", _("Donnez un titre à l'évaluation."))
    if experiment is not None and experiment.project_id != project.pk:
        raise ValidationFailed(_("Cette expérimentation ne concerne pas ce projet."))
    v = live_version(project)
    plan = parse_content(v.content).impact_plan if v else None
    outcome = (
        outcome or (experiment.outcome if experiment else "") or (plan.outcome if plan else "")
    ).strip()
    required_text(outcome, "outcome", _("Indiquez le résultat social mesuré."))
    try:
        impact.ensure_social_outcome(outcome)
    except impact.AudienceMetricRefused as exc:
        raise ValidationFailed(
            str(exc), field_errors={"outcome": [_("Mesure d'audience refusée.")]}
        ) from exc
    if experiment is not None:
        window_months = window_months or experiment.window_months
        estimand = estimand or experiment.estimand
        mde_points = mde_points or experiment.mde_points
    window_months = 6 if window_months is None else window_months
    estimand = estimand.strip() or DEFAULT_ESTIMAND
    if mde_points is None and plan is not None:
        mde_points = plan.mde_points
    if not 1 <= window_months <= 60:
        raise ValidationFailed(_("La fenêtre d'observation va de 1 à 60 mois."))
    return EvaluationFrame(v, title, outcome, window_months, estimand, mde_points)


def store_evaluation(
    acting: Acting,
    project: Project,
    frame: EvaluationFrame,
    experiment: Experiment | None,
    computed: Computed,
    *,
    source: str,
    data_sha: str = "",
    extra_details: dict[str, Any] | None = None,
) -> Evaluation:
    """The computed draft, visible to its evaluator only until published."""
    est = computed.est
    v = frame.version
    return Evaluation.objects.create(
        project=project,
        pact=v.pact if v else (experiment.pact if experiment else None),
        experiment=experiment,
        evaluator=acting.organisation,
        title=frame.title,
        outcome=frame.outcome,
        window=f"{frame.window_months} mois",
        estimand=frame.estimand,
        method=computed.method,
        source=source,
        data_sha256=data_sha,
        n_treatment=est.n_treatment,
        n_control=est.n_control,
        successes_treatment=computed.successes[0] if computed.successes else None,
        successes_control=computed.successes[1] if computed.successes else None,
        estimate=est.estimate,
        ci_low=est.ci_low,
        ci_high=est.ci_high,
        p_value=est.p_value,
        scale=est.scale,
        unit=est.unit,
        conclusive=est.conclusive,
        sentence=est.sentence_fr(),
        power=computed.power,
        mde_points=frame.mde_points,
        details=computed.details | (extra_details or {}),
    )


def _from_counts(counts: dict[str, int], frame: EvaluationFrame) -> Computed:
    try:
        s_t, n_t = int(counts["successes_treatment"]), int(counts["n_treatment"])
        s_c, n_c = int(counts["successes_control"]), int(counts["n_control"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed(
            _(
                "Effectifs attendus : n_treatment, successes_treatment, n_control, successes_control."
            )
        ) from exc
    return compute_from_counts(
        s_t, n_t, s_c, n_c, estimand=frame.estimand, mde_points=frame.mde_points
    )


@retry_on_conflict
@transaction.atomic
def create_evaluation(
    acting: Acting,
    project: Project,
    *,
    title: str,
    outcome: str = "",
    window_months: int = 6,
    counts: dict[str, int] | None = None,
    csv_data: bytes | None = None,
    experiment: Experiment | None = None,
    estimand: str = "",
    mde_points: float | None = None,
) -> Evaluation:
    """The independent evaluator records outcomes (aggregate counts or a CSV file); a draft is computed."""
    frame = evaluation_frame(
        acting,
        project,
        title=title,
        outcome=outcome,
        window_months=None if experiment is not None else window_months,
        experiment=experiment,
        estimand=estimand,
        mde_points=mde_points,
    )
    if (counts is None) == (csv_data is None):
        raise ValidationFailed(
            _("Donnez soit les effectifs agrégés, soit un fichier CSV de résultats.")
        )
    if counts is not None:
        return store_evaluation(
            acting, project, frame, experiment, _from_counts(counts, frame), source="aggregate"
        )
    table = parse_outcomes_csv(csv_data or b"")
    if experiment is not None:
        check_against_assignment(table, experiment)
    computed = compute_from_table(table, estimand=frame.estimand, mde_points=frame.mde_points)
    return store_evaluation(
        acting, project, frame, experiment, computed, source="upload", data_sha=table.sha256
    )


def _locked(evaluation: Evaluation) -> Evaluation:
    return (
        Evaluation.objects.select_for_update(of=("self",))
        .select_related("project")
        .get(pk=evaluation.pk)
    )


@retry_on_conflict
@transaction.atomic
def publish_evaluation(
    acting: Acting, evaluation: Evaluation, today: date | None = None
) -> Evaluation:
    """Publish as computed — positive, null or negative alike. Published results are final."""
    evaluation = _locked(evaluation)
    if evaluation.status == Evaluation.State.DRAFT:
        evaluation.published_on = today
    lock_for_compliance(
        evaluation.project
    )  # lock order: what run_compliance changes, before the log
    EVALUATION.apply(
        acting,
        "publish",
        evaluation,
        title=evaluation.title,
        outcome=evaluation.outcome,
        window=evaluation.window,
        estimand=evaluation.estimand,
        method=evaluation.method,
        n_treatment=evaluation.n_treatment,
        n_control=evaluation.n_control,
        estimate=evaluation.estimate,
        ci_low=evaluation.ci_low,
        ci_high=evaluation.ci_high,
        p_value=evaluation.p_value,
        power=evaluation.power,
        conclusive=evaluation.conclusive,
        sentence=evaluation.sentence,
        data_sha256=evaluation.data_sha256 or None,
        experiment=evaluation.experiment.slug if evaluation.experiment else None,
        pact=evaluation.pact.reference if evaluation.pact else None,
    )
    run_compliance(today, project=evaluation.project)
    return evaluation


@retry_on_conflict
@transaction.atomic
def delete_evaluation(acting: Acting, evaluation: Evaluation) -> None:
    """A draft may be thrown away by its evaluator; a published evaluation never."""
    evaluation = _locked(evaluation)
    policy.require(acting, policy.Action.EVALUATION_OWN, evaluation)
    if evaluation.status == Evaluation.State.PUBLISHED:
        raise InvalidTransition(_("Une évaluation publiée ne peut être ni modifiée ni supprimée."))
    evaluation.delete()
