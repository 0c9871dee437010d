"""The institution follows a pact in force: notify a breach, cure it, suspend, reinstate, break,
complete. The compliance engine makes the same moves on its own (as ``policy.SYSTEM``).

Sanctions reach other domains through ``pacte.pacts.ports`` (the data domain suspends or revokes
the pact's grants): the listeners run first, so that they lock their rows before this use case
writes to the journal (lock order in ``pacte.journal.services``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import transaction

from pacte.accounts.policy import Principal, actor_of
from pacte.pacts import notifications
from pacte.pacts.events import lock_version, pact_event
from pacte.pacts.lifecycles import PACT
from pacte.pacts.models import PactVersion
from pacte.pacts.ports import SanctionAction, sanction_listeners
from pacte.pacts.schema import parse_content
from pacte.writes.retry import retry_on_conflict


def _institution_move(
    action: str,
    principal: Principal,
    version: PactVersion,
    reason: str,
    cure_days: int | None = None,
    today: date | None = None,
) -> PactVersion:
    version = lock_version(version)
    move, reason = PACT.check(principal, action, version, reason)
    extra: dict[str, Any] = {}
    if action == "notify_breach":
        days = (
            cure_days or parse_content(version.content).cure_days or settings.PACT_DEFAULT_CURE_DAYS
        )
        version.cure_deadline = (today or date.today()) + timedelta(days=days)
        extra["cure_deadline"] = version.cure_deadline.isoformat()
    if action in ("cure", "reinstate"):
        version.cure_deadline = None
    if action in ("suspend", "break", "reinstate"):
        version.last_reason = reason or version.last_reason  # listeners quote the pact's reason
        for _name, listener in sanction_listeners():
            listener(version, cast(SanctionAction, action))
    if action == "suspend":
        PACT.enter(principal, move, version, reason)
        sanctions = [s["measure"] for s in version.content.get("sanctions", [])]
        pact_event(
            version, "sanction.applied", actor_of(principal), reason=reason, sanctions=sanctions
        )
    elif action == "break":
        PACT.enter(principal, move, version, reason)
        pact_event(
            version,
            "sanction.applied",
            actor_of(principal),
            reason=reason,
            sanctions=["rupture", "révocation des accès"],
        )
    else:
        PACT.enter(principal, move, version, reason, **extra)
    notifications.notify(version, action)
    return version


@retry_on_conflict
@transaction.atomic
def notify_breach(
    acting: Principal,
    version: PactVersion,
    reason: str,
    cure_days: int | None = None,
    today: date | None = None,
) -> PactVersion:
    """`today` lets the compliance engine run on a simulated clock; people leave it out."""
    return _institution_move("notify_breach", acting, version, reason, cure_days, today)


@retry_on_conflict
@transaction.atomic
def cure(acting: Principal, version: PactVersion, reason: str = "") -> PactVersion:
    return _institution_move("cure", acting, version, reason)


@retry_on_conflict
@transaction.atomic
def suspend(acting: Principal, version: PactVersion, reason: str) -> PactVersion:
    return _institution_move("suspend", acting, version, reason)


@retry_on_conflict
@transaction.atomic
def reinstate(acting: Principal, version: PactVersion, reason: str = "") -> PactVersion:
    return _institution_move("reinstate", acting, version, reason)


@retry_on_conflict
@transaction.atomic
def break_pact(acting: Principal, version: PactVersion, reason: str) -> PactVersion:
    return _institution_move("break", acting, version, reason)


@retry_on_conflict
@transaction.atomic
def complete(acting: Principal, version: PactVersion, reason: str = "") -> PactVersion:
    return _institution_move("complete", acting, version, reason)
