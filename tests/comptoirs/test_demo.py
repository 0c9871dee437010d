"""The comptoirs demo: posts in every status (one late, one become a project), two experts with
a completed and a pending exchange, an open challenge with applications and a decided one."""

from __future__ import annotations

import pytest
from django.utils import timezone

from pacte.accounts.models import Organisation
from pacte.comptoirs import record
from pacte.comptoirs.models import Application, Challenge, Expert, ExpertRequest, Post
from pacte.demo import load_demo

pytestmark = pytest.mark.django_db


def test_comptoirs_demo(demo_data):  # type: ignore[no-untyped-def]
    assert set(Post.objects.values_list("status", flat=True)) == set(Post.State.values)
    assert Post.objects.filter(became_project__isnull=False).count() == 1
    assert Post.objects.filter(late=True).count() == 1
    assert Post.objects.filter(kind="contribution").count() == 1
    assert Post.objects.filter(hidden=True).count() == 1
    assert Expert.objects.count() == 2
    assert set(ExpertRequest.objects.values_list("status", flat=True)) == {"completed", "requested"}
    open_c = Challenge.objects.get(status="open")
    assert open_c.applications.count() == 2 and open_c.datasets.exists()
    decided = Challenge.objects.get(status="decided")
    assert set(decided.applications.values_list("status", flat=True)) == {
        "selected",
        "not_selected",
    }
    assert decided.programme is not None
    assert Application.objects.filter(pact__isnull=False).count() == 1
    agence = Organisation.objects.get(slug="agence-emploi")
    figures = record.comptoir_answers(agence, timezone.now())
    assert figures.open_past_due == 1  # the late post counts against the agency
    assert record.expert_requests(agence, timezone.now()).answered == 1
    assert load_demo() is False  # idempotent
