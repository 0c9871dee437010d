"""Panels (consent, stratified draw with a committed seed, aggregate composition, leaving erases)
and the feedback loop (public answers, moderation with a public reason)."""

from __future__ import annotations

import json

import pytest

from pacte.engines.assignment import verify_seed
from pacte.errors import PermissionDenied, ValidationFailed
from pacte.evidence import feedback, panels, selectors
from pacte.evidence.models import Feedback, PanelMember, Volunteer
from pacte.journal.models import Event
from tests.evidence.conftest import bearer, post
from tests.factories import UserFactory
from tests.queue import run_queue

pytestmark = pytest.mark.django_db


def pool(n_by_band):  # type: ignore[no-untyped-def]
    out = []
    for band, n in n_by_band.items():
        for _ in range(n):
            out.append(panels.volunteer(UserFactory(), consent=True, age_band=band))
    return out


def test_consent_is_required_and_attributes_are_checked(db):
    with pytest.raises(ValidationFailed, match="consentement"):
        panels.volunteer(UserFactory(), consent=False)
    with pytest.raises(ValidationFailed):
        panels.volunteer(UserFactory(), consent=True, age_band="12-14")
    v = panels.volunteer(UserFactory(), consent=True)  # every attribute is optional
    assert v.consent_at is not None and v.age_band == ""


def test_stratified_draw_with_committed_seed_and_invitations(
    world, project, mailoutbox, django_capture_on_commit_callbacks
):
    pool({"16-25": 10, "26-40": 10, "60+": 2})
    call = panels.open_panel_call(
        world.reviewer,
        project,
        title="Panel de test",
        target_size=16,
        targets={"16-25": 6, "26-40": 6, "60+": 4},
    )
    opened = json.loads(Event.objects.get(type="panel.opened").entry)["data"]
    assert "seed" not in opened and opened["seed_commitment"] == call.seed_commitment
    with django_capture_on_commit_callbacks(execute=True):
        call = panels.draw_panel(world.reviewer, call)
    assert run_queue() == 14  # one invitation each, delivered by the worker
    drawn = json.loads(Event.objects.get(type="panel.drawn").entry)["data"]
    assert verify_seed(bytes.fromhex(drawn["seed"]), opened["seed_commitment"])
    assert drawn["selected"] == 14 and drawn["complete"] is False and call.shortfall == {"60+": 2}
    assert len(mailoutbox) == 14 and all(len(m.to) == 1 for m in mailoutbox)
    rows = {r["stratum"]: r for r in selectors.panel_composition(call)}
    assert rows["16-25"]["actual"] == 6 and rows["26-40"]["actual"] == 6
    assert rows["60+"]["masked"] and rows["60+"]["actual"] is None  # 2 people: not shown
    chart = selectors.panel_chart(call)
    assert chart["svg"].startswith("<svg") and "moins de 5 (masqué)" in str(chart["table"])


def test_only_the_parties_open_a_call_and_only_the_opener_draws(world, project):
    with pytest.raises(PermissionDenied):
        panels.open_panel_call(
            world.outsider_reviewer, project, title="Intrus", target_size=1, targets={"a": 1}
        )
    call = panels.open_panel_call(
        world.carrier_admin,
        project,
        title="Panel porteur",
        target_size=2,
        shares={"16-25": 1, "26-40": 1},
    )
    assert call.targets == {"16-25": 1, "26-40": 1}
    with pytest.raises(PermissionDenied):
        panels.draw_panel(world.reviewer, call)
    with pytest.raises(ValidationFailed, match="somme"):
        panels.open_panel_call(
            world.carrier_admin, project, title="Faux", target_size=5, targets={"a": 1}
        )


def test_leaving_erases_personal_data_but_keeps_aggregate_counts(world, project):
    vols = pool({"16-25": 8})
    call = panels.open_panel_call(
        world.reviewer, project, title="Panel", target_size=8, targets={"16-25": 8}
    )
    panels.draw_panel(world.reviewer, call)
    user = vols[0].user
    assert panels.leave_panel(user) is True
    v = Volunteer.objects.get(pk=vols[0].pk)
    assert (
        v.user is None
        and v.age_band == v.territory == v.situation == v.contact_value == ""
        and v.left_at
    )
    assert not Volunteer.objects.filter(user=user).exists()
    assert PanelMember.objects.filter(call=call).count() == 8  # seats stay, anonymous
    assert selectors.volunteer_counts() == {"active": 7, "left": 1}
    assert selectors.panel_composition(call)[0]["actual"] == 7
    assert panels.leave_panel(user) is False


def test_panel_api(client, world, project):
    pool({"16-25": 6})
    r = post(
        client,
        "/api/v1/panels",
        {"project": project.slug, "title": "Panel API", "target_size": 5, "targets": {"16-25": 5}},
        bearer(world.reviewer),
    )
    assert r.status_code == 201 and r.json()["seed"] is None
    pk = r.json()["id"]
    r = post(client, f"/api/v1/panels/{pk}/draw", {}, bearer(world.reviewer))
    assert r.status_code == 200 and r.json()["seed"] and r.json()["composition"][0]["actual"] == 5
    assert client.get("/api/v1/panels").json()["count"] == 1


def test_feedback_loop_with_public_answers_and_moderation_log(world, project):
    q = feedback.ask_question(
        world.carrier_admin, project, "Le service vous a-t-il aidé ?", scale_max=5
    )
    user = UserFactory()
    good = feedback.give_feedback(user, project, body="Oui, très clair.", rating=5, question=q)
    spam = feedback.give_feedback(user, project, body="Achetez ma formation !")
    with pytest.raises(ValidationFailed):
        feedback.give_feedback(user, project, rating=9, question=q)
    with pytest.raises(PermissionDenied):
        feedback.reply_feedback(world.reviewer, good, "Réponse de l'institution")
    feedback.reply_feedback(world.carrier_admin, good, "Merci pour ce retour !")
    with pytest.raises(ValidationFailed):
        feedback.hide_feedback(world.carrier_admin, spam, "pub")  # a written reason is required
    feedback.hide_feedback(
        world.reviewer, spam, "Message publicitaire sans rapport avec le service."
    )
    assert list(selectors.public_feedback(project)) == [good]
    hidden = json.loads(Event.objects.get(type="feedback.hidden").entry)
    assert (
        hidden["data"]["reason"].startswith("Message publicitaire")
        and hidden["data"]["feedback"] == spam.pk
    )
    assert (
        "Oui"
        not in Event.objects.get(
            type="feedback.received", entry__contains=f'"feedback":{good.pk}'
        ).entry
    )
    assert Feedback.objects.get(pk=good.pk).reply
