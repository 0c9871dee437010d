"""The feedback loop: the carrier asks questions, people answer or comment, the carrier replies in
public, and the carrier or the partner institution hides a comment with a written reason."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import User
from pacte.accounts.services import Acting
from pacte.errors import ValidationFailed
from pacte.evidence import events
from pacte.evidence.inputs import required_text
from pacte.evidence.lifecycles import FEEDBACK
from pacte.evidence.models import Feedback, Question
from pacte.evidence.selectors import live_version
from pacte.pacts.models import PactVersion
from pacte.projects.models import Project
from pacte.writes.retry import retry_on_conflict

MAX_FEEDBACK_LENGTH = 4000


@retry_on_conflict
@transaction.atomic
def ask_question(
    acting: Acting,
    project: Project,
    text: str,
    *,
    scale_max: int = 0,
    version: PactVersion | None = None,
) -> Question:
    policy.require(acting, policy.Action.PROJECT_CARRIER_WORK, project)
    text = required_text(text, "text", _("Écrivez la question."), 5)
    if not 0 <= scale_max <= 10:
        raise ValidationFailed(_("L'échelle de notation va de 0 (réponse libre) à 10."))
    q = Question.objects.create(
        project=project, version=version or live_version(project), text=text, scale_max=scale_max
    )
    events.record(
        "feedback.question_added",
        acting,
        "project",
        project.slug,
        project,
        question=q.pk,
        text=text,
    )
    return q


@retry_on_conflict
@transaction.atomic
def give_feedback(
    user: User,
    project: Project,
    *,
    body: str = "",
    rating: int | None = None,
    question: Question | None = None,
) -> Feedback:
    """A signed-in person comments or rates; the log records that feedback arrived, never who."""
    body = (body or "").strip()
    if question is not None and question.project_id != project.pk:
        raise ValidationFailed(_("Cette question ne concerne pas ce projet."))
    if rating is not None:
        if question is None or not question.scale_max or not 1 <= rating <= question.scale_max:
            raise ValidationFailed(
                _("Note hors de l'échelle de la question."),
                field_errors={"rating": [_("Note invalide.")]},
            )
    if not body and rating is None:
        raise ValidationFailed(
            _("Écrivez un commentaire ou donnez une note."), field_errors={"body": [_("Vide.")]}
        )
    if len(body) > MAX_FEEDBACK_LENGTH:
        raise ValidationFailed(
            _("4 000 caractères au plus."), field_errors={"body": [_("Trop long.")]}
        )
    f = Feedback.objects.create(
        project=project,
        version=live_version(project),
        question=question,
        author=user,
        body=body,
        rating=rating,
    )
    # the platform records the arrival: the author is never named in the log
    events.record(
        "feedback.received",
        policy.SYSTEM,
        "project",
        project.slug,
        project,
        feedback=f.pk,
        question=question.pk if question else None,
    )
    return f


@retry_on_conflict
@transaction.atomic
def reply_feedback(acting: Acting, feedback: Feedback, reply: str) -> Feedback:
    feedback = (
        Feedback.objects.select_for_update(of=("self",))
        .select_related("project")
        .get(pk=feedback.pk)
    )
    policy.require(acting, policy.Action.PROJECT_CARRIER_WORK, feedback.project)
    feedback.reply = required_text(reply, "reply", _("Écrivez la réponse publique."), 5)
    feedback.replied_at = timezone.now()
    feedback.save()
    events.record(
        "feedback.answered",
        acting,
        "project",
        feedback.project.slug,
        feedback.project,
        feedback=feedback.pk,
        reply=feedback.reply,
    )
    return feedback


@retry_on_conflict
@transaction.atomic
def hide_feedback(acting: Acting, feedback: Feedback, reason: str) -> Feedback:
    """Moderation: the comment stays in the database, hidden, with the public reason."""
    feedback = (
        Feedback.objects.select_for_update(of=("self",))
        .select_related("project")
        .get(pk=feedback.pk)
    )
    FEEDBACK.apply(acting, "hide", feedback, reason)
    return feedback
