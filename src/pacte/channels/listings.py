"""Listing services in channels: the platform's daily run (list the day a service meets the
condition, remove it the day it stops) and the institution's listing of a pending service.

The channel's promise — "listed within N days once the condition is met" — is one of the pact's
State-side commitments (``pacts.ports.add_state_commitment``), added the day the spell opens, settled
the day the service is listed, withdrawn if the service loses the condition before its due date.
The compliance engine's clock marks it missed then breached, exactly as a late payment: a late
listing is a State-side breach on the pact page and in the State's record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Membership
from pacte.accounts.policy import Action, Principal
from pacte.channels.events import channel_event
from pacte.channels.facts import candidates, condition_of, facts_for
from pacte.channels.lifecycles import LISTING, listing_subject
from pacte.channels.models import Channel, ChannelListing
from pacte.channels.texts import clause_label, explain
from pacte.engines.channel_rules import ClauseResult, evaluate
from pacte.notifications.notifier import notify
from pacte.pacts import ports as pact_ports
from pacte.pacts.ports import PactStanding, pact_standings
from pacte.writes.retry import retry_on_conflict

L = ChannelListing.State


@dataclass
class RunCounts:
    opened: int = 0
    listed: int = 0
    removed: int = 0
    lapsed: int = 0
    channels: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "opened": self.opened,
            "listed": self.listed,
            "removed": self.removed,
            "lapsed": self.lapsed,
        }


def _notify_carrier(listing: ChannelListing, subject: str, body: str, event: str) -> None:
    recipients = [
        m.user.email
        for m in Membership.objects.filter(
            organisation_id=listing.project.carrier_id
        ).select_related("user")
    ]
    notify(recipients, subject, body, event=event)


def _failure_fields(result: ClauseResult | None) -> dict[str, str]:
    if result is None:  # no longer a candidate: its pact is gone from the channel's institution
        return {"failing_clause": "pact_active", "failing_code": "pact_not_active"}
    return {"failing_clause": str(result.clause), "failing_code": result.code}


def _lock_listing(listing: ChannelListing) -> ChannelListing:
    return (
        ChannelListing.objects.select_for_update(of=("self",), no_key=True)
        .select_related("channel__institution", "project", "pact", "commitment__version")
        .get(pk=listing.pk)
    )


def _commitment_key(listing: ChannelListing) -> str:
    return f"canal-{listing.pk}-{listing.channel.slug}"[:60]


def _track(principal: Principal, listing: ChannelListing, due_on: date) -> None:
    """The pact's State-side commitment to list the service by ``due_on``."""
    version = pact_ports.pact_version(listing.pact_id)
    if version is None:  # a pact always has a current version; nothing to track without one
        return
    listing.commitment = pact_ports.add_state_commitment(
        principal,
        version,
        key=_commitment_key(listing),
        text=_(
            "Inscrire %(project)s dans le canal « %(channel)s » (%(institution)s) au plus tard le "
            "%(due)s : %(days)s jour(s) après que le service a rempli la condition du canal, le "
            "%(eligible)s."
        )
        % {
            "project": listing.project.name,
            "channel": listing.channel.name,
            "institution": listing.channel.institution.name,
            "due": due_on.strftime("%d/%m/%Y"),
            "days": (due_on - listing.eligible_on).days,
            "eligible": listing.eligible_on.strftime("%d/%m/%Y"),
        },
        due_date=due_on,
        evidence_kind="channel_listing",
        channel=listing.channel.slug,
        channel_listing=listing.pk,
    )
    listing.save(update_fields=["commitment"])


def _list(principal: Principal, listing: ChannelListing, today: date) -> None:
    move, reason = LISTING.check(principal, "list", listing)
    listing.listed_on = today
    due_on = listing.due_on
    if listing.commitment is not None and due_on is not None:
        # settled first: the commitment row is locked before the journal is written
        pact_ports.settle_state_commitment(
            principal,
            listing.commitment.version,
            listing.commitment.key,
            note=_("Inscrit le %(day)s (dû le %(due)s).")
            % {"day": today.strftime("%d/%m/%Y"), "due": due_on.strftime("%d/%m/%Y")},
            on=today,
        )
    breach: dict[str, Any] = (
        {"state_side_breach": True, "side": "institution"} if listing.late else {}
    )
    LISTING.enter(
        principal,
        move,
        listing,
        reason,
        listed_on=today.isoformat(),
        late=listing.late,
        **breach,
    )
    _notify_carrier(
        listing,
        _("%(project)s est inscrit dans le canal « %(channel)s »")
        % {"project": listing.project.name, "channel": listing.channel.name},
        _(
            "Votre service remplit la condition du canal « %(channel)s » (%(institution)s) : il y est "
            "inscrit depuis le %(day)s."
        )
        % {
            "channel": listing.channel.name,
            "institution": listing.channel.institution.name,
            "day": today.isoformat(),
        },
        "channel.listed",
    )


def _stop(
    principal: Principal, listing: ChannelListing, failing: ClauseResult | None, today: date
) -> str:
    """Remove a listed service, or lapse a pending one, citing the failing clause."""
    action = "remove" if listing.status == L.LISTED else "lapse"
    fields = _failure_fields(failing)
    listing.failing_clause = fields["failing_clause"]
    listing.failing_code = fields["failing_code"]
    listing.removed_on = today
    why = (
        explain(failing)
        if failing is not None
        else _("Le service n'est plus couvert par ce canal.")
    )
    if action == "lapse":
        _release(principal, listing, today)
    LISTING.apply(
        principal,
        action,
        listing,
        removed_on=today.isoformat(),
        failing_clause=listing.failing_clause,
        failing_code=listing.failing_code,
    )
    _notify_carrier(
        listing,
        _("%(project)s ne remplit plus la condition du canal « %(channel)s »")
        % {"project": listing.project.name, "channel": listing.channel.name},
        _(
            "Clause non remplie : %(clause)s. %(why)s\nLe service n'est plus inscrit dans ce canal "
            "depuis le %(day)s ; il le sera de nouveau dès que la condition sera remplie."
        )
        % {
            "clause": clause_label(listing.failing_clause),
            "why": why,
            "day": today.isoformat(),
        },
        f"channel.{action}d" if action == "remove" else "channel.lapsed",
    )
    return action


def _release(principal: Principal, listing: ChannelListing, today: date) -> None:
    """A pending service lost the condition: by its due date, nothing is owed any more and the
    commitment is withdrawn; after it, the State was already late and the commitment stays."""
    commitment, due_on = listing.commitment, listing.due_on
    if commitment is None or due_on is None or today > due_on:
        return
    pact_ports.withdraw_state_commitment(
        principal,
        commitment.version,
        commitment.key,
        reason=_("Le service ne remplit plus la condition du canal avant son inscription."),
    )
    if not type(commitment).objects.filter(pk=commitment.pk).exists():
        listing.commitment = None


def _open(
    principal: Principal, channel: Channel, standing: PactStanding, today: date
) -> ChannelListing:
    listing = ChannelListing.objects.create(
        channel=channel,
        project_id=standing.project_id,
        pact_id=standing.pact_id,
        eligible_on=today,
    )
    listing = _lock_listing(listing)
    due_on = today + timedelta(days=channel.listing_delay_days)
    _track(principal, listing, due_on)
    channel_event(
        "channel.eligible",
        principal,
        "channel_listing",
        listing_subject(listing),
        project_slug=listing.project.slug,
        channel=channel.slug,
        institution=channel.institution.slug,
        pact=listing.pact.reference,
        eligible_on=today.isoformat(),
        due_on=due_on.isoformat(),
        rules_version=channel.rules_version,
    )
    return listing


@retry_on_conflict
@transaction.atomic
def evaluate_channel(
    principal: Principal,
    channel: Channel,
    today: date,
    standings: list[PactStanding] | None = None,
) -> RunCounts:
    """One channel, one day, one transaction: every change logged and the carrier notified."""
    policy.require(principal, Action.PLATFORM_CLOCK, channel)
    channel = (
        Channel.objects.select_for_update(of=("self",), no_key=True)
        .select_related("institution")
        .get(pk=channel.pk)
    )
    counts = RunCounts(channels=[channel.slug])
    condition = condition_of(channel)
    open_listings = {
        listing.pact_id: listing
        for listing in ChannelListing.objects.select_for_update(of=("self",), no_key=True)
        .select_related("channel__institution", "project", "pact", "commitment__version")
        .filter(channel=channel, status__in=(L.PENDING, L.LISTED))
        .order_by("pk")
    }
    seen: set[int] = set()
    for standing in candidates(channel, standings):
        seen.add(standing.pact_id)
        verdict = evaluate(condition, facts_for(standing))
        listing = open_listings.get(standing.pact_id)
        if verdict.met:
            if listing is None:
                listing = _open(principal, channel, standing, today)
                counts.opened += 1
                if channel.listing_delay_days == 0:
                    _list(principal, listing, today)
                    counts.listed += 1
            elif listing.status == L.PENDING and listing.commitment_id is None:
                # opened before the clock moved to the pact (migration 0002): adopt it
                _track(
                    principal,
                    listing,
                    listing.eligible_on + timedelta(days=channel.listing_delay_days),
                )
        elif listing is not None:
            action = _stop(principal, listing, verdict.failing, today)
            counts.removed += action == "remove"
            counts.lapsed += action == "lapse"
    for pact_id, listing in open_listings.items():
        if pact_id not in seen:
            action = _stop(principal, listing, None, today)
            counts.removed += action == "remove"
            counts.lapsed += action == "lapse"
    return counts


def run_channels(principal: Principal, today: date) -> RunCounts:
    """The daily job: every channel, each in its own transaction."""
    policy.require(principal, Action.PLATFORM_CLOCK, None)
    total = RunCounts()
    standings = pact_standings()
    for channel in Channel.objects.order_by("pk"):
        counts = evaluate_channel(principal, channel, today, standings)
        for name in ("opened", "listed", "removed", "lapsed"):
            setattr(total, name, getattr(total, name) + getattr(counts, name))
        total.channels.append(channel.slug)
    return total


@retry_on_conflict
@transaction.atomic
def list_service(
    principal: Principal, listing: ChannelListing, today: date | None = None
) -> ChannelListing:
    """The channel's institution lists a pending service (late after the channel's delay)."""
    listing = _lock_listing(listing)
    _list(principal, listing, today or date.today())
    return listing
