"""Contributions recorded for a person by a mediator (issue 13 part 7), and their claim later.

The person has no account (yet): the panel seat or the feedback is created without a user, and
the mediation domain keeps the record of consent that points to it. When the person later signs
in and gives their claim code, the row is re-attached to their account. These functions run in
the caller's transaction (the mediation use case, which writes its own journal event).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts.models import User
from pacte.errors import ValidationFailed
from pacte.evidence import feedback as feedback_cases
from pacte.evidence.models import AGE_BANDS, SITUATIONS, Feedback, Question, Volunteer
from pacte.evidence.panels import CONSENT_VERSION
from pacte.projects.models import Project


def volunteer_for_person(
    *, age_band: str = "", territory: str = "", situation: str = ""
) -> Volunteer:
    """A new seat in the pool of testers, with the consent the mediator recorded; no contact is
    kept (the person is reached through the mediator's structure)."""
    errors: dict[str, list[str]] = {}
    if age_band and age_band not in AGE_BANDS:
        errors["age_band"] = [_("Tranche d'âge inconnue.")]
    if situation and situation not in SITUATIONS:
        errors["situation"] = [_("Situation inconnue.")]
    if len(territory) > 120:
        errors["territory"] = [_("120 caractères au plus.")]
    if errors:
        raise ValidationFailed(_("Certains champs sont invalides."), field_errors=errors)
    return Volunteer.objects.create(
        user=None,
        consent_at=timezone.now(),
        consent_text_version=CONSENT_VERSION,
        contact_preference=Volunteer.Contact.NONE,
        age_band=age_band,
        territory=territory.strip(),
        situation=situation,
    )


def feedback_for_person(
    project: Project, *, body: str = "", rating: int | None = None, question: Question | None = None
) -> Feedback:
    """Feedback given through a mediator: the same checks and log event as any feedback."""
    return feedback_cases.give_feedback(
        None,  # type: ignore[arg-type]  # no author yet: the person claims it later
        project,
        body=body,
        rating=rating,
        question=question,
    )


def claim_volunteer(volunteer: Volunteer, user: User) -> bool:
    """Attach the seat to ``user``; False when they already hold one (the assisted seat is then
    closed and its fields erased, so nobody is counted twice)."""
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if Volunteer.objects.filter(user=user).exclude(pk=volunteer.pk).exists():
        volunteer.age_band = volunteer.territory = volunteer.situation = ""
        volunteer.consent_at, volunteer.left_at = None, timezone.now()
        volunteer.save()
        return False
    volunteer.user = user
    volunteer.save(update_fields=["user"])
    return True


def claim_feedback(feedback: Feedback, user: User) -> None:
    Feedback.objects.filter(pk=feedback.pk, author__isnull=True).update(author=user)
