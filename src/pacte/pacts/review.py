"""The institution reviews a submitted pact: request changes, or approve (one or two reviewers)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from pacte.accounts.policy import actor_of
from pacte.accounts.services import Acting
from pacte.errors import InvalidTransition
from pacte.pacts import notifications
from pacte.pacts.events import lock_version, pact_event
from pacte.pacts.lifecycles import PACT
from pacte.pacts.models import PactVersion, Review
from pacte.writes.retry import retry_on_conflict


@retry_on_conflict
@transaction.atomic
def request_changes(acting: Acting, version: PactVersion, reason: str) -> PactVersion:
    version = lock_version(version)
    move, reason = PACT.check(acting, "request_changes", version, reason)
    Review.objects.create(
        version=version,
        reviewer=acting.user,
        organisation=acting.organisation,
        decision=Review.Decision.REQUEST_CHANGES,
        reason=reason,
    )
    PACT.enter(acting, move, version, reason)
    notifications.notify(version, "changes_requested")
    return version


@retry_on_conflict
@transaction.atomic
def approve(acting: Acting, version: PactVersion, note: str = "") -> PactVersion:
    """A pact that asks restricted data or large funding needs two approvals by two reviewers: the
    first one is recorded and the pact stays submitted."""
    version = lock_version(version)
    move, _reason = PACT.check(acting, "approve", version)
    if version.reviews.filter(reviewer=acting.user, decision=Review.Decision.APPROVE).exists():
        raise InvalidTransition(
            _("Vous avez déjà approuvé cette version : un second instructeur est requis.")
        )
    Review.objects.create(
        version=version,
        reviewer=acting.user,
        organisation=acting.organisation,
        decision=Review.Decision.APPROVE,
        reason=note.strip(),
    )
    approvals = version.reviews.filter(decision=Review.Decision.APPROVE).count()
    required = 2 if version.requires_second_review else 1
    if approvals < required:
        version.save()
        pact_event(
            version,
            "pact.review_recorded",
            actor_of(acting),
            approvals=approvals,
            required=required,
        )
        return version
    PACT.enter(acting, move, version, approvals=approvals, required=required)
    notifications.notify(version, "approved")
    return version
