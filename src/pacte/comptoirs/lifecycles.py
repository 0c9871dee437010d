"""The state machines of comptoir posts, expert requests, challenges and applications, declared
once as tables of moves (see :mod:`pacte.writes.lifecycle`).

Comptoir post::

    received ──review──▶ in_review ──answer──▶ answered ──close (reason)──▶ closed
        │  ╲                 │                                ▲
        │   redirect (reason, to the next institution) ──▶ redirected ─┘
        └─────────────────────────── close (reason) ───────────┘

Expert request: requested ──accept (slots)──▶ accepted ──confirm × 2──▶ completed;
requested ──redirect (reason)──▶ redirected (a new request to the other expert);
requested ──decline (reason)──▶ declined.

Challenge: open ──close / expire──▶ closed; open | closed ──decide──▶ decided.
Application: submitted ──select | reject (reason)──▶ selected | not_selected.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from pacte.accounts.policy import Action
from pacte.comptoirs.events import (
    application_event,
    challenge_event,
    expert_request_event,
    post_event,
)
from pacte.comptoirs.models import Application, Challenge, ExpertRequest, Post
from pacte.writes.lifecycle import Lifecycle, Move

P = Post.State
OPEN_POST = [P.RECEIVED, P.IN_REVIEW, P.REDIRECTED]


POST: Lifecycle[Post] = Lifecycle.declare(
    "comptoir_post",
    [
        Move.of(
            "review",
            [P.RECEIVED, P.REDIRECTED],
            P.IN_REVIEW,
            Action.COMPTOIR_ANSWER,
            "comptoir.post.in_review",
            wrong_state=_("Seul un dépôt reçu ou réorienté peut être mis en examen."),
        ),
        Move.of(
            "answer",
            OPEN_POST,
            P.ANSWERED,
            Action.COMPTOIR_ANSWER,
            "comptoir.post.answered",
            wrong_state=_("Ce dépôt a déjà reçu sa réponse ou a été clos."),
        ),
        Move.of(
            "redirect",
            OPEN_POST,
            P.REDIRECTED,
            Action.COMPTOIR_ANSWER,
            "comptoir.post.redirected",
            reason=True,
            wrong_state=_("Un dépôt répondu ou clos ne peut plus être réorienté."),
        ),
        Move.of(
            "close",
            [*OPEN_POST, P.ANSWERED],
            P.CLOSED,
            Action.COMPTOIR_ANSWER,
            "comptoir.post.closed",
            reason=True,
            wrong_state=_("Ce dépôt est déjà clos."),
        ),
    ],
    events=post_event,
    state_label=lambda s: str(P(s).label),
)

E = ExpertRequest.State


EXPERT_REQUEST: Lifecycle[ExpertRequest] = Lifecycle.declare(
    "expert_request",
    [
        Move.of(
            "accept",
            [E.REQUESTED],
            E.ACCEPTED,
            Action.EXPERT_ANSWER,
            "expert_request.accepted",
            wrong_state=_("Cette demande a déjà reçu sa réponse."),
        ),
        Move.of(
            "redirect",
            [E.REQUESTED],
            E.REDIRECTED,
            Action.EXPERT_ANSWER,
            "expert_request.redirected",
            reason=True,
            wrong_state=_("Cette demande a déjà reçu sa réponse."),
        ),
        Move.of(
            "decline",
            [E.REQUESTED],
            E.DECLINED,
            Action.EXPERT_ANSWER,
            "expert_request.declined",
            reason=True,
            wrong_state=_("Cette demande a déjà reçu sa réponse."),
        ),
        Move.of(
            "confirm",
            [E.ACCEPTED],
            E.COMPLETED,
            Action.EXPERT_SUMMARY,
            "expert_request.completed",
            wrong_state=_("La synthèse se rédige après un échange accepté, et une seule fois."),
        ),
    ],
    events=expert_request_event,
    state_label=lambda s: str(E(s).label),
)

C = Challenge.State


CHALLENGE: Lifecycle[Challenge] = Lifecycle.declare(
    "challenge",
    [
        Move.of(
            "close",
            [C.OPEN],
            C.CLOSED,
            Action.CHALLENGE_PUBLISH,
            "challenge.closed",
            wrong_state=_("Ce défi n'est plus ouvert."),
        ),
        Move.of(
            "expire",
            [C.OPEN],
            C.CLOSED,
            Action.PLATFORM_CLOCK,
            "challenge.closed",
            wrong_state=_("Ce défi n'est plus ouvert."),
        ),
        Move.of(
            "decide",
            [C.OPEN, C.CLOSED],
            C.DECIDED,
            Action.CHALLENGE_PUBLISH,
            "challenge.selection_published",
            wrong_state=_("La sélection de ce défi est déjà publiée."),
        ),
    ],
    events=challenge_event,
    state_label=lambda s: str(C(s).label),
)

A = Application.State


APPLICATION: Lifecycle[Application] = Lifecycle.declare(
    "challenge_application",
    [
        Move.of(
            "select",
            [A.SUBMITTED],
            A.SELECTED,
            Action.CHALLENGE_JURY,
            "challenge.application_selected",
            reason=True,
            wrong_state=_("Le jury a déjà décidé de cette candidature."),
        ),
        Move.of(
            "reject",
            [A.SUBMITTED],
            A.NOT_SELECTED,
            Action.CHALLENGE_JURY,
            "challenge.application_not_selected",
            reason=True,
            wrong_state=_("Le jury a déjà décidé de cette candidature."),
        ),
    ],
    reason_field="reason",
    events=application_event,
    state_label=lambda s: str(A(s).label),
)
