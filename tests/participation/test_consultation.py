"""Consultation rules: who opens it and for how long, comments during the period only, edits kept
until an answer, immutability once answered, moderation with its public reason in the journal."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from pacte.accounts.policy import SYSTEM, Person
from pacte.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from pacte.participation import comments, consultations, selectors
from pacte.participation.errors import ConsultationClosed
from pacte.participation.models import Comment, Consultation, Flag

pytestmark = pytest.mark.django_db


def entries(type_: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(e.entry) for e in Event.objects.filter(type=type_).order_by("index")]


def test_the_reviewer_opens_a_consultation_on_a_submitted_pact_for_a_number_of_days(
    world, submitted
):
    consultation = consultations.open_consultation(world.reviewer, submitted, 10)
    assert consultation.closes_at - consultation.opens_at == timedelta(days=10)
    assert consultation.accepts_comments()
    (entry,) = entries("consultation.opened")
    assert entry["subject"] == {"type": "pact", "id": submitted.pact.reference}
    assert entry["data"]["days"] == 10 and entry["actor"]["org"] == "agence"


def test_only_the_institutions_reviewer_opens_it_and_only_once_and_only_when_submitted(
    world, draft, submitted
):
    with pytest.raises(PermissionDenied):
        consultations.open_consultation(world.carrier_admin, submitted, 10)
    with pytest.raises(PermissionDenied):
        consultations.open_consultation(world.outsider_reviewer, submitted, 10)
    for days in (0, 91):
        with pytest.raises(ValidationFailed):
            consultations.open_consultation(world.reviewer, submitted, days)
    consultations.open_consultation(world.reviewer, submitted, 10)
    with pytest.raises(Conflict):
        consultations.open_consultation(world.reviewer, submitted, 10)
    assert Consultation.objects.count() == 1 and len(entries("consultation.opened")) == 1


def test_no_consultation_on_a_draft(world, draft):
    with pytest.raises(InvalidTransition):
        consultations.open_consultation(world.reviewer, draft, 10)


def test_a_citizen_comments_section_by_section_during_the_period_only(citizens, consultation):
    c = comments.post_comment(
        citizens.alice_p, consultation, "mission", "Le public visé est trop large."
    )
    assert c.author == citizens.alice and c.state == Comment.State.PUBLISHED
    (entry,) = entries("consultation.comment_posted")
    assert entry["data"]["comment"] == c.pk and entry["actor"]["role"] == "person"
    assert "Le public" not in json.dumps(entry)  # the text is on the page, not in the log
    with pytest.raises(ValidationFailed):
        comments.post_comment(citizens.alice_p, consultation, "nowhere", "Texte")
    with pytest.raises(ValidationFailed):
        comments.post_comment(citizens.alice_p, consultation, "data", "   ")
    Consultation.objects.filter(pk=consultation.pk).update(
        closes_at=timezone.now() - timedelta(seconds=1)
    )
    consultation.refresh_from_db()
    with pytest.raises(ConsultationClosed):
        comments.post_comment(citizens.bob_p, consultation, "data", "Trop tard ?")
    assert Comment.objects.count() == 1


def test_the_clock_closes_consultations_at_their_end_with_a_journal_entry(
    world, citizens, consultation
):
    comments.post_comment(citizens.alice_p, consultation, "state", "Et le financement ?")
    assert consultations.close_due(timezone.now()) == 0
    assert consultations.close_due(consultation.closes_at + timedelta(minutes=1)) == 1
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.CLOSED
    (entry,) = entries("consultation.closed")
    assert entry["actor"]["role"] == "system" and entry["data"]["comments"] == 1
    with pytest.raises(ConsultationClosed):
        comments.post_comment(citizens.bob_p, consultation, "state", "Encore une question")


def test_the_reviewer_may_close_early_with_a_published_reason_not_the_carrier(world, consultation):
    with pytest.raises(PermissionDenied):
        consultations.close_consultation(
            world.carrier_admin, consultation, "Assez de retours reçus"
        )
    consultations.close_consultation(world.reviewer, consultation, "Assez de retours reçus")
    assert entries("consultation.closed")[0]["data"]["reason"] == "Assez de retours reçus"
    with pytest.raises(InvalidTransition):
        consultations.close_consultation(SYSTEM, consultation)


def test_edits_before_an_answer_are_kept_and_the_answer_freezes_the_comment(
    world, citizens, consultation
):
    c = comments.post_comment(citizens.alice_p, consultation, "principles", "Premier texte")
    with pytest.raises(PermissionDenied):
        comments.edit_comment(citizens.bob_p, c, "Texte de Bob")
    comments.edit_comment(citizens.alice_p, c, "Deuxième texte")
    comments.edit_comment(citizens.alice_p, c, "Troisième texte")
    c.refresh_from_db()
    assert c.text == "Troisième texte" and c.edited_at is not None
    assert [r.text for r in c.revisions.all()] == ["Premier texte", "Deuxième texte"]
    with pytest.raises(PermissionDenied):  # a citizen does not answer
        comments.answer_comment(world.outsider_reviewer, c, "Réponse d'ailleurs")
    comments.answer_comment(world.carrier_member, c, "Merci, nous précisons le public visé.")
    c.refresh_from_db()
    assert c.state == Comment.State.ANSWERED and c.answered_by == world.carrier
    (entry,) = entries("consultation.comment_answered")
    assert entry["data"]["comment"] == c.pk and entry["actor"]["org"] == "porteur"
    with pytest.raises(InvalidTransition, match="ne peut plus être modifié"):
        comments.edit_comment(citizens.alice_p, c, "Je change d'avis")
    with pytest.raises(InvalidTransition):
        comments.answer_comment(world.reviewer, c, "Seconde réponse")
    c.refresh_from_db()
    assert c.text == "Troisième texte" and c.answer.startswith("Merci")


def test_the_institution_answers_too(world, citizens, consultation):
    c = comments.post_comment(citizens.bob_p, consultation, "data", "Pourquoi ces données ?")
    comments.answer_comment(world.data_steward, c, "Pour mesurer le retour à l'emploi.")
    c.refresh_from_db()
    assert c.answered_by == world.institution


def test_flags_and_moderation_with_a_public_reason_in_the_journal(world, citizens, consultation):
    c = comments.post_comment(citizens.alice_p, consultation, "mission", "Propos déplacé")
    comments.post_comment(citizens.bob_p, consultation, "mission", "Propos mesuré")
    with pytest.raises(PermissionDenied):
        comments.flag_comment(citizens.alice_p, c, "moi-même")
    comments.flag_comment(citizens.bob_p, c, "Propos injurieux")
    with pytest.raises(Conflict):
        comments.flag_comment(citizens.bob_p, c, "encore")
    assert list(selectors.flagged_comments()) == [c]
    with pytest.raises(PermissionDenied):  # the carrier does not moderate the consultation
        comments.moderate_comment(
            world.carrier_admin, c, "hide", "Propos injurieux envers un agent"
        )
    with pytest.raises(ValidationFailed):  # a public reason is required
        comments.moderate_comment(world.reviewer, c, "hide", "non")
    assert not Event.objects.filter(type="participation.comment_hidden").exists()
    comments.moderate_comment(world.reviewer, c, "hide", "Propos injurieux envers un agent")
    c.refresh_from_db()
    assert (
        c.state == Comment.State.HIDDEN
        and c.moderation_reason == "Propos injurieux envers un agent"
    )
    (entry,) = entries("participation.comment_hidden")
    assert (
        entry["data"]["reason"] == "Propos injurieux envers un agent"
        and entry["data"]["flags"] == 1
    )
    assert Flag.objects.get().resolved_at is not None and not selectors.flagged_comments()
    s = selectors.summary(consultation)
    assert (s.comments, s.hidden, s.flagged) == (1, 1, 0)
    comments.moderate_comment(world.reviewer, c, "restore", "Relu : le propos était une citation")
    c.refresh_from_db()
    assert c.state == Comment.State.PUBLISHED
    assert len(entries("participation.comment_restored")) == 1


def test_a_failed_moderation_leaves_everything_as_it_was(world, citizens, consultation):
    c = comments.post_comment(citizens.alice_p, consultation, "mission", "Texte")
    comments.flag_comment(citizens.bob_p, c, "Hors sujet")
    before = Event.objects.count()
    with pytest.raises(InvalidTransition):
        comments.moderate_comment(world.reviewer, c, "restore", "Rien à rétablir ici")
    assert Event.objects.count() == before
    assert Flag.objects.get().resolved_at is None


def test_the_summary_counts_comments_answered_or_not_by_section(world, citizens, consultation):
    a = comments.post_comment(citizens.alice_p, consultation, "mission", "Un")
    comments.post_comment(citizens.bob_p, consultation, "mission", "Deux")
    comments.post_comment(citizens.bob_p, consultation, "state", "Trois")
    comments.answer_comment(world.reviewer, a, "Réponse")
    s = selectors.summary(consultation)
    assert (s.comments, s.answered, s.unanswered) == (3, 1, 2)
    by = {label: (n, done, todo) for label, n, done, todo in s.by_section}
    assert by["Mission d'intérêt général"] == (2, 1, 1)
    assert by["Engagements de l'État"] == (1, 0, 1)


def test_a_member_acting_for_an_organisation_may_comment_as_the_person_they_are(
    world, consultation
):
    c = comments.post_comment(
        Person(world.reviewer2.user), consultation, "mission", "Avis personnel"
    )
    assert c.author == world.reviewer2.user
