"""The institution's promise to draw a test panel (issue 12): when a pact commits a panel and the
institution opens the call, drawing it within 30 days is a State-side commitment of the pact; the
compliance clock marks it missed then breached; the draw settles it; the State's record shows
the median delay, the share on time and the draws still open past their due date."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from pacte.accounts.state_record import STATE_PROMISES
from pacte.evidence import panel_draws, panels
from pacte.evidence.compliance import BREACH_GRACE_DAYS, run_compliance
from pacte.journal.models import Event
from pacte.pacts.models import Commitment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _figures(institution):  # type: ignore[no-untyped-def]
    return dict((e.name, f) for e, f in STATE_PROMISES.record(institution, timezone.now()))[
        "panel_draws"
    ]


def _open(acting, project, opened_on: date):  # type: ignore[no-untyped-def]
    for band in ("16-25", "26-40"):
        panels.volunteer(UserFactory(), consent=True, age_band=band)
    return panels.open_panel_call(
        acting,
        project,
        title="Panel des demandeurs d'emploi",
        target_size=2,
        targets={"16-25": 1, "26-40": 1},
        today=opened_on,
    )


def test_the_institutions_draw_is_a_state_commitment_settled_by_the_draw(world, project):  # type: ignore[no-untyped-def]
    opened_on = date.today() - timedelta(days=40)
    call = _open(world.reviewer, project, opened_on)
    c = Commitment.objects.get(key=panel_draws.commitment_key(call))
    assert (c.owner, c.evidence_kind, c.due_date) == (
        Commitment.Owner.INSTITUTION,
        "panel_draw",
        opened_on + timedelta(days=panel_draws.DRAW_DAYS),
    )
    assert "Panel des demandeurs d'emploi" in c.text
    added = [json.loads(e.entry)["data"] for e in Event.objects.filter(type="commitment.added")]
    assert any(a.get("panel_call") == call.pk for a in added)

    # the State's record: one draw open past its due date
    f = _figures(world.institution)
    assert (f.answered, f.open_items, f.open_past_due) == (0, 1, 1)

    # the compliance clock: missed the day after, breached after the grace period
    assert c.due_date is not None
    run_compliance(c.due_date + timedelta(days=1), project=project)
    c.refresh_from_db()
    assert c.status == Commitment.State.MISSED
    report = run_compliance(c.due_date + timedelta(days=BREACH_GRACE_DAYS + 1), project=project)
    c.refresh_from_db()
    assert c.status == Commitment.State.BREACHED
    assert any(k.endswith(c.key) for k in report.state_breaches)

    panels.draw_panel(world.reviewer, call)
    c.refresh_from_db()
    assert c.status == Commitment.State.MET and "Tirage effectué le" in c.evidence_note
    settled = json.loads(Event.objects.filter(type="commitment.evidence").latest("index").entry)
    assert settled["data"]["late"] is True and settled["data"]["commitment"] == c.key
    f = _figures(world.institution)
    assert (f.answered, f.open_past_due, f.share_on_time) == (1, 0, 0.0)
    assert f.median_response_days is not None and f.median_response_days >= 40

    # the institution's public page shows the promise
    html = Client().get(f"/organisations/{world.institution.slug}/").content.decode()
    assert "Tirage au sort des panels de testeurs" in html


def test_a_draw_in_time_is_on_time(world, project):  # type: ignore[no-untyped-def]
    call = _open(world.reviewer, project, date.today())
    panels.draw_panel(world.reviewer, call)
    c = Commitment.objects.get(key=panel_draws.commitment_key(call))
    assert c.status == Commitment.State.MET
    f = _figures(world.institution)
    assert (f.answered, f.share_on_time, f.open_items) == (1, 1.0, 0)


def test_a_call_the_carrier_opens_is_not_a_promise_of_the_state(world, project):  # type: ignore[no-untyped-def]
    call = _open(world.carrier_admin, project, date.today() - timedelta(days=40))
    assert not Commitment.objects.filter(key=panel_draws.commitment_key(call)).exists()
    panels.draw_panel(world.carrier_admin, call)  # nothing to settle
    f = _figures(world.institution)
    assert (f.answered, f.open_items) == (0, 0)


def test_no_promise_when_the_pact_commits_no_panel(world, draft, content):  # type: ignore[no-untyped-def]
    from pacte.pacts.drafting import create_pact
    from tests.conftest import activate

    content["state"] = {**content["state"], "panel_size": 0}
    content["commitments"] = [c for c in content["commitments"] if c["evidence"] != "panel"]
    version = activate(
        world, create_pact(world.carrier_admin, world.project(), world.institution, content)
    )
    call = _open(world.reviewer, version.pact.project, date.today())
    assert not Commitment.objects.filter(key=panel_draws.commitment_key(call)).exists()
