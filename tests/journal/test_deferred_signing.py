"""The checkpoint after a ``record_event`` commit, signed by a timer at most once per
``LOG_CHECKPOINT_INTERVAL`` (issue 15, dp3): the request never signs, a checkpoint covering
the entry is signed at the latest one interval after its commit, a reader asking for the
checkpoint gets one covering every committed entry at once, and a process that exits signs
what it wrote first. (The rest of the suite runs with the interval at 0: tests/conftest.py.)"""

from __future__ import annotations

import logging
import time

import pytest
from django.db import transaction
from django.test import override_settings

from pacte.journal import checkpoints, entries, memory, services
from pacte.journal.models import Checkpoint, Event
from pacte.journal.services import SYSTEM, record_event, verify_log

HOUR = 3600.0


@pytest.fixture(autouse=True)
def _fresh_schedule():
    """Each test starts with no pending timer and no recent signature, and leaves none."""
    checkpoints._schedule.flush()
    checkpoints._schedule.last = float("-inf")
    yield
    checkpoints._schedule.flush()
    checkpoints._schedule.last = float("-inf")


def _commit(i: int) -> Event:
    with transaction.atomic():
        return record_event("x.test", actor=SYSTEM, subject_type="t", subject_id=i, data={"i": i})


def _signed_size() -> int:
    cp = Checkpoint.objects.order_by("-size", "-id").first()
    return 0 if cp is None else cp.size


def _remembered_size() -> int | None:
    m = memory.read_memory()
    return None if m is None else m.size


def _wait_for_the_timer() -> None:
    """Join the timer (pending or signing): synchronisation, not a sleep."""
    timer = checkpoints._schedule.pending or checkpoints._schedule.running
    assert timer is not None, "no deferred signature was scheduled"
    timer.join(timeout=120)
    assert not timer.is_alive()


@pytest.mark.django_db(transaction=True)
def test_after_an_idle_interval_the_timer_signs_at_once_outside_the_request():
    with override_settings(LOG_CHECKPOINT_INTERVAL=HOUR):
        before = time.monotonic()
        _commit(0)
        # the request signed nothing itself: a timer of this process does, with no delay
        # since nothing was signed in the last interval
        assert checkpoints._schedule.due - before <= 1.0
        _wait_for_the_timer()
    assert _signed_size() == 1 and _remembered_size() == 1
    assert checkpoints._schedule.pending is None and checkpoints._schedule.running is None
    assert verify_log().ok


@pytest.mark.django_db(transaction=True)
def test_within_the_interval_commits_share_one_signature_due_at_most_one_interval_later():
    services.integrate()  # an empty log has nothing to sign: start from a signed entry
    _commit(0)
    assert _signed_size() == 1
    with override_settings(LOG_CHECKPOINT_INTERVAL=HOUR):
        checkpoints._schedule.last = time.monotonic()  # this process just signed
        committed_at = time.monotonic()
        _commit(1)
        timer = checkpoints._schedule.pending
        assert timer is not None and timer.is_alive()
        due = checkpoints._schedule.due
        assert due - committed_at <= HOUR  # the lag bound: one interval after the commit
        _commit(2)
        _commit(3)
        assert checkpoints._schedule.pending is timer  # one pending signature, not three
        assert checkpoints._schedule.due == due
        # not signed yet: the stored checkpoint and the memory lag behind the entries...
        assert _signed_size() == 1 and _remembered_size() == 1
        assert Event.objects.count() == 4
        # ...but a reader asking for the checkpoint gets one covering every committed entry
        assert services.latest_checkpoint().size == 4
        assert _remembered_size() == 4
    # the timer, when it fires, finds nothing left to sign
    checkpoints._schedule.flush()
    assert not timer.is_alive() or timer.finished.is_set()
    assert Checkpoint.objects.filter(size=4).count() == 1
    assert verify_log().ok


@pytest.mark.django_db(transaction=True)
def test_a_process_that_exits_signs_what_it_wrote_first():
    with override_settings(LOG_CHECKPOINT_INTERVAL=HOUR):
        checkpoints._schedule.last = time.monotonic()
        _commit(0)
        _commit(1)
        assert checkpoints._schedule.pending is not None and _signed_size() == 0
        assert checkpoints._schedule.at_exit  # flush() is registered with atexit
        checkpoints._schedule.flush()  # what atexit runs
    assert checkpoints._schedule.pending is None
    assert _signed_size() == 2 and _remembered_size() == 2
    assert verify_log().ok


@pytest.mark.django_db(transaction=True)
def test_a_commit_after_the_timer_started_schedules_a_new_signature():
    with override_settings(LOG_CHECKPOINT_INTERVAL=HOUR):
        _commit(0)
        _wait_for_the_timer()
        assert _signed_size() == 1
        # the timer just signed: the next commit waits (at most) one interval
        _commit(1)
        assert checkpoints._schedule.pending is not None
        assert checkpoints._schedule.due - checkpoints._schedule.last <= HOUR + 1e-6
        assert _signed_size() == 1
    checkpoints._schedule.flush()
    assert _signed_size() == 2


@pytest.mark.django_db(transaction=True)
def test_a_failed_deferred_signature_is_logged_and_the_next_one_catches_up(caplog):
    def boom(stage: str) -> None:
        if stage == "checkpoint-signing":
            raise RuntimeError("disk on fire")

    with override_settings(LOG_CHECKPOINT_INTERVAL=HOUR):
        entries.crash_hook = boom
        try:
            with caplog.at_level(logging.ERROR, logger="pacte.journal"):
                _commit(0)
                _wait_for_the_timer()
        finally:
            entries.crash_hook = None
        assert "checkpoint signing after commit failed" in caplog.text
        assert Event.objects.count() == 1 and _signed_size() == 0  # the entry is committed
        _commit(1)
        checkpoints._schedule.flush()
    assert _signed_size() == 2 and verify_log().ok


@pytest.mark.django_db(transaction=True)
def test_interval_zero_signs_in_the_request_as_before():
    with override_settings(LOG_CHECKPOINT_INTERVAL=0):
        _commit(0)
        assert checkpoints._schedule.pending is None
        assert _signed_size() == 1 and _remembered_size() == 1
