"""The daily run on simulated dates: listed the day the condition is met, removed the day it stops,
both logged and notified; the channel's delay is a State-side commitment of the pact, so a listing
later than it is a State-side breach on the pact, exactly as a late payment."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from pacte.accounts import policy
from pacte.channels import declarations, listings, selectors
from pacte.channels.models import ChannelListing
from pacte.errors import InvalidTransition, PermissionDenied
from pacte.evidence.compliance import BREACH_GRACE_DAYS, run_compliance
from pacte.notifications.models import Notification
from pacte.pacts.models import Commitment
from tests.channels.conftest import channel_in, event_data, publish_all_evidence
from tests.funding.conftest import published_audit

D = date(2026, 3, 2)
L = ChannelListing.State


def test_nothing_is_listed_until_every_clause_is_met_and_the_carrier_sees_which(
    world, service, channel
) -> None:  # type: ignore[no-untyped-def]
    counts = listings.run_channels(policy.SYSTEM, D)
    assert counts.as_dict() == {"opened": 0, "listed": 0, "removed": 0, "lapsed": 0}
    [standing] = selectors.standings_for_project(service.project)
    assert not standing.met and standing.listing is None
    unmet = {line.code for line in standing.clauses if not line.met}
    assert unmet == {
        "positive_effect",
        "bias_within_band",
        "algorithm_sheet",
        "accessibility_statement",
    }
    explanation = next(
        line.explanation for line in standing.clauses if line.code == "positive_effect"
    )
    assert explanation == "Aucune évaluation d'impact n'est encore publiée."


def test_listed_the_day_it_meets_the_condition_and_removed_the_day_it_stops(
    world, service, channel
) -> None:  # type: ignore[no-untyped-def]
    publish_all_evidence(world, service)
    counts = listings.run_channels(policy.SYSTEM, D)
    assert (counts.opened, counts.listed) == (1, 1)
    listing = ChannelListing.objects.get()
    assert (listing.status, listing.eligible_on, listing.listed_on, listing.late) == (
        L.LISTED,
        D,
        D,
        False,
    )
    [listed] = event_data("channel.listed")
    assert listed["channel"] == channel.slug and listed["listed_on"] == D.isoformat()
    assert len(event_data("channel.eligible")) == 1
    mail = Notification.objects.get(event="channel.listed")
    assert world.carrier_admin.user.email in mail.recipients
    assert [s.project for s in selectors.listed_services(channel)] == [service.project]

    # the next day nothing changes: no duplicate listing, no event
    assert listings.run_channels(policy.SYSTEM, D + timedelta(days=1)).as_dict()["opened"] == 0

    # a new bias audit out of band: removed the day the run sees it, with the failing clause
    published_audit(service.project, service.evaluator, breaches=1)
    counts = listings.run_channels(policy.SYSTEM, D + timedelta(days=2))
    assert counts.removed == 1
    listing.refresh_from_db()
    assert (listing.status, listing.removed_on, listing.failing_clause, listing.failing_code) == (
        L.REMOVED,
        D + timedelta(days=2),
        "bias_within_band",
        "bias_out_of_band",
    )
    [removed] = event_data("channel.removed")
    assert removed["failing_clause"] == "bias_within_band"
    mail = Notification.objects.get(event="channel.removed")
    assert "Audit de biais publié, dans la bande tolérée" in mail.body
    assert selectors.listed_services(channel) == []


def test_a_listing_after_the_channel_delay_is_a_state_side_breach(world, service) -> None:  # type: ignore[no-untyped-def]
    channel = declarations.declare_channel(
        world.signatory,
        world.institution,
        channel_in(name="Guichets", kind="counters", listing_delay_days=7),
    )
    publish_all_evidence(world, service)
    listings.run_channels(policy.SYSTEM, D)
    listing = ChannelListing.objects.select_related("commitment").get(channel=channel)
    # the promise is one of the pact's State-side commitments, the listing's only clock
    c = listing.commitment
    assert c is not None and c.owner == Commitment.Owner.INSTITUTION
    assert (c.version.pact_id, c.evidence_kind, c.due_date) == (
        service.version.pact_id,
        "channel_listing",
        D + timedelta(days=7),
    )
    assert (listing.status, listing.due_on) == (L.PENDING, D + timedelta(days=7))
    [added] = event_data("commitment.added")
    assert added["owner"] == "institution" and added["channel"] == channel.slug
    assert "Guichets" in c.text

    run_compliance(D + timedelta(days=7))  # due day: not yet late
    c.refresh_from_db()
    assert c.status == Commitment.State.DUE_SOON
    run_compliance(D + timedelta(days=8))
    c.refresh_from_db()
    assert c.status == Commitment.State.MISSED
    report = run_compliance(D + timedelta(days=7 + BREACH_GRACE_DAYS + 1))
    c.refresh_from_db()
    assert c.status == Commitment.State.BREACHED
    assert f"{service.version.pact.reference}:{c.key}" in report.state_breaches
    service.version.refresh_from_db()
    assert service.version.status == "active"  # the State's failure never sanctions the carrier

    late_day = D + timedelta(days=7 + BREACH_GRACE_DAYS + 2)
    with pytest.raises(PermissionDenied):
        listings.list_service(world.carrier_admin, listing, late_day)
    listings.list_service(world.signatory, listing, late_day)
    listing.refresh_from_db()
    assert (listing.status, listing.late) == (L.LISTED, True)
    [listed] = event_data("channel.listed")
    assert listed["late"] is True and listed["state_side_breach"] is True
    c.refresh_from_db()
    assert c.status == Commitment.State.MET and "dû le" in c.evidence_note
    settled = event_data("commitment.evidence")[-1]
    assert settled["late"] is True and settled["previous"] == "breached"
    # listed, the late listing stays on the public list of the State's breaches
    assert list(selectors.late_listings()) == [listing]
    with pytest.raises(InvalidTransition):
        listings.list_service(world.signatory, listing, late_day + timedelta(days=1))


def test_the_pact_page_shows_a_late_listing_as_a_state_side_breach(world, service) -> None:  # type: ignore[no-untyped-def]
    declarations.declare_channel(
        world.signatory,
        world.institution,
        channel_in(name="Guichets", kind="counters", listing_delay_days=7),
    )
    publish_all_evidence(world, service)
    listings.run_channels(policy.SYSTEM, D)
    run_compliance(D + timedelta(days=7 + BREACH_GRACE_DAYS + 1))
    html = Client().get(f"/projets/{service.project.slug}/").content.decode()
    board = html[html.index("Engagements de l'institution (État)") :]
    item = board[board.index("Inscrire Service citoyen dans le canal") :]
    assert "Rompu" in item[: item.index("</li>")]


def test_listed_on_time_is_not_a_breach_and_a_pending_service_that_loses_the_condition_lapses(
    world, service
) -> None:  # type: ignore[no-untyped-def]
    declarations.declare_channel(
        world.signatory,
        world.institution,
        channel_in(name="Guichets", kind="counters", listing_delay_days=7),
    )
    publish_all_evidence(world, service)
    listings.run_channels(policy.SYSTEM, D)
    listing = ChannelListing.objects.get()
    listings.list_service(world.signatory, listing, D + timedelta(days=7))
    listing.refresh_from_db()
    assert (listing.status, listing.late) == (L.LISTED, False)
    assert "state_side_breach" not in event_data("channel.listed")[0]
    assert listing.commitment is not None
    assert listing.commitment.status == Commitment.State.MET
    assert event_data("commitment.evidence")[-1]["late"] is False

    published_audit(service.project, service.evaluator, breaches=2)
    listings.run_channels(policy.SYSTEM, D + timedelta(days=8))
    listing.refresh_from_db()
    assert listing.status == L.REMOVED
    # the condition is met again later: a new spell, pending again, history kept
    published_audit(service.project, service.evaluator, breaches=0)
    listings.run_channels(policy.SYSTEM, D + timedelta(days=9))
    pending = ChannelListing.objects.get(status=L.PENDING)
    published_audit(service.project, service.evaluator, breaches=1)
    listings.run_channels(policy.SYSTEM, D + timedelta(days=10))
    pending.refresh_from_db()
    assert (pending.status, pending.failing_clause) == (L.LAPSED, "bias_within_band")
    assert len(event_data("channel.lapsed")) == 1
    # lost before its due date: nothing is owed any more, the commitment is withdrawn
    assert pending.commitment is None and pending.due_on is None and not pending.late
    [withdrawn] = event_data("commitment.withdrawn")
    assert withdrawn["owner"] == "institution"
    assert ChannelListing.objects.count() == 2


def test_only_the_platform_runs_the_clock(world, channel) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        listings.run_channels(world.signatory, D)
    with pytest.raises(PermissionDenied):
        listings.evaluate_channel(world.signatory, channel, D)


def test_territory_and_need_filter_the_listed_services(world, service, channel) -> None:  # type: ignore[no-untyped-def]
    publish_all_evidence(world, service)
    listings.run_channels(policy.SYSTEM, D)
    assert len(selectors.listed_services(channel, territory="val-de-loire ", need="EMPLOI")) == 1
    assert selectors.listed_services(channel, territory="Bretagne") == []
    assert selectors.listed_services(channel, need="logement") == []


def test_a_listing_opened_before_the_clock_moved_to_the_pact_is_adopted(world, service) -> None:  # type: ignore[no-untyped-def]
    channel = declarations.declare_channel(
        world.signatory,
        world.institution,
        channel_in(name="Guichets", kind="counters", listing_delay_days=7),
    )
    publish_all_evidence(world, service)
    listings.run_channels(policy.SYSTEM, D)
    listing = ChannelListing.objects.get(channel=channel)
    # as migration 0002 leaves a listing that was pending before: no commitment yet
    Commitment.objects.filter(pk=listing.commitment_id).delete()
    listing.refresh_from_db()
    assert listing.commitment is None
    listings.run_channels(policy.SYSTEM, D + timedelta(days=1))
    listing.refresh_from_db()
    assert listing.commitment is not None
    assert listing.commitment.due_date == D + timedelta(days=7)
    assert len(event_data("commitment.added")) == 2
