"""Section of the public project page: the project's data grants, purposes, budgets, releases."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from pacte.accounts.services import Acting
from pacte.data.selectors import grants_of_project
from pacte.pacts.models import Pact, Status
from pacte.projects.models import Project


def project_section(project: Project, acting: Acting | None) -> dict[str, Any] | None:
    grants = list(grants_of_project(project))
    active_pacts: list[Pact] = []
    if acting is not None and acting.organisation.pk == project.carrier_id:
        active_pacts = list(
            Pact.objects.filter(project=project, versions__status=Status.ACTIVE).distinct()
        )
    if not grants and not active_pacts:
        return None
    return {
        "title": _("Accès aux données"),
        "template": "data/_project_section.html",
        "context": {"grants": grants, "active_pacts": active_pacts},
    }
