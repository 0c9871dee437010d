"""Assisted comptoir posts (issue 13, P7): a mediator posts a problem, a proposal or an offer to
contribute for a person without an account; the post says "déposé avec l'aide d'un médiateur",
is routed as any post, its answers reach the person's e-mail if given, and the person claims it."""

from __future__ import annotations

import pytest
from django.test import Client

from pacte.accounts.models import Role
from pacte.comptoirs import posts
from pacte.comptoirs.models import Post
from pacte.errors import PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from pacte.mediation import assistance
from pacte.mediation.models import AssistedAction
from pacte.notifications.models import Notification
from tests.comptoirs.conftest import problem_in
from tests.conftest import _acting
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mediator(world):  # type: ignore[no-untyped-def]
    return _acting(world.institution, [Role.MEDIATOR])


def _assisted(post_in, **kw):  # type: ignore[no-untyped-def]
    return assistance.AssistedIn(
        kind=AssistedAction.Kind.POST,
        person_label=kw.pop("person_label", "M. Roux"),
        consent_method=AssistedAction.ConsentMethod.ORAL,
        attested=True,
        post=post_in,
        **kw,
    )


def test_a_mediator_posts_for_a_person_and_the_answer_reaches_their_email(world, desk, mediator):
    recorded = assistance.record_assisted(
        mediator, _assisted(problem_in(), email="roux@example.org")
    )
    post = Post.objects.get(pk=recorded.action.post_id)
    assert post.author is None and post.with_mediator and post.contact_email == "roux@example.org"
    assert post.organisation == world.institution  # routed as any post
    assert post.assisted == recorded.action
    received = Event.objects.get(type="comptoir.post.received")
    assert '"assisted":true' in received.entry and '"role":"mediator"' in received.entry
    recorded_event = Event.objects.get(type="assisted.recorded")
    assert '"kind":"comptoir_post"' in recorded_event.entry
    for entry in (received.entry, recorded_event.entry):
        assert "Roux" not in entry and "roux@example.org" not in entry
    receipt = Notification.objects.get(event="assisted.receipt")
    assert f"/comptoir/{post.pk}/" in receipt.body and recorded.claim_code in receipt.body
    posts.answer(desk.contact, post, "Nous ouvrons un guichet papier dans trois agences.")
    assert Notification.objects.filter(
        event="comptoir.post.answered", recipients=["roux@example.org"]
    ).exists()


def test_without_an_email_the_answer_is_on_the_page_only(world, desk, mediator):
    recorded = assistance.record_assisted(mediator, _assisted(problem_in()))
    post = Post.objects.get(pk=recorded.action.post_id)
    posts.close(desk.contact, post, "Sujet déjà traité par le plan régional.")
    assert not Notification.objects.filter(event="comptoir.post.closed").exists()
    page = Client().get(f"/comptoir/{post.pk}/").content.decode()
    assert 'id="with-mediator"' in page and "médiateur" in page and "plan régional" in page
    api = Client().get(f"/api/v1/comptoir/posts/{post.pk}")
    assert api.status_code == 200 and api.json()["with_mediator"] is True


def test_bad_post_is_refused_and_nothing_is_kept(world, desk, mediator):
    before = (Post.objects.count(), Event.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        assistance.record_assisted(mediator, _assisted(problem_in(affected="", today="")))
    assert exc.value.status == 422 and {"affected", "today"} <= set(exc.value.field_errors)
    with pytest.raises(ValidationFailed) as exc:
        assistance.record_assisted(mediator, _assisted(None))
    assert "post" in exc.value.field_errors
    assert (Post.objects.count(), Event.objects.count()) == before
    assert not AssistedAction.objects.exists()


def test_only_a_mediator_posts_for_a_person(world, desk):
    from pacte.comptoirs.ports import ASSISTED_POSTS

    for acting in (world.reviewer, world.carrier_admin, world.signatory, world.data_steward):
        with pytest.raises(PermissionDenied):
            assistance.record_assisted(acting, _assisted(problem_in()))
        with pytest.raises(PermissionDenied):
            ASSISTED_POSTS.post_for_person(acting, problem_in())
    assert not Post.objects.exists()


def test_the_person_claims_the_post_and_then_gets_answers_at_their_account(world, desk, mediator):
    recorded = assistance.record_assisted(
        mediator, _assisted(problem_in(), email="counter@example.org")
    )
    person = UserFactory(email="personne@example.org")
    assistance.claim(person, recorded.claim_code)
    post = Post.objects.get(pk=recorded.action.post_id)
    assert post.author == person and post.contact_email == "" and post.with_mediator
    posts.answer(desk.contact, post, "Nous ouvrons un guichet papier dans trois agences.")
    sent = Notification.objects.get(event="comptoir.post.answered")
    assert sent.recipients == ["personne@example.org"]


def _signed_in(acting) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(acting.user)
    session = client.session
    session["acting_organisation_id"] = acting.organisation.pk
    session.save()
    return client


def test_the_pages_post_for_a_person_and_answer_in_french(world, desk, mediator):
    client = _signed_in(mediator)
    assist = client.get("/accompagnement/").content.decode()
    assert "/accompagnement/comptoir/probleme/" in assist
    assert client.get("/accompagnement/comptoir/inconnu/").status_code == 404
    assert _signed_in(world.reviewer).get("/accompagnement/comptoir/probleme/").status_code == 403
    form = {
        "person_label": "Mme Blanc",
        "consent_method": "oral",
        "title": "Pas d'offre affichée à la mairie",
        "theme": "emploi",
        "territory": "Val-de-Loire",
        "affected": "Habitants sans internet",
        "affected_count": "300",
        "today": "Ils ne voient aucune offre.",
        "body": "Les offres ne sont qu'en ligne.",
    }
    missing = client.post("/accompagnement/comptoir/probleme/", form)  # no attestation
    assert missing.status_code == 422 and "attestation" in missing.content.decode()
    incomplete = client.post(
        "/accompagnement/comptoir/probleme/", {**form, "attested": "on", "today": ""}
    )
    assert (
        incomplete.status_code == 422 and "Ce champ est obligatoire" in incomplete.content.decode()
    )
    assert not Post.objects.exists()
    done = client.post("/accompagnement/comptoir/probleme/", {**form, "attested": "on"})
    assert done.status_code == 302
    receipt = client.get(done["Location"]).content.decode()
    post = Post.objects.get()
    assert f"/comptoir/{post.pk}/" in receipt and 'id="claim-code"' in receipt
    assert post.with_mediator and post.author is None
