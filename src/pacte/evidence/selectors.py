"""Reads for evidence, with access filtering: drafts only for the organisation that made them."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from pacte.accounts.services import Acting
from pacte.engines.bias import METRIC_LABELS_FR
from pacte.errors import NotFound
from pacte.evidence import charts
from pacte.evidence.models import (
    AlgorithmSheet,
    Audit,
    ComplianceCase,
    Evaluation,
    Experiment,
    Feedback,
    PanelCall,
    Volunteer,
)
from pacte.evidence.services import panel_composition
from pacte.pacts.models import Commitment, Status
from pacte.projects.models import Project


def evaluations(acting: Acting | None = None, *, project: str = "") -> QuerySet[Evaluation]:
    visible = Q(status=Evaluation.State.PUBLISHED)
    if acting is not None and acting.is_auditor:
        visible = Q()  # the auditor reads everything, drafts included
    elif acting is not None:
        visible |= Q(evaluator=acting.organisation)
    qs = Evaluation.objects.filter(visible).select_related("project", "pact", "experiment", "evaluator")
    if project:
        qs = qs.filter(project__slug=project)
    return qs.order_by("-published_at", "-created_at", "-id")


def get_evaluation(acting: Acting | None, pk: int) -> Evaluation:
    ev = evaluations(acting).filter(pk=pk).first()
    if ev is None:
        raise NotFound("Cette évaluation n'existe pas ou n'est pas publiée.")
    return ev


def audits(*, project: str = "") -> QuerySet[Audit]:
    qs = Audit.objects.select_related("project", "pact", "auditor")
    if project:
        qs = qs.filter(project__slug=project)
    return qs.order_by("-published_at", "-id")


def get_audit(pk: int) -> Audit:
    a = audits().filter(pk=pk).first()
    if a is None:
        raise NotFound("Cet audit n'existe pas.")
    return a


def panels(*, project: str = "") -> QuerySet[PanelCall]:
    qs = PanelCall.objects.select_related("project", "opened_by")
    if project:
        qs = qs.filter(project__slug=project)
    return qs.order_by("-created_at", "-id")


def get_panel(pk: int) -> PanelCall:
    p = panels().filter(pk=pk).first()
    if p is None:
        raise NotFound("Ce panel n'existe pas.")
    return p


def experiments(*, project: str = "") -> QuerySet[Experiment]:
    qs = Experiment.objects.select_related("project", "created_by")
    if project:
        qs = qs.filter(project__slug=project)
    return qs.order_by("-created_at", "-id")


def get_experiment(slug: str) -> Experiment:
    e = experiments().filter(slug=slug).first()
    if e is None:
        raise NotFound("Cette expérimentation n'existe pas.")
    return e


def sheets(acting: Acting | None = None, *, project: str = "") -> QuerySet[AlgorithmSheet]:
    visible = Q(status=AlgorithmSheet.State.PUBLISHED)
    if acting is not None and acting.is_auditor:
        visible = Q()  # the auditor reads everything, drafts included
    elif acting is not None:
        visible |= Q(project__carrier=acting.organisation)
    qs = AlgorithmSheet.objects.filter(visible).select_related("project__carrier")
    if project:
        qs = qs.filter(project__slug=project)
    return qs.order_by("-created_at", "-id")


def get_sheet(acting: Acting | None, pk: int) -> AlgorithmSheet:
    s = sheets(acting).filter(pk=pk).first()
    if s is None:
        raise NotFound("Cette fiche algorithme n'existe pas ou n'est pas publiée.")
    return s


def public_feedback(project: Project) -> QuerySet[Feedback]:
    return project.feedback.filter(hidden=False).select_related("question")


def volunteer_counts() -> dict[str, int]:
    return {"active": Volunteer.objects.filter(left_at__isnull=True).count(),
            "left": Volunteer.objects.filter(left_at__isnull=False).count()}


# ---------------------------------------------------------------- charts (SVG + table)

def evaluation_chart(evs: list[Evaluation]) -> dict[str, Any] | None:
    rows = []
    for ev in evs:
        est, low, high = ev.displayed()
        rows.append((ev.title[:40], est, low, high))
    if not rows:
        return None
    unit = evs[0].unit or ""
    return {"svg": charts.effect_interval_svg(rows, unit=unit, title="Effet estimé et intervalle de confiance à 95 %",
                                              id_prefix=f"eval{'-'.join(str(e.pk) for e in evs)}"),
            "table": charts.effect_interval_table(rows, unit=unit)}


def audit_charts(audit: Audit) -> list[dict[str, Any]]:
    out = []
    band = (audit.band_low, audit.band_high)
    metrics = list(dict.fromkeys(r["metric"] for r in audit.rows))
    for m in metrics:
        rows = [(r["group"], r["ratio"], r["ci_low"], r["ci_high"], r["status"]) for r in audit.rows if r["metric"] == m]
        out.append({
            "metric": m, "label": METRIC_LABELS_FR[m],
            "svg": charts.group_metrics_svg(rows, band=band, title=f"{METRIC_LABELS_FR[m]} : rapport au groupe "
                                            f"de référence ({audit.reference_group})", id_prefix=f"audit{audit.pk}-{m}"),
            "table": charts.group_metrics_table(rows, band=band),
        })
    return out


def panel_chart(call: PanelCall) -> dict[str, Any]:
    rows = panel_composition(call)
    drawable = [(r["stratum"], r["target"], r["actual"]) for r in rows if not r["masked"]]
    table = [{"Strate": r["stratum"], "Cible": str(r["target"]),
              "Atteint": "moins de 5 (masqué)" if r["masked"] else str(r["actual"])} for r in rows]
    return {"svg": charts.composition_svg(drawable, id_prefix=f"panel{call.pk}") if drawable else "",
            "table": table, "rows": rows}


def state_breaches(project: Project) -> QuerySet[Commitment]:
    return Commitment.objects.filter(
        version__pact__project=project, owner=Commitment.Owner.INSTITUTION,
        status__in=(Commitment.State.MISSED, Commitment.State.BREACHED),
        version__status__in=(Status.ACTIVE, Status.BREACH_NOTIFIED, Status.SUSPENDED, Status.BROKEN),
    ).select_related("version__pact__institution")


def carrier_breaches(project: Project) -> QuerySet[Commitment]:
    return Commitment.objects.filter(
        version__pact__project=project, owner=Commitment.Owner.CARRIER,
        status__in=(Commitment.State.MISSED, Commitment.State.BREACHED),
        version__status__in=(Status.ACTIVE, Status.BREACH_NOTIFIED, Status.SUSPENDED, Status.BROKEN),
    ).select_related("version__pact")


def compliance_cases(project: Project) -> QuerySet[ComplianceCase]:
    return ComplianceCase.objects.filter(version__pact__project=project).select_related("version__pact")
