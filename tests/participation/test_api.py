"""The participation API: comments (session or token), follows, a hidden comment's text withheld."""

from __future__ import annotations

import pytest

from pacte.accounts.services import create_api_token
from pacte.participation import comments

pytestmark = pytest.mark.django_db


def test_comment_answer_and_list_through_the_api(client, world, citizens, consultation):
    url = f"/api/v1/consultations/{consultation.pk}/comments"
    assert (
        client.post(
            url, {"section": "mission", "text": "x"}, content_type="application/json"
        ).status_code
        == 401
    )
    client.force_login(citizens.alice)  # a citizen: the session authenticates her
    posted = client.post(
        url, {"section": "mission", "text": "Question publique"}, content_type="application/json"
    )
    assert posted.status_code == 201, posted.content
    comment_id = posted.json()["id"]
    refused = client.post(
        f"/api/v1/comments/{comment_id}/answer",
        {"text": "Je me réponds"},
        content_type="application/json",
    )
    assert refused.status_code == 401  # a citizen acts for no organisation
    client.logout()
    _, token = create_api_token(world.carrier_member.user, world.carrier, "api")
    answered = client.post(
        f"/api/v1/comments/{comment_id}/answer",
        {"text": "Réponse du porteur"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answered.status_code == 200 and answered.json()["state"] == "answered"
    assert answered.json()["answered_by"] == "porteur"
    page = client.get(url, {"limit": 10}).json()
    assert page["count"] == 1 and page["items"][0]["answer"] == "Réponse du porteur"


def test_a_hidden_comment_keeps_its_reason_not_its_text(client, world, citizens, consultation):
    c = comments.post_comment(citizens.alice_p, consultation, "data", "Texte injurieux")
    comments.moderate_comment(world.reviewer, c, "hide", "Propos injurieux retirés")
    item = client.get(f"/api/v1/consultations/{consultation.pk}/comments").json()["items"][0]
    assert item["text"] is None and item["moderation_reason"] == "Propos injurieux retirés"


def test_follows_through_the_api(client, citizens, world):
    project = world.project()
    client.force_login(citizens.bob)
    added = client.post(
        "/api/v1/follows",
        {"target": "project", "key": project.slug},
        content_type="application/json",
    )
    assert added.status_code == 201
    assert client.get("/api/v1/follows").json()["count"] == 1
    unknown = client.post(
        "/api/v1/follows",
        {"target": "project", "key": "nulle-part"},
        content_type="application/json",
    )
    assert unknown.status_code == 404
    removed = client.post(
        "/api/v1/follows/remove",
        {"target": "project", "key": project.slug},
        content_type="application/json",
    )
    assert removed.json()["count"] == 0
