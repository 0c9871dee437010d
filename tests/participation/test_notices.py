"""Follow and be told: the fan-out turns journal entries into notices for the people concerned;
the worker sends the digests (immediate, daily, weekly) with a one-click unsubscribe link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from pacte.pacts import review
from pacte.participation import comments, digests, follows, notices
from pacte.participation.models import DigestPreference, Follow, JournalCursor, Notice
from tests.queue import run_queue

pytestmark = pytest.mark.django_db
F = DigestPreference.Frequency


def test_the_author_of_a_comment_is_told_of_the_answer(world, citizens, consultation):
    c = comments.post_comment(citizens.alice_p, consultation, "mission", "Question ?")
    comments.answer_comment(world.carrier_member, c, "Réponse publique.")
    notices.fan_out_all()
    (notice,) = Notice.objects.filter(user=citizens.alice)
    assert notice.event_type == "consultation.comment_answered"
    assert notice.why == "Votre commentaire"
    assert notice.link == f"/consultations/{consultation.pk}/#commentaire-{c.pk}"
    assert not Notice.objects.filter(user=citizens.bob).exists()


def test_followers_are_told_of_what_happens_after_they_follow_and_never_of_their_own_acts(
    world, citizens, submitted
):
    project = submitted.pact.project
    follows.follow(citizens.bob_p, Follow.Target.PROJECT, project.slug)
    follows.follow(citizens.alice_p, Follow.Target.INSTITUTION, world.institution.slug)
    follows.follow(citizens.alice_p, Follow.Target.REGISTRY)
    earlier = notices.fan_out_all()  # the pact's creation and submission happened before
    assert earlier > 0 and not Notice.objects.exists()
    review.request_changes(world.reviewer, submitted, "Préciser la population visée")
    notices.fan_out_all()
    bob = Notice.objects.get(user=citizens.bob)
    alice = Notice.objects.get(user=citizens.alice)  # one notice per entry, the first reason wins
    assert bob.event_type == alice.event_type == "pact.changes_requested"
    assert bob.why == f"Vous suivez le projet {project.slug}"
    assert alice.why == "Vous suivez l'institution agence"
    assert notices.fan_out_all() == 0  # nothing new: nothing twice
    assert Notice.objects.count() == 2


def test_the_fan_out_is_idempotent_when_a_batch_is_replayed(world, citizens, consultation):
    c = comments.post_comment(citizens.alice_p, consultation, "mission", "Question ?")
    comments.answer_comment(world.reviewer, c, "Réponse.")
    notices.fan_out_all()
    JournalCursor.objects.update(next_index=0)  # as after a crash before the cursor moved
    notices.fan_out_all()
    assert Notice.objects.filter(user=citizens.alice).count() == 1


def test_immediate_readers_get_a_mail_from_the_worker_with_rfc8058_headers(
    world, citizens, consultation, django_capture_on_commit_callbacks
):
    follows.set_frequency(citizens.alice_p, F.IMMEDIATE)
    c = comments.post_comment(citizens.alice_p, consultation, "mission", "Question ?")
    with django_capture_on_commit_callbacks(execute=True):
        comments.answer_comment(world.carrier_member, c, "Réponse publique.")
    assert mail.outbox == []  # nothing is sent inside the request
    with django_capture_on_commit_callbacks(execute=True):
        run_queue()  # the worker: fan-out, then the immediate digest (queued in the outbox)
    run_queue()  # then the outbox's delivery
    (message,) = mail.outbox
    assert message.to == [citizens.alice.email]
    assert "Réponse publiée à un commentaire" in message.body
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.body and "/desabonnement/" in link
    assert Notice.objects.get(user=citizens.alice).emailed_at is not None


def test_daily_and_weekly_digests_group_notices_and_respect_their_spacing(
    world, citizens, consultation, django_capture_on_commit_callbacks
):
    follows.set_frequency(citizens.bob_p, F.WEEKLY)
    for who in (citizens.alice_p, citizens.bob_p):  # alice: daily, the default
        c = comments.post_comment(who, consultation, "mission", "Question ?")
        comments.answer_comment(world.reviewer, c, "Réponse.")
        comments.moderate_comment(world.reviewer, c, "keep", "Propos conforme à la charte")
    notices.fan_out_all()
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert digests.send_digests(F.IMMEDIATE, now) == 0
        assert digests.send_digests(F.DAILY, now) == 1
        assert digests.send_digests(F.WEEKLY, now) == 1
    run_queue()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [citizens.alice.email, citizens.bob.email]
    )
    assert all("2 nouvelles notifications" in m.subject for m in mail.outbox)
    # new notices: daily again the next day, weekly only a week after the previous digest
    c = comments.post_comment(citizens.bob_p, consultation, "data", "Autre question")
    comments.answer_comment(world.reviewer, c, "Autre réponse.")
    notices.fan_out_all()
    assert digests.send_digests(F.WEEKLY, now + timedelta(days=1)) == 0
    assert digests.send_digests(F.WEEKLY, now + timedelta(days=7)) == 1


def test_the_unsubscribe_link_works_without_signing_in(client, citizens):
    token = follows.unsubscribe_token(citizens.alice)
    url = reverse("participation:unsubscribe", args=[token])
    page = client.get(url)
    assert page.status_code == 200 and citizens.alice.email in page.content.decode()
    assert not DigestPreference.objects.filter(frequency=F.NEVER).exists()  # a GET changes nothing
    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", no session, no CSRF token
    client.handler.enforce_csrf_checks = True
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert DigestPreference.objects.get(user=citizens.alice).frequency == F.NEVER


def test_a_forged_unsubscribe_link_is_refused_with_a_clear_400(client, citizens):
    token = follows.unsubscribe_token(citizens.alice)
    response = client.post(reverse("participation:unsubscribe", args=[token[:-2] + "xx"]))
    assert response.status_code == 400
    assert "pas valide" in response.content.decode()
    assert not DigestPreference.objects.exists()


def test_people_who_unsubscribed_get_no_mail_but_keep_their_notices(
    world, citizens, consultation, django_capture_on_commit_callbacks
):
    follows.unsubscribe(follows.unsubscribe_token(citizens.alice))
    c = comments.post_comment(citizens.alice_p, consultation, "mission", "Question ?")
    comments.answer_comment(world.reviewer, c, "Réponse.")
    notices.fan_out_all()
    with django_capture_on_commit_callbacks(execute=True):
        for frequency in F.values:
            if frequency != F.NEVER:
                assert digests.send_digests(frequency, timezone.now() + timedelta(days=8)) == 0
    run_queue()
    assert mail.outbox == [] and Notice.objects.filter(user=citizens.alice).count() == 1


def test_following_something_unknown_is_a_404(citizens):
    from pacte.errors import NotFound, ValidationFailed

    with pytest.raises(NotFound):
        follows.follow(citizens.alice_p, Follow.Target.PROJECT, "nulle-part")
    with pytest.raises(ValidationFailed):
        follows.follow(citizens.alice_p, "planet", "mars")
