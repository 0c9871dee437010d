"""Expert exchanges (S2): institutions publish their experts; a carrier whose pact is in force
asks one for an exchange on a topic; the institution answers within its clock (accept with slots,
redirect to another expert, decline with a reason); after the exchange each side records its own
notes and the two agree on the public part of the summary (both must confirm the same text).

Each public write function is one transaction that also writes its journal event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Membership, Role
from pacte.accounts.policy import Action, Principal
from pacte.accounts.services import Acting
from pacte.comptoirs.events import exchange_event
from pacte.comptoirs.lifecycles import EXPERT_REQUEST
from pacte.comptoirs.models import EXPERT_CLOCK_DAYS, Expert, ExpertRequest
from pacte.errors import InvalidTransition, ValidationFailed
from pacte.notifications.notifier import notify
from pacte.projects.models import Project
from pacte.writes.retry import retry_on_conflict

MAX_SLOTS = 10


@dataclass(frozen=True)
class ExpertIn:
    name: str
    domain: str
    organisation_label: str
    availability: str
    languages: list[str] = field(default_factory=list)
    bio: str = ""


def _required(**values: str) -> None:
    errors = {name: [_("Ce champ est obligatoire.")] for name, v in values.items() if not v.strip()}
    if errors:
        raise ValidationFailed(_("Le formulaire est incomplet."), field_errors=errors)


@retry_on_conflict
@transaction.atomic
def publish_expert(acting: Acting, data: ExpertIn) -> Expert:
    policy.require(acting, Action.EXPERT_PUBLISH, acting.organisation)
    _required(
        name=data.name,
        domain=data.domain,
        organisation_label=data.organisation_label,
        availability=data.availability,
    )
    languages = [lang.strip() for lang in data.languages if lang.strip()] or ["français"]
    expert = Expert.objects.create(
        institution=acting.organisation,
        name=data.name.strip(),
        domain=data.domain.strip(),
        organisation_label=data.organisation_label.strip(),
        availability=data.availability.strip(),
        languages=languages,
        bio=data.bio.strip(),
    )
    exchange_event(
        "expert.published",
        acting,
        "expert",
        str(expert.pk),
        name=expert.name,
        domain=expert.domain,
        institution=acting.organisation.slug,
        languages=languages,
    )
    return expert


def _lock_expert(expert: Expert) -> Expert:
    return (
        Expert.objects.select_for_update(of=("self",))
        .select_related("institution")
        .get(pk=expert.pk)
    )


@retry_on_conflict
@transaction.atomic
def edit_expert(acting: Acting, expert: Expert, data: ExpertIn) -> Expert:
    """The institution updates an expert's domain, organisation, availability, languages or
    presentation (logged with the fields that changed)."""
    expert = _lock_expert(expert)
    policy.require(acting, Action.EXPERT_PUBLISH, expert)
    if not expert.active:
        raise InvalidTransition(_("Cet expert s'est retiré : sa fiche ne se modifie plus."))
    _required(
        name=data.name,
        domain=data.domain,
        organisation_label=data.organisation_label,
        availability=data.availability,
    )
    new = {
        "name": data.name.strip(),
        "domain": data.domain.strip(),
        "organisation_label": data.organisation_label.strip(),
        "availability": data.availability.strip(),
        "languages": [lang.strip() for lang in data.languages if lang.strip()] or ["français"],
        "bio": data.bio.strip(),
    }
    changed = sorted(name for name, value in new.items() if getattr(expert, name) != value)
    if not changed:
        return expert
    for name, value in new.items():
        setattr(expert, name, value)
    expert.updated_at = timezone.now()
    expert.save()
    exchange_event(
        "expert.updated",
        acting,
        "expert",
        str(expert.pk),
        institution=expert.institution.slug,
        changed=changed,
        name=expert.name,
        domain=expert.domain,
        availability=expert.availability,
        languages=expert.languages,
    )
    return expert


@retry_on_conflict
@transaction.atomic
def withdraw_expert(
    acting: Acting,
    expert: Expert,
    reason: str,
    *,
    redirect_to: Expert | None = None,
    now: datetime | None = None,
) -> list[ExpertRequest]:
    """The institution withdraws an expert, with a public reason. No request is lost: each one
    still waiting for an answer is redirected to ``redirect_to`` (a new request on that expert's
    clock) or, without one, declined with the withdrawal as its reason. Exchanges already
    accepted go on (their slots were given). Returns the requests it answered."""
    expert = _lock_expert(expert)
    policy.require(acting, Action.EXPERT_PUBLISH, expert)
    if not expert.active:
        raise InvalidTransition(_("Cet expert s'est déjà retiré."))
    if len(reason.strip()) < 10:
        raise ValidationFailed(
            _("Donnez le motif du retrait (10 caractères au moins), il sera public."),
            field_errors={"reason": [_("Motif trop court.")]},
        )
    if redirect_to is not None and (redirect_to.pk == expert.pk or not redirect_to.active):
        raise ValidationFailed(
            _("Choisissez un autre expert, toujours proposé."),
            field_errors={"redirect_to": [_("Expert invalide.")]},
        )
    now = now or timezone.now()
    reason = reason.strip()
    waiting = [
        lock_request(pk)
        for pk in ExpertRequest.objects.filter(expert=expert, status=ExpertRequest.State.REQUESTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]
    expert.active = False
    expert.withdrawn_at = now
    expert.withdrawal_reason = reason
    expert.save(update_fields=["active", "withdrawn_at", "withdrawal_reason"])
    exchange_event(
        "expert.withdrawn",
        acting,
        "expert",
        str(expert.pk),
        institution=expert.institution.slug,
        name=expert.name,
        reason=reason,
        open_requests=[r.pk for r in waiting],
        redirected_to=redirect_to.pk if redirect_to is not None else None,
    )
    why = _("L'expert %(name)s s'est retiré : %(reason)s") % {"name": expert.name, "reason": reason}
    answered = []
    for request in waiting:
        request.expert = expert  # the withdrawn state, for the events
        if redirect_to is not None:
            _redirect_locked(acting, request, redirect_to, why, now)
        else:
            _decline_locked(acting, request, why, now)
        answered.append(request)
    return answered


def _desk_emails(request: ExpertRequest) -> list[str]:
    institution = request.expert.institution
    emails = [institution.contact_email]
    for m in Membership.objects.filter(organisation=institution).select_related("user"):
        if m.has(Role.REVIEWER) or m.has(Role.SIGNATORY):
            emails.append(m.user.email)
    return emails


def _carrier_emails(request: ExpertRequest) -> list[str]:
    carrier = request.project.carrier
    emails = [carrier.contact_email, request.requested_by.email]
    return emails


def _open_request(
    acting: Acting, expert: Expert, project: Project, topic: str, question: str, now: datetime
) -> ExpertRequest:
    request = ExpertRequest.objects.create(
        expert=expert,
        project=project,
        topic=topic,
        question=question,
        requested_by=acting.user,
        requested_at=now,
        due_at=now + timedelta(days=EXPERT_CLOCK_DAYS),
    )
    notify(
        _desk_emails(request),
        _("Demande d'échange avec un expert"),
        _(
            "Le projet %(project)s demande un échange avec %(expert)s sur « %(topic)s ». "
            "Réponse attendue avant le %(due)s."
        )
        % {
            "project": project.name,
            "expert": expert.name,
            "topic": topic,
            "due": request.due_at.date().isoformat(),
        },
        event="expert_request.requested",
    )
    return request


@retry_on_conflict
@transaction.atomic
def ask(
    acting: Acting,
    expert: Expert,
    project: Project,
    topic: str,
    question: str,
    *,
    now: datetime | None = None,
) -> ExpertRequest:
    """A carrier with a pact in force asks an expert for an exchange; the clock starts."""
    policy.require(acting, Action.EXPERT_ASK, project)
    _required(topic=topic, question=question)
    if not expert.active:
        raise InvalidTransition(_("Cet expert n'est plus proposé par son institution."))
    now = now or timezone.now()
    request = _open_request(acting, expert, project, topic.strip(), question.strip(), now)
    exchange_event(
        "expert_request.requested",
        acting,
        "expert_request",
        str(request.pk),
        project_slug=project.slug,
        expert=expert.pk,
        institution=expert.institution.slug,
        topic=request.topic,
        due_at=request.due_at.isoformat(),
    )
    return request


def lock_request(request: ExpertRequest | int) -> ExpertRequest:
    pk = request if isinstance(request, int) else request.pk
    return (
        ExpertRequest.objects.select_for_update(of=("self",))
        .select_related("expert__institution", "project__carrier", "requested_by")
        .get(pk=pk)
    )


@retry_on_conflict
@transaction.atomic
def accept(
    acting: Acting, request: ExpertRequest, slots: list[str], *, now: datetime | None = None
) -> ExpertRequest:
    request = lock_request(request)
    move, _reason = EXPERT_REQUEST.check(acting, "accept", request)
    slots = [s.strip() for s in slots if s.strip()]
    if not slots or len(slots) > MAX_SLOTS:
        raise ValidationFailed(
            _("Proposez de un à dix créneaux."),
            field_errors={"slots": [_("Au moins un créneau.")]},
        )
    now = now or timezone.now()
    request.slots = slots
    request.answered_at = now
    EXPERT_REQUEST.enter(acting, move, request, slots=slots, on_time=now <= request.due_at)
    notify(
        _carrier_emails(request),
        _("Votre demande d'échange est acceptée"),
        _("%(expert)s propose : %(slots)s")
        % {"expert": request.expert.name, "slots": " ; ".join(slots)},
        event="expert_request.accepted",
    )
    return request


@retry_on_conflict
@transaction.atomic
def redirect(
    acting: Acting,
    request: ExpertRequest,
    other: Expert,
    reason: str,
    *,
    now: datetime | None = None,
) -> ExpertRequest:
    """Answer by sending the carrier to another expert: a new request opens for that expert's
    institution, on its own clock. Returns the new request."""
    return _redirect_locked(acting, lock_request(request), other, reason, now or timezone.now())


def _redirect_locked(
    acting: Acting, request: ExpertRequest, other: Expert, reason: str, now: datetime
) -> ExpertRequest:
    move, reason = EXPERT_REQUEST.check(acting, "redirect", request, reason)
    if other.pk == request.expert_id or not other.active:
        raise ValidationFailed(
            _("Choisissez un autre expert, toujours proposé."),
            field_errors={"expert": [_("Expert invalide.")]},
        )
    new = ExpertRequest.objects.create(
        expert=other,
        project=request.project,
        topic=request.topic,
        question=request.question,
        requested_by=request.requested_by,
        requested_at=now,
        due_at=now + timedelta(days=EXPERT_CLOCK_DAYS),
    )
    request.answered_at = now
    request.redirected_to = new
    EXPERT_REQUEST.enter(
        acting, move, request, reason, to_expert=other.pk, on_time=now <= request.due_at
    )
    exchange_event(
        "expert_request.requested",
        acting,
        "expert_request",
        str(new.pk),
        project_slug=new.project.slug,
        expert=other.pk,
        institution=other.institution.slug,
        topic=new.topic,
        due_at=new.due_at.isoformat(),
        redirected_from=request.pk,
    )
    notify(
        _desk_emails(new),
        _("Demande d'échange réorientée vers votre expert"),
        _("Le projet %(project)s demande un échange avec %(expert)s sur « %(topic)s ».")
        % {"project": new.project.name, "expert": other.name, "topic": new.topic},
        event="expert_request.requested",
    )
    return new


@retry_on_conflict
@transaction.atomic
def decline(
    acting: Acting, request: ExpertRequest, reason: str, *, now: datetime | None = None
) -> ExpertRequest:
    return _decline_locked(acting, lock_request(request), reason, now or timezone.now())


def _decline_locked(
    acting: Acting, request: ExpertRequest, reason: str, now: datetime
) -> ExpertRequest:
    move, reason = EXPERT_REQUEST.check(acting, "decline", request, reason)
    request.answered_at = now
    EXPERT_REQUEST.enter(acting, move, request, reason, on_time=now <= request.due_at)
    notify(
        _carrier_emails(request),
        _("Votre demande d'échange est déclinée"),
        _("Motif : %(reason)s") % {"reason": reason},
        event="expert_request.declined",
    )
    return request


def side_of(acting: Acting, request: ExpertRequest) -> str:
    """ "carrier" or "institution": which side of the exchange this person writes for."""
    return "carrier" if acting.organisation.pk == request.carrier_id else "institution"


@retry_on_conflict
@transaction.atomic
def record_summary(
    acting: Acting, request: ExpertRequest, notes: str, public_summary: str
) -> ExpertRequest:
    """One side records its notes and proposes the public part; proposing confirms it for that
    side. A changed public part must be confirmed again by the other side."""
    request = lock_request(request)
    EXPERT_REQUEST.check(acting, "confirm", request)
    _required(public_summary=public_summary)
    side = side_of(acting, request)
    public_summary = public_summary.strip()
    if public_summary != request.public_summary:
        request.carrier_confirmed = request.institution_confirmed = False
    request.public_summary = public_summary
    if side == "carrier":
        request.carrier_notes = notes.strip()
    else:
        request.institution_notes = notes.strip()
    _confirm_side(acting, request, side)
    return request


@retry_on_conflict
@transaction.atomic
def confirm_summary(acting: Acting, request: ExpertRequest) -> ExpertRequest:
    """The other side agrees with the proposed public part, as it stands."""
    request = lock_request(request)
    EXPERT_REQUEST.check(acting, "confirm", request)
    if not request.public_summary:
        raise InvalidTransition(_("Aucune synthèse publique n'a encore été proposée."))
    _confirm_side(acting, request, side_of(acting, request))
    return request


def _confirm_side(acting: Acting, request: ExpertRequest, side: str) -> None:
    move, _reason = EXPERT_REQUEST.check(acting, "confirm", request)
    if side == "carrier":
        request.carrier_confirmed = True
    else:
        request.institution_confirmed = True
    if request.carrier_confirmed and request.institution_confirmed:
        request.completed_at = timezone.now()
        EXPERT_REQUEST.enter(acting, move, request, public_summary=request.public_summary)
    else:  # the first of two confirmations: the request stays accepted
        EXPERT_REQUEST.enter(
            acting,
            move,
            request,
            target=ExpertRequest.State.ACCEPTED,
            event="expert_request.summary_proposed",
            side=side,
        )


@retry_on_conflict
@transaction.atomic
def mark_late(principal: Principal, now: datetime | None = None) -> list[ExpertRequest]:
    """Daily: an expert request unanswered after its due date is late, publicly."""
    policy.require(principal, Action.PLATFORM_CLOCK, None)
    now = now or timezone.now()
    due = list(
        ExpertRequest.objects.select_for_update(of=("self",))
        .select_related("expert__institution", "project")
        .filter(status=ExpertRequest.State.REQUESTED, late=False, due_at__lt=now)
        .order_by("pk")
    )
    for request in due:
        request.late = True
        request.save(update_fields=["late"])
        exchange_event(
            "expert_request.late",
            principal,
            "expert_request",
            str(request.pk),
            project_slug=request.project.slug,
            institution=request.expert.institution.slug,
            due_at=request.due_at.isoformat(),
        )
    return due
