"""The institution's promise to draw a test panel by a date (issue 12, State's record).

When a pact commits the institution to a test panel (``state.panel_size`` in the pact's content)
and the institution opens the panel call, running the draw by ``opened_on + DRAW_DAYS`` becomes one
of the pact's State-side commitments (``pacts.ports.add_state_commitment``); the draw settles it.
The compliance engine's clock marks it missed then breached like a late payment, and the State's
record reads it (median delay, share on time, open past due).

A call the carrier opened itself is the carrier's to draw: it is not a promise of the State.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, timedelta
from typing import cast

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pacte.accounts.models import Organisation
from pacte.accounts.policy import Principal
from pacte.accounts.state_record import PromiseFigures, StatePromises, figures_from_items
from pacte.evidence.models import PanelCall
from pacte.pacts import ports as pact_ports
from pacte.pacts.models import Commitment

DRAW_DAYS = 30  # the institution draws the panel within this many days of opening the call


def commitment_key(call: PanelCall) -> str:
    return f"tirage-panel-{call.pk}"


def _promised(call: PanelCall) -> bool:
    """The call's pact commits the institution to a panel, and the institution opened it."""
    if call.pact is None or call.opened_by_id != call.pact.institution_id:
        return False
    version = pact_ports.pact_version(call.pact_id) if call.pact_id else None
    state = ((version.content or {}).get("state") or {}) if version is not None else {}
    return bool(state.get("panel_size"))


def track_draw(principal: Principal, call: PanelCall) -> Commitment | None:
    """Inside the caller's transaction (the call was just opened)."""
    if not _promised(call):
        return None
    version = pact_ports.pact_version(call.pact_id) if call.pact_id else None
    if version is None:
        return None
    due = call.opened_on + timedelta(days=DRAW_DAYS)
    return pact_ports.add_state_commitment(
        principal,
        version,
        key=commitment_key(call),
        text=_(
            "Tirer au sort le panel « %(title)s » au plus tard le %(due)s (appel ouvert le %(opened)s)."
        )
        % {
            "title": call.title,
            "due": due.strftime("%d/%m/%Y"),
            "opened": call.opened_on.strftime("%d/%m/%Y"),
        },
        due_date=due,
        evidence_kind="panel_draw",
        panel_call=call.pk,
    )


def settle_draw(principal: Principal, call: PanelCall, on: date) -> None:
    """The draw took place on ``on``: the promise is met (late if after its due date)."""
    if call.pact_id is None:
        return
    version = pact_ports.pact_version(call.pact_id)
    if version is None:
        return
    pact_ports.settle_state_commitment(
        principal,
        version,
        commitment_key(call),
        note=_("Tirage effectué le %(day)s.") % {"day": on.strftime("%d/%m/%Y")},
        on=on,
    )


def _at(day: date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)


def panel_draw_figures(institution: Organisation, now: dt.datetime) -> PromiseFigures:
    """Received: the day the call opened; answered: the draw; due: the commitment's due date
    (end of that day). Only the calls whose draw is a tracked promise count."""
    calls = list(
        PanelCall.objects.filter(opened_by=institution, pact__isnull=False).values_list(
            "pk", "opened_on", "drawn_at"
        )
    )
    due_dates = dict(
        Commitment.objects.filter(
            key__in=[f"tirage-panel-{pk}" for pk, _o, _d in calls],
            owner=Commitment.Owner.INSTITUTION,
            due_date__isnull=False,
        ).values_list("key", "due_date")
    )
    items = []
    for pk, opened_on, drawn_at in calls:
        due = due_dates.get(f"tirage-panel-{pk}")
        if due is None:
            continue
        items.append(
            (
                _at(opened_on),
                drawn_at,
                _at(due) + dt.timedelta(days=1) - dt.timedelta(microseconds=1),
            )
        )
    return figures_from_items(items, now)


def register(promises: StatePromises) -> None:
    promises.register(
        "panel_draws",
        cast(str, gettext_lazy("Tirage au sort des panels de testeurs")),  # lazy: per request
        cast(str, gettext_lazy("30 jours après l'ouverture de l'appel")),
        panel_draw_figures,
    )
