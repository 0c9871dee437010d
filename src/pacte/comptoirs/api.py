"""The JSON API of the comptoir (/api/v1/comptoir/…), the experts (/api/v1/experts…) and the
challenges (/api/v1/challenges…): thin — parse, call a use case or a selector, shape."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import AfterValidator

from pacte.accounts.api_auth import TokenAuth
from pacte.accounts.models import Organisation
from pacte.api_contract import WRITE, Cursor, Limit, Offset, paginate, responses
from pacte.comptoirs import challenges, experts, posts, selectors
from pacte.comptoirs.models import Application, Challenge, Expert, ExpertRequest, Post
from pacte.errors import NotFound, ValidationFailed
from pacte.input_limits import (
    IDENTIFIER,
    LABEL,
    PARAGRAPH,
    SENTENCE,
    TITLE,
    BigInt,
    FilledIdentifier,
    FilledTitle,
    Identifier,
    Label,
    Paragraph,
    Sentence,
    Title,
    refuse_bad_characters,
)
from pacte.projects.models import Project

router = Router(tags=["comptoirs"])
auth = TokenAuth()


# ------------------------------------------------------------------ schemas


class PostOut(Schema):
    id: int
    kind: str
    title: str
    theme: str
    territory: str
    body: str
    affected: str
    affected_count: int | None
    today: str
    project: str | None
    skills: str
    time_offered: str
    status: str
    organisation: str
    contact_title: str
    contact_role: str
    due_at: datetime
    late: bool
    answer: str
    reason: str
    hidden: bool
    moderation_reason: str
    became_project: str | None
    with_mediator: bool = False  # posted by a mediator for a person without an account
    created_at: datetime


class PostPage(Schema):
    count: int
    items: list[PostOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class RouteOut(Schema):
    theme: str
    territory: str
    institution: str
    contact_role: str
    contact_title: str
    clock_days: int


PostKind = Literal["probleme", "projet", "contribution"]  # Post.Kind
ThemeCode = Literal[
    "emploi",
    "sante",
    "logement",
    "education",
    "mobilite",
    "environnement",
    "numerique",
    "solidarite",
    "autre",
]  # Theme


# A text that must say something: not empty, not only spaces (no NUL, like every text).
SAID = r"^[^\u0000]*\S[^\u0000]*$"
SaidTitle = Annotated[
    str,
    Field(min_length=1, max_length=TITLE, pattern=SAID),
    AfterValidator(refuse_bad_characters),
]
SaidLabel = Annotated[
    str,
    Field(min_length=1, max_length=LABEL, pattern=SAID),
    AfterValidator(refuse_bad_characters),
]
SaidSentence = Annotated[
    str,
    Field(min_length=1, max_length=SENTENCE, pattern=SAID),
    AfterValidator(refuse_bad_characters),
]
SaidParagraph = Annotated[
    str,
    Field(min_length=1, max_length=PARAGRAPH, pattern=SAID),
    AfterValidator(refuse_bad_characters),
]
SaidIdentifier = Annotated[
    str, Field(min_length=1, max_length=IDENTIFIER, pattern=r"^[-a-zA-Z0-9_]+$")
]


class _PostBase(Schema):
    title: SaidTitle
    theme: ThemeCode
    territory: SaidLabel
    body: SaidParagraph


class ProblemIn(_PostBase):
    """A societal problem, not a solution: who is affected, how many, what happens today."""

    kind: Literal["probleme"]
    affected: SaidSentence
    affected_count: Annotated[int, Field(ge=1, le=100_000_000)]
    today: SaidParagraph


class ProposalIn(_PostBase):
    kind: Literal["projet"]


class ContributionIn(_PostBase):
    """An offer to help an existing project (its address), with skills and time."""

    kind: Literal["contribution"]
    project: SaidIdentifier
    skills: SaidSentence
    time_offered: SaidLabel


PostIn = Annotated[ProblemIn | ProposalIn | ContributionIn, Field(discriminator="kind")]


class PostActionIn(Schema):
    text: Paragraph = Field("", description="La réponse (action « answer »).")
    reason: Paragraph = Field("", description="Le motif (redirect, close, moderate).")
    institution: Identifier = Field("", description="L'institution visée (redirect).")
    name: Title = Field("", description="Le nom du projet (project).")
    pitch: Sentence = Field("", description="Le projet en une phrase (project).")


class ExpertOut(Schema):
    id: int
    name: str
    domain: str
    institution: str
    organisation: str
    availability: str
    languages: list[str]
    bio: str


class ExpertPage(Schema):
    count: int
    items: list[ExpertOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class ExpertIn(Schema):
    name: FilledTitle
    domain: FilledTitle
    organisation: FilledTitle
    availability: Sentence
    languages: Annotated[list[Label], Field(max_length=20)] = []
    bio: Paragraph = ""


class ExpertRequestOut(Schema):
    id: int
    expert: int
    institution: str
    project: str
    topic: str
    question: str
    status: str
    requested_at: datetime
    due_at: datetime
    answered_at: datetime | None
    late: bool
    slots: list[str]
    reason: str
    redirected_to: int | None
    public_summary: str = Field(description="Publique seulement une fois confirmée des deux côtés.")


class ExpertRequestPage(Schema):
    count: int
    items: list[ExpertRequestOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class AskIn(Schema):
    project: FilledIdentifier
    topic: FilledTitle
    question: Paragraph


class RequestActionIn(Schema):
    slots: Annotated[list[Label], Field(max_length=10)] = []
    expert: BigInt = 0
    reason: Paragraph = ""
    notes: Paragraph = ""
    public_summary: Paragraph = ""


class ApplicationOut(Schema):
    id: int
    team: str
    project: str | None
    proposal: str
    status: str
    reason: str
    pact: str | None


class ChallengeOut(Schema):
    slug: str
    title: str
    institution: str
    problem: str
    theme: str
    territory: str
    criteria: str
    deadline: date
    programme: str | None
    datasets: list[str]
    status: str
    applications: list[ApplicationOut]


class ChallengePage(Schema):
    count: int
    items: list[ChallengeOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class ChallengeIn(Schema):
    title: FilledTitle
    problem: Paragraph
    theme: ThemeCode
    criteria: Paragraph
    deadline: date
    territory: Label = ""
    programme: Identifier = ""
    datasets: Annotated[list[Identifier], Field(max_length=50)] = []


class ApplyIn(Schema):
    proposal: Paragraph
    team: Sentence
    project: Identifier = ""


class DecisionIn(Schema):
    application: BigInt
    selected: bool
    reason: Paragraph


class SelectionIn(Schema):
    decisions: Annotated[list[DecisionIn], Field(max_length=500)]


class PactDraftOut(Schema):
    pact: str
    version: int
    project: str


# ------------------------------------------------------------------ shaping


def post_out(p: Post) -> dict[str, Any]:
    hidden = p.hidden  # a hidden post keeps only what the moderation left public
    return {
        "id": p.pk,
        "kind": p.kind,
        "title": p.title,
        "theme": p.theme,
        "territory": p.territory,
        "body": "" if hidden else p.body,
        "affected": p.affected,
        "affected_count": p.affected_count,
        "today": "" if hidden else p.today,
        "project": p.project.slug if p.project else None,
        "skills": p.skills,
        "time_offered": p.time_offered,
        "status": p.status,
        "organisation": p.organisation.slug,
        "contact_title": p.contact_title,
        "contact_role": p.contact_role,
        "due_at": p.due_at,
        "late": p.late,
        "answer": p.answer,
        "reason": p.last_reason,
        "hidden": hidden,
        "moderation_reason": p.moderation_reason,
        "became_project": p.became_project.slug if p.became_project else None,
        "with_mediator": p.with_mediator,
        "created_at": p.created_at,
    }


def expert_out(e: Expert) -> dict[str, Any]:
    return {
        "id": e.pk,
        "name": e.name,
        "domain": e.domain,
        "institution": e.institution.slug,
        "organisation": e.organisation_label,
        "availability": e.availability,
        "languages": e.languages,
        "bio": e.bio,
    }


def request_out(r: ExpertRequest) -> dict[str, Any]:
    return {
        "id": r.pk,
        "expert": r.expert_id,
        "institution": r.expert.institution.slug,
        "project": r.project.slug,
        "topic": r.topic,
        "question": r.question,
        "status": r.status,
        "requested_at": r.requested_at,
        "due_at": r.due_at,
        "answered_at": r.answered_at,
        "late": r.late,
        "slots": r.slots,
        "reason": r.last_reason,
        "redirected_to": r.redirected_to_id,
        "public_summary": r.public_summary if r.status == ExpertRequest.State.COMPLETED else "",
    }


def application_out(a: Application) -> dict[str, Any]:
    return {
        "id": a.pk,
        "team": a.carrier.slug,
        "project": a.project.slug if a.project else None,
        "proposal": a.proposal,
        "status": a.status,
        "reason": a.reason,
        "pact": a.pact.reference if a.pact else None,
    }


def challenge_out(c: Challenge) -> dict[str, Any]:
    return {
        "slug": c.slug,
        "title": c.title,
        "institution": c.institution.slug,
        "problem": c.problem,
        "theme": c.theme,
        "territory": c.territory,
        "criteria": c.criteria,
        "deadline": c.deadline,
        "programme": c.programme.slug if c.programme else None,
        "datasets": [d.slug for d in c.datasets.all()],
        "status": c.status,
        "applications": [application_out(a) for a in c.applications.all()],
    }


# ------------------------------------------------------------------ comptoir


@router.get(
    "/comptoir/posts",
    response=responses({200: PostPage}),
    summary="Dépôts au comptoir (recherche sans accents ni casse)",
)
def list_posts(
    request: HttpRequest,
    q: Sentence = "",
    kind: Identifier = "",
    status: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    qs = selectors.posts(query=q, kind=kind, status=status)
    return paginate(
        qs, limit, offset, lambda page: [post_out(p) for p in page], after=after, by_keyset=True
    )


@router.get(
    "/comptoir/routes",
    response=responses({200: list[RouteOut]}, (400, 503)),
    summary="La table de routage publiée",
)
def list_routes(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "theme": r.theme,
            "territory": r.territory,
            "institution": r.institution.slug,
            "contact_role": r.contact_role,
            "contact_title": r.contact_title,
            "clock_days": r.clock_days,
        }
        for r in selectors.routes()
    ]


@router.get("/comptoir/posts/{pk}", response=responses({200: PostOut}), summary="Un dépôt")
def post_detail(request: HttpRequest, pk: BigInt) -> dict[str, Any]:
    return post_out(selectors.get_post(pk))


@router.post(
    "/comptoir/posts",
    response=responses({201: PostOut}, WRITE),
    auth=auth,
    summary="Déposer un problème, un projet ou une offre de contribution",
)
def create_post(request: HttpRequest, payload: PostIn) -> Status[dict[str, Any]]:
    data = posts.PostIn(
        kind=payload.kind,
        title=payload.title,
        theme=payload.theme,
        territory=payload.territory,
        body=payload.body,
        affected=getattr(payload, "affected", ""),
        affected_count=getattr(payload, "affected_count", None),
        today=getattr(payload, "today", ""),
        project_slug=getattr(payload, "project", ""),
        skills=getattr(payload, "skills", ""),
        time_offered=getattr(payload, "time_offered", ""),
    )
    if (
        isinstance(payload, ContributionIn)
        and not Project.objects.filter(slug=payload.project).exists()
    ):
        raise NotFound(_("Ce projet n'existe pas."))
    return Status(201, post_out(posts.submit_post(request.auth, data)))  # type: ignore[attr-defined]


POST_ACTIONS = ("review", "answer", "redirect", "close", "moderate", "project")


@router.post(
    "/comptoir/posts/{pk}/{action}",
    response=responses({200: PostOut}, WRITE),
    auth=auth,
    summary="Examiner, répondre, réorienter, clore, modérer un dépôt ; en faire un projet",
)
def post_action(
    request: HttpRequest, pk: BigInt, action: Identifier, payload: PostActionIn
) -> dict[str, Any]:
    acting = request.auth  # type: ignore[attr-defined]
    post = selectors.get_post(pk)
    if action == "review":
        posts.review(acting, post)
    elif action == "answer":
        posts.answer(acting, post, payload.text)
    elif action == "redirect":
        target = Organisation.objects.filter(slug=payload.institution).first()
        if target is None:
            raise ValidationFailed(
                _("Institution inconnue."), field_errors={"institution": [_("Inconnue.")]}
            )
        posts.redirect(acting, post, target, payload.reason)
    elif action == "close":
        posts.close(acting, post, payload.reason)
    elif action == "moderate":
        posts.moderate(acting, post, payload.reason)
    elif action == "project":
        posts.turn_into_project(acting, post, name=payload.name, pitch=payload.pitch)
    else:
        raise ValidationFailed(
            _("Action inconnue : %(action)s. Actions possibles : %(known)s.")
            % {"action": action, "known": ", ".join(POST_ACTIONS)}
        )
    return post_out(selectors.get_post(pk))


# ------------------------------------------------------------------ experts


@router.get("/experts", response=responses({200: ExpertPage}), summary="Experts de l'État")
def list_experts(
    request: HttpRequest,
    q: Sentence = "",
    institution: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    qs = selectors.experts(query=q, institution=institution)
    return paginate(
        qs, limit, offset, lambda page: [expert_out(e) for e in page], after=after, by_keyset=True
    )


@router.get(
    "/experts/requests",
    response=responses({200: ExpertRequestPage}),
    summary="Demandes d'échange (délais publics par institution)",
)
def list_requests(
    request: HttpRequest,
    institution: Identifier = "",
    expert: BigInt = 0,
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    qs = selectors.expert_requests(expert=expert, institution=institution)
    return paginate(
        qs, limit, offset, lambda page: [request_out(r) for r in page], after=after, by_keyset=True
    )


@router.get(
    "/experts/requests/{pk}",
    response=responses({200: ExpertRequestOut}),
    summary="Une demande d'échange",
)
def request_detail(request: HttpRequest, pk: BigInt) -> dict[str, Any]:
    return request_out(selectors.get_expert_request(pk))


@router.get("/experts/{pk}", response=responses({200: ExpertOut}), summary="Un expert")
def expert_detail(request: HttpRequest, pk: BigInt) -> dict[str, Any]:
    return expert_out(selectors.get_expert(pk))


@router.post(
    "/experts",
    response=responses({201: ExpertOut}, WRITE),
    auth=auth,
    summary="Publier un expert (instructeur ou signataire de l'institution)",
)
def publish_expert(request: HttpRequest, payload: ExpertIn) -> Status[dict[str, Any]]:
    data = experts.ExpertIn(
        name=payload.name,
        domain=payload.domain,
        organisation_label=payload.organisation,
        availability=payload.availability,
        languages=list(payload.languages),
        bio=payload.bio,
    )
    return Status(201, expert_out(experts.publish_expert(request.auth, data)))  # type: ignore[attr-defined]


@router.post(
    "/experts/{pk}/requests",
    response=responses({201: ExpertRequestOut}, WRITE),
    auth=auth,
    summary="Demander un échange (porteur dont le pacte est en vigueur)",
)
def ask(request: HttpRequest, pk: BigInt, payload: AskIn) -> Status[dict[str, Any]]:
    project = Project.objects.filter(slug=payload.project).first()
    if project is None:
        raise NotFound(_("Projet inconnu."))
    created = experts.ask(
        request.auth,  # type: ignore[attr-defined]
        selectors.get_expert(pk),
        project,
        payload.topic,
        payload.question,
    )
    return Status(201, request_out(selectors.get_expert_request(created.pk)))


REQUEST_ACTIONS = ("accept", "redirect", "decline", "summary", "confirm")


@router.post(
    "/experts/requests/{pk}/{action}",
    response=responses({200: ExpertRequestOut}, WRITE),
    auth=auth,
    summary="Accepter (créneaux), réorienter, décliner ; rédiger ou confirmer la synthèse",
)
def request_action(
    request: HttpRequest, pk: BigInt, action: Identifier, payload: RequestActionIn
) -> dict[str, Any]:
    acting = request.auth  # type: ignore[attr-defined]
    req = selectors.get_expert_request(pk)
    if action == "accept":
        experts.accept(acting, req, list(payload.slots))
    elif action == "redirect":
        experts.redirect(acting, req, selectors.get_expert(payload.expert), payload.reason)
    elif action == "decline":
        experts.decline(acting, req, payload.reason)
    elif action == "summary":
        experts.record_summary(acting, req, payload.notes, payload.public_summary)
    elif action == "confirm":
        experts.confirm_summary(acting, req)
    else:
        raise ValidationFailed(
            _("Action inconnue : %(action)s. Actions possibles : %(known)s.")
            % {"action": action, "known": ", ".join(REQUEST_ACTIONS)}
        )
    return request_out(selectors.get_expert_request(pk))


# ------------------------------------------------------------------ challenges


def _challenges_qs(status: str = "") -> Any:
    return selectors.challenges(status=status).prefetch_related(
        "datasets", "applications__carrier", "applications__project", "applications__pact"
    )


@router.get("/challenges", response=responses({200: ChallengePage}), summary="Défis")
def list_challenges(
    request: HttpRequest,
    status: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    return paginate(
        _challenges_qs(status),
        limit,
        offset,
        lambda page: [challenge_out(c) for c in page],
        after=after,
        by_keyset=True,
    )


@router.get(
    "/challenges/{slug}",
    response=responses({200: ChallengeOut}),
    summary="Un défi, ses candidatures et les décisions du jury",
)
def challenge_detail(request: HttpRequest, slug: Identifier) -> dict[str, Any]:
    challenge = _challenges_qs().filter(slug=slug).first()
    if challenge is None:
        raise NotFound(_("Défi inconnu."))
    return challenge_out(challenge)


@router.post(
    "/challenges",
    response=responses({201: ChallengeOut}, WRITE),
    auth=auth,
    summary="Publier un défi (instructeur ou signataire de l'institution)",
)
def publish_challenge(request: HttpRequest, payload: ChallengeIn) -> Status[dict[str, Any]]:
    data = challenges.ChallengeIn(
        title=payload.title,
        problem=payload.problem,
        theme=payload.theme,
        criteria=payload.criteria,
        deadline=payload.deadline,
        territory=payload.territory,
        programme_slug=payload.programme,
        dataset_slugs=list(payload.datasets),
    )
    created = challenges.publish_challenge(request.auth, data)  # type: ignore[attr-defined]
    return Status(201, challenge_detail(request, created.slug))


@router.post(
    "/challenges/{slug}/applications",
    response=responses({201: ChallengeOut}, WRITE),
    auth=auth,
    summary="Candidater (une équipe porteuse, une fois, avant la date limite)",
)
def apply(request: HttpRequest, slug: Identifier, payload: ApplyIn) -> Status[dict[str, Any]]:
    challenges.apply(
        request.auth,  # type: ignore[attr-defined]
        selectors.get_challenge(slug),
        proposal=payload.proposal,
        team=payload.team,
        project_slug=payload.project,
    )
    return Status(201, challenge_detail(request, slug))


@router.post(
    "/challenges/{slug}/selection",
    response=responses({200: ChallengeOut}, WRITE),
    auth=auth,
    summary="Publier la sélection du jury (chaque candidature, avec un motif)",
)
def selection(request: HttpRequest, slug: Identifier, payload: SelectionIn) -> dict[str, Any]:
    decisions = {d.application: (d.selected, d.reason) for d in payload.decisions}
    challenges.publish_selection(request.auth, selectors.get_challenge(slug), decisions)  # type: ignore[attr-defined]
    return challenge_detail(request, slug)


@router.post(
    "/challenges/{slug}/applications/{pk}/pact",
    response=responses({201: PactDraftOut}, WRITE),
    auth=auth,
    summary="Ouvrir le brouillon de pacte prérempli (équipe retenue)",
)
def pact_draft(request: HttpRequest, slug: Identifier, pk: BigInt) -> Status[dict[str, Any]]:
    application = selectors.applications(selectors.get_challenge(slug)).filter(pk=pk).first()
    if application is None:
        raise NotFound(_("Candidature inconnue."))
    version = challenges.start_pact_draft(request.auth, application)  # type: ignore[attr-defined]
    return Status(
        201,
        {
            "pact": version.pact.reference,
            "version": version.number,
            "project": version.pact.project.slug,
        },
    )
