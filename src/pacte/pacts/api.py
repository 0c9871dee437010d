from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from pacte.accounts.models import Organisation
from pacte.accounts.viewer import viewer
from pacte.api import TokenAuth
from pacte.errors import NotFound, ValidationFailed
from pacte.pacts import selectors, services
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


class PactCreate(Schema):
    project: str
    institution: str
    content: dict[str, Any] = {}


class ContentIn(Schema):
    content: dict[str, Any]


class TransitionIn(Schema):
    reason: str = ""


class EvidenceIn(Schema):
    progress: int
    note: str
    url: str = ""
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
            {"side": s.side, "organisation": s.organisation.slug, "public_key": s.public_key,
             "signature": s.signature, "digest_sha256": s.digest_sha256, "signed_at": s.signed_at.isoformat(),
             "valid": services.verify_signature(s)}
            for s in v.signatures.select_related("organisation", "version__pact__project__carrier",
                                                 "version__pact__institution")
        ],
    }


def _commitment_out(c: Commitment) -> dict[str, Any]:
    return {
        "pact": c.version.pact.reference, "version": c.version.number, "key": c.key, "owner": c.owner,
        "principle": c.principle, "text": c.text, "indicator": c.indicator, "threshold": c.threshold,
        "due_date": c.due_date, "recurrence": c.recurrence, "evidence_kind": c.evidence_kind,
        "status": c.status, "progress": c.progress,
    }


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= 100 or offset < 0:
        raise ValidationFailed("limit doit être entre 1 et 100 et offset positif.")


@router.get("", response=PactPage, summary="Liste paginée des pactes publics")
def list_pacts(request: HttpRequest, status: str = "", institution: str = "", limit: int = 20, offset: int = 0) -> dict[str, Any]:
    _page(limit, offset)
    qs = selectors.versions_visible(viewer(request)).filter(is_current=True)
    if status:
        qs = qs.filter(status=status)
    if institution:
        qs = qs.filter(pact__institution__slug=institution)
    qs = qs.order_by("-pact__created_at")
    items = [
        {"reference": v.pact.reference, "project": v.pact.project.slug, "institution": v.pact.institution.slug,
         "current_version": v.number, "status": v.status}
        for v in qs[offset : offset + limit]
    ]
    return {"count": qs.count(), "items": items}


@router.get("/commitments", response=CommitmentPage, summary="Engagements des deux parties")
def list_commitments(request: HttpRequest, status: str = "", owner: str = "", limit: int = 50, offset: int = 0) -> dict[str, Any]:
    _page(limit, offset)
    qs = selectors.commitments(status=status, owner=owner)
    return {"count": qs.count(), "items": [_commitment_out(c) for c in qs[offset : offset + limit]]}


@router.get("/{reference}", response=PactOut)
def pact_detail(request: HttpRequest, reference: str) -> dict[str, Any]:
    pact = selectors.get_pact(reference)
    visible = selectors.versions_visible(viewer(request)).filter(pact=pact)
    current = visible.filter(is_current=True).first()
    if current is None and not visible.exists():
        raise NotFound("Ce pacte n'est pas encore public.")
    return {"reference": pact.reference, "project": pact.project.slug, "institution": pact.institution.slug,
            "current_version": current.number if current else None, "status": current.status if current else None}


@router.get("/{reference}/versions", response=list[VersionOut])
def pact_versions(request: HttpRequest, reference: str) -> list[dict[str, Any]]:
    pact = selectors.get_pact(reference)
    return [_version_out(v) for v in selectors.pact_versions(viewer(request), pact)]


@router.get("/{reference}/versions/{number}", response=VersionOut)
def version_detail(request: HttpRequest, reference: str, number: int) -> dict[str, Any]:
    return _version_out(selectors.get_version(viewer(request), reference, number))


@router.get("/{reference}/versions/{number}/commitments", response=list[CommitmentOut])
def version_commitments(request: HttpRequest, reference: str, number: int) -> list[dict[str, Any]]:
    v = selectors.get_version(viewer(request), reference, number)
    return [_commitment_out(c) for c in v.commitments.select_related("version__pact")]


# ------------------------------------------------------------------ writes (token)

@router.post("", response={201: VersionOut}, auth=auth, summary="Rédiger un nouveau pacte (porteur)")
def create_pact(request: HttpRequest, payload: PactCreate) -> Status[dict[str, Any]]:
    project = get_project(payload.project)
    institution = Organisation.objects.filter(slug=payload.institution).first()
    if institution is None:
        raise NotFound("Institution inconnue.")
    v = services.create_pact(request.auth, project, institution, payload.content)  # type: ignore[attr-defined]
    return Status(201, _version_out(v))


def _own_version(request: HttpRequest, reference: str, number: int) -> PactVersion:
    return selectors.get_version(request.auth, reference, number)  # type: ignore[attr-defined]


@router.put("/{reference}/versions/{number}", response=VersionOut, auth=auth, summary="Modifier un brouillon")
def update_version(request: HttpRequest, reference: str, number: int, payload: ContentIn) -> dict[str, Any]:
    v = services.update_draft(request.auth, _own_version(request, reference, number), payload.content)  # type: ignore[attr-defined]
    return _version_out(v)


@router.post("/{reference}/versions", response={201: VersionOut}, auth=auth,
             summary="Nouvelle version (révision ou avenant)")
def create_version(request: HttpRequest, reference: str) -> Status[dict[str, Any]]:
    v = services.new_version(request.auth, selectors.get_pact(reference))  # type: ignore[attr-defined]
    return Status(201, _version_out(v))


@router.post("/{reference}/versions/{number}/transitions/{action}", response=VersionOut, auth=auth,
             summary="Faire avancer le cycle de vie (submit, withdraw, request_changes, approve, sign, "
                     "notify_breach, cure, suspend, reinstate, break, complete)")
def transition(request: HttpRequest, reference: str, number: int, action: str, payload: TransitionIn) -> dict[str, Any]:
    if action not in services.ACTIONS:
        raise ValidationFailed(f"Action inconnue : {action}. Actions possibles : {', '.join(services.ACTIONS)}.")
    v = _own_version(request, reference, number)
    services.ACTIONS[action](request.auth, v, payload.reason)  # type: ignore[attr-defined]
    v.refresh_from_db()
    return _version_out(v)


@router.post("/{reference}/versions/{number}/commitments/{key}/evidence", response=CommitmentOut, auth=auth,
             summary="Déposer la preuve d'un engagement")
def add_evidence(request: HttpRequest, reference: str, number: int, key: str, payload: EvidenceIn) -> dict[str, Any]:
    v = _own_version(request, reference, number)
    c = v.commitments.filter(key=key).first()
    if c is None:
        raise NotFound("Engagement inconnu.")
    c = services.record_evidence(request.auth, c, progress=payload.progress, note=payload.note, url=payload.url,  # type: ignore[attr-defined]
                                 met=payload.met)
    return _commitment_out(c)
