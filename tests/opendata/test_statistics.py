"""Statistics: the page and /api/v1/statistics show the same numbers, equal to direct counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from pacte.accounts.models import Role
from pacte.data.models import DataRequest
from pacte.engines.bar_chart import bar_chart_svg
from pacte.evidence.models import Evaluation
from pacte.pacts.models import PactVersion
from pacte.projects.models import Phase, Project
from tests.conftest import _acting
from tests.funding.conftest import published_evaluation

pytestmark = pytest.mark.django_db


def _series() -> dict[str, dict]:
    r = Client().get("/api/v1/statistics")
    assert r.status_code == 200
    return {s["name"]: s for s in r.json()["series"]}


def _values(series: dict) -> dict[str, float]:
    return {r["key"]: r["value"] for r in series["rows"]}


def test_figures_equal_direct_counts(world, active, content):
    from pacte.pacts.drafting import create_pact

    project = active.pact.project
    create_pact(world.carrier_admin, project, world.other_institution, content)  # a private draft
    world.project(slug="autre", name="Autre service")  # a project without a phase
    evaluator = _acting(world.evaluator_org, [Role.EVALUATOR])
    published_evaluation(project, evaluator)
    published_evaluation(project, evaluator)
    published_evaluation(project, evaluator, ci_low=-0.01, estimate=0.001)
    draft_eval = published_evaluation(project, evaluator)
    Evaluation.objects.filter(pk=draft_eval.pk).update(status=Evaluation.State.DRAFT)

    s = _series()
    phases = _values(s["projects_per_phase"])
    with_phase = Phase.objects.values("project").distinct().count()
    assert sum(phases.values()) == Project.objects.count() == 2
    assert phases.get("none", 0) == Project.objects.count() - with_phase
    pacts = _values(s["pacts_per_status"])
    assert (
        pacts["active"] == PactVersion.objects.filter(is_current=True, status="active").count() == 1
    )
    assert "draft" not in pacts  # drafts are private
    evaluations = _values(s["evaluations_conclusive"])
    assert evaluations == {"conclusive": 2, "not_conclusive": 1}
    assert (
        evaluations["conclusive"]
        == Evaluation.objects.filter(status="published", conclusive=True).count()
    )


def test_state_response_times_are_the_data_request_decision_medians(world, active, hiring):
    from datetime import timedelta

    from tests.data.conftest import DP_COLUMNS, approve_all, request_for

    for days in (2, 4, 9):
        req = request_for(world, active, hiring, 3, DP_COLUMNS)
        approve_all(world, req)
        submitted = timezone.now() - timedelta(days=days)
        DataRequest.objects.filter(pk=req.pk).update(
            submitted_at=submitted, status_changed_at=submitted + timedelta(days=days)
        )
    request_for(world, active, hiring, 3, DP_COLUMNS)  # still waiting: not a decision
    # the domains registered their promises (accounts.state_record): the data-request decisions
    # are one of them, measured by the data domain's own reader
    series = _series()["state_data_requests"]
    assert _values(series) == {world.institution.slug: 4.0}
    assert series["unit"] == "jours"


def test_payment_figures_match_the_funding_rows(world):
    from pacte.funding.models import PaymentOrder

    s = _series()
    amounts = _values(s["payments_amount"])
    assert set(amounts) == {st.value for st in PaymentOrder.State}
    assert sum(amounts.values()) == float(
        sum((p.amount_eur for p in PaymentOrder.objects.all()), Decimal(0))
    )


def test_the_page_draws_each_series_with_a_table(world, active):
    page = Client().get("/statistiques/").content.decode()
    for name in ("projects_per_phase", "pacts_per_status", "evaluations_conclusive"):
        assert f'id="stat-{name}-title"' in page  # the chart's accessible name
        assert f'<table id="{name}">' in page  # and its table alternative
    assert 'role="img"' in page


def test_the_chart_reads_its_figures_in_words():
    svg = bar_chart_svg([("Actifs", 3), ("Rompus", 1200)], "Pactes", id_prefix="p", unit="pactes")
    assert 'role="img"' in svg and 'aria-labelledby="p-title p-desc"' in svg
    assert "Actifs : 3 pactes ; Rompus : 1\u202f200 pactes" in svg
    with pytest.raises(ValueError):
        bar_chart_svg([("x", -1)], "t", id_prefix="p")
    with pytest.raises(ValueError):
        bar_chart_svg([("x", 1)], "t", id_prefix="1bad")
