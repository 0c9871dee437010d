"""What the pact domain offers other domains.

**Sanctions.** When a pact is suspended, broken or reinstated, other domains apply or lift their own
measures (the data domain suspends or revokes the pact's grants; funding withholds payments). They
register a :class:`SanctionListener` once, in their ``AppConfig.ready``; the pact use case calls every
listener inside its own transaction, before it writes the pact's journal events (lock order: the
rows the listeners change are locked before the journal's state, see ``pacte.journal``).

**The State's tracked promises.** A domain holding the evidence of an institution's promise (funding:
a payment due by a date) asks the pact to track it as an institution-owned commitment
(:func:`add_state_commitment`), stops or restarts its clock (:func:`reschedule_state_commitment`),
settles it when the evidence arrives (:func:`settle_state_commitment`) or withdraws it when nothing is
owed any more (:func:`withdraw_state_commitment`); the compliance engine's clock does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from pacte.pacts.commitments import (
    add_state_commitment,
    reschedule_state_commitment,
    settle_state_commitment,
    withdraw_state_commitment,
)
from pacte.pacts.models import PactVersion

__all__ = [
    "SanctionAction",
    "SanctionListener",
    "add_state_commitment",
    "listen_to_sanctions",
    "pact_version",
    "reschedule_state_commitment",
    "sanction_listeners",
    "settle_state_commitment",
    "withdraw_state_commitment",
]

SanctionAction = Literal["suspend", "break", "reinstate"]


class SanctionListener(Protocol):
    def __call__(self, version: PactVersion, action: SanctionAction, /) -> None: ...


_listeners: dict[str, SanctionListener] = {}


def listen_to_sanctions(name: str, listener: SanctionListener) -> None:
    """Register (or replace) the listener called ``name``; idempotent, for AppConfig.ready."""
    _listeners[name] = listener


def sanction_listeners() -> list[tuple[str, SanctionListener]]:
    return sorted(_listeners.items())


def pact_version(pact_id: int) -> PactVersion | None:
    """The pact's current version (the one a State commitment is added to), None if it has none."""
    return PactVersion.objects.filter(pact_id=pact_id, is_current=True).first()


# ------------------------------------------------------------------ facts for distribution channels


@dataclass(frozen=True, slots=True)
class PactStanding:
    """What a channel's condition reads from one pact (issue 12, S4).

    ``accessibility_statement``: the pact's accessibility commitment (principle "accessibility")
    is met with a published statement (its evidence carries an address).
    """

    pact_id: int
    reference: str
    project_id: int
    institution_id: int
    status: str
    active: bool
    territory: str
    accessibility_statement: bool
    channel_slugs: tuple[str, ...]  # the channels its State commitments name


def pact_standings(
    institution_id: int | None = None, *, project_id: int | None = None
) -> list[PactStanding]:
    """The current, public version of every pact (of one institution, of one project when given:
    the project page reads only its own pacts, not the whole registry's)."""
    from pacte.pacts.models import Commitment, Pact, Status

    pacts = Pact.objects.select_related("project")
    if institution_id is not None:
        pacts = pacts.filter(institution_id=institution_id)
    if project_id is not None:
        pacts = pacts.filter(project_id=project_id)
    versions = {
        v.pact_id: v
        for v in PactVersion.objects.filter(pact__in=pacts, is_current=True).exclude(
            status=Status.DRAFT
        )
    }
    statements = set(
        Commitment.objects.filter(
            version__in=list(versions.values()),
            principle="accessibility",
            status=Commitment.State.MET,
        )
        .exclude(evidence_url="")
        .values_list("version_id", flat=True)
    )
    out = []
    for pact in pacts.order_by("pk"):
        version = versions.get(pact.pk)
        if version is None:
            continue
        content = version.content or {}
        state = content.get("state") or {}
        out.append(
            PactStanding(
                pact_id=pact.pk,
                reference=pact.reference,
                project_id=pact.project_id,
                institution_id=pact.institution_id,
                status=version.status,
                active=version.status == Status.ACTIVE,
                territory=str(
                    (content.get("mission") or {}).get("territory") or pact.project.territory
                ),
                accessibility_statement=version.pk in statements,
                channel_slugs=tuple(
                    str(c.get("channel", ""))
                    for c in state.get("channels", [])
                    if isinstance(c, dict)
                ),
            )
        )
    return out
