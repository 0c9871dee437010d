from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.decorators import decorate_view

from pacte.accounts.viewer import viewer
from pacte.api_contract import VIEWER, Cursor, Keyset, Limit, Offset, paginate, responses
from pacte.input_limits import Identifier, Label, Sentence
from pacte.pacts.selectors import public_pacts_by_project, public_pacts_of
from pacte.projects.models import Phase
from pacte.projects.selectors import get_project, search_projects
from pacte.public_cache import public_api_list

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
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


def _out(project, acting=None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    phase = project.current_phase
    return {
        "slug": project.slug,
        "name": project.name,
        "pitch": project.pitch,
        "territory": project.territory,
        "carrier": project.carrier.slug,
        "takeover_institution": project.takeover_institution.slug
        if project.takeover_institution
        else None,
        "current_phase": phase.kind if phase else None,
        "pacts": [
            {
                "reference": p.reference,
                "institution": p.institution.slug,
                "status": v.status if v else None,
                "version": v.number if v else None,
            }
            for p, v in public_pacts_of(project, acting)
        ],
    }


@router.get("", response=responses({200: Page}, VIEWER), summary="Liste paginée des projets")
@decorate_view(public_api_list)  # anonymous GETs: the public page cache (pacte.public_cache)
def list_projects(
    request: HttpRequest,
    q: Sentence = "",
    status: Identifier = "",
    institution: Identifier = "",
    principle: Identifier = "",
    territory: Label = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, object]:
    qs = search_projects(
        q=q, status=status, institution=institution, principle=principle, territory=territory
    )

    def render(rows: list[tuple[Any, ...]]) -> list[dict[str, object]]:
        # plain rows, not model instances: the page (its count and each project's current phase
        # read with it) and the pacts with the version each shows, two queries whatever its size
        pacts = public_pacts_by_project([r[0] for r in rows], viewer(request))
        return [
            {
                "slug": slug,
                "name": name,
                "pitch": pitch,
                "territory": territory,
                "carrier": carrier,
                "takeover_institution": takeover,
                "current_phase": phase,
                "pacts": pacts[pk],
            }
            for pk, slug, name, pitch, territory, carrier, takeover, phase in rows
        ]

    # the current phase, as Project.current_phase: the latest started, the newest of a day
    current = Phase.objects.filter(project_id=OuterRef("pk")).order_by("-started_on", "-id")
    rows = qs.values_list(
        "id", "slug", "name", "pitch", "territory", "carrier__slug", "takeover_institution__slug"
    ).annotate(
        phase_now=Subquery(current.values("kind")[:1])
    )  # stable pages: by name then id, by keyset when the client follows `next`
    by_name = Keyset(order=("name", "id"), types=(str, int), key=lambda row: (row[2], row[0]))
    return paginate(rows, limit, offset, render, keyset=by_name, after=after, count_in_page=True)


@router.get(
    "/{slug}",
    response=responses({200: ProjectDetail}, VIEWER),
    summary="Un projet, ses phases et ses pactes",
)
def project_detail(request: HttpRequest, slug: Identifier) -> dict[str, object]:
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
