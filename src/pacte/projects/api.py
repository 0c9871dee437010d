from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Router, Schema

from pacte.accounts.viewer import viewer
from pacte.pacts.selectors import public_pacts_of, with_public_pacts
from pacte.projects.selectors import get_project, search_projects

router = Router(tags=["projets"])


class PhaseOut(Schema):
    kind: str
    budget_eur: int
    planned_months: int
    started_on: date
    ended_on: date | None
    decision: str
    decision_reason: str


class ProjectOut(Schema):
    slug: str
    name: str
    pitch: str
    territory: str
    carrier: str
    takeover_institution: str | None
    current_phase: str | None
    pacts: list[dict[str, object]]


class ProjectDetail(ProjectOut):
    description: str
    website: str
    repository: str
    licence: str
    target_users: str
    phases: list[PhaseOut]


class Page(Schema):
    count: int
    items: list[ProjectOut]


def _out(project, acting=None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    phase = project.current_phase
    return {
        "slug": project.slug,
        "name": project.name,
        "pitch": project.pitch,
        "territory": project.territory,
        "carrier": project.carrier.slug,
        "takeover_institution": project.takeover_institution.slug if project.takeover_institution else None,
        "current_phase": phase.kind if phase else None,
        "pacts": [
            {"reference": p.reference, "institution": p.institution.slug,
             "status": v.status if v else None, "version": v.number if v else None}
            for p, v in public_pacts_of(project, acting)
        ],
    }


@router.get("", response=Page, summary="Liste paginée des projets")
def list_projects(
    request: HttpRequest,
    q: str = "",
    status: str = "",
    institution: str = "",
    principle: str = "",
    territory: str = "",
    limit: int = 20,
    offset: int = 0,
) -> dict[str, object]:
    from pacte.errors import ValidationFailed

    if not 1 <= limit <= 100 or offset < 0:
        raise ValidationFailed("limit doit être entre 1 et 100 et offset positif.")
    qs = search_projects(q=q, status=status, institution=institution, principle=principle, territory=territory)
    acting = viewer(request)
    page = with_public_pacts(qs, acting)[offset : offset + limit]
    return {"count": qs.count(), "items": [_out(p, acting) for p in page]}


@router.get("/{slug}", response=ProjectDetail, summary="Un projet, ses phases et ses pactes")
def project_detail(request: HttpRequest, slug: str) -> dict[str, object]:
    project = get_project(slug)
    data = _out(project, viewer(request))
    data.update(
        description=project.description,
        website=project.website,
        repository=project.repository,
        licence=project.licence,
        target_users=project.target_users,
        phases=list(project.phases.all()),
    )
    return data
