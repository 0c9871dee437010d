"""A project's life is its phases: it is created in its investigation phase, and each phase closes
with a published continue/stop decision that opens the next one."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Organisation
from pacte.accounts.policy import Action, actor_of
from pacte.accounts.services import Acting
from pacte.errors import InvalidTransition, ValidationFailed
from pacte.journal.services import record_event
from pacte.links import clean_web_link
from pacte.projects.models import PHASE_ORDER, TERMINAL_PHASES, Phase, PhaseKind, Project
from pacte.writes.retry import retry_on_conflict


@retry_on_conflict
@transaction.atomic
def create_project(
    acting: Acting,
    *,
    name: str,
    pitch: str,
    started_on: date | None = None,
    takeover_institution: Organisation | None = None,
    slug: str | None = None,
    **fields: str,
) -> Project:
    policy.require(acting, Action.PROJECT_CREATE, acting.organisation)
    if not name.strip() or not pitch.strip():
        raise ValidationFailed(_("Le nom et la phrase de présentation sont obligatoires."))
    base = slug or slugify(name)[:100] or "projet"
    candidate, n = base, 2
    while Project.objects.filter(slug=candidate).exists():
        candidate, n = f"{base}-{n}", n + 1
    for link in ("website", "repository"):
        if link in fields:
            fields[link] = clean_web_link(fields[link], link)
    if takeover_institution is not None and not takeover_institution.is_institution:
        raise ValidationFailed(_("L'organisation de reprise doit être une institution publique."))
    project = Project.objects.create(
        slug=candidate,
        name=name.strip(),
        pitch=pitch.strip(),
        carrier=acting.organisation,
        takeover_institution=takeover_institution,
        **fields,
    )
    Phase.objects.create(
        project=project, kind=PhaseKind.INVESTIGATION, started_on=started_on or date.today()
    )
    record_event(
        "project.created",
        actor=actor_of(acting),
        subject_type="project",
        subject_id=project.slug,
        project_slug=project.slug,
        data={"name": project.name, "carrier": acting.organisation.slug},
    )
    return project


@retry_on_conflict
@transaction.atomic
def close_phase(
    acting: Acting,
    project: Project,
    *,
    decision: str,
    reason: str,
    next_kind: str | None = None,
    on: date | None = None,
    budget_eur: int | None = None,
) -> Phase | None:
    """Close the open phase with a published continue/stop decision, optionally opening the next one."""
    policy.require(acting, Action.PROJECT_EDIT, project)
    phase = Phase.objects.select_for_update().filter(project=project, ended_on__isnull=True).last()
    if phase is None or phase.kind in TERMINAL_PHASES:
        raise InvalidTransition(_("Ce projet n'a pas de phase en cours."))
    if decision not in Phase.Decision.values:
        raise ValidationFailed(_("La décision doit être « continuer » ou « arrêter »."))
    if len(reason.strip()) < 10:
        raise ValidationFailed(
            _("Expliquez la décision en quelques mots (10 caractères au moins).")
        )
    today = on or date.today()
    if decision == Phase.Decision.STOP:
        next_kind = next_kind or PhaseKind.ABANDONED
        if next_kind not in (PhaseKind.ABANDONED, PhaseKind.TRANSFERRED, PhaseKind.OPERATED):
            raise ValidationFailed(
                _("Un arrêt mène à l'abandon, au transfert ou à l'exploitation durable.")
            )
    else:
        order = [k.value for k in PHASE_ORDER]
        default_next = (
            order[order.index(phase.kind) + 1] if phase.kind in order[:-1] else PhaseKind.OPERATED
        )
        next_kind = next_kind or default_next
        if next_kind in order and order.index(next_kind) <= order.index(phase.kind):
            raise ValidationFailed(_("La phase suivante doit venir après la phase en cours."))
    if next_kind == PhaseKind.TRANSFERRED and project.takeover_institution is None:
        raise ValidationFailed(_("Un transfert exige une institution de reprise (P4)."))
    phase.ended_on = today
    phase.decision = decision
    phase.decision_reason = reason.strip()
    phase.save()
    new_phase = Phase.objects.create(
        project=project,
        kind=next_kind,
        started_on=today,
        ended_on=today if next_kind in TERMINAL_PHASES else None,
        budget_eur=budget_eur
        if budget_eur is not None
        else (0 if next_kind in TERMINAL_PHASES else 200_000),
    )
    record_event(
        "phase.closed",
        actor=actor_of(acting),
        subject_type="project",
        subject_id=project.slug,
        project_slug=project.slug,
        data={
            "phase": phase.kind,
            "decision": decision,
            "reason": phase.decision_reason,
            "next": next_kind,
        },
    )
    return new_phase
