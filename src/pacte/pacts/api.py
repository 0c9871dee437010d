from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from pacte.accounts.api_auth import TokenAuth
from pacte.accounts.models import Organisation
from pacte.accounts.viewer import viewer
from pacte.api_contract import (
    VIEWER,
    WRITE,
    Cursor,
    Keyset,
    Limit,
    Offset,
    paginate,
    responses,
)
from pacte.errors import NotFound
from pacte.input_limits import DOCUMENT, BigInt, Identifier, JsonObject, Paragraph, Url
from pacte.pacts import actions, commitments, documents, drafting, selectors
from pacte.pacts.models import Commitment, PactVersion
from pacte.projects.selectors import get_project

router = Router(tags=["pactes"])
auth = TokenAuth()


class VersionOut(Schema):
    pact: str
    number: int
    status: str
    is_current: bool
    canonical_sha256: str
    requires_second_review: bool
    submitted_at: datetime | None
    status_changed_at: datetime | None
    last_reason: str
    cure_deadline: date | None
    content: dict[str, Any]
    signatures: list[dict[str, Any]]


class PactOut(Schema):
    reference: str
    project: str
    institution: str
    current_version: int | None
    status: str | None


class PactPage(Schema):
    count: int
    items: list[PactOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


# newest pact first; the cursor carries the pact's creation instant (ISO 8601) and the version's id
NEWEST_PACT_FIRST = Keyset(
    order=("-pact__created_at", "-pk"),
    types=(str, int),
    key=lambda row: (row[5].isoformat(), row[6]),
)


class CommitmentOut(Schema):
    pact: str
    version: int
    key: str
    owner: str
    principle: str
    text: str
    indicator: str
    threshold: str
    due_date: date | None
    recurrence: str
    evidence_kind: str
    status: str
    progress: int


class CommitmentPage(Schema):
    count: int
    items: list[CommitmentOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


# soonest due first, commitments without a due date last; the cursor carries the due date
# (ISO 8601, or null) and the commitment's id
SOONEST_DUE_FIRST = Keyset(
    order=("due_date", "id"),
    types=(str, int),
    key=lambda row: (row["due_date"].isoformat() if row["due_date"] else None, row["id"]),
    nullable=frozenset({"due_date"}),
)


CONTENT_DOC = (
    f"Contenu du pacte (objet JSON) : chaque texte y compte au plus {DOCUMENT} caractères, "
    f"le corps entier au plus {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} octets."
)


class PactCreate(Schema):
    project: Identifier
    institution: Identifier
    content: JsonObject = Field(default={}, description=CONTENT_DOC)


class ContentIn(Schema):
    content: JsonObject = Field(description=CONTENT_DOC)


class TransitionIn(Schema):
    reason: Paragraph = ""


class EvidenceIn(Schema):
    progress: Annotated[int, Field(ge=0, le=100)]
    note: Paragraph
    url: Url = ""
    met: bool = False


def _version_out(v: PactVersion) -> dict[str, Any]:
    return {
        "pact": v.pact.reference,
        "number": v.number,
        "status": v.status,
        "is_current": v.is_current,
        "canonical_sha256": v.canonical_sha256,
        "requires_second_review": v.requires_second_review,
        "submitted_at": v.submitted_at,
        "status_changed_at": v.status_changed_at,
        "last_reason": v.last_reason,
        "cure_deadline": v.cure_deadline,
        "content": v.content,
        "signatures": [
            {
                "side": s.side,
                "organisation": s.organisation.slug,
                "public_key": s.public_key,
                "signature": s.signature,
                "digest_sha256": s.digest_sha256,
                "signed_at": s.signed_at.isoformat(),
                "valid": documents.verify_signature(s),
            }
            for s in v.signatures.select_related(
                "organisation", "version__pact__project__carrier", "version__pact__institution"
            )
        ],
    }


def _commitment_out(c: Commitment) -> dict[str, Any]:
    return {
        "pact": c.version.pact.reference,
        "version": c.version.number,
        "key": c.key,
        "owner": c.owner,
        "principle": c.principle,
        "text": c.text,
        "indicator": c.indicator,
        "threshold": c.threshold,
        "due_date": c.due_date,
        "recurrence": c.recurrence,
        "evidence_kind": c.evidence_kind,
        "status": c.status,
        "progress": c.progress,
    }


@router.get(
    "",
    response=responses({200: PactPage}, VIEWER),  # 404 (in VIEWER): a cursor that names no page
    summary="Liste paginée des pactes publics",
)
def list_pacts(
    request: HttpRequest,
    status: Identifier = "",
    institution: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    qs = selectors.versions_visible(viewer(request)).filter(is_current=True)
    if status:
        qs = qs.filter(status=status)
    if institution:
        qs = qs.filter(pact__institution__slug=institution)
    rows = qs.values_list(
        "pact__reference",
        "pact__project__slug",
        "pact__institution__slug",
        "number",
        "status",
        "pact__created_at",
        "pk",
    )  # newest first, by keyset when the client follows `next`
    return paginate(
        rows,
        limit,
        offset,
        lambda page: [
            {
                "reference": reference,
                "project": project,
                "institution": institution,
                "current_version": number,
                "status": status,
            }
            for reference, project, institution, number, status, _created, _pk in page
        ],
        keyset=NEWEST_PACT_FIRST,
        after=after,
    )  # plain rows: the versions' content is not read for a list


@router.get(
    "/commitments",
    response=responses({200: CommitmentPage}),  # 404 (in READ): a cursor that names no page
    summary="Engagements des deux parties",
)
def list_commitments(
    request: HttpRequest,
    status: Identifier = "",
    owner: Identifier = "",
    limit: Limit = 50,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    columns = (
        "key",
        "owner",
        "principle",
        "text",
        "indicator",
        "threshold",
        "due_date",
        "recurrence",
        "evidence_kind",
        "status",
        "progress",
    )
    rows = selectors.commitments(status=status, owner=owner).values(
        "id", "version__pact__reference", "version__number", *columns
    )
    return paginate(
        rows,
        limit,
        offset,
        lambda page: [
            {
                "pact": r.pop("version__pact__reference"),
                "version": r.pop("version__number"),
                **{k: v for k, v in r.items() if k != "id"},
            }
            for r in page
        ],
        keyset=SOONEST_DUE_FIRST,
        after=after,
    )  # plain rows: no pact content, no model instances; by keyset when the client follows next


@router.get("/{reference}", response=responses({200: PactOut}, VIEWER))
def pact_detail(request: HttpRequest, reference: Identifier) -> dict[str, Any]:
    pact = selectors.get_pact(reference)
    visible = selectors.versions_visible(viewer(request)).filter(pact=pact)
    current = visible.filter(is_current=True).first()
    if current is None and not visible.exists():
        raise NotFound(_("Ce pacte n'est pas encore public."))
    return {
        "reference": pact.reference,
        "project": pact.project.slug,
        "institution": pact.institution.slug,
        "current_version": current.number if current else None,
        "status": current.status if current else None,
    }


@router.get("/{reference}/versions", response=responses({200: list[VersionOut]}, VIEWER))
def pact_versions(request: HttpRequest, reference: Identifier) -> list[dict[str, Any]]:
    pact = selectors.get_pact(reference)
    return [_version_out(v) for v in selectors.pact_versions(viewer(request), pact)]


@router.get("/{reference}/versions/{number}", response=responses({200: VersionOut}, VIEWER))
def version_detail(request: HttpRequest, reference: Identifier, number: BigInt) -> dict[str, Any]:
    return _version_out(selectors.get_version(viewer(request), reference, number))


@router.get(
    "/{reference}/versions/{number}/commitments",
    response=responses({200: list[CommitmentOut]}, VIEWER),
)
def version_commitments(
    request: HttpRequest, reference: Identifier, number: BigInt
) -> list[dict[str, Any]]:
    v = selectors.get_version(viewer(request), reference, number)
    return [_commitment_out(c) for c in v.commitments.select_related("version__pact")]


# ------------------------------------------------------------------ writes (token)


@router.post(
    "",
    response=responses({201: VersionOut}, WRITE),
    auth=auth,
    summary="Rédiger un nouveau pacte (porteur)",
)
def create_pact(request: HttpRequest, payload: PactCreate) -> Status[dict[str, Any]]:
    project = get_project(payload.project)
    institution = Organisation.objects.filter(slug=payload.institution).first()
    if institution is None:
        raise NotFound(_("Institution inconnue."))
    v = drafting.create_pact(request.auth, project, institution, payload.content)  # type: ignore[attr-defined]
    return Status(201, _version_out(v))


def _own_version(request: HttpRequest, reference: Identifier, number: BigInt) -> PactVersion:
    return selectors.get_version(request.auth, reference, number)  # type: ignore[attr-defined]


@router.put(
    "/{reference}/versions/{number}",
    response=responses({200: VersionOut}, WRITE),
    auth=auth,
    summary="Modifier un brouillon",
)
def update_version(
    request: HttpRequest, reference: Identifier, number: BigInt, payload: ContentIn
) -> dict[str, Any]:
    v = drafting.update_draft(
        request.auth,  # type: ignore[attr-defined]
        _own_version(request, reference, number),
        payload.content,
    )
    return _version_out(v)


@router.post(
    "/{reference}/versions",
    response=responses({201: VersionOut}, WRITE),
    auth=auth,
    summary="Nouvelle version (révision ou avenant)",
)
def create_version(request: HttpRequest, reference: Identifier) -> Status[dict[str, Any]]:
    v = drafting.new_version(request.auth, selectors.get_pact(reference))  # type: ignore[attr-defined]
    return Status(201, _version_out(v))


# the lifecycle's actions, an enum in the OpenAPI document (an unknown action is a 400)
TransitionAction = Literal[
    "submit",
    "withdraw",
    "request_changes",
    "approve",
    "sign",
    "notify_breach",
    "cure",
    "suspend",
    "reinstate",
    "break",
    "complete",
]
assert set(get_args(TransitionAction)) == set(actions.ACTIONS), (
    "the API's enum is the lifecycle's actions"
)


@router.post(
    "/{reference}/versions/{number}/transitions/{action}",
    response=responses({200: VersionOut}, WRITE),
    auth=auth,
    summary="Faire avancer le cycle de vie (submit, withdraw, request_changes, approve, sign, "
    "notify_breach, cure, suspend, reinstate, break, complete)",
)
def transition(
    request: HttpRequest,
    reference: Identifier,
    number: BigInt,
    action: TransitionAction,
    payload: TransitionIn,
) -> dict[str, Any]:
    v = _own_version(request, reference, number)
    actions.ACTIONS[action](request.auth, v, payload.reason)  # type: ignore[attr-defined]
    v.refresh_from_db()
    return _version_out(v)


@router.post(
    "/{reference}/versions/{number}/commitments/{key}/evidence",
    response=responses({200: CommitmentOut}, WRITE),
    auth=auth,
    summary="Déposer la preuve d'un engagement",
)
def add_evidence(
    request: HttpRequest,
    reference: Identifier,
    number: BigInt,
    key: Identifier,
    payload: EvidenceIn,
) -> dict[str, Any]:
    v = _own_version(request, reference, number)
    c = v.commitments.filter(key=key).first()
    if c is None:
        raise NotFound(_("Engagement inconnu."))
    c = commitments.record_evidence(
        request.auth,  # type: ignore[attr-defined]
        c,
        progress=payload.progress,
        note=payload.note,
        url=payload.url,
        met=payload.met,
    )
    return _commitment_out(c)
