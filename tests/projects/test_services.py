from __future__ import annotations

import pytest

from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from pacte.projects.models import PhaseKind
from pacte.projects.phases import close_phase, create_project

pytestmark = pytest.mark.django_db


def test_project_starts_in_investigation_with_default_budget(world):
    p = world.project()
    phase = p.current_phase
    assert (
        phase.kind == PhaseKind.INVESTIGATION
        and phase.budget_eur == 200_000
        and phase.planned_months == 6
    )
    assert Event.objects.filter(type="project.created", subject_id=p.slug).exists()


def test_only_carriers_create_projects(world):
    with pytest.raises(PermissionDenied):
        create_project(world.reviewer, name="X", pitch="Y")


def test_slugs_are_unique(world):
    assert world.project(name="Même nom").slug != world.project(name="Même nom").slug


def test_close_phase_continue_goes_to_next_phase_and_is_published(world):
    p = world.project()
    new = close_phase(
        world.carrier_admin, p, decision="continue", reason="Les utilisateurs sont là."
    )
    assert new.kind == PhaseKind.CONSTRUCTION
    first = p.phases.order_by("started_on", "id").first()
    assert first.decision == "continue" and first.decision_reason == "Les utilisateurs sont là."
    assert Event.objects.filter(type="phase.closed", subject_id=p.slug).count() == 1


def test_close_phase_needs_a_reason_and_a_valid_decision(world):
    p = world.project()
    with pytest.raises(ValidationFailed):
        close_phase(world.carrier_admin, p, decision="continue", reason="ok")
    with pytest.raises(ValidationFailed):
        close_phase(world.carrier_admin, p, decision="maybe", reason="Une raison assez longue.")
    with pytest.raises(ValidationFailed):
        close_phase(
            world.carrier_admin,
            p,
            decision="continue",
            reason="Une raison assez longue.",
            next_kind="investigation",
        )


def test_transfer_requires_a_takeover_institution(world):
    p = world.project()
    with pytest.raises(ValidationFailed, match="P4"):
        close_phase(
            world.carrier_admin,
            p,
            decision="stop",
            reason="On transfère le service.",
            next_kind="transferred",
        )
    p2 = world.project(takeover_institution=world.institution)
    new = close_phase(
        world.carrier_admin,
        p2,
        decision="stop",
        reason="On transfère le service.",
        next_kind="transferred",
    )
    assert new.kind == PhaseKind.TRANSFERRED and new.ended_on is not None
    with pytest.raises(InvalidTransition):
        close_phase(world.carrier_admin, p2, decision="continue", reason="Encore une phase ?")


def test_only_the_carrier_closes_phases(world):
    with pytest.raises(PermissionDenied):
        close_phase(
            world.reviewer, world.project(), decision="continue", reason="Pas mon projet pourtant."
        )
