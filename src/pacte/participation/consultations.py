"""Public consultation on a submitted pact version: the institution opens it for a number of days;
it closes at its end (the platform's clock) or earlier by the reviewer's decision."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.errors import Conflict, InvalidTransition, ValidationFailed
from pacte.pacts.events import lock_version
from pacte.pacts.models import PactVersion, Status
from pacte.participation.events import consultation_event
from pacte.participation.lifecycles import CONSULTATION
from pacte.participation.models import Comment, Consultation
from pacte.writes.retry import retry_on_conflict

MIN_DAYS = 1
MAX_DAYS = 90


def lock_consultation(consultation: Consultation) -> Consultation:
    return (
        Consultation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("version__pact__project", "version__pact__institution")
        .get(pk=consultation.pk)
    )


@retry_on_conflict
@transaction.atomic
def open_consultation(acting: Acting, version: PactVersion, days: int) -> Consultation:
    """Open the public consultation of a submitted version for ``days`` days (1 to 90)."""
    version = lock_version(version)
    policy.require(acting, Action.CONSULTATION_OPEN, version.pact)
    if version.status != Status.SUBMITTED:
        raise InvalidTransition(
            _("Une consultation publique s'ouvre sur un pacte soumis à l'instruction.")
        )
    if not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise ValidationFailed(
            _("La durée de la consultation va de %(min)s à %(max)s jours.")
            % {"min": MIN_DAYS, "max": MAX_DAYS},
            field_errors={
                "days": [_("Entre %(min)s et %(max)s jours.") % {"min": MIN_DAYS, "max": MAX_DAYS}]
            },
        )
    if Consultation.objects.filter(version=version).exists():
        raise Conflict(_("Cette version a déjà eu sa consultation publique."))
    now = timezone.now()
    consultation = Consultation.objects.create(
        version=version,
        opened_by=acting.organisation,
        days=days,
        opens_at=now,
        closes_at=now + timedelta(days=days),
    )
    consultation_event(consultation, "consultation.opened", acting, days=days)
    return consultation


def _counts(consultation: Consultation) -> dict[str, int]:
    visible = consultation.comments.exclude(state=Comment.State.HIDDEN)
    return {
        "comments": visible.count(),
        "answered": visible.filter(state=Comment.State.ANSWERED).count(),
    }


@retry_on_conflict
@transaction.atomic
def close_consultation(
    principal: policy.Principal, consultation: Consultation, reason: str = ""
) -> Consultation:
    """Close now: the reviewer before the end (the reason is published), or the platform at its end."""
    consultation = lock_consultation(consultation)
    move, reason = CONSULTATION.check(principal, "close", consultation, reason)
    counts = _counts(consultation)
    CONSULTATION.enter(
        principal,
        move,
        consultation,
        reason,
        comments=counts["comments"],
        answered=counts["answered"],
    )
    return consultation


def close_due(now: datetime | None = None) -> int:
    """The platform's clock: close every open consultation past its end (one transaction each)."""
    now = now or timezone.now()
    due = Consultation.objects.filter(state=Consultation.State.OPEN, closes_at__lte=now)
    closed = 0
    for consultation in due:
        try:
            close_consultation(policy.SYSTEM, consultation)
        except InvalidTransition:  # closed meanwhile by its reviewer
            continue
        closed += 1
    return closed
