"""Comptoir posts: routing by the published table, the lifecycle, the clock on a simulated date
(a late answer is the institution's lateness, counted in the State's record), moderation with a
public reason in the journal, a proposal becoming a project, an offer reaching the carrier."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from pacte.accounts import policy
from pacte.accounts.state_record import STATE_PROMISES
from pacte.comptoirs import posts, record, selectors
from pacte.comptoirs.errors import NoRoute
from pacte.comptoirs.lifecycles import POST
from pacte.comptoirs.models import Assignment, Post
from pacte.errors import InvalidTransition, NotAuthenticated, PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from pacte.notifications.models import Notification
from tests.comptoirs.conftest import problem_in

pytestmark = pytest.mark.django_db


def entry(event: Event) -> dict:  # type: ignore[type-arg]
    return json.loads(event.entry)  # type: ignore[no-any-return]


def events(post: Post) -> list[Event]:
    return list(Event.objects.filter(subject_type="comptoir_post", subject_id=str(post.pk)))


def test_a_problem_is_routed_by_theme_and_territory_with_its_clock(world, desk):  # type: ignore[no-untyped-def]
    now = timezone.now()
    post = posts.submit_post(desk.citizen, problem_in(), now=now)
    assert post.status == "received"
    assert post.organisation == world.institution  # theme + territory row, accents/case aside
    assert post.contact_title == "Référent innovation" and post.contact_role == "reviewer"
    assert post.due_at == now + timedelta(days=30)
    (event,) = events(post)
    assert event.type == "comptoir.post.received"
    assert entry(event)["data"]["organisation"] == "agence"
    assert entry(event)["actor"]["role"] == "citizen"
    assert "citoyenne" not in event.entry  # the person is only a commitment
    assert Notification.objects.filter(event="comptoir.post.routed").exists()


def test_the_catch_all_row_takes_what_no_specific_row_matches(world, desk):  # type: ignore[no-untyped-def]
    post = posts.submit_post(desk.citizen, problem_in(theme="sante", territory="Bretagne"))
    assert post.organisation == world.other_institution
    assert post.contact_title == "Bureau des usagers"


def test_without_a_route_the_post_is_refused_and_nothing_is_written(world, desk):  # type: ignore[no-untyped-def]
    from pacte.comptoirs.models import Route

    Route.objects.filter(theme="").delete()
    with pytest.raises(NoRoute) as refused:
        posts.submit_post(desk.citizen, problem_in(theme="sante"))
    assert refused.value.status == 409
    assert (
        not Post.objects.exists()
        and not Event.objects.filter(type__startswith="comptoir.post").exists()
    )


def test_a_problem_says_who_how_many_and_what_happens_today(world, desk):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        posts.submit_post(desk.citizen, problem_in(affected="", affected_count=None, today=" "))
    assert set(refused.value.field_errors) == {"affected", "affected_count", "today"}
    assert not Post.objects.exists()


def test_an_anonymous_visitor_cannot_post(world, desk):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAuthenticated):
        posts.submit_post(AnonymousUser(), problem_in())  # type: ignore[arg-type]


def test_review_then_answer_stops_the_clock_and_tells_the_author(world, desk):  # type: ignore[no-untyped-def]
    post = posts.submit_post(desk.citizen, problem_in())
    posts.review(desk.contact, post)
    posts.answer(desk.contact, post, "Nous ouvrons un guichet papier dans trois agences.")
    post.refresh_from_db()
    assert post.status == "answered" and post.answer.startswith("Nous ouvrons")
    (assignment,) = Assignment.objects.filter(post=post)
    assert assignment.outcome == "answered" and assignment.responded_at is not None
    assert [e.type for e in events(post)] == [
        "comptoir.post.received",
        "comptoir.post.in_review",
        "comptoir.post.answered",
    ]
    assert Notification.objects.filter(
        event="comptoir.post.answered", recipients=["citoyenne@example.org"]
    ).exists()


def test_only_the_named_contact_answers(world, desk):  # type: ignore[no-untyped-def]
    post = posts.submit_post(desk.citizen, problem_in())
    for stranger in (world.signatory, desk.other_contact, world.carrier_admin):
        with pytest.raises(PermissionDenied):
            posts.answer(stranger, post, "Une réponse qui n'est pas la sienne.")
    post.refresh_from_db()
    assert post.status == "received"


def test_redirect_answers_for_one_institution_and_starts_the_others_clock(world, desk):  # type: ignore[no-untyped-def]
    t0 = timezone.now()
    post = posts.submit_post(desk.citizen, problem_in(), now=t0)
    t1 = t0 + timedelta(days=3)
    posts.redirect(
        desk.contact, post, world.other_institution, "La région pilote ce sujet.", now=t1
    )
    post.refresh_from_db()
    assert post.status == "redirected" and post.organisation == world.other_institution
    assert post.due_at == t1 + timedelta(days=20)  # the other institution's own clock
    first, second = Assignment.objects.filter(post=post).order_by("pk")
    assert (first.outcome, first.responded_at) == ("redirected", t1)
    assert second.responded_at is None and second.organisation == world.other_institution
    # the first institution may no longer act; the region's contact may
    with pytest.raises(PermissionDenied):
        posts.answer(desk.contact, post, "Trop tard, ce n'est plus à nous.")
    posts.answer(desk.other_contact, post, "La région finance un bus de l'emploi.")
    post.refresh_from_db()
    assert post.status == "answered"


def test_redirect_and_close_need_a_reason(world, desk):  # type: ignore[no-untyped-def]
    post = posts.submit_post(desk.citizen, problem_in())
    with pytest.raises(ValidationFailed):
        posts.redirect(desk.contact, post, world.other_institution, "court")
    with pytest.raises(ValidationFailed):
        posts.close(desk.contact, post, "")
    posts.close(desk.contact, post, "Hors du champ de l'agence, déjà traité ailleurs.")
    post.refresh_from_db()
    assert post.status == "closed" and post.last_reason.startswith("Hors du champ")
    with pytest.raises(InvalidTransition):
        posts.answer(desk.contact, post, "Une réponse après la clôture.")


def test_lifecycle_table_is_declared_once():  # type: ignore[no-untyped-def]
    table = {row["action"]: row for row in POST.table()}
    assert set(table) == {"review", "answer", "redirect", "close"}
    assert table["close"]["reason_required"] and table["redirect"]["reason_required"]
    assert table["answer"]["from"] == ["in_review", "received", "redirected"]


def test_clock_on_a_simulated_date_marks_late_and_counts_in_the_record(world, desk):  # type: ignore[no-untyped-def]
    t0 = timezone.now() - timedelta(days=60)
    late = posts.submit_post(desk.citizen, problem_in(title="Retard"), now=t0)
    on_time = posts.submit_post(desk.citizen, problem_in(title="À l'heure"), now=t0)
    posts.answer(desk.contact, on_time, "Réponse rapide et précise.", now=t0 + timedelta(days=2))
    # the day before the due date: nothing is late
    assert posts.mark_late(policy.SYSTEM, now=t0 + timedelta(days=29)) == []
    figures = record.comptoir_answers(world.institution, t0 + timedelta(days=29))
    assert (figures.open_items, figures.open_past_due) == (1, 0)
    # the day after: the unanswered post is late, publicly, once
    marked = posts.mark_late(policy.SYSTEM, now=t0 + timedelta(days=31))
    assert [a.post_id for a in marked] == [late.pk]
    assert posts.mark_late(policy.SYSTEM, now=t0 + timedelta(days=32)) == []
    late.refresh_from_db()
    assert late.late
    (event,) = Event.objects.filter(type="comptoir.post.late")
    assert event.subject_id == str(late.pk) and entry(event)["data"]["organisation"] == "agence"
    figures = record.comptoir_answers(world.institution, t0 + timedelta(days=31))
    assert (figures.answered, figures.open_past_due, figures.share_on_time) == (1, 1, 1.0)
    assert figures.median_response_days == 2.0
    # answering late: counted as answered, not on time
    posts.answer(
        desk.contact, late, "Réponse tardive, avec nos excuses.", now=t0 + timedelta(days=40)
    )
    figures = record.comptoir_answers(world.institution, t0 + timedelta(days=41))
    assert (figures.answered, figures.open_past_due, figures.share_on_time) == (2, 0, 0.5)


def test_only_the_platform_runs_the_clock(world, desk):  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        posts.mark_late(desk.contact)


def test_the_record_registers_both_promises():  # type: ignore[no-untyped-def]
    names = [entry.name for entry in STATE_PROMISES.entries()]
    assert "expert_requests" in names and "comptoir_answers" in names


def test_moderation_hides_with_a_public_reason_in_the_journal(world, desk):  # type: ignore[no-untyped-def]
    post = posts.submit_post(desk.citizen, problem_in())
    with pytest.raises(PermissionDenied):  # the addressed institution does not moderate
        posts.moderate(desk.contact, post, "Je préfère ne pas voir cette critique.")
    with pytest.raises(ValidationFailed):
        posts.moderate(desk.admin, post, "bof")
    posts.moderate(desk.admin, post, "Contient les coordonnées d'une personne nommée.")
    post.refresh_from_db()
    assert post.hidden and post.moderation_reason.startswith("Contient")
    (event,) = Event.objects.filter(type="comptoir.post.moderated")
    assert entry(event)["data"] == {"reason": "Contient les coordonnées d'une personne nommée."}
    assert post not in selectors.posts()
    assert post in selectors.posts(include_hidden=True)


def test_search_ignores_accents_and_case(world, desk):  # type: ignore[no-untyped-def]
    post = posts.submit_post(desk.citizen, problem_in(title="Écoles fermées l'été"))
    posts.submit_post(desk.citizen, problem_in(title="Autre sujet", body="Rien à voir."))
    assert list(selectors.posts(query="ECOLES ferme")) == [post]
    assert list(selectors.posts(query="écoles")) == [post]
    assert list(selectors.posts(query="ecoles vacances")) == []


def test_a_proposal_becomes_a_linked_project(world, desk):  # type: ignore[no-untyped-def]
    post = posts.submit_post(desk.citizen, problem_in(kind="projet"))
    project = posts.turn_into_project(
        world.carrier_admin, post, name="Offres sur papier", pitch="Les offres à l'agence."
    )
    post.refresh_from_db()
    assert post.became_project == project and project.carrier == world.carrier
    assert project.territory == "val-de-loire"
    assert Event.objects.filter(type="project.created", subject_id=project.slug).exists()
    (event,) = Event.objects.filter(type="comptoir.post.became_project")
    assert entry(event)["data"]["project"] == project.slug
    with pytest.raises(InvalidTransition):
        posts.turn_into_project(world.carrier_admin, post, name="Encore", pitch="Deux fois.")
    with pytest.raises(PermissionDenied):  # only a carrier creates a project
        posts.turn_into_project(
            world.reviewer, posts.submit_post(desk.citizen, problem_in()), name="X", pitch="Y"
        )


def test_a_contribution_offer_reaches_the_carrier(world, desk):  # type: ignore[no-untyped-def]
    project = world.project()
    offer = posts.submit_post(
        desk.citizen,
        problem_in(
            kind="contribution",
            project_slug=project.slug,
            skills="Développement web, accessibilité",
            time_offered="4 heures par semaine",
            affected="",
            affected_count=None,
            today="",
        ),
    )
    assert offer.organisation == world.carrier and offer.project == project
    assert offer.affected_count is None
    routed = Notification.objects.filter(event="comptoir.post.routed").latest("pk")
    assert world.carrier_admin.user.email in routed.recipients
    with pytest.raises(PermissionDenied):
        posts.answer(world.reviewer, offer, "L'institution ne répond pas pour le porteur.")
    posts.answer(world.carrier_member, offer, "Merci ! Rejoignez-nous jeudi à 18 h.")
    offer.refresh_from_db()
    assert offer.status == "answered"
    # a contribution is not the State's promise: the institution's record is untouched
    assert record.comptoir_answers(world.institution, timezone.now()).answered == 0


def test_the_daily_task_runs_every_clock(world, desk):  # type: ignore[no-untyped-def]
    from pacte.comptoirs.tasks import mark_late_answers_task

    posts.submit_post(desk.citizen, problem_in(), now=timezone.now() - timedelta(days=31))
    assert mark_late_answers_task.call() == {
        "late_posts": 1,
        "late_expert_requests": 0,
        "closed_challenges": 0,
    }
    assert Post.objects.get().late
