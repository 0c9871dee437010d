"""The State's record: the promises registered by each domain (data decisions, payments, channel
listings) and their figures for one institution, on the page and over the API."""

from __future__ import annotations

import datetime as dt
from html import unescape

from django.utils import timezone

from pacte.accounts.state_record import STATE_PROMISES
from pacte.data.models import DataRequest
from pacte.data.selectors import DECISION_CLOCK_DAYS, decision_figures
from tests.data.conftest import (  # noqa: F401 (fixtures)
    DP_COLUMNS,
    approve_all,
    hiring,
    parquet_files,
    request_for,
)


def test_the_domains_register_their_promises_once() -> None:
    names = [entry.name for entry in STATE_PROMISES.entries()]
    assert {"data_requests", "payments", "channel_listings"} <= set(names)
    assert len(names) == len(set(names))


def test_data_decisions_count_answered_on_time_and_open_past_due(world, active, hiring) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    decided = request_for(world, active, hiring, 3, DP_COLUMNS)
    approve_all(world, decided)
    waiting = request_for(world, active, hiring, 3, DP_COLUMNS)
    # the waiting request was submitted 40 days ago (a simulated clock): past due
    DataRequest.objects.filter(pk=waiting.pk).update(
        submitted_at=timezone.now() - dt.timedelta(days=DECISION_CLOCK_DAYS + 10)
    )
    figures = decision_figures(world.institution, timezone.now())
    assert (figures.answered, figures.share_on_time) == (1, 1.0)
    assert (figures.open_items, figures.open_past_due) == (1, 1)
    assert decision_figures(world.other_institution, timezone.now()).answered == 0


def test_record_on_the_institution_page_and_api(client, world) -> None:  # type: ignore[no-untyped-def]
    html = unescape(client.get("/organisations/agence/").content.decode())
    assert "Décisions sur les demandes d'accès aux données" in html
    assert "Paiements des contrats à impact" in html
    assert "<caption>" in html and 'scope="col"' in html
    body = client.get("/api/v1/institutions/agence/record").json()
    assert {"data_requests", "payments", "channel_listings"} <= {
        p["name"] for p in body["promises"]
    }
    assert all(p["answered"] == 0 and p["median_response_days"] is None for p in body["promises"])
    assert "Le bilan de l" not in client.get("/organisations/porteur/").content.decode()
