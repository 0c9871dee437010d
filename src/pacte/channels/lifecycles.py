"""A channel listing's state machine, declared once as a table of moves.

    pending ──list──▶ listed ──remove──▶ removed
       └──lapse──▶ lapsed

A listing opens *pending* the day the service meets the channel's condition; the channel's
institution (or the platform, for a channel with no delay) lists it; the platform's daily run
removes a listed service the day it stops meeting the condition, or lapses a pending one.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from pacte.accounts.policy import Action, Principal
from pacte.channels.events import channel_event
from pacte.channels.models import ChannelListing
from pacte.writes.lifecycle import Lifecycle, Move

L = ChannelListing.State


def _set_listing_state(listing: ChannelListing, state: str, reason: str) -> None:
    listing.status = state
    if reason:
        listing.last_reason = reason
    listing.save()


def listing_subject(listing: ChannelListing) -> str:
    return f"{listing.channel.slug}:{listing.pact.reference}:{listing.pk}"


def _record_listing(
    listing: ChannelListing, event: str, principal: Principal, data: dict[str, Any]
) -> None:
    channel_event(
        event,
        principal,
        "channel_listing",
        listing_subject(listing),
        project_slug=listing.project.slug,
        channel=listing.channel.slug,
        institution=listing.channel.institution.slug,
        pact=listing.pact.reference,
        status=listing.status,
        eligible_on=listing.eligible_on.isoformat(),
        due_on=listing.due_on.isoformat() if listing.due_on else None,
        **data,
    )


LISTING: Lifecycle[ChannelListing] = Lifecycle.declare(
    "channel_listing",
    [
        Move.of(
            "list",
            [L.PENDING],
            L.LISTED,
            Action.CHANNEL_MANAGE,
            "channel.listed",
            wrong_state=_("Seul un service en attente d'inscription peut être inscrit."),
        ),
        Move.of("remove", [L.LISTED], L.REMOVED, Action.PLATFORM_CLOCK, "channel.removed"),
        Move.of("lapse", [L.PENDING], L.LAPSED, Action.PLATFORM_CLOCK, "channel.lapsed"),
    ],
    state_of=lambda listing: listing.status,
    set_state=_set_listing_state,
    record=_record_listing,
    state_label=lambda state: str(L(state).label),
)
