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

from typing import Any

from django.utils.translation import gettext_lazy as _

from pacte.accounts.policy import Action, Principal
from pacte.comptoirs.events import exchange_event
from pacte.comptoirs.models import Application, Challenge, ExpertRequest, Post
from pacte.writes.lifecycle import Lifecycle, Move

P = Post.State
OPEN_POST = [P.RECEIVED, P.IN_REVIEW, P.REDIRECTED]


def _set_post_state(post: Post, state: str, reason: str) -> None:
    post.status = state
    if reason:
        post.last_reason = reason
    post.save()


def _record_post(post: Post, event: str, principal: Principal, data: dict[str, Any]) -> None:
    exchange_event(
        event,
        principal,
        "comptoir_post",
        str(post.pk),
        project_slug=post.project.slug if post.project_id and post.project else "",
        status=post.status,
        organisation=post.organisation.slug,
        **data,
    )


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
    state_of=lambda p: str(p.status),
    set_state=_set_post_state,
    record=_record_post,
    state_label=lambda s: str(P(s).label),
)

E = ExpertRequest.State


def _set_request_state(req: ExpertRequest, state: str, reason: str) -> None:
    req.status = state
    if reason:
        req.last_reason = reason
    req.save()


def _record_request(
    req: ExpertRequest, event: str, principal: Principal, data: dict[str, Any]
) -> None:
    exchange_event(
        event,
        principal,
        "expert_request",
        str(req.pk),
        project_slug=req.project.slug,
        status=req.status,
        expert=req.expert_id,
        institution=req.expert.institution.slug,
        **data,
    )


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
    state_of=lambda r: str(r.status),
    set_state=_set_request_state,
    record=_record_request,
    state_label=lambda s: str(E(s).label),
)

C = Challenge.State


def _set_challenge_state(challenge: Challenge, state: str, reason: str) -> None:
    challenge.status = state
    if reason:
        challenge.last_reason = reason
    challenge.save()


def _record_challenge(
    challenge: Challenge, event: str, principal: Principal, data: dict[str, Any]
) -> None:
    exchange_event(
        event,
        principal,
        "challenge",
        challenge.slug,
        status=challenge.status,
        institution=challenge.institution.slug,
        **data,
    )


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
    state_of=lambda c: str(c.status),
    set_state=_set_challenge_state,
    record=_record_challenge,
    state_label=lambda s: str(C(s).label),
)

A = Application.State


def _set_application_state(application: Application, state: str, reason: str) -> None:
    application.status = state
    application.reason = reason
    application.save()


def _record_application(
    application: Application, event: str, principal: Principal, data: dict[str, Any]
) -> None:
    exchange_event(
        event,
        principal,
        "challenge",
        application.challenge.slug,
        application=application.pk,
        team=application.carrier.slug,
        status=application.status,
        **data,
    )


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
    state_of=lambda a: str(a.status),
    set_state=_set_application_state,
    record=_record_application,
    state_label=lambda s: str(A(s).label),
)
