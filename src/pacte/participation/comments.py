"""Comments on a pact in consultation: posted by anyone signed in, section by section; edited by
their author until answered (earlier texts kept); answered publicly by the carrier or the
institution; flagged by people; moderated with a public reason (journal, same transaction)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action, Person
from pacte.accounts.services import Acting
from pacte.errors import Conflict, ValidationFailed
from pacte.participation.consultations import lock_consultation
from pacte.participation.errors import ConsultationClosed
from pacte.participation.events import comment_event
from pacte.participation.lifecycles import COMMENT
from pacte.participation.models import Comment, CommentRevision, Consultation, Flag, Section
from pacte.participation.tasks import fan_out_after_commit
from pacte.writes.retry import retry_on_conflict

MAX_TEXT = 5000
MAX_FLAG_REASON = 500


def clean_text(text: str, field: str, *, limit: int = MAX_TEXT) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(
            _("Le texte est vide."), field_errors={field: [_("Ce champ est obligatoire.")]}
        )
    if len(text) > limit:
        raise ValidationFailed(
            _("Le texte dépasse %(limit)s caractères.") % {"limit": limit},
            field_errors={field: [_("%(limit)s caractères au plus.") % {"limit": limit}]},
        )
    return text


def lock_comment(comment: Comment) -> Comment:
    return (
        Comment.objects.select_for_update(of=("self",), no_key=True)
        .select_related("consultation__version__pact__project", "author")
        .get(pk=comment.pk)
    )


@retry_on_conflict
@transaction.atomic
def post_comment(person: Person, consultation: Consultation, section: str, text: str) -> Comment:
    consultation = lock_consultation(consultation)
    policy.require(person, Action.COMMENT_WRITE, consultation)
    if not consultation.accepts_comments():
        raise ConsultationClosed(_("Cette consultation n'accepte pas (ou plus) de commentaires."))
    if section not in Section.values:
        raise ValidationFailed(
            _("Partie du pacte inconnue."), field_errors={"section": [_("Choix invalide.")]}
        )
    comment = Comment.objects.create(
        consultation=consultation,
        section=section,
        text=clean_text(text, "text"),
        author=person.user,
    )
    comment_event(comment, "consultation.comment_posted", person)
    fan_out_after_commit()
    return comment


@retry_on_conflict
@transaction.atomic
def edit_comment(person: Person, comment: Comment, text: str) -> Comment:
    """The author edits a comment not yet answered; the earlier text is kept and shown."""
    comment = lock_comment(comment)
    COMMENT.check(person, "edit", comment)
    text = clean_text(text, "text")
    if text == comment.text:
        return comment
    CommentRevision.objects.create(
        comment=comment, text=comment.text, written_at=comment.edited_at or comment.created_at
    )
    comment.text = text
    comment.edited_at = timezone.now()
    comment.save(update_fields=["text", "edited_at"])
    return comment


@retry_on_conflict
@transaction.atomic
def answer_comment(acting: Acting, comment: Comment, text: str) -> Comment:
    """The carrier or the institution answers publicly; the comment is immutable from then on."""
    comment = lock_comment(comment)
    move, _reason = COMMENT.check(acting, "answer", comment)
    comment.answer = clean_text(text, "answer")
    comment.answered_by = acting.organisation
    comment.answered_at = timezone.now()
    COMMENT.enter(acting, move, comment, answered_by=acting.organisation.slug)
    fan_out_after_commit()
    return comment


@retry_on_conflict
@transaction.atomic
def flag_comment(person: Person, comment: Comment, reason: str) -> Flag:
    comment = lock_comment(comment)
    policy.require(person, Action.COMMENT_FLAG, comment)
    try:
        with transaction.atomic():
            return Flag.objects.create(
                comment=comment,
                user=person.user,
                reason=clean_text(reason, "reason", limit=MAX_FLAG_REASON),
            )
    except IntegrityError:
        raise Conflict(_("Vous avez déjà signalé ce commentaire.")) from None


MODERATION = ("hide", "keep", "restore")


@retry_on_conflict
@transaction.atomic
def moderate_comment(acting: Acting, comment: Comment, decision: str, reason: str) -> Comment:
    """Hide, keep (dismiss the flags) or restore, with a public reason written to the journal."""
    if decision not in MODERATION:
        raise ValidationFailed(_("Décision de modération inconnue."))
    comment = lock_comment(comment)
    move, reason = COMMENT.check(acting, decision, comment, reason)
    target = {
        "hide": Comment.State.HIDDEN,
        "keep": comment.state,
        "restore": Comment.State.ANSWERED if comment.answered_at else Comment.State.PUBLISHED,
    }[decision]
    flags = comment.flags.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
    COMMENT.enter(acting, move, comment, reason, target=str(target), flags=flags)
    fan_out_after_commit()
    return comment
