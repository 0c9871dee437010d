"""The participation domain's state machines, declared once as tables of moves.

    consultation:  open ──close──▶ closed        (the reviewer early, or the platform at its end)

    comment:       published ──answer──▶ answered
                      │  ╲                  │
                      │   hide (reason) ◀───┘      keep (reason): flags dismissed, state kept
                      ▼                            restore (reason): back to published/answered
                   hidden

    reuse:         published ──hide──▶ hidden ──restore──▶ published

An author edits a comment only while it is published (``edit`` is checked, never entered: an
edit keeps the state and writes no journal event; the earlier text is kept as a revision).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pacte.accounts.policy import Action
from pacte.participation.events import comment_event, consultation_event, reuse_event
from pacte.participation.models import Comment, Consultation, Contribution, Reuse
from pacte.writes.lifecycle import Lifecycle, Move

K = Consultation.State
C = Contribution.State


def _set_consultation_state(consultation: Consultation, state: str, reason: str) -> None:
    consultation.state = state
    consultation.closed_at = timezone.now()
    consultation.save(update_fields=["state", "closed_at"])


CONSULTATION: Lifecycle[Consultation] = Lifecycle.declare(
    "consultation",
    [
        Move.of(
            "close",
            [K.OPEN],
            K.CLOSED,
            Action.CONSULTATION_CLOSE,
            "consultation.closed",
            wrong_state=_("Cette consultation est déjà close."),
        ),
    ],
    state_field="state",
    set_state=_set_consultation_state,
    events=consultation_event,
    subject=lambda c: c.version.pact,
    state_label=lambda s: str(Consultation.State(s).label),
)


def _set_contribution_state(item: Contribution, state: str, reason: str) -> None:
    item.state = state
    if reason:
        item.moderation_reason = reason
        item.moderated_at = timezone.now()
    item.save()


COMMENT: Lifecycle[Comment] = Lifecycle.declare(
    "comment",
    [
        Move.of(
            "edit",
            [C.PUBLISHED],
            C.PUBLISHED,
            Action.COMMENT_EDIT,
            "",
            wrong_state=_(
                "Un commentaire auquel on a répondu (ou masqué) ne peut plus être modifié."
            ),
        ),
        Move.of(
            "answer",
            [C.PUBLISHED],
            C.ANSWERED,
            Action.COMMENT_ANSWER,
            "consultation.comment_answered",
            wrong_state=_("Ce commentaire a déjà reçu une réponse, ou il est masqué."),
        ),
        Move.of(
            "hide",
            [C.PUBLISHED, C.ANSWERED],
            C.HIDDEN,
            Action.PARTICIPATION_MODERATE,
            "participation.comment_hidden",
            reason=True,
            wrong_state=_("Ce commentaire est déjà masqué."),
        ),
        Move.of(
            "keep",
            [C.PUBLISHED, C.ANSWERED],
            C.PUBLISHED,  # the use case keeps the current state (target=)
            Action.PARTICIPATION_MODERATE,
            "participation.comment_kept",
            reason=True,
            wrong_state=_("Un commentaire masqué se rétablit, il ne se maintient pas."),
        ),
        Move.of(
            "restore",
            [C.HIDDEN],
            C.PUBLISHED,  # or answered, when it has an answer (target=)
            Action.PARTICIPATION_MODERATE,
            "participation.comment_restored",
            reason=True,
            wrong_state=_("Seul un commentaire masqué peut être rétabli."),
        ),
    ],
    state_field="state",
    set_state=_set_contribution_state,
    events=comment_event,
    state_label=lambda s: str(Contribution.State(s).label),
)

REUSE: Lifecycle[Reuse] = Lifecycle.declare(
    "reuse",
    [
        Move.of(
            "hide",
            [C.PUBLISHED],
            C.HIDDEN,
            Action.PARTICIPATION_MODERATE,
            "participation.reuse_hidden",
            reason=True,
            wrong_state=_("Cette réutilisation est déjà masquée."),
        ),
        Move.of(
            "keep",
            [C.PUBLISHED],
            C.PUBLISHED,
            Action.PARTICIPATION_MODERATE,
            "participation.reuse_kept",
            reason=True,
            wrong_state=_("Une réutilisation masquée se rétablit, elle ne se maintient pas."),
        ),
        Move.of(
            "restore",
            [C.HIDDEN],
            C.PUBLISHED,
            Action.PARTICIPATION_MODERATE,
            "participation.reuse_restored",
            reason=True,
            wrong_state=_("Seule une réutilisation masquée peut être rétablie."),
        ),
    ],
    state_field="state",
    set_state=_set_contribution_state,
    events=reuse_event,
    state_label=lambda s: str(Contribution.State(s).label),
)
