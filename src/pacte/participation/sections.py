"""The participation part of the public project page: follow it, its feed, its declared reuses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from pacte.accounts.services import Acting
from pacte.participation import selectors
from pacte.projects.models import Project


def project_section(project: Project, acting: Acting | None) -> Mapping[str, Any] | None:
    return {
        "title": _("Suivre et réutiliser"),
        "template": "participation/_project_section.html",
        "context": {
            "project": project,
            "reuses": list(selectors.public_reuses(project=project.slug)[:20]),
            "consultations": list(
                selectors.open_consultations().filter(version__pact__project=project)
            ),
        },
    }
