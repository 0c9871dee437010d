"""The comptoir, expert and challenge pages, in French, through Django's test client: public
list with accent-insensitive search and pagination, a citizen's form, the contact's answer,
moderation, an expert exchange, a challenge from publication to pact draft; bad input is a 400
with the form, never a 500."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from pacte.comptoirs import challenges, posts, selectors
from pacte.comptoirs.models import Application, ExpertRequest, Post
from tests.comptoirs.conftest import problem_in

pytestmark = pytest.mark.django_db


def login(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def test_public_list_search_and_pagination(client, world, desk):  # type: ignore[no-untyped-def]
    for n in range(12):
        posts.submit_post(desk.citizen, problem_in(title=f"Problème numéro {n}"))
    posts.submit_post(desk.citizen, problem_in(title="Écoles fermées"))
    html = client.get("/comptoir/").content.decode()
    assert "Le comptoir" in html and "Page 1 sur 2" in html and "13 dépôts" in html
    assert 'href="/experts/"' in html and 'href="/defis/"' in html
    assert 'href="/comptoir/"' in client.get("/").content.decode()  # the header link
    html = client.get("/comptoir/", {"q": "ECOLES"}).content.decode()
    assert "1 dépôt" in html and "Écoles fermées" in html and "numéro" not in html
    assert client.get("/comptoir/", {"page": "999", "nature": "x"}).status_code == 200
    assert "Référent innovation" in client.get("/comptoir/routage/").content.decode()


def test_a_citizen_posts_through_the_form(world, desk):  # type: ignore[no-untyped-def]
    c = login(desk.citizen)  # no organisation: a citizen
    assert c.get("/comptoir/deposer/probleme/").status_code == 200
    r = c.post("/comptoir/deposer/probleme/", {"title": "Sans suite", "theme": "emploi"})
    assert r.status_code == 400 and "Ce champ est obligatoire" in r.content.decode()
    r = c.post(
        "/comptoir/deposer/probleme/",
        {
            "title": "Trop de papiers",
            "theme": "emploi",
            "territory": "Val-de-Loire",
            "affected": "Les familles",
            "affected_count": "300",
            "today": "Elles abandonnent.",
            "body": "Le dossier fait 20 pages.",
        },
    )
    post = Post.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/comptoir/{post.pk}/"
    html = c.get(r["Location"]).content.decode()
    assert "Agence publique" in html and "Réponse attendue avant le" in html
    assert Client().get("/comptoir/deposer/probleme/").status_code == 302  # sign in first


def test_the_contact_answers_and_the_public_sees_it(world, desk):  # type: ignore[no-untyped-def]
    post = posts.submit_post(desk.citizen, problem_in())
    contact = login(desk.contact.user)
    html = contact.get(f"/comptoir/{post.pk}/").content.decode()
    assert "Publier la réponse" in html and "Masquer le dépôt" not in html
    r = contact.post(f"/comptoir/{post.pk}/answer/", {"answer": "court"})
    assert r.status_code == 400 and "10 caractères" in r.content.decode()
    r = contact.post(f"/comptoir/{post.pk}/answer/", {"answer": "Un guichet papier ouvre lundi."})
    assert r.status_code == 302
    html = Client().get(f"/comptoir/{post.pk}/").content.decode()
    assert "Un guichet papier ouvre lundi." in html and "comptoir.post.answered" in html
    assert "Publier la réponse" not in html
    # a stranger's POST is refused with a message, nothing changes
    r = login(world.signatory.user).post(f"/comptoir/{post.pk}/close/", {"reason": "x" * 20})
    assert r.status_code == 400 and "contact désigné" in r.content.decode()


def test_moderation_form_and_public_reason(world, desk):  # type: ignore[no-untyped-def]
    post = posts.submit_post(desk.citizen, problem_in())
    admin = login(desk.admin.user)
    assert "Masquer le dépôt" in admin.get(f"/comptoir/{post.pk}/").content.decode()
    r = admin.post(
        f"/comptoir/{post.pk}/moderate/", {"reason": "Propos injurieux envers un agent."}
    )
    assert r.status_code == 302
    assert post.title not in Client().get("/comptoir/").content.decode()
    html = Client().get(f"/comptoir/{post.pk}/").content.decode()
    assert "Masqué par la modération" in html and "Propos injurieux" in html


def test_expert_exchange_pages(world, active, expert):  # type: ignore[no-untyped-def]
    assert "Camille Expert" in Client().get("/experts/").content.decode()
    carrier = login(world.carrier_member.user)
    project = active.pact.project
    r = carrier.post(
        f"/experts/{expert.pk}/",
        {"project": project.slug, "topic": "Indicateurs", "question": "Lesquels suivre ?"},
    )
    req = ExpertRequest.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/experts/demandes/{req.pk}/"
    desk = login(world.reviewer.user)
    r = desk.post(f"/experts/demandes/{req.pk}/accept/", {"slots": "Mardi 10 h\nJeudi 14 h"})
    assert r.status_code == 302
    carrier.post(
        f"/experts/demandes/{req.pk}/summary/",
        {"notes": "Interne", "public_summary": "Trois indicateurs retenus."},
    )
    assert "Confirmer la synthèse" in desk.get(f"/experts/demandes/{req.pk}/").content.decode()
    desk.post(f"/experts/demandes/{req.pk}/confirm/")
    html = Client().get(f"/experts/demandes/{req.pk}/").content.decode()
    assert "Trois indicateurs retenus." in html and "Interne" not in html  # notes stay private
    assert "Interne" in carrier.get(f"/experts/demandes/{req.pk}/").content.decode()


def test_publish_expert_form(world):  # type: ignore[no-untyped-def]
    c = login(world.reviewer.user)
    r = c.post("/experts/nouveau/", {"name": "X"})
    assert r.status_code == 400
    r = c.post(
        "/experts/nouveau/",
        {
            "name": "Alix",
            "domain": "Accessibilité",
            "organisation_label": "DINUM",
            "availability": "Lundis",
            "languages": "français, LSF",
        },
    )
    assert r.status_code == 302
    assert selectors.experts().get().languages == ["français", "LSF"]


def test_challenge_pages_from_publication_to_pact_draft(world):  # type: ignore[no-untyped-def]
    desk = login(world.reviewer.user)
    r = desk.post("/defis/nouveau/", {"title": "Défi"})
    assert r.status_code == 400
    r = desk.post(
        "/defis/nouveau/",
        {
            "title": "Non-recours",
            "problem": "Un tiers ne demande pas l'aide.",
            "theme": "solidarite",
            "criteria": "Impact mesuré.",
            "deadline": (date.today() + timedelta(days=20)).isoformat(),
        },
    )
    assert r.status_code == 302 and r["Location"] == "/defis/non-recours/"
    team = login(world.carrier_admin.user)
    r = team.post("/defis/non-recours/candidater/", {"proposal": "Un simulateur", "team": "3"})
    assert r.status_code == 302
    application = Application.objects.get()
    r = desk.post("/defis/non-recours/selection/", {f"decision_{application.pk}": "select"})
    assert r.status_code == 400 and "Décision et motif obligatoires" not in r.content.decode()
    r = desk.post(
        "/defis/non-recours/selection/",
        {f"decision_{application.pk}": "select", f"reason_{application.pk}": "Impact mesurable."},
    )
    assert r.status_code == 302
    html = Client().get("/defis/non-recours/").content.decode()
    assert "Retenue" in html and "Impact mesurable." in html
    r = team.post(f"/defis/non-recours/candidatures/{application.pk}/pacte/")
    application.refresh_from_db()
    assert application.pact is not None
    assert r["Location"] == f"/pactes/{application.pact.reference}/v1/"


def test_challenge_module_use(world):  # type: ignore[no-untyped-def]
    c = challenges.publish_challenge(
        world.reviewer,
        challenges.ChallengeIn(
            title="Mobilité",
            problem="Pas de bus.",
            theme="mobilite",
            criteria="Usage.",
            deadline=date.today(),
        ),
    )
    assert "Mobilité" in Client().get("/defis/").content.decode()
    assert Client().get(f"/defis/{c.slug}/").status_code == 200
    assert Client().get("/defis/inconnu/").status_code == 404
    assert Client().get("/comptoir/999999/").status_code == 404
