from __future__ import annotations

from dataclasses import dataclass

import pytest

from pacte.accounts.models import User
from pacte.accounts.policy import Person
from pacte.pacts import drafting
from pacte.participation import consultations
from pacte.participation.models import Consultation
from tests.factories import UserFactory


@dataclass
class Citizens:
    alice: User
    bob: User

    @property
    def alice_p(self) -> Person:
        return Person(self.alice)

    @property
    def bob_p(self) -> Person:
        return Person(self.bob)


@pytest.fixture
def citizens(db) -> Citizens:  # type: ignore[no-untyped-def]
    return Citizens(
        alice=UserFactory(username="alice", display_name="Alice Martin"),
        bob=UserFactory(username="bob", display_name="Bob Durand"),
    )


@pytest.fixture
def submitted(world, draft):  # type: ignore[no-untyped-def]
    drafting.submit(world.carrier_admin, draft)
    draft.refresh_from_db()
    return draft


@pytest.fixture
def consultation(world, submitted) -> Consultation:  # type: ignore[no-untyped-def]
    return consultations.open_consultation(world.reviewer, submitted, 14)
