"""The comptoir (S3): anyone signed in posts a problem, a project proposal or an offer to
contribute; the post is routed by the published table to an institution and a contact role, on
a visible clock; the contact reviews, answers, redirects or closes it with a reason; a platform
administrator may hide it with a public reason; a proposal may become a project.

Each public write function is one transaction that also writes its journal event. Lock order:
post, then its assignment, then the journal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Membership, Organisation, Role, User
from pacte.accounts.policy import Action, Principal
from pacte.accounts.services import Acting
from pacte.comptoirs.errors import NoRoute
from pacte.comptoirs.events import Who, exchange_event
from pacte.comptoirs.lifecycles import POST
from pacte.comptoirs.models import POST_CLOCK_DAYS, Assignment, Post, Route, Theme
from pacte.engines.comptoir_routing import RouteRow, choose_route
from pacte.errors import InvalidTransition, NotAuthenticated, ValidationFailed
from pacte.notifications.notifier import notify
from pacte.projects.models import Project
from pacte.projects.phases import create_project
from pacte.writes.lifecycle import require_reason
from pacte.writes.retry import retry_on_conflict

MIN_ANSWER = 10


@dataclass(frozen=True)
class PostIn:
    kind: str
    title: str
    theme: str
    territory: str
    body: str
    affected: str = ""  # a problem: who is affected
    affected_count: int | None = None  # how many
    today: str = ""  # what happens today
    project_slug: str = ""  # a contribution: the project one offers to help
    skills: str = ""
    time_offered: str = ""


def post_in(kind: str, d: dict[str, Any]) -> PostIn:
    """A post's input from the cleaned data of its comptoir form (``forms.POST_FORMS[kind]``)."""
    return PostIn(
        kind=kind,
        title=d["title"],
        theme=d["theme"],
        territory=d["territory"],
        body=d["body"],
        affected=d.get("affected", ""),
        affected_count=d.get("affected_count"),
        today=d.get("today", ""),
        project_slug=d.get("project", ""),
        skills=d.get("skills", ""),
        time_offered=d.get("time_offered", ""),
    )


@dataclass(frozen=True)
class Destination:
    organisation: Organisation
    contact_role: str
    contact_title: str
    clock_days: int


def _user_of(who: Who) -> User:
    user = who.user if isinstance(who, Acting) else who
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotAuthenticated(_("Connectez-vous pour déposer au comptoir."))
    return user


def _check(data: PostIn) -> Project | None:
    errors: dict[str, list[str]] = {}
    required = _("Ce champ est obligatoire.")
    if data.kind not in Post.Kind.values:
        errors["kind"] = [_("Nature inconnue : un problème, un projet ou une contribution.")]
    if data.theme not in Theme.values:
        errors["theme"] = [_("Thème inconnu.")]
    for name in ("title", "territory", "body"):
        if not getattr(data, name).strip():
            errors[name] = [required]
    project = None
    if data.kind == Post.Kind.PROBLEM:
        # the societal problem, not a solution: who, how many, what happens today
        for name in ("affected", "today"):
            if not getattr(data, name).strip():
                errors[name] = [required]
        if data.affected_count is None or data.affected_count < 1:
            errors["affected_count"] = [_("Donnez un ordre de grandeur (au moins 1 personne).")]
    elif data.kind == Post.Kind.CONTRIBUTION:
        project = Project.objects.select_related("carrier").filter(slug=data.project_slug).first()
        if project is None:
            errors["project_slug"] = [_("Choisissez un projet existant.")]
        for name in ("skills", "time_offered"):
            if not getattr(data, name).strip():
                errors[name] = [required]
    if errors:
        raise ValidationFailed(_("Le dépôt est incomplet."), field_errors=errors)
    return project


def destination(theme: str, territory: str) -> Destination:
    """Where the published routing table sends a post on ``theme`` in ``territory``."""
    rows = list(Route.objects.select_related("institution"))
    chosen = choose_route([RouteRow(r.pk, r.theme, r.territory) for r in rows], theme, territory)
    if chosen is None:
        raise NoRoute(
            _(
                "Aucune institution n'est encore désignée pour ce thème et ce territoire : "
                "la table de routage doit être complétée par la plateforme."
            )
        )
    route = next(r for r in rows if r.pk == chosen.key)
    return Destination(route.institution, route.contact_role, route.contact_title, route.clock_days)


def _institution_destination(institution: Organisation) -> Destination:
    """The contact an institution names in the routing table (its first row), else its
    instructors on the default clock."""
    route = Route.objects.filter(institution=institution).order_by("pk").first()
    if route is not None:
        return Destination(institution, route.contact_role, route.contact_title, route.clock_days)
    return Destination(institution, Role.REVIEWER, _("Instructeur"), POST_CLOCK_DAYS)


def _contacts(organisation: Organisation, role: str) -> list[str]:
    roles = (
        {Role.CARRIER_MEMBER, Role.CARRIER_ADMIN}
        if role in (Role.CARRIER_MEMBER, Role.CARRIER_ADMIN)
        else {role}
    )
    emails = [organisation.contact_email]
    for m in Membership.objects.filter(organisation=organisation).select_related("user"):
        if roles & set(m.roles):
            emails.append(m.user.email)
    return emails


def _assign(post: Post, dest: Destination, now: datetime) -> Assignment:
    post.organisation = dest.organisation
    post.contact_role = dest.contact_role
    post.contact_title = dest.contact_title
    post.due_at = now + timedelta(days=dest.clock_days)
    post.late = False
    return Assignment(
        post=post,
        organisation=dest.organisation,
        contact_role=dest.contact_role,
        contact_title=dest.contact_title,
        routed_at=now,
        due_at=post.due_at,
    )


def _notify_contact(post: Post, subject: str) -> None:
    notify(
        _contacts(post.organisation, post.contact_role),
        subject,
        _(
            "Un dépôt vous est adressé au comptoir : « %(title)s ». Réponse attendue avant le "
            "%(due)s. /comptoir/%(pk)s/"
        )
        % {"title": post.title, "due": post.due_at.date().isoformat(), "pk": post.pk},
        event="comptoir.post.routed",
    )


@retry_on_conflict
@transaction.atomic
def submit_post(who: Who, data: PostIn, *, now: datetime | None = None) -> Post:
    """Anyone signed in posts; the post is routed and its clock starts."""
    return create_post(who, _user_of(who), data, now=now)


def create_post(
    who: Who,
    author: User | None,
    data: PostIn,
    *,
    now: datetime | None = None,
    contact_email: str = "",
) -> Post:
    """Check, route and save a post (in the caller's transaction). ``author`` is None when a
    mediator posts for a person without an account (``who`` is then the mediator)."""
    project = _check(data)
    now = now or timezone.now()
    if project is not None:  # an offer to contribute goes to the project's carrier
        dest = Destination(
            project.carrier, Role.CARRIER_MEMBER, _("Équipe du porteur"), POST_CLOCK_DAYS
        )
    else:
        dest = destination(data.theme, data.territory)
    post = Post(
        kind=data.kind,
        title=data.title.strip(),
        theme=data.theme,
        territory=data.territory.strip(),
        body=data.body.strip(),
        affected=data.affected.strip(),
        affected_count=data.affected_count if data.kind == Post.Kind.PROBLEM else None,
        today=data.today.strip(),
        project=project,
        skills=data.skills.strip(),
        time_offered=data.time_offered.strip(),
        author=author,
        with_mediator=author is None,
        contact_email=contact_email if author is None else "",
        created_at=now,
    )
    assignment = _assign(post, dest, now)
    post.save()
    assignment.post = post
    assignment.save()
    exchange_event(
        "comptoir.post.received",
        who,
        "comptoir_post",
        str(post.pk),
        project_slug=project.slug if project else "",
        kind=post.kind,
        theme=post.theme,
        territory=post.territory,
        organisation=dest.organisation.slug,
        contact=dest.contact_title,
        due_at=post.due_at.isoformat(),
        **({"assisted": True} if post.with_mediator else {}),
    )
    _notify_contact(post, _("Nouveau dépôt au comptoir"))
    return post


def author_addresses(post: Post) -> list[str]:
    """Where news of a post goes: its author, or the address a person helped by a mediator gave
    (none: the person reads the answer on the post's page, whose address is on the receipt)."""
    if post.author is not None:
        return [post.author.email]
    return [post.contact_email] if post.contact_email else []


def lock_post(post: Post | int) -> Post:
    pk = post if isinstance(post, int) else post.pk
    return (
        Post.objects.select_for_update(of=("self",))
        .select_related("organisation", "project", "author")
        .get(pk=pk)
    )


def _respond(post: Post, outcome: str, now: datetime) -> None:
    """The routed organisation responded: its assignment's clock stops."""
    assignment = (
        Assignment.objects.select_for_update().filter(post=post, responded_at__isnull=True).first()
    )
    if assignment is not None:
        assignment.responded_at = now
        assignment.outcome = outcome
        assignment.save()


@retry_on_conflict
@transaction.atomic
def review(acting: Acting, post: Post) -> Post:
    post = lock_post(post)
    POST.apply(acting, "review", post)
    return post


@retry_on_conflict
@transaction.atomic
def answer(acting: Acting, post: Post, text: str, *, now: datetime | None = None) -> Post:
    post = lock_post(post)
    move, _reason = POST.check(acting, "answer", post)
    text = (text or "").strip()
    if len(text) < MIN_ANSWER:
        raise ValidationFailed(
            _("Écrivez une réponse (10 caractères au moins)."),
            field_errors={"answer": [_("Réponse obligatoire.")]},
        )
    now = now or timezone.now()
    post.answer = text
    _respond(post, Assignment.Outcome.ANSWERED, now)
    POST.enter(acting, move, post, answer=text, on_time=now <= post.due_at)
    notify(
        author_addresses(post),
        _("Réponse à votre dépôt au comptoir"),
        _("%(org)s a répondu à « %(title)s » : %(text)s")
        % {"org": post.organisation.name, "title": post.title, "text": text},
        event="comptoir.post.answered",
    )
    return post


@retry_on_conflict
@transaction.atomic
def redirect(
    acting: Acting,
    post: Post,
    institution: Organisation,
    reason: str,
    *,
    now: datetime | None = None,
) -> Post:
    """The contact sends the post to another institution: its own item is answered (by
    redirecting), the other institution's clock starts."""
    post = lock_post(post)
    move, reason = POST.check(acting, "redirect", post, reason)
    if not institution.is_institution or institution.pk == post.organisation_id:
        raise ValidationFailed(
            _("Réorientez vers une autre institution publique."),
            field_errors={"institution": [_("Institution invalide.")]},
        )
    now = now or timezone.now()
    previous = post.organisation.slug
    _respond(post, Assignment.Outcome.REDIRECTED, now)
    assignment = _assign(post, _institution_destination(institution), now)
    POST.enter(
        acting,
        move,
        post,
        reason,
        origin=previous,
        contact=post.contact_title,
        due_at=post.due_at.isoformat(),
    )
    assignment.save()
    _notify_contact(post, _("Dépôt réorienté vers votre institution"))
    return post


@retry_on_conflict
@transaction.atomic
def close(acting: Acting, post: Post, reason: str, *, now: datetime | None = None) -> Post:
    post = lock_post(post)
    move, reason = POST.check(acting, "close", post, reason)
    _respond(post, Assignment.Outcome.CLOSED, now or timezone.now())
    POST.enter(acting, move, post, reason)
    notify(
        author_addresses(post),
        _("Votre dépôt au comptoir est clos"),
        _("« %(title)s » a été clos : %(reason)s") % {"title": post.title, "reason": reason},
        event="comptoir.post.closed",
    )
    return post


@retry_on_conflict
@transaction.atomic
def moderate(acting: Acting, post: Post, reason: str) -> Post:
    """Hide a post from the public list, with a public reason in the journal (the page stays,
    showing the reason; the clock of the addressed institution is unaffected)."""
    post = lock_post(post)
    policy.require(acting, Action.COMPTOIR_MODERATE, post)
    reason = require_reason(reason)
    if post.hidden:
        raise InvalidTransition(_("Ce dépôt est déjà masqué par la modération."))
    post.hidden = True
    post.moderation_reason = reason
    post.save()
    exchange_event("comptoir.post.moderated", acting, "comptoir_post", str(post.pk), reason=reason)
    return post


@retry_on_conflict
@transaction.atomic
def turn_into_project(acting: Acting, post: Post, *, name: str, pitch: str) -> Project:
    """A carrier takes up a problem or a proposal: a project is created (projects' own use case)
    and linked to the post, publicly."""
    post = lock_post(post)
    if post.kind == Post.Kind.CONTRIBUTION:
        raise InvalidTransition(_("Une offre de contribution ne devient pas un projet."))
    if post.hidden or post.became_project_id:
        raise InvalidTransition(_("Ce dépôt est masqué ou est déjà devenu un projet."))
    project = create_project(
        acting,
        name=name,
        pitch=pitch,
        description=post.body,
        territory=post.territory[:120],
        target_users=post.affected[:300],
    )
    post.became_project = project
    post.save()
    exchange_event(
        "comptoir.post.became_project",
        acting,
        "comptoir_post",
        str(post.pk),
        project_slug=project.slug,
        project=project.slug,
        carrier=acting.organisation.slug,
    )
    notify(
        author_addresses(post),
        _("Votre dépôt devient un projet"),
        _("%(carrier)s a repris « %(title)s » : projet %(project)s.")
        % {"carrier": acting.organisation.name, "title": post.title, "project": project.name},
        event="comptoir.post.became_project",
    )
    return project


@retry_on_conflict
@transaction.atomic
def mark_late(principal: Principal, now: datetime | None = None) -> list[Assignment]:
    """Daily: every routed post still unanswered after its due date is late — a public lateness
    of the addressed organisation (the State's record counts it)."""
    policy.require(principal, Action.PLATFORM_CLOCK, None)
    now = now or timezone.now()
    due = list(
        Assignment.objects.select_for_update(of=("self",))
        .select_related("post", "organisation")
        .filter(responded_at__isnull=True, late_marked_at__isnull=True, due_at__lt=now)
        .order_by("post_id")
    )
    for assignment in due:
        assignment.late_marked_at = now
        assignment.save(update_fields=["late_marked_at"])
        Post.objects.filter(pk=assignment.post_id).update(late=True)
        exchange_event(
            "comptoir.post.late",
            principal,
            "comptoir_post",
            str(assignment.post_id),
            organisation=assignment.organisation.slug,
            due_at=assignment.due_at.isoformat(),
        )
    return due
