"""Takeover after incubation (P4): the named institution confirms, in the pact, that it takes the
service over on a date (a State commitment); without a confirmation three months before the last
phase ends, a public alert (the seeds name a missing takeover the first cause of death)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action, Principal
from pacte.accounts.services import Acting
from pacte.channels.events import channel_event
from pacte.channels.models import Takeover
from pacte.errors import ValidationFailed
from pacte.pacts.ports import pact_standings
from pacte.projects.models import PhaseKind, Project
from pacte.writes.retry import retry_on_conflict

ALERT_MONTHS = 3
LAST_PHASE = PhaseKind.CONSOLIDATION


@dataclass(frozen=True)
class TakeoverStanding:
    """What the project and institution pages show."""

    project: Project
    institution_id: int | None
    last_phase_ends_on: date | None
    alert_from: date | None
    takeover: Takeover | None
    alert: bool

    @property
    def confirmed(self) -> bool:
        return self.takeover is not None and self.takeover.confirmed


def last_phase_end(project: Project) -> date | None:
    """The planned (or actual) end of the project's last incubation phase, once it has started."""
    phases = [p for p in project.phases.all() if p.kind == LAST_PHASE]
    if not phases:
        return None
    phase = max(phases, key=lambda p: (p.started_on, p.pk))
    return phase.ended_on or phase.started_on + relativedelta(months=phase.planned_months)


def standing(project: Project, today: date) -> TakeoverStanding:
    ends_on = last_phase_end(project)
    alert_from = ends_on - relativedelta(months=ALERT_MONTHS) if ends_on else None
    takeover = Takeover.objects.filter(project=project).first()
    confirmed = takeover is not None and takeover.confirmed
    alert = bool(
        project.takeover_institution_id
        and alert_from is not None
        and today >= alert_from
        and not confirmed
    )
    return TakeoverStanding(
        project, project.takeover_institution_id, ends_on, alert_from, takeover, alert
    )


@retry_on_conflict
@transaction.atomic
def confirm_takeover(
    acting: Acting, project: Project, takeover_on: date, terms: str = ""
) -> Takeover:
    """The named institution's signatory confirms the takeover, with its date, in the pact."""
    project = Project.objects.select_for_update(of=("self",), no_key=True).get(pk=project.pk)
    policy.require(acting, Action.TAKEOVER_CONFIRM, project)
    institution_id = project.takeover_institution_id
    assert institution_id is not None  # the policy allows only the named institution
    if takeover_on < timezone.localdate():
        raise ValidationFailed(
            _("La date de reprise ne peut pas être passée."),
            field_errors={"takeover_on": [_("Date passée.")]},
        )
    pact = next(
        (s for s in reversed(pact_standings(institution_id)) if s.project_id == project.pk),
        None,
    )
    takeover, _created = Takeover.objects.select_for_update().get_or_create(
        project=project, defaults={"institution_id": institution_id}
    )
    takeover.institution_id = institution_id
    takeover.pact_id = pact.pact_id if pact else None
    takeover.takeover_on = takeover_on
    takeover.terms = terms.strip()
    takeover.confirmed_at = timezone.now()
    takeover.confirmed_by = acting.user
    takeover.save()
    channel_event(
        "takeover.confirmed",
        acting,
        "project",
        project.slug,
        project_slug=project.slug,
        institution=acting.organisation.slug,
        pact=pact.reference if pact else None,
        takeover_on=takeover_on.isoformat(),
        state_commitment=True,
    )
    return takeover


@retry_on_conflict
@transaction.atomic
def raise_takeover_alerts(principal: Principal, today: date) -> list[str]:
    """The platform's clock: a project without a confirmed takeover three months before its last
    phase ends gets a public alert, logged once."""
    policy.require(principal, Action.PLATFORM_CLOCK, None)
    raised = []
    projects = (
        Project.objects.select_for_update(of=("self",), no_key=True)
        .filter(takeover_institution__isnull=False)
        .select_related("takeover_institution")
        .prefetch_related("phases")
        .order_by("pk")
    )
    for project in projects:
        s = standing(project, today)
        if not s.alert or (s.takeover is not None and s.takeover.alert_raised_on is not None):
            continue
        assert project.takeover_institution_id is not None  # filtered above
        takeover = s.takeover or Takeover(
            project=project, institution_id=project.takeover_institution_id
        )
        takeover.alert_raised_on = today
        takeover.save()
        assert s.last_phase_ends_on is not None
        channel_event(
            "takeover.alert",
            principal,
            "project",
            project.slug,
            project_slug=project.slug,
            institution=project.takeover_institution.slug if project.takeover_institution else "",
            last_phase_ends_on=s.last_phase_ends_on.isoformat(),
            side="institution",
        )
        raised.append(project.slug)
    return raised
