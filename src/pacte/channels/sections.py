"""Section of the public project page: the service in each channel (clause by clause: what it does
not meet yet) and its takeover after incubation (a public alert when it is not confirmed in time)."""

from __future__ import annotations

from functools import cache
from typing import Any

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.channels import selectors, takeovers
from pacte.channels.facts import coverage_of
from pacte.projects.models import Project


def project_section(project: Project, acting: Acting | None) -> dict[str, Any] | None:
    coverage = cache(lambda: coverage_of(project.pk))  # read once, shared with the standings
    standings = selectors.standings_for_project(project, coverage)
    takeover = takeovers.standing(project, selectors.today())
    if not standings and takeover.institution_id is None:
        return None
    territories, needs = coverage()
    return {
        "title": "Diffusion par les canaux de l'État et reprise",
        "template": "channels/_project_section.html",
        "context": {
            "project": project,
            "standings": standings,
            "territories": sorted(territories),
            "needs": sorted(needs),
            "takeover": takeover,
            "can_edit_coverage": policy.may(acting, Action.PROJECT_EDIT, project),
            "can_confirm_takeover": takeover.institution_id is not None
            and policy.may(acting, Action.TAKEOVER_CONFIRM, project),
        },
    }
