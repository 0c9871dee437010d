from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from pacte.projects.models import Project, folded


def search_projects(
    *,
    q: str = "",
    status: str = "",
    institution: str = "",
    principle: str = "",
    territory: str = "",
) -> QuerySet[Project]:
    """Public list of projects with the registry filters (no account needed)."""
    qs = Project.objects.select_related("carrier", "takeover_institution")
    joined = bool(institution or status or principle)  # filters through pacts can repeat a project
    if q:
        for word in folded(q).split():  # every word, accents and case ignored
            qs = qs.filter(search_text__contains=word)
    if territory:
        qs = qs.filter(territory__icontains=territory)
    if institution:
        qs = qs.filter(pacts__institution__slug=institution)
    if status:
        qs = qs.filter(pacts__versions__status=status, pacts__versions__is_current=True)
    if principle:
        qs = qs.filter(
            pacts__versions__is_current=True,
            pacts__versions__principles_index__contains=f",{principle},",
        )
    return (qs.distinct() if joined else qs).order_by("name")


def get_project(slug: str, queryset: QuerySet[Project] | None = None) -> Project:
    """The project by its slug; ``queryset`` lets a page prefetch what it shows with it."""
    from pacte.errors import NotFound

    base = Project.objects.all() if queryset is None else queryset
    project = base.select_related("carrier", "takeover_institution").filter(slug=slug).first()
    if project is None:
        raise NotFound(_("Ce projet n'existe pas."))
    return project
