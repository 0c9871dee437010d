"""What the evidence domain offers other domains (typed, read-only).

Funding (issue 11) pays on *published* evidence only: it reads a published evaluation's figures
and the bias-audit standing of a project through these two functions, never the models.

Assisted use (issue 13 part 7): the mediation domain records a panel seat or feedback for a
person without an account, and re-attaches it when the person claims it, through
``pacte.evidence.assisted`` (re-exported here: ``ASSISTED``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pacte.evidence import assisted
from pacte.evidence.models import Audit, Evaluation

IN_NEED_METRIC = "coverage_in_need"
ASSISTED = assisted  # assisted use: volunteer_for_person, feedback_for_person, claim_*


@dataclass(frozen=True, slots=True)
class PublishedEvaluation:
    id: int
    project_id: int
    pact_id: int | None
    title: str
    outcome: str
    estimand: str
    data_sha256: str  # the fingerprint of the data the estimate comes from
    estimate: float  # effect, as a share (× scale for display, e.g. 100 → points)
    ci_low: float  # 95 % confidence interval, same unit
    ci_high: float
    scale: float
    unit: str
    n_treatment: int
    n_control: int
    conclusive: bool
    published_on: date | None


@dataclass(frozen=True, slots=True)
class BiasStanding:
    audit_id: int | None  # the latest published bias audit, if any
    in_breach: bool  # that audit has at least one disparity outside its band
    in_need_ratio_min: float | None  # lowest coverage-of-people-in-need ratio (group / reference)


def published_evaluation(evaluation_id: int) -> PublishedEvaluation | None:
    """The published evaluation with this id (None if absent or still a draft)."""
    e = Evaluation.objects.filter(pk=evaluation_id, status=Evaluation.State.PUBLISHED).first()
    if e is None:
        return None
    return PublishedEvaluation(
        id=e.pk,
        project_id=e.project_id,
        pact_id=e.pact_id,
        title=e.title,
        outcome=e.outcome,
        estimand=e.estimand,
        data_sha256=e.data_sha256,
        estimate=e.estimate,
        ci_low=e.ci_low,
        ci_high=e.ci_high,
        scale=e.scale,
        unit=e.unit,
        n_treatment=e.n_treatment,
        n_control=e.n_control,
        conclusive=e.conclusive,
        published_on=e.published_on,
    )


def bias_standing(project_id: int) -> BiasStanding:
    """The project's latest published bias audit: in breach or not, and how well it reaches people
    in need (None when the audit had no in-need column or no group with enough data)."""
    audit = (
        Audit.objects.filter(project_id=project_id, status=Audit.State.PUBLISHED)
        .order_by("-published_at")
        .first()
    )
    if audit is None:
        return BiasStanding(audit_id=None, in_breach=False, in_need_ratio_min=None)
    ratios = [
        float(row["ratio"])
        for row in audit.rows
        if row.get("metric") == IN_NEED_METRIC
        and row.get("status") != "insufficient_data"
        and row.get("ratio") is not None
    ]
    return BiasStanding(
        audit_id=audit.pk,
        in_breach=audit.breach_count > 0,
        in_need_ratio_min=min(ratios) if ratios else None,
    )


@dataclass(frozen=True, slots=True)
class ChannelEvidence:
    """What a distribution channel's condition reads from a project's published evidence (issue 12).

    ``best_lower_bound``: the highest lower 95 % bound among its published evaluations (a share,
    None when none is published); ``bias``: its latest published bias audit.
    """

    project_id: int
    best_lower_bound: float | None
    bias: BiasStanding
    algorithm_sheet_published: bool


def channel_evidence(project_id: int) -> ChannelEvidence:
    from django.db.models import Max

    from pacte.evidence.models import AlgorithmSheet

    best = Evaluation.objects.filter(
        project_id=project_id, status=Evaluation.State.PUBLISHED
    ).aggregate(best=Max("ci_low"))["best"]
    return ChannelEvidence(
        project_id=project_id,
        best_lower_bound=float(best) if best is not None else None,
        bias=bias_standing(project_id),
        algorithm_sheet_published=AlgorithmSheet.objects.filter(
            project_id=project_id, status=AlgorithmSheet.State.PUBLISHED
        ).exists(),
    )
