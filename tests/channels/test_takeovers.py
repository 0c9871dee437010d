"""Takeover after incubation (P4), on a simulated date: the public alert three months before the
last phase ends, logged once; a confirmation (a State commitment with a date) lifts it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from pacte.accounts import policy
from pacte.channels import takeovers
from pacte.errors import PermissionDenied, ValidationFailed
from pacte.projects.models import Phase, PhaseKind
from tests.channels.conftest import event_data
from tests.project_page import project_page


def named_project(world, started_on: date, months: int = 6):  # type: ignore[no-untyped-def]
    project = world.project(name="Service à reprendre")
    project.takeover_institution = world.institution
    project.save()
    Phase.objects.create(
        project=project, kind=PhaseKind.CONSOLIDATION, started_on=started_on, planned_months=months
    )
    return project


def test_alert_three_months_before_the_last_phase_ends_logged_once(world) -> None:  # type: ignore[no-untyped-def]
    project = named_project(world, date(2026, 1, 15))  # ends 15 July 2026, alert from 15 April
    assert takeovers.last_phase_end(project) == date(2026, 7, 15)
    assert takeovers.raise_takeover_alerts(policy.SYSTEM, date(2026, 4, 14)) == []
    assert not takeovers.standing(project, date(2026, 4, 14)).alert
    assert takeovers.raise_takeover_alerts(policy.SYSTEM, date(2026, 4, 15)) == [project.slug]
    [alert] = event_data("takeover.alert")
    assert alert["institution"] == "agence" and alert["last_phase_ends_on"] == "2026-07-15"
    assert takeovers.raise_takeover_alerts(policy.SYSTEM, date(2026, 4, 16)) == []  # once
    assert takeovers.standing(project, date(2026, 4, 16)).alert


def test_no_alert_without_a_named_institution_or_before_the_last_phase(world) -> None:  # type: ignore[no-untyped-def]
    project = world.project(name="Sans repreneur")
    Phase.objects.create(project=project, kind=PhaseKind.CONSOLIDATION, started_on=date(2026, 1, 1))
    named = world.project(name="Encore en construction")
    named.takeover_institution = world.institution
    named.save()  # only its investigation phase: the last phase has not started
    assert takeovers.raise_takeover_alerts(policy.SYSTEM, date(2027, 1, 1)) == []


def test_confirmation_is_a_logged_state_commitment_that_lifts_the_alert(world, active) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    project = active.pact.project
    project.takeover_institution = world.institution
    project.save()
    Phase.objects.create(
        project=project, kind=PhaseKind.CONSOLIDATION, started_on=today - timedelta(days=120)
    )
    assert takeovers.standing(project, today).alert
    html = project_page(Client(), project.slug)
    assert "Alerte : reprise non confirmée." in html
    html = Client().get("/organisations/agence/").content.decode()
    assert "Alerte : reprises non confirmées" in html and project.name in html

    with pytest.raises(ValidationFailed):
        takeovers.confirm_takeover(world.signatory, project, today - timedelta(days=1))
    with pytest.raises(PermissionDenied):
        takeovers.confirm_takeover(world.carrier_admin, project, today + timedelta(days=60))
    takeover = takeovers.confirm_takeover(
        world.signatory,
        project,
        today + timedelta(days=60),
        "Reprise par la direction du numérique",
    )
    assert takeover.pact == active.pact and takeover.confirmed
    [event] = event_data("takeover.confirmed")
    assert event["pact"] == active.pact.reference and event["state_commitment"] is True
    assert not takeovers.standing(project, today).alert
    assert takeovers.raise_takeover_alerts(policy.SYSTEM, today) == []
    html = project_page(Client(), project.slug)
    assert "Reprise confirmée par Agence publique" in html
