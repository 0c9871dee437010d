"""Experts edited and withdrawn (issue 12): the institution's desk edits an expert's domain,
organisation, availability and languages; withdrawing an expert redirects or declines every
request still waiting for an answer, with the reason, so that none is lost; all logged."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from pacte.comptoirs import experts
from pacte.comptoirs.models import Expert, ExpertRequest
from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from tests.comptoirs.conftest import expert_in

pytestmark = pytest.mark.django_db

R = ExpertRequest.State


def _data(type: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(e.entry)["data"] for e in Event.objects.filter(type=type).order_by("index")]


def _login(acting) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(acting.user)
    session = c.session
    session["acting_organisation_id"] = acting.organisation.pk
    session.save()
    return c


def test_the_desk_edits_an_expert_and_the_change_is_logged(world, expert):  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        experts.edit_expert(world.carrier_admin, expert, expert_in(domain="Logement"))
    with pytest.raises(PermissionDenied):  # another institution's desk
        experts.edit_expert(world.outsider_reviewer, expert, expert_in(domain="Logement"))
    with pytest.raises(ValidationFailed) as bad:
        experts.edit_expert(world.reviewer, expert, expert_in(availability=" "))
    assert bad.value.field_errors["availability"] == ["Ce champ est obligatoire."]
    edited = experts.edit_expert(
        world.signatory,
        expert,
        expert_in(domain="Logement social", languages=["français", "arabe"]),
    )
    assert (edited.domain, edited.languages) == ("Logement social", ["français", "arabe"])
    [updated] = _data("expert.updated")
    assert updated["changed"] == ["domain", "languages"]
    # the same data again: nothing changed, nothing logged
    experts.edit_expert(
        world.signatory,
        expert,
        expert_in(domain="Logement social", languages=["français", "arabe"]),
    )
    assert len(_data("expert.updated")) == 1


def test_withdrawing_declines_waiting_requests_with_the_reason(world, active, expert):  # type: ignore[no-untyped-def]
    project = active.pact.project
    waiting = experts.ask(world.carrier_member, expert, project, "Indicateurs", "Lesquels ?")
    accepted = experts.ask(world.carrier_member, expert, project, "Sources", "Où ?")
    experts.accept(world.reviewer, accepted, ["Mardi 10 h"])
    with pytest.raises(PermissionDenied):
        experts.withdraw_expert(world.carrier_admin, expert, "L'expert change de service.")
    with pytest.raises(ValidationFailed):
        experts.withdraw_expert(world.reviewer, expert, "court")
    assert ExpertRequest.objects.get(pk=waiting.pk).status == R.REQUESTED  # nothing changed

    answered = experts.withdraw_expert(world.reviewer, expert, "L'expert change de service.")
    assert [r.pk for r in answered] == [waiting.pk]
    waiting.refresh_from_db()
    expert.refresh_from_db()
    assert waiting.status == R.DECLINED and "change de service" in waiting.last_reason
    assert ExpertRequest.objects.get(pk=accepted.pk).status == R.ACCEPTED  # the exchange goes on
    assert not expert.active and expert.withdrawal_reason == "L'expert change de service."
    [withdrawn] = _data("expert.withdrawn")
    assert withdrawn["open_requests"] == [waiting.pk] and withdrawn["redirected_to"] is None
    assert len(_data("expert_request.declined")) == 1
    with pytest.raises(InvalidTransition):  # a withdrawn expert is not asked, nor edited
        experts.ask(world.carrier_member, expert, project, "Encore", "Une question ?")
    with pytest.raises(InvalidTransition):
        experts.edit_expert(world.reviewer, expert, expert_in())


def test_withdrawing_can_redirect_waiting_requests_to_another_expert(world, active, expert):  # type: ignore[no-untyped-def]
    other = experts.publish_expert(world.reviewer, expert_in(name="Karim Belaïd"))
    project = active.pact.project
    waiting = experts.ask(world.carrier_member, expert, project, "Indicateurs", "Lesquels ?")
    with pytest.raises(ValidationFailed):  # not to itself
        experts.withdraw_expert(world.reviewer, expert, "Départ en retraite.", redirect_to=expert)
    experts.withdraw_expert(world.reviewer, expert, "Départ en retraite.", redirect_to=other)
    waiting.refresh_from_db()
    assert waiting.status == R.REDIRECTED and waiting.redirected_to is not None
    new = waiting.redirected_to
    assert (new.expert, new.status, new.topic) == (other, R.REQUESTED, "Indicateurs")
    assert "Départ en retraite." in waiting.last_reason


def test_the_expert_page_edits_and_withdraws(world, active, expert):  # type: ignore[no-untyped-def]
    project = active.pact.project
    waiting = experts.ask(world.carrier_member, expert, project, "Indicateurs", "Lesquels ?")
    c = _login(world.reviewer)
    page = c.get(f"/experts/{expert.pk}/").content.decode()
    assert "Modifier la fiche" in page and "Retirer cet expert" in page
    assert (
        "Modifier la fiche"
        not in _login(world.carrier_member).get(f"/experts/{expert.pk}/").content.decode()
    )
    assert _login(world.carrier_member).get(f"/experts/{expert.pk}/modifier/").status_code == 403
    form = {
        "name": expert.name,
        "domain": "",
        "organisation_label": "Direction des études",
        "availability": "Le jeudi",
        "languages": "français, breton",
    }
    r = c.post(f"/experts/{expert.pk}/modifier/", form)
    html = r.content.decode()
    assert r.status_code == 400 and "Ce champ est obligatoire" in html
    assert 'value="Le jeudi"' in html  # what was typed stays
    r = c.post(f"/experts/{expert.pk}/modifier/", {**form, "domain": "Statistiques"})
    assert r.status_code == 302
    expert.refresh_from_db()
    assert expert.languages == ["français", "breton"] and expert.availability == "Le jeudi"

    page = c.get(f"/experts/{expert.pk}/retirer/").content.decode()
    assert "1 demande(s) attendent une réponse" in page
    r = c.post(f"/experts/{expert.pk}/retirer/", {"reason": "court"})
    assert r.status_code == 400 and "au moins 10" in r.content.decode()
    r = c.post(f"/experts/{expert.pk}/retirer/", {"reason": "Mutation dans un autre service."})
    assert r.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == R.DECLINED
    page = Client().get(f"/experts/{expert.pk}/").content.decode()
    assert "Expert retiré" in page and "Mutation dans un autre service." in page
    assert expert.name not in Client().get("/experts/").content.decode()
    assert Expert.objects.get(pk=expert.pk).withdrawn_at is not None
