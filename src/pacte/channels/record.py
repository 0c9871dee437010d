"""The channels' promise in the State's record: services listed within the channel's delay."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.utils.translation import gettext_lazy as _

from pacte.accounts.models import Organisation
from pacte.accounts.state_record import PromiseFigures, StatePromises, figures_from_items
from pacte.channels.models import ChannelListing

L = ChannelListing.State


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)


def channel_listings_figures(institution: Organisation, now: dt.datetime) -> PromiseFigures:
    """Read from the pacts' State-side commitments: received the day a service met the
    condition; answered the day it was listed; due on its commitment's due date. A service that
    lost the condition before its due date is no longer owed (its commitment was withdrawn)."""
    rows = (
        ChannelListing.objects.filter(
            channel__institution=institution, commitment__due_date__isnull=False
        )
        .exclude(status=L.LAPSED, listed_on__isnull=True)
        .values_list("eligible_on", "listed_on", "commitment__due_date")
    )
    # a listing on its due day is on time: the due instant is the end of that day
    items = [
        (
            _at(eligible),
            _at(listed) if listed else None,
            _at(due) + dt.timedelta(days=1) - dt.timedelta(microseconds=1),
        )
        for eligible, listed, due in rows
        if due is not None  # filtered above; for the type checker
    ]
    return figures_from_items(items, now)


def register(promises: StatePromises) -> None:
    promises.register(
        "channel_listings",
        cast(str, _("Inscription des services dans les canaux de diffusion")),  # lazy: per request
        cast(str, _("dans le délai du canal, dès que la condition est remplie")),
        channel_listings_figures,
    )
