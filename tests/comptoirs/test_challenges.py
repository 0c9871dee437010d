"""Challenges: an institution publishes (problem, catalogue data, programme, deadline, criteria);
teams apply before the deadline; the jury's selection is published with a reason for each team;
a selected team opens a pact draft prefilled from the challenge."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from pacte.accounts import policy
from pacte.comptoirs import challenges
from pacte.comptoirs.errors import DeadlinePassed
from pacte.comptoirs.models import Application, Challenge
from pacte.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from tests.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(world):  # type: ignore[no-untyped-def]
    from pacte.data.models import Dataset

    return Dataset.objects.create(publisher=world.institution, slug="offres", title="Offres")


def challenge_in(**kw):  # type: ignore[no-untyped-def]
    values = dict(
        title="Réduire le non-recours aux aides",
        problem="Un tiers des personnes éligibles ne demandent pas l'aide.",
        theme="solidarite",
        criteria="Impact mesurable ; accessibilité ; code ouvert.",
        deadline=date.today() + timedelta(days=30),
        territory="Val-de-Loire",
    )
    values.update(kw)
    return challenges.ChallengeIn(**values)


@pytest.fixture
def challenge(world, dataset) -> Challenge:  # type: ignore[no-untyped-def]
    return challenges.publish_challenge(world.reviewer, challenge_in(dataset_slugs=["offres"]))


def team(world, slug: str):  # type: ignore[no-untyped-def]
    from tests.conftest import _acting

    return _acting(OrganisationFactory(slug=slug, name=slug.title()), ["carrier_admin"])


def test_publish_with_catalogue_links_and_checks(world, dataset):  # type: ignore[no-untyped-def]
    c = challenges.publish_challenge(world.reviewer, challenge_in(dataset_slugs=["offres"]))
    assert list(c.datasets.all()) == [dataset] and c.status == "open"
    event = Event.objects.get(type="challenge.published")
    assert json.loads(event.entry)["data"]["datasets"] == ["offres"]
    with pytest.raises(ValidationFailed) as refused:
        challenges.publish_challenge(
            world.reviewer,
            challenge_in(dataset_slugs=["inconnu"], deadline=date.today() - timedelta(days=1)),
        )
    assert set(refused.value.field_errors) == {"datasets", "deadline"}
    with pytest.raises(PermissionDenied):
        challenges.publish_challenge(world.carrier_admin, challenge_in())


def test_teams_apply_once_before_the_deadline(world, challenge):  # type: ignore[no-untyped-def]
    a = challenges.apply(world.carrier_admin, challenge, proposal="Un simulateur.", team="3 devs")
    assert a.carrier == world.carrier and a.status == "submitted"
    with pytest.raises(Conflict):
        challenges.apply(world.carrier_member, challenge, proposal="Encore", team="Nous")
    with pytest.raises(PermissionDenied):
        challenges.apply(world.reviewer, challenge, proposal="Nous aussi", team="Agents")
    late = team(world, "tardifs")
    with pytest.raises(DeadlinePassed):
        challenges.apply(
            late, challenge, proposal="x", team="y", today=challenge.deadline + timedelta(days=1)
        )
    assert Application.objects.count() == 1


def test_the_jury_publishes_every_decision_with_a_reason_then_a_pact_draft(world, challenge):  # type: ignore[no-untyped-def]
    a = challenges.apply(world.carrier_admin, challenge, proposal="Un simulateur.", team="3 devs")
    other = team(world, "autres")
    b = challenges.apply(other, challenge, proposal="Une campagne.", team="2 personnes")
    with pytest.raises(ValidationFailed):  # every application needs a decision
        challenges.publish_selection(
            world.reviewer, challenge, {a.pk: (True, "Le meilleur impact.")}
        )
    with pytest.raises(ValidationFailed):  # and a reason
        challenges.publish_selection(
            world.reviewer, challenge, {a.pk: (True, "Oui"), b.pk: (False, "Non retenue.")}
        )
    assert Application.objects.filter(status="submitted").count() == 2  # nothing half-done
    challenges.publish_selection(
        world.reviewer,
        challenge,
        {
            a.pk: (True, "Impact mesurable et code ouvert."),
            b.pk: (False, "Pas de mesure d'impact."),
        },
    )
    challenge.refresh_from_db()
    a.refresh_from_db()
    b.refresh_from_db()
    assert challenge.status == "decided"
    assert (a.status, b.status) == ("selected", "not_selected")
    assert b.reason == "Pas de mesure d'impact."
    published = json.loads(Event.objects.get(type="challenge.selection_published").entry)
    assert published["data"]["selected"] == ["porteur"]
    assert published["data"]["not_selected"] == ["autres"]
    assert Event.objects.filter(type="challenge.application_not_selected").count() == 1
    with pytest.raises(InvalidTransition):
        challenges.publish_selection(world.reviewer, challenge, {})

    with pytest.raises(InvalidTransition):
        challenges.start_pact_draft(other, b)
    with pytest.raises(PermissionDenied):
        challenges.start_pact_draft(other, a)
    version = challenges.start_pact_draft(world.carrier_admin, a)
    a.refresh_from_db()
    assert a.pact == version.pact and version.pact.institution == world.institution
    assert version.status == "draft"
    assert version.content["mission"]["problem"].startswith("Un tiers")
    assert version.content["state"]["data"][0]["dataset"] == "offres"
    assert a.project is not None and a.project.carrier == world.carrier
    with pytest.raises(InvalidTransition):
        challenges.start_pact_draft(world.carrier_admin, a)


def test_jury_recusal(world, challenge):  # type: ignore[no-untyped-def]
    a = challenges.apply(world.carrier_admin, challenge, proposal="Un simulateur.", team="3 devs")
    MembershipFactory(
        user=world.reviewer.user, organisation=world.carrier, roles=["carrier_member"]
    )
    with pytest.raises(PermissionDenied):
        challenges.publish_selection(
            world.reviewer, challenge, {a.pk: (True, "Mon propre projet.")}
        )
    challenge.refresh_from_db()
    assert challenge.status == "open"


def test_the_clock_closes_past_deadlines(world, challenge):  # type: ignore[no-untyped-def]
    assert challenges.expire(policy.SYSTEM, today=challenge.deadline) == []
    closed = challenges.expire(policy.SYSTEM, today=challenge.deadline + timedelta(days=1))
    assert [c.pk for c in closed] == [challenge.pk]
    challenge.refresh_from_db()
    assert challenge.status == "closed"
    with pytest.raises(PermissionDenied):
        challenges.expire(world.reviewer)


def test_a_programme_is_named_in_the_draft(world, dataset):  # type: ignore[no-untyped-def]
    from pacte.funding import programmes
    from tests.conftest import _acting
    from tests.funding.conftest import programme_in

    officer = _acting(world.institution, ["finance_officer"])
    programme = programmes.open_programme(officer, programme_in())
    c = challenges.publish_challenge(world.reviewer, challenge_in(programme_slug=programme.slug))
    content = challenges.draft_content(c)
    assert content["commons"]["funding_sources"][0]["name"] == programme.title
