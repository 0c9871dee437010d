from __future__ import annotations

import hashlib
import json

import pytest
from django.db import transaction

from pacte.engines.canonical import LOG_ENTRY_FORMAT, canonical_json
from pacte.journal.models import Event, LogState
from pacte.journal.services import SYSTEM, Actor, record_event

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
def test_append_requires_the_callers_transaction():
    with pytest.raises(RuntimeError):
        record_event("x.test", actor=SYSTEM, subject_type="t", subject_id=1)


def test_entries_are_canonical_indexed_and_chained_per_subject():
    with transaction.atomic():
        a = record_event(
            "x.one", actor=SYSTEM, subject_type="t", subject_id=1, data={"b": 2, "a": "é"}
        )
        b = record_event("x.other", actor=SYSTEM, subject_type="t", subject_id=2)
        c = record_event("x.two", actor=SYSTEM, subject_type="t", subject_id=1)
    assert [a.index, b.index, c.index] == [0, 1, 2]
    assert LogState.objects.get().size == 3
    assert json.loads(a.entry)["prev"] is None and json.loads(c.entry)["prev"] == a.entry_hash
    assert a.entry == canonical_json(json.loads(a.entry))  # RFC 8785
    assert json.loads(a.entry)["format"] == LOG_ENTRY_FORMAT
    assert '"a":"é"' in a.entry  # UTF-8, not escaped
    assert bytes(a.leaf_hash) == hashlib.sha256(b"\x00" + a.entry.encode()).digest()
    assert a.entry_hash == hashlib.sha256(a.entry.encode()).hexdigest()


def test_no_personal_data_in_entries(world):
    actor = Actor(
        organisation_slug="porteur", role="carrier_admin", person_id=world.carrier_admin.user.pk
    )
    with transaction.atomic():
        e = record_event("x.person", actor=actor, subject_type="t", subject_id=1)
    user = world.carrier_admin.user
    for value in (user.username, user.email, user.display_name):
        assert value not in e.entry
    person = json.loads(e.entry)["actor"]["person"]
    assert len(person) == 64 and person != hashlib.sha256(str(user.pk).encode()).hexdigest()


def test_rolled_back_events_leave_no_gap():
    with pytest.raises(ValueError):
        with transaction.atomic():
            record_event("x.lost", actor=SYSTEM, subject_type="t", subject_id=1)
            raise ValueError
    with transaction.atomic():
        e = record_event("x.kept", actor=SYSTEM, subject_type="t", subject_id=1)
    assert e.index == 0 and Event.objects.count() == 1
