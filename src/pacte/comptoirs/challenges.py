"""Challenges (P8): an institution publishes a problem with the data it offers (catalogue
entries), the funding programme behind it if any, a deadline and its selection criteria; teams
(carrier organisations) apply; the jury publishes its selection with a reason for every team; a
selected team opens a pact draft prefilled from the challenge (pacts' own drafting use case).

Each public write function is one transaction that also writes its journal event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Membership, Role
from pacte.accounts.policy import Action, Principal
from pacte.accounts.services import Acting
from pacte.comptoirs.errors import DeadlinePassed
from pacte.comptoirs.events import exchange_event
from pacte.comptoirs.lifecycles import APPLICATION, CHALLENGE
from pacte.comptoirs.models import Application, Challenge, Theme
from pacte.data.models import Dataset
from pacte.errors import Conflict, InvalidTransition, ValidationFailed
from pacte.funding.models import Programme
from pacte.notifications.notifier import notify
from pacte.pacts.drafting import create_pact
from pacte.pacts.models import PactVersion
from pacte.projects.models import Project
from pacte.projects.phases import create_project
from pacte.writes.lifecycle import MIN_REASON
from pacte.writes.retry import retry_on_conflict


@dataclass(frozen=True)
class ChallengeIn:
    title: str
    problem: str
    theme: str
    criteria: str
    deadline: date
    territory: str = ""
    programme_slug: str = ""
    dataset_slugs: list[str] = field(default_factory=list)


def _check(data: ChallengeIn, today: date) -> tuple[Programme | None, list[Dataset]]:
    errors: dict[str, list[str]] = {}
    for name in ("title", "problem", "criteria"):
        if not getattr(data, name).strip():
            errors[name] = [_("Ce champ est obligatoire.")]
    if data.theme not in Theme.values:
        errors["theme"] = [_("Thème inconnu.")]
    if data.deadline < today:
        errors["deadline"] = [_("La date limite est déjà passée.")]
    programme = None
    if data.programme_slug:
        programme = Programme.objects.filter(slug=data.programme_slug).first()
        if programme is None:
            errors["programme"] = [_("Programme de financement inconnu.")]
    slugs = sorted({s.strip() for s in data.dataset_slugs if s.strip()})
    datasets = list(Dataset.objects.filter(slug__in=slugs))
    if len(datasets) != len(slugs):
        unknown = sorted(set(slugs) - {d.slug for d in datasets})
        errors["datasets"] = [
            _("Jeux de données inconnus du catalogue : %(slugs)s.") % {"slugs": ", ".join(unknown)}
        ]
    if errors:
        raise ValidationFailed(_("Le défi est incomplet ou incohérent."), field_errors=errors)
    return programme, datasets


@retry_on_conflict
@transaction.atomic
def publish_challenge(acting: Acting, data: ChallengeIn, *, today: date | None = None) -> Challenge:
    policy.require(acting, Action.CHALLENGE_PUBLISH, acting.organisation)
    programme, datasets = _check(data, today or timezone.localdate())
    base = slugify(data.title)[:100] or "defi"
    slug, n = base, 2
    while Challenge.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    challenge = Challenge.objects.create(
        slug=slug,
        institution=acting.organisation,
        title=data.title.strip(),
        problem=data.problem.strip(),
        theme=data.theme,
        territory=data.territory.strip(),
        criteria=data.criteria.strip(),
        deadline=data.deadline,
        programme=programme,
    )
    challenge.datasets.set(datasets)
    exchange_event(
        "challenge.published",
        acting,
        "challenge",
        challenge.slug,
        title=challenge.title,
        institution=acting.organisation.slug,
        deadline=challenge.deadline.isoformat(),
        programme=programme.slug if programme else None,
        datasets=[d.slug for d in datasets],
        criteria=challenge.criteria,
    )
    return challenge


def lock_challenge(challenge: Challenge | int) -> Challenge:
    pk = challenge if isinstance(challenge, int) else challenge.pk
    return (
        Challenge.objects.select_for_update(of=("self",)).select_related("institution").get(pk=pk)
    )


@retry_on_conflict
@transaction.atomic
def apply(
    acting: Acting,
    challenge: Challenge,
    *,
    proposal: str,
    team: str,
    project_slug: str = "",
    today: date | None = None,
) -> Application:
    """A team applies, before the deadline, once."""
    policy.require(acting, Action.CHALLENGE_APPLY, acting.organisation)
    challenge = lock_challenge(challenge)
    if challenge.status != Challenge.State.OPEN:
        raise InvalidTransition(_("Ce défi n'accepte plus de candidatures."))
    if (today or timezone.localdate()) > challenge.deadline:
        raise DeadlinePassed(
            _("La date limite des candidatures (%(date)s) est passée.")
            % {"date": challenge.deadline.isoformat()}
        )
    errors = {
        name: [_("Ce champ est obligatoire.")]
        for name, value in (("proposal", proposal), ("team", team))
        if not value.strip()
    }
    project = None
    if project_slug:
        project = Project.objects.filter(slug=project_slug, carrier=acting.organisation).first()
        if project is None:
            errors["project"] = [_("Choisissez un projet de votre organisation.")]
    if errors:
        raise ValidationFailed(_("La candidature est incomplète."), field_errors=errors)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                challenge=challenge,
                carrier=acting.organisation,
                project=project,
                proposal=proposal.strip(),
                team=team.strip(),
                submitted_by=acting.user,
            )
    except IntegrityError:
        raise Conflict(_("Votre équipe a déjà candidaté à ce défi.")) from None
    exchange_event(
        "challenge.applied",
        acting,
        "challenge",
        challenge.slug,
        project_slug=project.slug if project else "",
        application=application.pk,
        team=acting.organisation.slug,
    )
    desk = [challenge.institution.contact_email] + [
        m.user.email
        for m in Membership.objects.filter(organisation=challenge.institution).select_related(
            "user"
        )
        if m.has(Role.REVIEWER) or m.has(Role.SIGNATORY)
    ]
    notify(
        desk,
        _("Nouvelle candidature au défi %(title)s") % {"title": challenge.title},
        _("%(team)s candidate au défi « %(title)s ».")
        % {"team": acting.organisation.name, "title": challenge.title},
        event="challenge.applied",
    )
    return application


@retry_on_conflict
@transaction.atomic
def close(acting: Acting, challenge: Challenge) -> Challenge:
    challenge = lock_challenge(challenge)
    CHALLENGE.apply(acting, "close", challenge)
    return challenge


@retry_on_conflict
@transaction.atomic
def expire(principal: Principal, today: date | None = None) -> list[Challenge]:
    """Daily: open challenges past their deadline close (applications are refused after it anyway)."""
    policy.require(principal, Action.PLATFORM_CLOCK, None)
    today = today or timezone.localdate()
    closed = []
    for pk in Challenge.objects.filter(status=Challenge.State.OPEN, deadline__lt=today).values_list(
        "pk", flat=True
    ):
        challenge = lock_challenge(pk)
        CHALLENGE.apply(principal, "expire", challenge, deadline=challenge.deadline.isoformat())
        closed.append(challenge)
    return closed


@retry_on_conflict
@transaction.atomic
def publish_selection(
    acting: Acting,
    challenge: Challenge,
    decisions: dict[int, tuple[bool, str]],
    *,
    now: datetime | None = None,
) -> Challenge:
    """The jury decides every application at once, each with its reason, and publishes."""
    challenge = lock_challenge(challenge)
    move, _reason = CHALLENGE.check(acting, "decide", challenge)
    applications = list(
        Application.objects.select_for_update(of=("self",))
        .select_related("carrier", "challenge")
        .filter(challenge=challenge, status=Application.State.SUBMITTED)
        .order_by("pk")
    )
    missing = [a for a in applications if a.pk not in decisions]
    short = [
        a
        for a in applications
        if a.pk in decisions and len((decisions[a.pk][1] or "").strip()) < MIN_REASON
    ]
    if not applications or missing or short:
        errors = {f"application_{a.pk}": [_("Décision et motif obligatoires.")] for a in missing}
        errors |= {
            f"application_{a.pk}": [_("Motif obligatoire (10 caractères au moins).")] for a in short
        }
        raise ValidationFailed(
            _("Le jury décide de chaque candidature, avec un motif.")
            if applications
            else _("Aucune candidature à départager."),
            field_errors=errors,
        )
    selected: list[str] = []
    not_selected: list[str] = []
    for application in applications:
        chosen, reason = decisions[application.pk]
        APPLICATION.apply(acting, "select" if chosen else "reject", application, reason)
        (selected if chosen else not_selected).append(application.carrier.slug)
    challenge.decided_at = now or timezone.now()
    CHALLENGE.enter(acting, move, challenge, selected=selected, not_selected=not_selected)
    for application in applications:
        notify(
            [application.carrier.contact_email, application.submitted_by.email],
            _("Résultat du défi %(title)s") % {"title": challenge.title},
            _("Décision du jury : %(status)s. Motif : %(reason)s")
            % {"status": application.get_status_display(), "reason": application.reason},
            event="challenge.selection_published",
        )
    return challenge


def draft_content(challenge: Challenge) -> dict[str, Any]:
    """A pact draft's content prefilled from the challenge: the problem, the territory, the
    data it offers, the programme behind it; the team completes the rest."""
    content: dict[str, Any] = {
        "title": _("Pacte — %(title)s") % {"title": challenge.title},
        "mission": {"problem": challenge.problem, "territory": challenge.territory},
        "state": {
            "data": [
                {
                    "dataset": d.slug,
                    "tier": 1,
                    "sensitivity": d.sensitivity,
                    "purpose": challenge.title,
                }
                for d in challenge.datasets.order_by("slug")
            ]
        },
    }
    if challenge.programme is not None:
        content["commons"] = {
            "funding_sources": [{"name": challenge.programme.title, "kind": "public_grant"}]
        }
    return content


@retry_on_conflict
@transaction.atomic
def start_pact_draft(acting: Acting, application: Application) -> PactVersion:
    """A selected team opens its pact draft with the challenge's institution (its project, or
    a new one created from its application)."""
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("challenge__institution", "challenge__programme", "project", "carrier")
        .get(pk=application.pk)
    )
    policy.require(acting, Action.PACT_WRITE, application)
    if application.status != Application.State.SELECTED:
        raise InvalidTransition(_("Seule une équipe retenue ouvre un pacte à partir du défi."))
    if application.pact_id:
        raise InvalidTransition(_("Le brouillon de pacte de ce défi est déjà ouvert."))
    challenge = application.challenge
    project = application.project or create_project(
        acting,
        name=challenge.title,
        pitch=application.proposal[:300],
        territory=challenge.territory,
    )
    version = create_pact(acting, project, challenge.institution, draft_content(challenge))
    application.project = project
    application.pact = version.pact
    application.save()
    exchange_event(
        "challenge.pact_drafted",
        acting,
        "challenge",
        challenge.slug,
        project_slug=project.slug,
        application=application.pk,
        pact=version.pact.reference,
    )
    return version
