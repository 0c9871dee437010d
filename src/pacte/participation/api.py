"""The participation JSON API under /api/v1/ (thin): comments on consultations, follows, reuses.

Writes authenticate with a bearer token or with the session cookie (CSRF checked), so that a
citizen, who belongs to no organisation and has no token, can use them too; answers and
moderation are made for an organisation, hence with a token (or the session's acting one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.security import SessionAuth

from pacte.accounts.api_auth import TokenAuth
from pacte.accounts.policy import Person
from pacte.accounts.services import Acting
from pacte.api_contract import WRITE, Cursor, Limit, Offset, paginate, responses
from pacte.errors import NotAuthenticated, NotFound
from pacte.input_limits import BigInt, FilledIdentifier, FilledTitle, Identifier, Paragraph, Url
from pacte.participation import comments, follows, reuses, selectors
from pacte.participation.models import Comment, Reuse

router = Router(tags=["participation"])
token_or_session = [TokenAuth(), SessionAuth()]


def _person(request: HttpRequest) -> Person:
    auth = request.auth  # type: ignore[attr-defined]
    return Person(auth.user if isinstance(auth, Acting) else auth)


def _acting(request: HttpRequest) -> Acting:
    auth = request.auth  # type: ignore[attr-defined]
    acting = auth if isinstance(auth, Acting) else getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _(
                "Cette action se fait pour une organisation : utilisez un jeton d'API de l'organisation."
            )
        )
    return acting


# ------------------------------------------------------------------ schemas


class CommentOut(Schema):
    id: int
    consultation: int
    pact: str
    version: int
    section: str
    state: str
    author: str
    text: str | None
    edited_at: datetime | None
    previous_texts: list[str]
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    moderation_reason: str
    created_at: datetime


class CommentPage(Schema):
    count: int
    items: list[CommentOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class CommentIn(Schema):
    section: FilledIdentifier
    text: Paragraph


class TextIn(Schema):
    text: Paragraph


class ModerationIn(Schema):
    decision: FilledIdentifier
    reason: Paragraph


class FlagIn(Schema):
    reason: Paragraph


class FlagOut(Schema):
    id: int
    created_at: datetime


FollowTarget = Literal["registry", "project", "institution", "dataset"]  # Follow.Target


class FollowIn(Schema):
    target: FollowTarget
    key: Identifier = ""


class FollowOut(Schema):
    target: str
    key: str
    created_at: datetime


class FollowList(Schema):
    count: int
    items: list[FollowOut]


class ReuseOut(Schema):
    id: int
    kind: str
    dataset: str | None
    project: str | None
    title: str
    description: str
    reuser: str
    place: str
    url: str
    state: str
    created_at: datetime


class ReusePage(Schema):
    count: int
    items: list[ReuseOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


ReuseKind = Literal["dataset", "api", "code"]  # Reuse.Kind


class ReuseIn(Schema):
    kind: ReuseKind
    title: FilledTitle
    description: Paragraph
    reuser: FilledTitle
    url: Url
    place: Identifier = ""
    dataset: Identifier = ""
    project: Identifier = ""


def comment_out(c: Comment) -> dict[str, Any]:
    hidden = c.state == Comment.State.HIDDEN
    version = c.consultation.version
    return {
        "id": c.pk,
        "consultation": c.consultation_id,
        "pact": version.pact.reference,
        "version": version.number,
        "section": c.section,
        "state": c.state,
        "author": c.author_label,
        "text": None if hidden else c.text,
        "edited_at": c.edited_at,
        "previous_texts": [] if hidden else [r.text for r in c.revisions.all()],
        "answer": (c.answer or None) if not hidden else None,
        "answered_by": c.answered_by.slug if c.answered_by is not None else None,
        "answered_at": c.answered_at,
        "moderation_reason": c.moderation_reason,
        "created_at": c.created_at,
    }


def reuse_out(r: Reuse) -> dict[str, Any]:
    return {
        "id": r.pk,
        "kind": r.kind,
        "dataset": r.dataset.slug if r.dataset is not None else None,
        "project": r.project.slug if r.project is not None else None,
        "title": r.title,
        "description": r.description,
        "reuser": r.reuser,
        "place": r.place,
        "url": r.url,
        "state": r.state,
        "created_at": r.created_at,
    }


# ------------------------------------------------------------------ comments


@router.get(
    "/consultations/{int:consultation_id}/comments",
    response=responses({200: CommentPage}),
    summary="Commentaires d'une consultation publique (masqués : motif seulement)",
)
def list_comments(
    request: HttpRequest,
    consultation_id: BigInt,
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    consultation = selectors.get_consultation(consultation_id)
    qs = selectors.comments_of(consultation).select_related("consultation__version__pact")
    return paginate(
        qs, limit, offset, lambda page: [comment_out(c) for c in page], after=after, by_keyset=True
    )


@router.post(
    "/consultations/{int:consultation_id}/comments",
    response=responses({201: CommentOut}, WRITE),
    auth=token_or_session,
    summary="Commenter une partie du pacte (toute personne connectée)",
)
def post_comment(
    request: HttpRequest, consultation_id: BigInt, payload: CommentIn
) -> Status[dict[str, Any]]:
    consultation = selectors.get_consultation(consultation_id)
    c = comments.post_comment(_person(request), consultation, payload.section, payload.text)
    return Status(201, comment_out(selectors.get_comment(c.pk)))


@router.post(
    "/comments/{int:comment_id}/edit",
    response=responses({200: CommentOut}, WRITE),
    auth=token_or_session,
    summary="Modifier son commentaire tant qu'il n'a pas de réponse",
)
def edit_comment(request: HttpRequest, comment_id: BigInt, payload: TextIn) -> dict[str, Any]:
    c = comments.edit_comment(_person(request), selectors.get_comment(comment_id), payload.text)
    return comment_out(selectors.get_comment(c.pk))


@router.post(
    "/comments/{int:comment_id}/answer",
    response=responses({200: CommentOut}, WRITE),
    auth=token_or_session,
    summary="Répondre publiquement (porteur ou institution du pacte)",
)
def answer_comment(request: HttpRequest, comment_id: BigInt, payload: TextIn) -> dict[str, Any]:
    c = comments.answer_comment(_acting(request), selectors.get_comment(comment_id), payload.text)
    return comment_out(selectors.get_comment(c.pk))


@router.post(
    "/comments/{int:comment_id}/flag",
    response=responses({201: FlagOut}, WRITE),
    auth=token_or_session,
    summary="Signaler un commentaire à la modération",
)
def flag_comment(
    request: HttpRequest, comment_id: BigInt, payload: FlagIn
) -> Status[dict[str, Any]]:
    flag = comments.flag_comment(
        _person(request), selectors.get_comment(comment_id), payload.reason
    )
    return Status(201, {"id": flag.pk, "created_at": flag.created_at})


@router.post(
    "/comments/{int:comment_id}/moderate",
    response=responses({200: CommentOut}, WRITE),
    auth=token_or_session,
    summary="Masquer, maintenir ou rétablir un commentaire (motif public, au journal)",
)
def moderate_comment(
    request: HttpRequest, comment_id: BigInt, payload: ModerationIn
) -> dict[str, Any]:
    c = comments.moderate_comment(
        _acting(request), selectors.get_comment(comment_id), payload.decision, payload.reason
    )
    return comment_out(selectors.get_comment(c.pk))


# ------------------------------------------------------------------ follows


@router.get(
    "/follows",
    response=responses({200: FollowList}, WRITE),
    auth=token_or_session,
    summary="Ce que je suis",
)
def list_follows(request: HttpRequest) -> dict[str, Any]:
    items = [
        {"target": f.target, "key": f.key, "created_at": f.created_at}
        for f in selectors.follows_of(_person(request).user)
    ]
    return {"count": len(items), "items": items}


@router.post(
    "/follows",
    response=responses({201: FollowOut}, WRITE),
    auth=token_or_session,
    summary="Suivre un projet, une institution, un jeu de données ou tout le registre",
)
def add_follow(request: HttpRequest, payload: FollowIn) -> Status[dict[str, Any]]:
    f = follows.follow(_person(request), payload.target, payload.key)
    return Status(201, {"target": f.target, "key": f.key, "created_at": f.created_at})


@router.post(
    "/follows/remove",
    response=responses({200: FollowList}, WRITE),
    auth=token_or_session,
    summary="Ne plus suivre",
)
def remove_follow(request: HttpRequest, payload: FollowIn) -> dict[str, Any]:
    person = _person(request)
    follows.unfollow(person, payload.target, payload.key)
    return list_follows(request)


# ------------------------------------------------------------------ reuses


@router.get(
    "/reuses",
    response=responses({200: ReusePage}),
    summary="Registre des réutilisations (jeux de données, API, code des projets)",
)
def list_reuses(
    request: HttpRequest,
    dataset: Identifier = "",
    project: Identifier = "",
    kind: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    qs = selectors.public_reuses(dataset=dataset, project=project, kind=kind)
    return paginate(
        qs, limit, offset, lambda page: [reuse_out(r) for r in page], after=after, by_keyset=True
    )


@router.get(
    "/reuses/{int:reuse_id}", response=responses({200: ReuseOut}), summary="Une réutilisation"
)
def reuse_detail(request: HttpRequest, reuse_id: BigInt) -> dict[str, Any]:
    reuse = selectors.get_reuse(reuse_id)
    if reuse.state == Reuse.State.HIDDEN:
        raise NotFound(_("Réutilisation masquée par la modération."))
    return reuse_out(reuse)


@router.post(
    "/reuses",
    response=responses({201: ReuseOut}, WRITE),
    auth=token_or_session,
    summary="Déclarer une réutilisation (toute personne connectée)",
)
def declare_reuse(request: HttpRequest, payload: ReuseIn) -> Status[dict[str, Any]]:
    reuse = reuses.declare_reuse(_person(request), reuses.ReuseIn(**payload.dict()))
    return Status(201, reuse_out(reuse))


@router.post(
    "/reuses/{int:reuse_id}/moderate",
    response=responses({200: ReuseOut}, WRITE),
    auth=token_or_session,
    summary="Masquer, maintenir ou rétablir une réutilisation (motif public, au journal)",
)
def moderate_reuse(request: HttpRequest, reuse_id: BigInt, payload: ModerationIn) -> dict[str, Any]:
    reuse = reuses.moderate_reuse(
        _acting(request), selectors.get_reuse(reuse_id), payload.decision, payload.reason
    )
    return reuse_out(reuse)
