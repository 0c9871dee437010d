from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from pacte.accounts import policy
from pacte.accounts.models import Role, User
from pacte.accounts.services import Acting
from pacte.comptoirs import experts, posts, routing
from pacte.comptoirs.models import Expert, Route
from tests.conftest import _acting
from tests.factories import UserFactory


@dataclass
class Desk:
    """The routing table's contacts and a signed-in citizen who belongs to no organisation."""

    citizen: User
    contact: Acting  # the institution's named contact (reviewer)
    other_contact: Acting  # the other institution's contact
    admin: Acting  # platform administrator of a third institution (moderation)
    route: Route


@pytest.fixture
def desk(world) -> Desk:  # type: ignore[no-untyped-def]
    route = routing.set_route(
        policy.SYSTEM,
        theme="emploi",
        territory="Val-de-Loire",
        institution=world.institution,
        contact_role=Role.REVIEWER,
        contact_title="Référent innovation",
        clock_days=30,
    )
    routing.set_route(
        policy.SYSTEM,
        theme="",
        territory="",
        institution=world.other_institution,
        contact_role=Role.REVIEWER,
        contact_title="Bureau des usagers",
        clock_days=20,
    )
    from tests.factories import InstitutionFactory

    return Desk(
        citizen=UserFactory(username="citoyenne", email="citoyenne@example.org"),
        contact=world.reviewer,
        other_contact=world.outsider_reviewer,
        admin=_acting(InstitutionFactory(slug="dinum"), [Role.PLATFORM_ADMIN]),
        route=route,
    )


def problem_in(**kw: Any) -> posts.PostIn:
    values: dict[str, Any] = dict(
        kind="probleme",
        title="Les offres d'emploi n'arrivent pas aux personnes sans internet",
        theme="emploi",
        territory="val-de-loire",
        body="Les annonces ne sont publiées qu'en ligne.",
        affected="Demandeurs d'emploi sans accès numérique",
        affected_count=4000,
        today="Ils passent à l'agence chaque semaine et repartent sans offre.",
    )
    values.update(kw)
    return posts.PostIn(**values)


def expert_in(**kw: Any) -> experts.ExpertIn:
    values: dict[str, Any] = dict(
        name="Camille Expert",
        domain="Données de l'emploi",
        organisation_label="Direction des statistiques",
        availability="Mardis après-midi",
        languages=["français", "anglais"],
    )
    values.update(kw)
    return experts.ExpertIn(**values)


@pytest.fixture
def expert(world) -> Expert:  # type: ignore[no-untyped-def]
    return experts.publish_expert(world.reviewer, expert_in())


def in_days(n: int) -> date:
    return date.today() + timedelta(days=n)
