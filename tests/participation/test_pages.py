"""The participation pages through their web forms (French), for a citizen and for the parties."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pacte.accounts.middleware import SESSION_KEY
from pacte.journal.models import Event
from pacte.participation import comments, notices
from pacte.participation.models import Comment, Consultation, Follow

pytestmark = pytest.mark.django_db


def sign_in(client, acting):  # type: ignore[no-untyped-def]
    client.force_login(acting.user)
    session = client.session
    session[SESSION_KEY] = acting.organisation.pk
    session.save()


def test_the_reviewer_opens_the_consultation_from_the_review_page(client, world, submitted):
    ref, n = submitted.pact.reference, submitted.number
    sign_in(client, world.reviewer)
    page = client.get(reverse("web:version", args=[ref, n])).content.decode()
    assert "Ouvrir la consultation publique" in page
    bad = client.post(reverse("participation:consultation_open", args=[ref, n]), {"days": "0"})
    assert bad.status_code == 302 and not Consultation.objects.exists()
    response = client.post(
        reverse("participation:consultation_open", args=[ref, n]), {"days": "21"}
    )
    consultation = Consultation.objects.get()
    assert response.status_code == 302 and consultation.days == 21


def test_the_carrier_cannot_open_it(client, world, submitted):
    sign_in(client, world.carrier_admin)
    page = client.get(reverse("web:version", args=[submitted.pact.reference, 1])).content.decode()
    assert "Ouvrir la consultation publique" not in page
    response = client.post(
        reverse("participation:consultation_open", args=[submitted.pact.reference, 1]),
        {"days": "21"},
    )
    assert response.status_code == 403 and not Consultation.objects.exists()


def test_a_citizen_comments_the_carrier_answers_and_the_review_page_sums_it_up(
    client, world, citizens, consultation
):
    url = reverse("participation:consultation", args=[consultation.pk])
    anonymous = client.get(url).content.decode()
    assert "Connectez-vous pour commenter" in anonymous
    client.force_login(citizens.alice)  # a citizen: no organisation
    empty = client.post(
        reverse("participation:comment_post", args=[consultation.pk]),
        {"section": "mission", "text": ""},
    )
    assert empty.status_code == 422
    response = client.post(
        reverse("participation:comment_post", args=[consultation.pk]),
        {"section": "data", "text": "Pourquoi demander le niveau de diplôme ?"},
    )
    assert response.status_code == 302
    comment = Comment.objects.get()
    client.post(
        reverse("participation:comment_edit", args=[comment.pk]), {"text": "Pourquoi le diplôme ?"}
    )
    page = client.get(url).content.decode()
    assert "Pourquoi le diplôme ?" in page and "Historique : 1 version précédente" in page
    assert "Modifier mon commentaire" in page and "Publier la réponse" not in page

    client.logout()
    sign_in(client, world.carrier_member)
    assert "Publier la réponse" in client.get(url).content.decode()
    client.post(
        reverse("participation:comment_answer", args=[comment.pk]),
        {"answer": "Pour mesurer l'effet par niveau."},
    )
    comment.refresh_from_db()
    assert comment.state == Comment.State.ANSWERED

    sign_in(client, world.reviewer)
    review = client.get(
        reverse("web:version", args=[consultation.version.pact.reference, 1])
    ).content.decode()
    assert 'data-summary="comments">1<' in review and 'data-summary="answered">1<' in review
    assert 'data-summary="unanswered">0<' in review

    client.logout()
    client.force_login(citizens.alice)
    page = client.get(url).content.decode()
    assert "Modifier mon commentaire" not in page  # answered: immutable
    assert (
        client.post(
            reverse("participation:comment_edit", args=[comment.pk]), {"text": "Autre"}
        ).status_code
        == 409
    )


def test_flag_then_moderation_from_the_page(client, world, citizens, consultation):
    comment = comments.post_comment(citizens.alice_p, consultation, "mission", "Hors sujet total")
    client.force_login(citizens.bob)
    client.post(reverse("participation:comment_flag", args=[comment.pk]), {"reason": "Hors sujet"})
    sign_in(client, world.reviewer)
    queue = client.get(reverse("participation:moderation")).content.decode()
    assert "Hors sujet total" in queue
    client.post(
        reverse("participation:comment_moderate", args=[comment.pk]),
        {"decision": "hide", "reason": "Sans rapport avec le pacte"},
    )
    comment.refresh_from_db()
    assert comment.state == Comment.State.HIDDEN
    assert Event.objects.filter(type="participation.comment_hidden").count() == 1
    client.logout()
    page = client.get(
        reverse("participation:consultation", args=[consultation.pk])
    ).content.decode()
    assert "Hors sujet total" not in page and "Sans rapport avec le pacte" in page


def test_follow_a_project_and_see_the_unread_count_in_the_header(
    client, world, citizens, consultation
):
    project = consultation.version.pact.project
    client.force_login(citizens.bob)
    client.post(
        reverse("participation:follow"),
        {
            "target": "project",
            "key": project.slug,
            "next": reverse("web:project", args=[project.slug]),
        },
    )
    assert Follow.objects.filter(user=citizens.bob, key=project.slug).exists()
    comment = comments.post_comment(citizens.alice_p, consultation, "mission", "Question ?")
    comments.answer_comment(world.reviewer, comment, "Réponse.")
    notices.fan_out_all()
    home = client.get(reverse("web:home")).content.decode()
    assert 'data-unread="2"' in home  # the comment and its answer, on the project bob follows
    page = client.get(reverse("participation:notices")).content.decode()
    assert (
        "Réponse publiée à un commentaire" in page
        and f"Vous suivez le projet {project.slug}" in page
    )
    client.post(reverse("participation:notices"))  # mark all read
    assert 'data-unread="0"' in client.get(reverse("web:home")).content.decode()
    client.post(reverse("participation:notices"), {"frequency": "weekly"})
    assert citizens.bob.digest_preference.frequency == "weekly"


def test_signed_out_visitors_are_sent_to_sign_in_for_writes(client, consultation):
    response = client.post(
        reverse("participation:comment_post", args=[consultation.pk]),
        {"section": "mission", "text": "x"},
    )
    assert response.status_code == 302 and "connexion" in response["Location"]
    assert client.get(reverse("participation:notices")).status_code == 302
