"""Reads for evidence, with access filtering: drafts only for the organisation that made them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

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
from pacte.pacts.models import Commitment, Pact, PactVersion, Status
from pacte.projects.models import Project

SUPPRESSION_THRESHOLD = 5  # public aggregate cells below this are not shown
LIVE = (Status.ACTIVE, Status.BREACH_NOTIFIED, Status.SUSPENDED)


def live_version(project: Project, pact: Pact | None = None) -> PactVersion | None:
    """The version in force of the project's latest live pact (or of ``pact``), if any."""
    qs = PactVersion.objects.select_related("pact__project__carrier", "pact__institution").filter(
        pact__project=project, status__in=LIVE
    )
    if pact is not None:
        qs = qs.filter(pact=pact)
    return qs.order_by("-pact__created_at", "-number").first()


def panel_composition(call: PanelCall) -> list[dict[str, Any]]:
    """Target vs drawn (still present) per stratum, small cells grouped or masked."""
    present = getattr(
        call, "present_strata", None
    )  # prefetched by the API list (one query per page)
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
        label = _("Autres strates regroupées (petits effectifs)") if len(small) > 1 else small[0]
        masked = small_actual < SUPPRESSION_THRESHOLD
        rows.append(
            {
                "stratum": label,
                "target": small_target,
                "actual": None if masked else small_actual,
                "masked": masked,
            }
        )
    return rows


def evaluations(acting: Acting | None = None, *, project: str = "") -> QuerySet[Evaluation]:
    visible = Q(status=Evaluation.State.PUBLISHED)
    if acting is not None and acting.is_auditor:
        visible = Q()  # the auditor reads everything, drafts included
    elif acting is not None:
        visible |= Q(evaluator=acting.organisation)
    qs = Evaluation.objects.filter(visible).select_related(
        "project", "pact", "experiment", "evaluator"
    )
    if project:
        qs = qs.filter(project__slug=project)
    return qs.order_by("-published_at", "-created_at", "-id")


def get_evaluation(acting: Acting | None, pk: int) -> Evaluation:
    ev = evaluations(acting).filter(pk=pk).first()
    if ev is None:
        raise NotFound(_("Cette évaluation n'existe pas ou n'est pas publiée."))
    return ev


def audits(*, project: str = "") -> QuerySet[Audit]:
    qs = Audit.objects.select_related("project", "pact", "auditor")
    if project:
        qs = qs.filter(project__slug=project)
    return qs.order_by("-published_at", "-id")


# issue 14: the public list of bias audits, filtered by verdict
AUDIT_VERDICTS = ("ecart", "conforme", "insuffisant")


def public_audits(*, project: str = "", verdict: str = "") -> QuerySet[Audit]:
    """Published bias audits only (what anyone may read), newest first. `verdict`: "ecart" (at
    least one gap outside the accepted band), "conforme" (no gap and every measure conclusive),
    "insuffisant" (no gap, but some measure had too little data to be called fair)."""
    qs = Audit.objects.filter(status=Audit.State.PUBLISHED).select_related("project", "auditor")
    if project:
        qs = qs.filter(project__slug=project)
    if verdict == "ecart":
        qs = qs.filter(breach_count__gt=0)
    elif verdict == "conforme":
        qs = qs.filter(breach_count=0, insufficient_count=0)
    elif verdict == "insuffisant":
        qs = qs.filter(breach_count=0, insufficient_count__gt=0)
    return qs.order_by("-published_at", "-id")


def audited_projects() -> QuerySet[Project]:
    """The projects that have at least one published bias audit (the list's project filter)."""
    return (
        Project.objects.filter(audits__status=Audit.State.PUBLISHED)
        .distinct()
        .order_by("name")
        .only("slug", "name")
    )


def get_audit(pk: int) -> Audit:
    a = audits().filter(pk=pk).first()
    if a is None:
        raise NotFound(_("Cet audit n'existe pas."))
    return a


def panels(*, project: str = "") -> QuerySet[PanelCall]:
    qs = PanelCall.objects.select_related("project", "opened_by")
    if project:
        qs = qs.filter(project__slug=project)
    return qs.order_by("-created_at", "-id")


def get_panel(pk: int) -> PanelCall:
    p = panels().filter(pk=pk).first()
    if p is None:
        raise NotFound(_("Ce panel n'existe pas."))
    return p


def experiments(*, project: str = "") -> QuerySet[Experiment]:
    qs = Experiment.objects.select_related("project", "created_by")
    if project:
        qs = qs.filter(project__slug=project)
    return qs.order_by("-created_at", "-id")


def get_experiment(slug: str) -> Experiment:
    e = experiments().filter(slug=slug).first()
    if e is None:
        raise NotFound(_("Cette expérimentation n'existe pas."))
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
        raise NotFound(_("Cette fiche algorithme n'existe pas ou n'est pas publiée."))
    return s


def public_feedback(project: Project) -> QuerySet[Feedback]:
    return project.feedback.filter(hidden=False).select_related("question")


def volunteer_counts() -> dict[str, int]:
    return {
        "active": Volunteer.objects.filter(left_at__isnull=True).count(),
        "left": Volunteer.objects.filter(left_at__isnull=False).count(),
    }


# ---------------------------------------------------------------- charts (SVG + table)


def evaluation_chart(evs: list[Evaluation]) -> dict[str, Any] | None:
    rows = []
    for ev in evs:
        est, low, high = ev.displayed()
        rows.append((ev.title[:40], est, low, high))
    if not rows:
        return None
    unit = evs[0].unit or ""
    return {
        "svg": charts.effect_interval_svg(
            rows,
            unit=unit,
            title="Effet estimé et intervalle de confiance à 95 %",
            id_prefix=f"eval{'-'.join(str(e.pk) for e in evs)}",
        ),
        "table": charts.effect_interval_table(rows, unit=unit),
    }


def audit_charts(audit: Audit) -> list[dict[str, Any]]:
    out = []
    band = (audit.band_low, audit.band_high)
    metrics = list(dict.fromkeys(r["metric"] for r in audit.rows))
    for m in metrics:
        rows = [
            (r["group"], r["ratio"], r["ci_low"], r["ci_high"], r["status"])
            for r in audit.rows
            if r["metric"] == m
        ]
        out.append(
            {
                "metric": m,
                "label": METRIC_LABELS_FR[m],
                "svg": charts.group_metrics_svg(
                    rows,
                    band=band,
                    title=f"{METRIC_LABELS_FR[m]} : rapport au groupe "
                    f"de référence ({audit.reference_group})",
                    id_prefix=f"audit{audit.pk}-{m}",
                ),
                "table": charts.group_metrics_table(rows, band=band),
            }
        )
    return out


def panel_chart(call: PanelCall) -> dict[str, Any]:
    rows = panel_composition(call)
    drawable = [(r["stratum"], r["target"], r["actual"]) for r in rows if not r["masked"]]
    table = [
        {
            "Strate": r["stratum"],
            "Cible": str(r["target"]),
            "Atteint": "moins de 5 (masqué)" if r["masked"] else str(r["actual"]),
        }
        for r in rows
    ]
    return {
        "svg": charts.composition_svg(drawable, id_prefix=f"panel{call.pk}") if drawable else "",
        "table": table,
        "rows": rows,
    }


def breaches(project: Project) -> QuerySet[Commitment]:
    """Missed or breached commitments of both sides, in pacts in force or broken (one query)."""
    return Commitment.objects.filter(
        version__pact__project=project,
        status__in=(Commitment.State.MISSED, Commitment.State.BREACHED),
        version__status__in=(
            Status.ACTIVE,
            Status.BREACH_NOTIFIED,
            Status.SUSPENDED,
            Status.BROKEN,
        ),
    ).select_related("version__pact__institution")


def state_breaches(project: Project) -> QuerySet[Commitment]:
    return breaches(project).filter(owner=Commitment.Owner.INSTITUTION)


def carrier_breaches(project: Project) -> QuerySet[Commitment]:
    return breaches(project).filter(owner=Commitment.Owner.CARRIER)


def compliance_cases(project: Project) -> QuerySet[ComplianceCase]:
    return ComplianceCase.objects.filter(version__pact__project=project).select_related(
        "version__pact"
    )
