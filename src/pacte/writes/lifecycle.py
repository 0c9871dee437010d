"""One way to declare and run a state machine (pact, commitment, data request, grant, and the ones to
come: payment, comptoir post).

A lifecycle is a table of moves: for each action, the states it may start from, the state it leads
to, the policy action that says who may do it, whether a written reason is required, and the
journal event it writes. :meth:`Lifecycle.apply` runs a move the same way everywhere:

    check the principal (policy) → check the reason → check the source state → set the state →
    write the journal event (same transaction)

The caller has already locked the row (``select_for_update``; lock order in ``pacte.journal``) and
runs inside its use case's transaction; anything the move needs beyond the state (a deadline, a
token, a notification) stays in the use case, before or after ``apply``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.errors import InvalidTransition, ValidationFailed

T = TypeVar("T")

MIN_REASON = 10


def require_reason(reason: str) -> str:
    """A negative decision carries a written reason of at least ten characters."""
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationFailed(
            _("Un motif écrit est obligatoire pour cette décision (10 caractères au moins)."),
            field_errors={"reason": [_("Motif obligatoire.")]},
        )
    return reason


@dataclass(frozen=True)
class Move:
    action: str
    sources: frozenset[str]
    target: str
    permission: policy.Action
    event: str
    reason_required: bool = False
    wrong_state: Any = None  # the (lazily translated) message when the source state is wrong, if not the generic one

    @classmethod
    def of(
        cls,
        action: str,
        sources: Iterable[str],
        target: str,
        permission: policy.Action,
        event: str,
        *,
        reason: bool = False,
        wrong_state: Any = None,
    ) -> Move:
        return cls(
            action,
            frozenset(str(s) for s in sources),
            str(target),
            permission,
            event,
            reason,
            wrong_state,
        )


def _saving_state(state_field: str, reason_field: str) -> Callable[[Any, str, str], None]:
    def set_state(obj: Any, state: str, reason: str) -> None:
        setattr(obj, state_field, state)
        if reason:
            setattr(obj, reason_field, reason)
        obj.save()

    return set_state


def _writing(
    events: Callable[..., None],
) -> Callable[[Any, str, policy.Principal, dict[str, Any]], None]:
    def record(obj: Any, event: str, principal: policy.Principal, data: dict[str, Any]) -> None:
        events(obj, event, principal, **data)

    return record


@dataclass
class Lifecycle(Generic[T]):
    """``state_of``/``set_state`` read and write the state on the object; ``subject`` gives the object
    the policy judges (e.g. the pact of a pact version); ``record`` writes the journal event."""

    name: str
    moves: Mapping[str, Move]
    state_of: Callable[[T], str]
    set_state: Callable[[T, str, str], None]  # (obj, new state, reason)
    record: Callable[
        [T, str, policy.Principal, dict[str, Any]], None
    ]  # (obj, event, principal, data)
    subject: Callable[[T], Any] = field(default=lambda obj: obj)
    state_label: Callable[[str], str] = field(default=str)

    @classmethod
    def declare(
        cls,
        name: str,
        moves: Iterable[Move],
        *,
        state_field: str = "status",
        reason_field: str = "last_reason",
        events: Callable[..., None] | None = None,
        **hooks: Any,
    ) -> Lifecycle[T]:
        """Declare a lifecycle. The usual hooks have defaults, so a domain writes only what is its
        own: ``state_of`` reads ``obj.<state_field>``; ``set_state`` writes it, keeps a non-empty
        reason in ``obj.<reason_field>`` and saves the object; ``events`` — the domain's journal
        writer ``(obj, event, principal, **data)`` — becomes ``record``. Any hook given outright
        wins."""
        table = {m.action: m for m in moves}
        hooks.setdefault("state_of", lambda obj: str(getattr(obj, state_field)))
        hooks.setdefault("set_state", _saving_state(state_field, reason_field))
        if events is not None:
            hooks.setdefault("record", _writing(events))
        return cls(name=name, moves=table, **hooks)

    def available(self, principal: policy.Principal | None, obj: T) -> list[Move]:
        """The moves this principal may make now (for buttons on pages)."""
        state = self.state_of(obj)
        return [
            m
            for m in self.moves.values()
            if state in m.sources and policy.may(principal, m.permission, self.subject(obj))
        ]

    def check(
        self, principal: policy.Principal, action: str, obj: T, reason: str = ""
    ) -> tuple[Move, str]:
        move = self.moves[action]
        policy.require(principal, move.permission, self.subject(obj))
        if move.reason_required:
            reason = require_reason(reason)
        else:
            reason = (reason or "").strip()
        state = self.state_of(obj)
        if state not in move.sources:
            if move.wrong_state is not None:
                raise InvalidTransition(str(move.wrong_state))
            raise InvalidTransition(
                _("Transition impossible depuis l'état « %(state)s ».")
                % {"state": self.state_label(state)}
            )
        return move, reason

    def enter(
        self,
        principal: policy.Principal,
        move: Move,
        obj: T,
        reason: str = "",
        *,
        target: str | None = None,
        event: str | None = None,
        **data: Any,
    ) -> None:
        """Second half of a move already checked with :meth:`check`: set the state and write the event.
        ``target``/``event`` serve the moves that take several steps (a first of two approvals, a
        first of two signatures) and stay in their source state until the last one."""
        self.set_state(obj, target or move.target, reason)
        payload = ({"reason": reason} if reason else {}) | data
        self.record(obj, event or move.event, principal, payload)

    def apply(
        self, principal: policy.Principal, action: str, obj: T, reason: str = "", **data: Any
    ) -> Move:
        """Run one move on a locked object, inside the caller's transaction: check, then enter."""
        move, reason = self.check(principal, action, obj, reason)
        self.enter(principal, move, obj, reason, **data)
        return move

    def table(self) -> list[dict[str, Any]]:
        """The declaration as rows, for the documentation page and the tests."""
        return [
            {
                "action": m.action,
                "from": sorted(m.sources),
                "to": m.target,
                "who": str(m.permission),
                "reason_required": m.reason_required,
                "event": m.event,
            }
            for m in self.moves.values()
        ]
