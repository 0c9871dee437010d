"""JSON API for evidence: evaluations, audits, panels, experiments, algorithm sheets, compliance."""

from __future__ import annotations

from typing import Annotated, Any

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from pacte.accounts.api_auth import TokenAuth
from pacte.accounts.viewer import viewer
from pacte.api_contract import VIEWER, WRITE, Cursor, Limit, Offset, paginate, responses
from pacte.errors import InvalidTransition, NotFound, ValidationFailed
from pacte.evidence import (
    audits,
    csv_tables,
    evaluations,
    experiments,
    gateway_evaluations,
    panels,
    selectors,
    sheets,
)
from pacte.evidence.api_schemas import (
    AuditOut,
    AuditPage,
    CasePage,
    EvaluationOut,
    EvaluationPage,
    ExperimentOut,
    ExperimentPage,
    ExplanationOut,
    PanelOut,
    PanelPage,
    ReplayOut,
    SheetOut,
    SheetPage,
)
from pacte.evidence.models import (
    AlgorithmSheet,
    Audit,
    Evaluation,
    Experiment,
    PanelCall,
    PanelMember,
)
from pacte.input_limits import (
    INT64_MAX,
    MAX_LIST_ITEMS,
    BigInt,
    Document,
    FilledIdentifier,
    FilledTitle,
    Identifier,
    JsonObject,
    Label,
    Paragraph,
    Sentence,
    ShortText,
    Title,
)
from pacte.projects.selectors import get_project

router = Router(tags=["preuves"])
MAX_UNITS = 200_000  # unit identifiers of one assignment call (the body limit also applies)
auth = TokenAuth()


def _read(upload: UploadedFile) -> bytes:
    if upload.size and upload.size > csv_tables.MAX_UPLOAD_BYTES:
        raise ValidationFailed("Le fichier dépasse 200 Mo.")
    return bytes(upload.read())


# ------------------------------------------------------------------ evaluations

Count = Annotated[int, Field(ge=0, le=INT64_MAX)]
Months = Annotated[
    int, Field(ge=1, le=60, description="Fenêtre de mesure, de 1 à 60 mois (6 par défaut).")
]
GroupSize = Annotated[
    int,
    Field(
        ge=5, le=10_000, description="Effectif minimal d'un groupe, de 5 à 10 000 (30 par défaut)."
    ),
]


class CountsIn(Schema):
    n_treatment: Count
    successes_treatment: Count
    n_control: Count
    successes_control: Count


class EvaluationIn(Schema):
    project: Identifier
    title: Title
    outcome: Sentence = ""
    window_months: Months = 6
    estimand: Label = ""
    experiment: Identifier = ""
    mde_points: float | None = None
    counts: CountsIn


class EvaluationUpdate(Schema):
    counts: JsonObject = {}


def _evaluation_out(e: Evaluation) -> dict[str, Any]:
    return {
        "id": e.pk,
        "project": e.project.slug,
        "pact": e.pact.reference if e.pact else None,
        "experiment": e.experiment.slug if e.experiment else None,
        "evaluator": e.evaluator.slug,
        "title": e.title,
        "status": e.status,
        "outcome": e.outcome,
        "window": e.window,
        "estimand": e.estimand,
        "method": e.method,
        "source": e.source,
        "n_treatment": e.n_treatment,
        "n_control": e.n_control,
        "successes_treatment": e.successes_treatment,
        "successes_control": e.successes_control,
        "estimate": e.estimate,
        "ci_low": e.ci_low,
        "ci_high": e.ci_high,
        "p_value": e.p_value,
        "scale": e.scale,
        "unit": e.unit,
        "conclusive": e.conclusive,
        "sentence": e.sentence,
        "power": e.power,
        "mde_points": e.mde_points,
        "risk_ratio": e.details.get("risk_ratio"),
        "data_sha256": e.data_sha256,
        "gateway": e.details.get("gateway"),
        "published_at": e.published_at,
    }


def _experiment_or_none(slug: str) -> Experiment | None:
    return selectors.get_experiment(slug) if slug else None


@router.get(
    "/evaluations",
    response=responses({200: EvaluationPage}, VIEWER),
    summary="Évaluations d'impact publiées (paginé)",
)
def list_evaluations(
    request: HttpRequest,
    project: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    qs = selectors.evaluations(viewer(request), project=project)
    return paginate(
        qs,
        limit,
        offset,
        lambda page: [_evaluation_out(e) for e in page],
        after=after,
        by_keyset=True,
    )


@router.get("/evaluations/{int:pk}", response=responses({200: EvaluationOut}, VIEWER))
def evaluation_detail(request: HttpRequest, pk: BigInt) -> dict[str, Any]:
    return _evaluation_out(selectors.get_evaluation(viewer(request), pk))


@router.post(
    "/evaluations",
    response=responses({201: EvaluationOut}, WRITE),
    auth=auth,
    summary="Résultats agrégés déposés par l'évaluateur indépendant (brouillon calculé)",
)
def create_evaluation(request: HttpRequest, payload: EvaluationIn) -> Status[dict[str, Any]]:
    e = evaluations.create_evaluation(
        request.auth,  # type: ignore[attr-defined]
        get_project(payload.project),
        title=payload.title,
        outcome=payload.outcome,
        window_months=payload.window_months,
        estimand=payload.estimand,
        mde_points=payload.mde_points,
        counts=payload.counts.dict(),
        experiment=_experiment_or_none(payload.experiment),
    )
    return Status(201, _evaluation_out(e))


@router.post(
    "/evaluations/upload",
    response=responses({201: EvaluationOut}, WRITE),
    auth=auth,
    summary="Fichier CSV de résultats (unit_id, arm, outcome[, period]) déposé par l'évaluateur",
)
def upload_evaluation(
    request: HttpRequest,
    file: File[UploadedFile],
    project: Form[FilledIdentifier],
    title: Form[FilledTitle],
    outcome: Form[Sentence | None] = None,
    window_months: Form[Months | None] = None,
    estimand: Form[Label | None] = None,
    experiment: Form[Identifier | None] = None,
) -> Status[dict[str, Any]]:
    # optional form fields are `T | None = None`: a bounded str type carries its own Field() and
    # would otherwise make ninja require the field despite a default
    e = evaluations.create_evaluation(
        request.auth,  # type: ignore[attr-defined]
        get_project(project),
        title=title,
        outcome=outcome or "",
        window_months=window_months or 6,
        estimand=estimand or "",
        csv_data=_read(file),
        experiment=_experiment_or_none(experiment or ""),
    )
    return Status(201, _evaluation_out(e))


def _draft_for(request: HttpRequest, pk: BigInt) -> Evaluation:
    """Writes look the evaluation up unfiltered: the service then says who may act (403), not 404."""
    e = (
        Evaluation.objects.select_related("project", "pact", "experiment", "evaluator")
        .filter(pk=pk)
        .first()
    )
    if e is None:
        raise NotFound("Cette évaluation n'existe pas.")
    return e


@router.post(
    "/evaluations/{int:pk}/publish",
    response=responses({200: EvaluationOut}, WRITE),
    auth=auth,
    summary="Publier (définitif)",
)
def publish_evaluation(request: HttpRequest, pk: BigInt) -> dict[str, Any]:
    return _evaluation_out(evaluations.publish_evaluation(request.auth, _draft_for(request, pk)))  # type: ignore[attr-defined]


@router.put(
    "/evaluations/{int:pk}",
    response=responses({200: EvaluationOut}, WRITE),
    auth=auth,
    summary="Refusé pour une évaluation publiée ; un brouillon se recrée",
)
def update_evaluation(
    request: HttpRequest, pk: BigInt, payload: EvaluationUpdate
) -> dict[str, Any]:
    e = _draft_for(request, pk)
    if e.status == Evaluation.State.PUBLISHED:
        raise InvalidTransition("Une évaluation publiée ne peut être ni modifiée ni supprimée.")
    raise InvalidTransition(
        "Un brouillon ne se modifie pas : supprimez-le et déposez de nouveau les résultats."
    )


@router.delete(
    "/evaluations/{int:pk}",
    response=responses({204: None}, WRITE),
    auth=auth,
    summary="Supprimer un brouillon",
)
def delete_evaluation(request: HttpRequest, pk: BigInt) -> Status[None]:
    evaluations.delete_evaluation(request.auth, _draft_for(request, pk))  # type: ignore[attr-defined]
    return Status(204, None)


# ------------------------------------------------------------------ audits


def _audit_out(a: Audit) -> dict[str, Any]:
    return {
        "id": a.pk,
        "project": a.project.slug,
        "pact": a.pact.reference if a.pact else None,
        "auditor": a.auditor.slug,
        "title": a.title,
        "decision": a.decision,
        "band": [a.band_low, a.band_high],
        "band_source": a.band_source,
        "min_group_size": a.min_group_size,
        "reference_group": a.reference_group,
        "n_rows": a.n_rows,
        "breach_count": a.breach_count,
        "insufficient_count": a.insufficient_count,
        "remediation_commitment": a.remediation_key,
        "rows": a.rows,
        "groups": a.groups,
        "data_sha256": a.data_sha256,
        "published_at": a.published_at,
    }


@router.get("/audits", response=responses({200: AuditPage}), summary="Audits de biais publiés")
def list_audits(
    request: HttpRequest,
    project: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    return paginate(
        selectors.audits(project=project),
        limit,
        offset,
        lambda page: [_audit_out(a) for a in page],
        after=after,
        by_keyset=True,
    )


@router.get("/audits/{int:pk}", response=responses({200: AuditOut}))
def audit_detail(request: HttpRequest, pk: BigInt) -> dict[str, Any]:
    return _audit_out(selectors.get_audit(pk))


@router.post(
    "/audits",
    response=responses({201: AuditOut}, WRITE),
    auth=auth,
    summary="Publier un audit de biais à partir d'un CSV (group, y_true, y_pred[, in_need])",
)
def create_audit(
    request: HttpRequest,
    file: File[UploadedFile],
    project: Form[FilledIdentifier],
    title: Form[FilledTitle],
    decision: Form[FilledTitle],
    min_group_size: Form[GroupSize | None] = None,
    reference_group: Form[Label | None] = None,
) -> Status[dict[str, Any]]:
    a = audits.publish_audit(
        request.auth,  # type: ignore[attr-defined]
        get_project(project),
        title=title,
        decision=decision,
        csv_data=_read(file),
        min_group_size=min_group_size or 30,
        reference_group=reference_group or None,
    )
    return Status(201, _audit_out(a))


# ------------------------------------------------------------------ panels


class PanelIn(Schema):
    project: Identifier
    title: Title
    description: Paragraph = ""
    target_size: Annotated[int, Field(ge=1, le=100_000)]
    stratify_by: Annotated[str, Field(max_length=20)] = "age_band"
    targets: dict[Label, Count] | None = None
    shares: dict[Label, float] | None = None


def _panel_out(p: PanelCall) -> dict[str, Any]:
    return {
        "id": p.pk,
        "project": p.project.slug,
        "opened_by": p.opened_by.slug,
        "title": p.title,
        "description": p.description,
        "status": p.status,
        "target_size": p.target_size,
        "stratify_by": p.stratify_by,
        "targets": p.targets,
        "seed_commitment": p.seed_commitment,
        "seed": p.seed_hex if p.status != PanelCall.State.OPEN else None,
        "opened_on": p.opened_on,
        "drawn_at": p.drawn_at,
        "composition": selectors.panel_composition(p),
    }


@router.get(
    "/panels", response=responses({200: PanelPage}), summary="Appels à panel et composition agrégée"
)
def list_panels(
    request: HttpRequest,
    project: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    present = Prefetch(
        "members",
        queryset=PanelMember.objects.filter(left=False).only("call_id", "stratum"),
        to_attr="present_strata",
    )
    qs = selectors.panels(project=project).prefetch_related(present)
    return paginate(
        qs, limit, offset, lambda page: [_panel_out(p) for p in page], after=after, by_keyset=True
    )


@router.get("/panels/{int:pk}", response=responses({200: PanelOut}))
def panel_detail(request: HttpRequest, pk: BigInt) -> dict[str, Any]:
    return _panel_out(selectors.get_panel(pk))


@router.post(
    "/panels",
    response=responses({201: PanelOut}, WRITE),
    auth=auth,
    summary="Ouvrir un appel à panel (institution ou porteur)",
)
def open_panel(request: HttpRequest, payload: PanelIn) -> Status[dict[str, Any]]:
    p = panels.open_panel_call(
        request.auth,  # type: ignore[attr-defined]
        get_project(payload.project),
        title=payload.title,
        description=payload.description,
        target_size=payload.target_size,
        stratify_by=payload.stratify_by,
        targets=payload.targets,
        shares=payload.shares,
    )
    return Status(201, _panel_out(p))


@router.post(
    "/panels/{int:pk}/draw",
    response=responses({200: PanelOut}, WRITE),
    auth=auth,
    summary="Tirage stratifié (graine révélée)",
)
def draw_panel(request: HttpRequest, pk: BigInt) -> dict[str, Any]:
    return _panel_out(panels.draw_panel(request.auth, selectors.get_panel(pk)))  # type: ignore[attr-defined]


# ------------------------------------------------------------------ experiments


class ExperimentIn(Schema):
    project: Identifier
    hypothesis: Paragraph
    outcome: Sentence
    baseline_rate: float
    mde_points: float
    power: float = 0.8
    alpha: float = 0.05
    design: Annotated[str, Field(max_length=20)] = "individual"
    window_months: Months = 6
    unit: Label = "personne"
    estimand: Label = "intention de traiter (ITT)"
    slug: Identifier = ""


class AssignIn(Schema):
    unit_ids: list[ShortText] = Field(max_length=MAX_UNITS)
    strata: dict[ShortText, ShortText] | None = None


def _experiment_out(e: Experiment) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for arm in e.arms:
        counts[arm] = (
            e.assignments.filter(arm=arm).count() if e.status == Experiment.State.ASSIGNED else 0
        )
    return {
        "slug": e.slug,
        "project": e.project.slug,
        "status": e.status,
        "hypothesis": e.hypothesis,
        "outcome": e.outcome,
        "estimand": e.estimand,
        "unit": e.unit,
        "design": e.design,
        "window_months": e.window_months,
        "baseline_rate": e.baseline_rate,
        "mde_points": e.mde_points,
        "power": e.power,
        "alpha": e.alpha,
        "arms": e.arms,
        "ratio": e.ratio,
        "required_per_arm": e.required_per_arm,
        "plan_hash": e.plan_hash,
        "seed_commitment": e.seed_commitment,
        "seed": e.seed_hex if e.status == Experiment.State.ASSIGNED else None,
        "allocation_sha256": e.allocation_sha256,
        "counts": counts,
    }


@router.get(
    "/experiments",
    response=responses({200: ExperimentPage}),
    summary="Expérimentations pré-enregistrées",
)
def list_experiments(
    request: HttpRequest,
    project: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    qs = selectors.experiments(project=project).exclude(status=Experiment.State.DRAFT)
    return paginate(
        qs,
        limit,
        offset,
        lambda page: [_experiment_out(e) for e in page],
        after=after,
        by_keyset=True,
    )


@router.get("/experiments/{slug}", response=responses({200: ExperimentOut}))
def experiment_detail(request: HttpRequest, slug: Identifier) -> dict[str, Any]:
    return _experiment_out(selectors.get_experiment(slug))


@router.post(
    "/experiments",
    response=responses({201: ExperimentOut}, WRITE),
    auth=auth,
    summary="Concevoir une expérimentation (taille d'échantillon calculée)",
)
def design_experiment(request: HttpRequest, payload: ExperimentIn) -> Status[dict[str, Any]]:
    data = payload.dict()
    project = get_project(data.pop("project"))
    return Status(
        201,
        _experiment_out(experiments.design_experiment(request.auth, project, **data)),  # type: ignore[attr-defined]
    )


@router.post(
    "/experiments/{slug}/preregister",
    response=responses({200: ExperimentOut}, WRITE),
    auth=auth,
    summary="Pré-enregistrer : empreinte du plan et engagement sur la graine au journal",
)
def preregister(request: HttpRequest, slug: Identifier) -> dict[str, Any]:
    return _experiment_out(experiments.preregister(request.auth, selectors.get_experiment(slug)))  # type: ignore[attr-defined]


@router.post(
    "/experiments/{slug}/assign",
    response=responses({200: ExperimentOut}, WRITE),
    auth=auth,
    summary="Affecter les unités (identifiants pseudonymes) ; la graine est révélée",
)
def assign(request: HttpRequest, slug: Identifier, payload: AssignIn) -> dict[str, Any]:
    exp = selectors.get_experiment(slug)
    experiments.assign_units(request.auth, exp, payload.unit_ids, payload.strata)  # type: ignore[attr-defined]
    exp.refresh_from_db()
    return _experiment_out(exp)


@router.get(
    "/experiments/{slug}/replay",
    response=responses({200: ReplayOut}),
    summary="Rejouer l'affectation depuis le journal",
    description="Résultat du recalcul de l'affectation depuis le seul journal public, calculé une fois "
    "puis conservé (`checked_at`). Pour le refaire soi-même : `pacte evidence replay SLUG`.",
)
def replay(request: HttpRequest, slug: Identifier) -> dict[str, Any]:
    from pacte.evidence.replay import published_replay

    return published_replay(slug)


class GatewayEvaluationIn(Schema):
    grant: Identifier
    outcome_column: Identifier
    window_months: Months | None = None
    title: Title = ""
    outcome: Sentence = ""
    estimand: Label = ""
    mde_points: float | None = None
    publish: bool = True


@router.post(
    "/experiments/{slug}/evaluations/from-gateway",
    response=responses({201: EvaluationOut}, WRITE),
    auth=auth,
    summary="Évaluer avec les résultats de la passerelle de données (jointure pseudonyme, accès de niveau 2)",
)
def evaluation_from_gateway(
    request: HttpRequest, slug: Identifier, payload: GatewayEvaluationIn
) -> Status[dict[str, Any]]:
    from pacte.data.ports import GATEWAY

    exp = selectors.get_experiment(slug)
    e = gateway_evaluations.evaluate_from_gateway(
        request.auth,  # type: ignore[attr-defined]
        exp,
        GATEWAY.grant(payload.grant),
        payload.outcome_column,
        title=payload.title,
        outcome=payload.outcome,
        window_months=payload.window_months,
        estimand=payload.estimand,
        mde_points=payload.mde_points,
        publish=payload.publish,
    )
    return Status(201, _evaluation_out(e))


# ------------------------------------------------------------------ algorithm sheets


class SheetIn(Schema):
    project: Identifier
    title: Title
    purpose: Document
    contribution_degree: Annotated[str, Field(max_length=12)]
    contribution_mode: Document
    data_sources: list[JsonObject] = Field(max_length=MAX_LIST_ITEMS)
    parameters: list[JsonObject] = Field(max_length=MAX_LIST_ITEMS)
    operations: Document
    human_oversight: Document
    risks: Document
    objection_contact: Title


class ExplainIn(Schema):
    situation: JsonObject


def _sheet_out(s: AlgorithmSheet) -> dict[str, Any]:
    return {
        "id": s.pk,
        "project": s.project.slug,
        "title": s.title,
        "status": s.status,
        "version": s.version,
        "purpose": s.purpose,
        "contribution_degree": s.contribution_degree,
        "contribution_mode": s.contribution_mode,
        "data_sources": s.data_sources,
        "parameters": s.parameters,
        "operations": s.operations,
        "human_oversight": s.human_oversight,
        "risks": s.risks,
        "objection_contact": s.objection_contact,
        "legal_basis": s.legal_basis,
        "published_at": s.published_at,
    }


@router.get(
    "/algorithm-sheets",
    response=responses({200: SheetPage}, VIEWER),
    summary="Fiches algorithmes publiées",
)
def list_sheets(
    request: HttpRequest,
    project: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    qs = selectors.sheets(viewer(request), project=project)
    return paginate(
        qs, limit, offset, lambda page: [_sheet_out(s) for s in page], after=after, by_keyset=True
    )


@router.get("/algorithm-sheets/{int:pk}", response=responses({200: SheetOut}, VIEWER))
def sheet_detail(request: HttpRequest, pk: BigInt) -> dict[str, Any]:
    return _sheet_out(selectors.get_sheet(viewer(request), pk))


@router.get(
    "/algorithm-sheets/{int:pk}/atrs",
    response=responses({200: dict[str, Any]}),
    summary="Export au format Algorithmic Transparency Recording Standard (UK)",
)
def sheet_atrs(request: HttpRequest, pk: BigInt) -> dict[str, Any]:
    return sheets.atrs_export(selectors.get_sheet(None, pk))


@router.post(
    "/algorithm-sheets",
    response=responses({201: SheetOut}, WRITE),
    auth=auth,
    summary="Rédiger une fiche (porteur)",
)
def create_sheet(request: HttpRequest, payload: SheetIn) -> Status[dict[str, Any]]:
    data = payload.dict()
    project = get_project(data.pop("project"))
    return Status(201, _sheet_out(sheets.create_sheet(request.auth, project, data)))  # type: ignore[attr-defined]


@router.post(
    "/algorithm-sheets/{int:pk}/publish",
    response=responses({200: SheetOut}, WRITE),
    auth=auth,
    summary="Publier la fiche",
)
def publish_sheet(request: HttpRequest, pk: BigInt) -> dict[str, Any]:
    sheet = selectors.get_sheet(request.auth, pk)  # type: ignore[attr-defined]
    return _sheet_out(sheets.publish_sheet(request.auth, sheet))  # type: ignore[attr-defined]


@router.post(
    "/algorithm-sheets/{int:pk}/explain",
    response=responses({200: ExplanationOut}, (400, 404, 413, 422, 503)),
    summary="Explication individuelle : paramètres appliqués à une situation, pondérations, contributions",
)
def explain(request: HttpRequest, pk: BigInt, payload: ExplainIn) -> dict[str, Any]:
    return sheets.explain(selectors.get_sheet(None, pk), payload.situation)


# ------------------------------------------------------------------ compliance


@router.get(
    "/compliance/cases",
    response=responses({200: CasePage}),
    summary="Manquements constatés par le moteur de conformité",
)
def compliance_cases(
    request: HttpRequest,
    project: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    from pacte.evidence.models import ComplianceCase

    qs = ComplianceCase.objects.select_related("version__pact").order_by("-opened_on", "-id")
    if project:
        qs = qs.filter(version__pact__project__slug=project)
    return paginate(
        qs,
        limit,
        offset,
        lambda page: [
            {
                "pact": c.version.pact.reference,
                "version": c.version.number,
                "status": c.status,
                "commitments": c.commitment_keys,
                "reason": c.reason,
                "opened_on": c.opened_on,
                "cure_deadline": c.cure_deadline,
                "suspended_on": c.suspended_on,
                "break_on": c.break_on,
                "closed_on": c.closed_on,
            }
            for c in page
        ],
        after=after,
        by_keyset=True,
    )


__all__ = ["router", "NotFound"]
