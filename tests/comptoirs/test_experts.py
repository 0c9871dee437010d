"""Expert exchanges: only a carrier whose pact is in force asks; the institution answers within
its clock (accept with slots, redirect, decline with a reason); both sides must confirm the same
public summary; response times per institution in the State's record."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from pacte.accounts import policy
from pacte.comptoirs import experts, record, selectors
from pacte.comptoirs.lifecycles import EXPERT_REQUEST
from pacte.comptoirs.models import ExpertRequest
from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from tests.comptoirs.conftest import expert_in

pytestmark = pytest.mark.django_db


def types(request: ExpertRequest) -> list[str]:
    return list(
        Event.objects.filter(subject_type="expert_request", subject_id=str(request.pk))
        .order_by("index")
        .values_list("type", flat=True)
    )


def test_an_institution_publishes_its_experts(world):  # type: ignore[no-untyped-def]
    expert = experts.publish_expert(world.reviewer, expert_in())
    assert expert.institution == world.institution and expert.languages == ["français", "anglais"]
    assert Event.objects.filter(type="expert.published", subject_id=str(expert.pk)).exists()
    with pytest.raises(PermissionDenied):
        experts.publish_expert(world.carrier_admin, expert_in())
    with pytest.raises(ValidationFailed):
        experts.publish_expert(world.reviewer, expert_in(domain=" "))


def test_only_a_project_with_a_pact_in_force_asks(world, draft, expert):  # type: ignore[no-untyped-def]
    project = draft.pact.project
    with pytest.raises(PermissionDenied) as refused:
        experts.ask(world.carrier_member, expert, project, "Données", "Quelle source ?")
    assert "en vigueur" in refused.value.message
    assert not ExpertRequest.objects.exists()


def test_ask_accept_and_agree_on_the_public_summary(world, active, expert):  # type: ignore[no-untyped-def]
    project = active.pact.project
    request = experts.ask(
        world.carrier_member, expert, project, "Données d'emploi", "Quels indicateurs suivre ?"
    )
    assert request.status == "requested"
    assert request.due_at == request.requested_at + timedelta(days=15)
    with pytest.raises(PermissionDenied):  # the carrier does not answer for the institution
        experts.accept(world.carrier_admin, request, ["Mardi 10 h"])
    with pytest.raises(ValidationFailed):
        experts.accept(world.reviewer, request, [" "])
    experts.accept(world.reviewer, request, ["Mardi 10 h", "Jeudi 14 h"])
    request.refresh_from_db()
    assert request.status == "accepted" and request.slots == ["Mardi 10 h", "Jeudi 14 h"]

    experts.record_summary(
        world.carrier_member, request, "Nos notes internes.", "Trois indicateurs retenus."
    )
    request.refresh_from_db()
    assert request.status == "accepted" and request.carrier_confirmed
    # the institution changes the public part: the carrier must confirm again
    experts.record_summary(world.reviewer, request, "Notes de l'expert.", "Deux indicateurs.")
    request.refresh_from_db()
    assert request.institution_confirmed and not request.carrier_confirmed
    assert request.status == "accepted"
    experts.confirm_summary(world.carrier_admin, request)
    request.refresh_from_db()
    assert request.status == "completed" and request.public_summary == "Deux indicateurs."
    assert types(request) == [
        "expert_request.requested",
        "expert_request.accepted",
        "expert_request.summary_proposed",
        "expert_request.summary_proposed",
        "expert_request.completed",
    ]
    completed = Event.objects.get(type="expert_request.completed")
    assert json.loads(completed.entry)["data"]["public_summary"] == "Deux indicateurs."
    assert "Notes de l'expert" not in "".join(Event.objects.values_list("entry", flat=True))
    with pytest.raises(InvalidTransition):
        experts.confirm_summary(world.reviewer, request)
    # private notes: the two sides only
    assert selectors.notes_visible(world.carrier_member, request)
    assert selectors.notes_visible(world.reviewer, request)
    assert not selectors.notes_visible(world.outsider_reviewer, request)
    assert not selectors.notes_visible(None, request)


def test_redirect_opens_a_request_to_the_other_expert(world, active, expert):  # type: ignore[no-untyped-def]
    from tests.conftest import _acting

    other_desk = _acting(world.other_institution, ["reviewer"])
    other = experts.publish_expert(other_desk, expert_in(name="Dominique Autre"))
    request = experts.ask(world.carrier_member, expert, active.pact.project, "Sujet", "Question")
    with pytest.raises(ValidationFailed):
        experts.redirect(world.reviewer, request, other, "court")
    new = experts.redirect(world.reviewer, request, other, "Dominique connaît mieux ce sujet.")
    request.refresh_from_db()
    assert request.status == "redirected" and request.redirected_to == new
    assert new.expert == other and new.status == "requested"
    with pytest.raises(PermissionDenied):  # the first institution no longer answers it
        experts.accept(world.reviewer, new, ["Lundi"])
    experts.decline(other_desk, new, "Indisponible jusqu'en septembre, désolé.")
    new.refresh_from_db()
    assert new.status == "declined" and new.last_reason.startswith("Indisponible")


def test_a_conflicted_reviewer_recuses_himself(world, active, expert):  # type: ignore[no-untyped-def]
    from tests.factories import MembershipFactory

    MembershipFactory(
        user=world.reviewer.user, organisation=world.carrier, roles=["carrier_member"]
    )
    request = experts.ask(world.carrier_member, expert, active.pact.project, "Sujet", "Question")
    with pytest.raises(PermissionDenied):
        experts.accept(world.reviewer, request, ["Lundi"])


def test_expert_clock_on_a_simulated_date(world, active, expert):  # type: ignore[no-untyped-def]
    t0 = timezone.now() - timedelta(days=40)
    slow = experts.ask(world.carrier_member, expert, active.pact.project, "A", "Q", now=t0)
    fast = experts.ask(world.carrier_member, expert, active.pact.project, "B", "Q", now=t0)
    experts.accept(world.reviewer, fast, ["Lundi"], now=t0 + timedelta(days=4))
    assert experts.mark_late(policy.SYSTEM, now=t0 + timedelta(days=14)) == []
    assert [r.pk for r in experts.mark_late(policy.SYSTEM, now=t0 + timedelta(days=16))] == [
        slow.pk
    ]
    slow.refresh_from_db()
    assert slow.late
    assert Event.objects.filter(type="expert_request.late", subject_id=str(slow.pk)).count() == 1
    figures = record.expert_requests(world.institution, t0 + timedelta(days=16))
    assert (figures.answered, figures.open_past_due, figures.median_response_days) == (1, 1, 4.0)
    experts.decline(
        world.reviewer, slow, "Trop tard, nous le reconnaissons.", now=t0 + timedelta(days=20)
    )
    figures = record.expert_requests(world.institution, t0 + timedelta(days=21))
    assert (figures.answered, figures.share_on_time, figures.open_past_due) == (2, 0.5, 0)
    assert record.expert_requests(world.other_institution, t0).answered == 0


def test_lifecycle_table():  # type: ignore[no-untyped-def]
    rows = {r["action"]: r for r in EXPERT_REQUEST.table()}
    assert rows["decline"]["reason_required"] and not rows["accept"]["reason_required"]
    assert rows["confirm"]["to"] == "completed"
