"""The citizen's rows of the permission matrix: a person acting in their own name (no organisation)
may comment, follow, flag and declare a reuse; never answer, moderate or open a consultation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from pacte.accounts import policy
from pacte.accounts.policy import Action, Person
from pacte.errors import PermissionDenied

pytestmark = pytest.mark.django_db

PERSON_ACTIONS = {Action.COMMENT_WRITE, Action.COMMENT_FLAG, Action.FOLLOW, Action.REUSE_DECLARE}


@pytest.mark.parametrize("action", list(Action))
def test_a_citizen_may_do_only_the_person_actions(action, world, draft, citizens):
    obj = SimpleNamespace(
        author_id=citizens.bob.pk,
        pact=draft.pact,
        moderating_organisation_id=world.institution.pk,
        carrier_id=world.carrier.pk,
        institution_id=world.institution.pk,
        project=draft.pact.project,
        pk=world.carrier.pk,
    )
    alice = Person(citizens.alice)
    if action in PERSON_ACTIONS:
        policy.require(alice, action, obj)
        with pytest.raises(PermissionDenied):  # never without an account
            policy.require(Person(AnonymousUser()), action, obj)
        with pytest.raises(PermissionDenied):  # nor by the platform on someone's behalf
            policy.require(policy.SYSTEM, action, obj)
    else:
        with pytest.raises(PermissionDenied) as refused:
            policy.require(alice, action, obj)
        assert len(refused.value.message) > 20


def test_only_the_author_edits_and_nobody_flags_their_own(citizens):
    mine = SimpleNamespace(author_id=citizens.alice.pk)
    assert policy.may(Person(citizens.alice), Action.COMMENT_EDIT, mine)
    assert not policy.may(Person(citizens.bob), Action.COMMENT_EDIT, mine)
    assert not policy.may(Person(citizens.alice), Action.COMMENT_FLAG, mine)
    assert policy.may(Person(citizens.bob), Action.COMMENT_FLAG, mine)
    gone = SimpleNamespace(author_id=None)  # the author deleted their account
    assert not policy.may(Person(citizens.alice), Action.COMMENT_EDIT, gone)


def test_the_journal_writes_a_person_without_organisation_and_without_their_name(citizens):
    actor = policy.actor_of(Person(citizens.alice))
    entry = actor.as_entry()
    assert entry["org"] is None and entry["role"] == "person"
    assert entry["person"] and citizens.alice.username not in entry["person"]
