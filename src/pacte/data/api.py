"""Data access API: catalogue (DCAT-AP), rules, requests, grants, releases, and the gateway.

The gateway (`/data/{dataset}/…`) authenticates with a *grant* token (`Authorization: Bearer
pgr_…`), a different class from user API tokens; requests and decisions use user tokens.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.security import HttpBearer

from pacte.accounts.api_auth import TokenAuth
from pacte.accounts.services import Acting
from pacte.api_contract import (
    MAX_LONG_LIMIT,
    READ,
    WRITE,
    Cursor,
    Limit,
    LongLimit,
    Offset,
    binary_response,
    paginate,
    responses,
)
from pacte.data import grants, requests, selectors
from pacte.data.api_schemas import (
    AggregatesOut,
    ApprovalOut,
    DatasetDetail,
    DatasetPage,
    GrantDetail,
    GrantOut,
    GrantPage,
    GrantTokenOut,
    ProportionalityOut,
    ReleaseOut,
    ReleasePage,
    RequestOut,
    SecureRoomOut,
)
from pacte.data.gateway import extracts
from pacte.data.gateway import secure_room as secure_room_rules
from pacte.data.gateway.access import authenticate_grant
from pacte.data.gateway.aggregates import dp_aggregates
from pacte.data.gateway.secure_room import secure_room_query
from pacte.data.models import DataRequest, Dataset, Grant, Release
from pacte.engines import privacy, proportionality
from pacte.errors import NotFound
from pacte.input_limits import (
    IDENTIFIER,
    JSON_VALUE_REF,
    MAX_LIST_ITEMS,
    NO_NUL_PATTERN,
    Document,
    Identifier,
    Paragraph,
    Sentence,
    Title,
    parse_json,
)
from pacte.pacts.selectors import get_pact
from pacte.writes.idempotency import not_idempotent, own_transactions

router = Router(tags=["données"])
user_auth = TokenAuth()


class GrantAuth(HttpBearer):
    """Bearer *grant* token: checks the hash, the state and the expiry on every call."""

    def authenticate(self, request: HttpRequest, token: str) -> Grant | None:
        grant = authenticate_grant(token)  # raises a DomainError with a clear message
        request.grant = grant  # type: ignore[attr-defined]
        return grant


grant_auth = GrantAuth()


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _body(request: HttpRequest) -> Any:
    return parse_json(
        request.body or b"{}"
    )  # NUL, surrogates, huge numbers and texts refused (400)


# ---------------------------------------------------------------- public: catalogue and rules

MAX_RELEASES_PAGE = MAX_LONG_LIMIT


def dataset_out(ds: Dataset, detail: bool = False) -> dict[str, Any]:
    current = ds.current_version
    out: dict[str, Any] = {
        "slug": ds.slug,
        "title": ds.title,
        "description": ds.description,
        "licence": ds.licence,
        "publisher": ds.publisher.slug,
        "sensitivity": ds.sensitivity,
        "certified": ds.certified,
        "keywords": ds.keywords,
        "current_version": current.version if current else None,
        "row_count": current.row_count if current else None,
    }
    if detail:
        out["versions"] = [
            {
                "version": v.version,
                "is_current": v.is_current,
                "row_count": v.row_count,
                "sha256": v.sha256,
                "byte_size": v.byte_size,
                "schema": v.schema,
                "person_column": v.person_column,
                "enterprise_column": v.enterprise_column,
                "rows_per_person": v.max_contributions,
                "privacy_unit": v.privacy_unit_label,
                "rho_cap": v.rho_cap,
                "rho_spent": v.rho_spent,
                "created_at": v.created_at.isoformat(),
            }
            for v in ds.versions.all()
        ]
        out["grants"] = [grant_out(g) for g in selectors.grants_of_dataset(ds)]
    return out


def grant_out(g: Grant) -> dict[str, Any]:
    return {
        "reference": g.reference,
        "name": g.name,
        "project": g.project.slug,
        "carrier": g.project.carrier.slug,
        "dataset": g.dataset_version.dataset.slug,
        "dataset_version": g.dataset_version.version,
        "tier": g.tier,
        "tier_label": proportionality.Tier(g.tier).label,
        "columns": g.columns,
        "purpose": g.purpose,
        "state": g.state,
        "rho_grant": g.rho_grant,
        "rho_query": g.rho_query,
        "rho_spent": g.rho_spent,
        "rho_remaining": g.rho_remaining,
        "rule_id": g.rule_id,
        "rules_version": g.rules_version,
        "issued_at": g.issued_at.isoformat(),
        "expires_at": g.expires_at.isoformat(),
        "last_reason": g.last_reason,
        "releases": g.releases.count(),
    }


def release_out(r: Release) -> dict[str, Any]:
    return {
        "release_id": str(r.release_id),
        "grant": r.grant.reference,
        "project": r.grant.project.slug,
        "dataset": r.dataset_version.dataset.slug,
        "dataset_version": r.dataset_version.version,
        "fingerprint": r.fingerprint,
        "query": r.query,
        "rho": r.rho,
        "privacy_unit": r.privacy_unit or None,
        "cells": r.cells,
        "aggregates": r.aggregates,
        "output_sha256": r.output_sha256,
        "served": r.served,
        "created_at": r.created_at.isoformat(),
    }


@router.get(
    "/catalog.jsonld",
    response=responses({200: None}, (400, 503)),
    summary="Catalogue DCAT-AP (JSON-LD)",
    openapi_extra=binary_response(
        {"application/ld+json": "Catalogue DCAT-AP 3 en JSON-LD."},
        schema={"type": "object", "required": ["@context", "@graph"]},
    ),
)
def catalog_jsonld(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        selectors.dcat_catalog(_base(request)),
        content_type="application/ld+json",
        json_dumps_params={"ensure_ascii": False},
    )


@router.get(
    "/datasets", response=responses({200: DatasetPage}), summary="Jeux de données du catalogue"
)
def list_datasets(
    request: HttpRequest, limit: Limit = 20, offset: Offset = 0, after: Cursor = ""
) -> dict[str, Any]:
    return paginate(
        selectors.datasets(),
        limit,
        offset,
        lambda page: [dataset_out(d) for d in page],
        after=after,
        by_keyset=True,
    )


@router.get(
    "/datasets/{slug}",
    response=responses({200: DatasetDetail}),
    by_alias=True,
    summary="Un jeu de données : versions, schéma classé, accès",
)
def dataset_detail(request: HttpRequest, slug: Identifier) -> dict[str, Any]:
    return dataset_out(selectors.get_dataset(slug), detail=True)


@router.get(
    "/datasets/{slug}/releases",
    response=responses({200: ReleasePage}),
    summary="Toutes les publications DP d'un jeu de données",
)
def dataset_releases(
    request: HttpRequest,
    slug: Identifier,
    limit: LongLimit = MAX_RELEASES_PAGE,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    releases = selectors.releases_of_dataset(selectors.get_dataset(slug))
    return paginate(
        releases,
        limit,
        offset,
        lambda page: [release_out(r) for r in page],
        max_limit=MAX_RELEASES_PAGE,
        after=after,
        by_keyset=True,
    )


@router.get(
    "/proportionality",
    response=responses({200: ProportionalityOut}, (400, 503)),
    summary="Règles de proportionnalité (publiques, versionnées)",
)
def proportionality_rules(request: HttpRequest) -> dict[str, Any]:
    return {
        "rules_version": proportionality.RULES_VERSION,
        "rows": proportionality.table_as_rows(),
        "required_approvals": requests.REQUIRED_APPROVALS,
        "dp_limits": privacy.published_limits(),
    }


@router.get("/grants", response=responses({200: GrantPage}), summary="Accès accordés (publics)")
def list_grants(
    request: HttpRequest,
    dataset: Identifier = "",
    project: Identifier = "",
    limit: LongLimit = MAX_RELEASES_PAGE,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    qs = Grant.objects.select_related("project__carrier", "dataset_version__dataset").order_by(
        "-issued_at", "-id"
    )
    if dataset:
        qs = qs.filter(dataset_version__dataset__slug=dataset)
    if project:
        qs = qs.filter(project__slug=project)
    return paginate(
        qs,
        limit,
        offset,
        lambda page: [grant_out(g) for g in page],
        max_limit=MAX_RELEASES_PAGE,
        after=after,
        by_keyset=True,
    )


@router.get(
    "/grants/{reference}",
    response=responses({200: GrantDetail}),
    summary="Un accès : qui, quelles données, quelle finalité, budget, publications",
)
def grant_detail(request: HttpRequest, reference: Identifier) -> dict[str, Any]:
    g = selectors.get_grant(reference)
    return grant_out(g) | {
        "release_list": [
            release_out(r)
            for r in g.releases.select_related(
                "grant__project", "dataset_version__dataset"
            ).order_by("-created_at", "-id")[:MAX_RELEASES_PAGE]
        ],
        "decision": g.decision,
    }


@router.get(
    "/releases/{release_id}", response=responses({200: ReleaseOut}), summary="Une publication DP"
)
def release_detail(request: HttpRequest, release_id: Identifier) -> dict[str, Any]:
    return release_out(selectors.get_release(release_id))


# ---------------------------------------------------------------- requests (user tokens)

Columns = Annotated[list[Identifier], Field(max_length=MAX_LIST_ITEMS)]


TierNumber = Annotated[
    int,
    Field(
        ge=1,
        le=5,
        description="Niveau d'accès : 1 extrait ouvert, 2 pseudonymisé, "
        "3 agrégats DP, 4 salle sécurisée, 5 consentement.",
    ),
]
RetentionMonths = Annotated[
    int, Field(ge=1, le=120, description="Durée de conservation, de 1 à 120 mois.")
]


class RequestIn(Schema):
    pact: Identifier
    dataset: Identifier
    purpose: Document
    tier: TierNumber
    columns: Columns = []
    aggregates: Paragraph = ""
    legal_basis: Sentence = ""
    retention_months: RetentionMonths = 12
    retention_justification: Paragraph = ""
    recipients: Paragraph = ""
    dpo_contact: Title = ""
    volumetry: Title = ""


class RequestPatch(Schema):
    purpose: Document | None = None
    tier: TierNumber | None = None
    columns: Columns | None = None
    aggregates: Paragraph | None = None
    legal_basis: Sentence | None = None
    retention_months: RetentionMonths | None = None
    retention_justification: Paragraph | None = None
    recipients: Paragraph | None = None
    dpo_contact: Title | None = None
    volumetry: Title | None = None


class ReasonIn(Schema):
    reason: Paragraph = ""


class ApproveIn(Schema):
    population: Annotated[
        int, Field(ge=0, le=2**31 - 1, description="Population concernée (personnes).")
    ]
    severity: Annotated[
        int, Field(ge=1, le=3, description="Gravité du besoin : 1 (faible) à 3 (forte).")
    ]
    note: Paragraph = ""


def request_out(r: DataRequest) -> dict[str, Any]:
    return {
        "reference": r.reference,
        "status": r.status,
        "dataset": r.dataset.slug,
        "dataset_version": r.dataset_version.version,
        "pact": r.pact.reference,
        "pact_version": r.pact_version.number,
        "project": r.project.slug,
        "purpose": r.purpose,
        "purpose_limitation": r.purpose_limitation,
        "tier": r.tier,
        "columns": r.columns,
        "aggregates": r.aggregates,
        "legal_basis": r.legal_basis,
        "retention_months": r.retention_months,
        "retention_justification": r.retention_justification,
        "recipients": r.recipients,
        "dpo_contact": r.dpo_contact,
        "volumetry": r.volumetry,
        "submissions": len(r.submissions),
        "decision": r.decision,
        "strength": r.strength,
        "last_reason": r.last_reason,
        "clock": selectors.clock(r),
        "diff": [{"kind": d.kind, "text": d.text} for d in selectors.submission_diff(r)],
        "reviews": [
            {
                "decision": v.decision,
                "organisation": v.organisation.slug,
                "reason": v.reason,
                "rule_id": v.rule_id,
                "submission": v.submission,
                "at": v.at.isoformat(),
            }
            for v in r.reviews.select_related("organisation")
        ],
        "grant": r.grant.reference if hasattr(r, "grant") else None,
    }


def _req(request: HttpRequest, reference: Identifier) -> DataRequest:
    return selectors.get_request(request.auth, reference)  # type: ignore[attr-defined]


@router.post(
    "/data-requests",
    auth=user_auth,
    response=responses({201: RequestOut}, WRITE),
    summary="Demander un accès (depuis un pacte en vigueur)",
)
def create_request(request: HttpRequest, payload: RequestIn) -> Any:
    acting: Acting = request.auth  # type: ignore[attr-defined]
    ds = Dataset.objects.filter(slug=payload.dataset).first()
    if ds is None:
        raise NotFound(_("Jeu de données « %(slug)s » introuvable.") % {"slug": payload.dataset})
    fields = payload.dict(exclude={"pact", "dataset"})
    req = requests.create_request(acting, get_pact(payload.pact), ds, **fields)
    return Status(201, request_out(req))


@router.get(
    "/data-requests/{reference}",
    auth=user_auth,
    response=responses({200: RequestOut}, (*READ, 401, 403)),
    summary="Une demande (porteur, institution éditrice)",
)
def get_request(request: HttpRequest, reference: Identifier) -> dict[str, Any]:
    return request_out(_req(request, reference))


@router.patch(
    "/data-requests/{reference}",
    auth=user_auth,
    response=responses({200: RequestOut}, WRITE),
    summary="Modifier une demande (brouillon, à modifier)",
)
def patch_request(
    request: HttpRequest, reference: Identifier, payload: RequestPatch
) -> dict[str, Any]:
    fields = {k: v for k, v in payload.dict().items() if v is not None}
    return request_out(requests.update_request(request.auth, _req(request, reference), **fields))  # type: ignore[attr-defined]


@router.post(
    "/data-requests/{reference}/approve",
    auth=user_auth,
    response=responses({200: ApprovalOut}, WRITE),
    summary="Avis favorable sur une demande (l'accès est accordé au dernier avis requis)",
)
def approve_request(
    request: HttpRequest, reference: Identifier, payload: ApproveIn
) -> dict[str, Any]:
    acting: Acting = request.auth  # type: ignore[attr-defined]
    outcome = requests.approve_request(
        acting,
        _req(request, reference),
        population=payload.population,
        severity=payload.severity,
        note=payload.note,
    )
    return request_out(outcome.request) | {
        "approvals": outcome.approvals,
        "required": outcome.required,
    }


RequestAction = Literal["submit", "withdraw", "request-changes", "refuse"]


@router.post(
    "/data-requests/{reference}/{action}",
    auth=user_auth,
    response=responses({200: RequestOut}, WRITE),
    summary="Transition d'une demande (submit, withdraw, request-changes, refuse)",
)
def request_action(
    request: HttpRequest,
    reference: Identifier,
    action: RequestAction,
    payload: ReasonIn | None = None,
) -> dict[str, Any]:
    acting: Acting = request.auth  # type: ignore[attr-defined]
    req = _req(request, reference)
    reason = payload.reason if payload is not None else ""
    if action == "submit":
        req = requests.submit_request(acting, req)
    elif action == "withdraw":
        req = requests.withdraw_request(acting, req, reason)
    elif action == "request-changes":
        req = requests.request_changes(acting, req, reason)
    else:
        req = requests.refuse_request(acting, req, reason)
    return request_out(req)


# ---------------------------------------------------------------- grants (user tokens)


@router.post(
    "/grants/{reference}/token",
    auth=user_auth,
    response=responses({200: GrantTokenOut}, WRITE),
    summary="Obtenir le jeton de l'accès (affiché une seule fois)",
    description="Réservé à l'administrateur du porteur bénéficiaire (ou de la plateforme) : le nouveau jeton "
    "remplace aussitôt le précédent ; la rotation est inscrite au journal et l'équipe en est avertie.",
)
@not_idempotent  # the raw token is shown once: never stored for a replay
def grant_token(request: HttpRequest, reference: Identifier) -> dict[str, Any]:
    g = selectors.get_grant(reference)
    raw = grants.issue_token(request.auth, g)  # type: ignore[attr-defined]
    return {
        "grant": g.reference,
        "token": raw,
        "dataset": g.dataset_version.dataset.slug,
        "tier": g.tier,
        "note": "Ce jeton n'est affiché qu'une fois ; il remplace le précédent (l'équipe du porteur en est avertie).",
    }


GrantAction = Literal["renew", "suspend", "revoke", "reinstate"]


@router.post(
    "/grants/{reference}/{action}",
    auth=user_auth,
    response=responses({200: GrantOut}, WRITE),
    summary="Renouveler, suspendre, révoquer, rétablir",
)
def grant_action(
    request: HttpRequest,
    reference: Identifier,
    action: GrantAction,
    payload: ReasonIn | None = None,
) -> dict[str, Any]:
    acting: Acting = request.auth  # type: ignore[attr-defined]
    g = selectors.get_grant(reference)
    reason = payload.reason if payload is not None else ""
    if action == "renew":
        g = grants.renew_grant(acting, g, reason)
    elif action == "suspend":
        g = grants.suspend_grant(acting, g, reason)
    elif action == "revoke":
        g = grants.revoke_grant(acting, g, reason)
    else:
        g = grants.reactivate_grant(acting, g, reason)
    return grant_out(selectors.get_grant(g.reference))


# ---------------------------------------------------------------- gateway (grant tokens)

_DP = privacy.published_limits()
AGGREGATES_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "group_by": {
            "type": "array",
            "items": {"type": "string", "maxLength": IDENTIFIER, "pattern": NO_NUL_PATTERN},
            "maxItems": _DP["max_group_by"],
            "description": f"Colonnes à jeu de clés public ; au plus {_DP['max_cells']} cellules.",
        },
        "aggregates": {
            "type": "array",
            "minItems": 1,
            "maxItems": _DP["max_aggregates"],
            "items": {
                "type": "object",
                "properties": {
                    "op": {"enum": ["count", "sum", "mean"]},
                    "column": {
                        "type": "string",
                        "maxLength": IDENTIFIER,
                        "pattern": NO_NUL_PATTERN,
                    },
                },
                "required": ["op"],
            },
        },
        "filters": {
            "type": "array",
            "maxItems": _DP["max_filters"],
            "items": {
                "type": "object",
                "required": ["column", "op", "value"],
                "properties": {
                    "column": {
                        "type": "string",
                        "maxLength": IDENTIFIER,
                        "pattern": NO_NUL_PATTERN,
                    },
                    "op": {"enum": ["eq", "in"]},
                    "value": JSON_VALUE_REF,
                },
            },
        },
        "rho": {
            "type": "number",
            "minimum": _DP["min_rho"],
            "maximum": _DP["max_rho"],
            "default": _DP["default_rho"],
            "description": f"Budget zCDP de cette requête, entre {_DP['min_rho']:g} et {_DP['max_rho']:g} "
            "(et au plus le plafond par requête de l'accès) ; hors bornes : 400. Le bruit "
            f"(écart type) d'un agrégat ne dépasse jamais {_DP['max_noise_scale']:g}.",
        },
    },
    "example": {
        "group_by": ["region"],
        "aggregates": [{"op": "count"}, {"op": "mean", "column": "monthly_salary_eur"}],
        "filters": [],
        "rho": 0.005,
    },
}


# The gateway also answers 429 (privacy budget exhausted) besides the errors of any write.
GATEWAY = (*WRITE, 429)


@router.post(
    "/data/{dataset}/aggregates",
    auth=grant_auth,
    response=responses({200: AggregatesOut}, GATEWAY),
    summary="Niveau 3 : agrégats en confidentialité différentielle",
    description=f"ρ par requête : minimum {_DP['min_rho']:g}, maximum {_DP['max_rho']:g} "
    "(limites publiées : /api/v1/proportionality, champ dp_limits).",
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": AGGREGATES_BODY_SCHEMA}}}
    },
)
@own_transactions  # reserve, compute outside locks, publish (see data.gateway)
def aggregates(request: HttpRequest, dataset: Identifier) -> dict[str, Any]:
    return dp_aggregates(request.auth, dataset, _body(request))  # type: ignore[attr-defined]


EXTRACT_HEADERS = {
    "Content-Disposition": "attachment; filename=…",
    "X-Pacte-Rows": "Nombre de lignes de l'extrait.",
    "X-Pacte-Output-SHA256": "Empreinte SHA-256 du fichier servi.",
}


@router.get(
    "/data/{dataset}/extract",
    auth=grant_auth,
    response=responses({200: None}, GATEWAY),
    summary="Niveaux 1 et 2 : extrait ouvert ou pseudonymisé (flux)",
    openapi_extra=binary_response(
        {"text/csv": "Extrait CSV (UTF-8).", "application/vnd.apache.parquet": "Extrait Parquet."},
        EXTRACT_HEADERS,
    ),
)
def extract(
    request: HttpRequest, dataset: Identifier, format: Literal["csv", "parquet"] = "csv"
) -> StreamingHttpResponse:
    ex = extracts.extract(request.auth, dataset, format)  # type: ignore[attr-defined]
    response = StreamingHttpResponse(ex.chunks(), content_type=ex.content_type)
    response["Content-Disposition"] = f'attachment; filename="{ex.filename}"'
    response["X-Pacte-Rows"] = str(ex.rows)
    response["X-Pacte-Output-SHA256"] = ex.sha256
    if ex.report:
        # k achieved, in distinct persons per equivalence class (rows only for a dataset without person column)
        response["X-Pacte-K-Anonymity"] = str(ex.report.get("min_class_size"))
        response["X-Pacte-K-Anonymity-Unit"] = str(ex.report.get("unit"))
        response["X-Pacte-Rows-Suppressed"] = str(ex.report.get("rows_suppressed"))
    return response


@router.post(
    "/data/{dataset}/secure-room",
    auth=grant_auth,
    response=responses({200: SecureRoomOut}, GATEWAY),
    summary="Niveau 4 : salle sécurisée (SQL agrégé restreint)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["sql"],
                        "properties": {
                            "sql": {
                                "type": "string",
                                "maxLength": secure_room_rules.LIMITS.max_sql_chars,
                                "pattern": NO_NUL_PATTERN,
                                "description": "Une requête SELECT agrégée sur la table « donnees ».",
                            }
                        },
                        "example": {
                            "sql": "SELECT region, COUNT(*) AS n FROM donnees GROUP BY region"
                        },
                    }
                }
            },
        }
    },
)
@own_transactions  # computes, then logs the call in its own transaction (see data.gateway)
def secure_room(request: HttpRequest, dataset: Identifier) -> dict[str, Any]:
    body = _body(request)
    sql = body.get("sql") if isinstance(body, dict) else None
    return secure_room_query(request.auth, dataset, sql)  # type: ignore[attr-defined]
