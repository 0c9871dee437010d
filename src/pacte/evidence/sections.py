"""Section of the public project page: evaluations (chart + sentence), audits, panels, algorithm
sheets, experiments, feedback, and breaches of both sides (the State's shown just as prominently)."""

from __future__ import annotations

from typing import Any

from pacte.accounts.services import Acting
from pacte.evidence import selectors
from pacte.pacts.models import Commitment
from pacte.projects.models import Project


def project_section(project: Project, acting: Acting | None) -> dict[str, Any] | None:
    evaluations = list(selectors.evaluations(None, project=project.slug))
    audits = list(selectors.audits(project=project.slug))
    panels = list(selectors.panels(project=project.slug))
    sheets = list(selectors.sheets(None, project=project.slug))
    experiments = list(selectors.experiments(project=project.slug).exclude(status="draft"))
    feedback_count = selectors.public_feedback(project).count()
    both = list(selectors.breaches(project))  # the State's and the carrier's, one query
    state_breaches = [c for c in both if c.owner == Commitment.Owner.INSTITUTION]
    carrier_breaches = [c for c in both if c.owner == Commitment.Owner.CARRIER]
    cases = list(selectors.compliance_cases(project))
    if not any(
        (
            evaluations,
            audits,
            panels,
            sheets,
            experiments,
            feedback_count,
            state_breaches,
            carrier_breaches,
            cases,
        )
    ):
        return {
            "title": "Preuves et expérimentation",
            "template": "evidence/_project_section.html",
            "context": {"project": project, "empty": True},
        }
    return {
        "title": "Preuves : impact, biais, transparence, panels",
        "template": "evidence/_project_section.html",
        "context": {
            "project": project,
            "evaluations": evaluations,
            "chart": selectors.evaluation_chart(evaluations[:6]),
            "audits": audits,
            "panels": panels,
            "sheets": sheets,
            "experiments": experiments,
            "feedback_count": feedback_count,
            "state_breaches": state_breaches,
            "carrier_breaches": carrier_breaches,
            "cases": cases,
        },
    }
