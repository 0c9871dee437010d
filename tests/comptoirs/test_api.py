"""The comptoir, experts and challenges API: paginated public lists {"count","items"}, writes
behind a token, errors in the one error body (pacte.api_contract), never a 500."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pacte.comptoirs import posts
from pacte.comptoirs.models import ExpertRequest, Post
from tests.comptoirs.conftest import problem_in

pytestmark = pytest.mark.django_db


def bearer(acting) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from pacte.accounts.services import create_api_token

    _, raw = create_api_token(acting.user, acting.organisation, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_post_list_search_and_detail(client, world, desk):  # type: ignore[no-untyped-def]
    post = posts.submit_post(desk.citizen, problem_in(title="Écoles fermées"))
    posts.submit_post(desk.citizen, problem_in(title="Autre"))
    page = client.get("/api/v1/comptoir/posts", {"q": "ecoles", "limit": 1}).json()
    assert page["count"] == 1 and page["items"][0]["id"] == post.pk
    assert page["items"][0]["organisation"] == "agence"
    assert client.get("/api/v1/comptoir/posts").json()["count"] == 2
    one = client.get(f"/api/v1/comptoir/posts/{post.pk}").json()
    assert one["status"] == "received" and one["contact_title"] == "Référent innovation"
    missing = client.get("/api/v1/comptoir/posts/999999")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert client.get("/api/v1/comptoir/routes").json()[0]["clock_days"] in (20, 30)


def test_post_and_answer_through_the_api(client, world, desk):  # type: ignore[no-untyped-def]
    body = {
        "kind": "projet",
        "title": "Un bus de l'emploi",
        "theme": "emploi",
        "territory": "Val-de-Loire",
        "body": "Un bus qui va vers les villages.",
    }
    assert (
        client.post("/api/v1/comptoir/posts", body, content_type="application/json").status_code
        == 401
    )
    r = client.post(
        "/api/v1/comptoir/posts",
        body,
        content_type="application/json",
        **bearer(world.carrier_admin),
    )
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    r = client.post(
        f"/api/v1/comptoir/posts/{pk}/answer",
        {"text": "court"},
        content_type="application/json",
        **bearer(desk.contact),
    )
    assert r.status_code == 422 and r.json()["fields"] == {"answer": ["Réponse obligatoire."]}
    r = client.post(
        f"/api/v1/comptoir/posts/{pk}/answer",
        {"text": "Nous finançons un essai."},
        content_type="application/json",
        **bearer(world.signatory),
    )
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = client.post(
        f"/api/v1/comptoir/posts/{pk}/answer",
        {"text": "Nous finançons un essai."},
        content_type="application/json",
        **bearer(desk.contact),
    )
    assert r.status_code == 200 and r.json()["status"] == "answered"
    r = client.post(
        f"/api/v1/comptoir/posts/{pk}/close",
        {"reason": "x"},
        content_type="application/json",
        **bearer(desk.contact),
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/comptoir/posts/{pk}/dance",
        {},
        content_type="application/json",
        **bearer(desk.contact),
    )
    assert r.status_code == 422 and "Actions possibles" in r.json()["message"]
    assert Post.objects.get().status == "answered"


def test_experts_api(client, world, active, expert):  # type: ignore[no-untyped-def]
    page = client.get("/api/v1/experts").json()
    assert page["count"] == 1 and page["items"][0]["name"] == "Camille Expert"
    project = active.pact.project
    r = client.post(
        f"/api/v1/experts/{expert.pk}/requests",
        {"project": project.slug, "topic": "Données", "question": "Lesquelles ?"},
        content_type="application/json",
        **bearer(world.carrier_member),
    )
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    r = client.post(
        f"/api/v1/experts/requests/{pk}/accept",
        {"slots": ["Lundi 9 h"]},
        content_type="application/json",
        **bearer(world.reviewer),
    )
    assert r.status_code == 200 and r.json()["slots"] == ["Lundi 9 h"]
    for who in (world.carrier_member, world.reviewer):
        client.post(
            f"/api/v1/experts/requests/{pk}/summary",
            {"notes": "privé", "public_summary": "Deux sources retenues."},
            content_type="application/json",
            **bearer(who),
        )
    one = client.get(f"/api/v1/experts/requests/{pk}").json()
    assert one["status"] == "completed" and one["public_summary"] == "Deux sources retenues."
    assert "privé" not in str(one)
    listed = client.get("/api/v1/experts/requests", {"institution": "agence"}).json()
    assert listed["count"] == 1 and ExpertRequest.objects.count() == 1


def test_challenges_api(client, world):  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/v1/challenges",
        {
            "title": "Mobilité rurale",
            "problem": "Pas de bus le dimanche.",
            "theme": "mobilite",
            "criteria": "Usage mesuré.",
            "deadline": (date.today() + timedelta(days=10)).isoformat(),
        },
        content_type="application/json",
        **bearer(world.reviewer),
    )
    assert r.status_code == 201, r.content
    slug = r.json()["slug"]
    r = client.post(
        f"/api/v1/challenges/{slug}/applications",
        {"proposal": "Covoiturage solidaire", "team": "Trois bénévoles"},
        content_type="application/json",
        **bearer(world.carrier_admin),
    )
    assert r.status_code == 201
    app_id = r.json()["applications"][0]["id"]
    r = client.post(
        f"/api/v1/challenges/{slug}/selection",
        {"decisions": [{"application": app_id, "selected": True, "reason": "Usage déjà mesuré."}]},
        content_type="application/json",
        **bearer(world.reviewer),
    )
    assert r.status_code == 200 and r.json()["status"] == "decided"
    r = client.post(
        f"/api/v1/challenges/{slug}/applications/{app_id}/pact",
        content_type="application/json",
        **bearer(world.carrier_admin),
    )
    assert r.status_code == 201 and r.json()["pact"].startswith("PACTE-")
    page = client.get("/api/v1/challenges").json()
    assert page["count"] == 1 and page["items"][0]["applications"][0]["status"] == "selected"
    assert client.get("/api/v1/challenges/inconnu").status_code == 404
