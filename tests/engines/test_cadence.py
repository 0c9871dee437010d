"""Cadences of periodic jobs and retry delays (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from pacte.engines.cadence import Daily, Hourly, retry_delay

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_daily_occurrence_is_today_once_the_time_has_come_else_yesterday():
    at_three = Daily(time(3, 0), "Europe/Paris")
    assert at_three.latest(paris(2026, 1, 15, 2, 59)) == paris(2026, 1, 14, 3, 0)
    assert at_three.latest(paris(2026, 1, 15, 3, 0)) == paris(2026, 1, 15, 3, 0)
    assert at_three.latest(paris(2026, 1, 15, 23, 0)) == paris(2026, 1, 15, 3, 0)
    assert at_three.latest(paris(2026, 1, 15, 3, 0)).tzinfo == UTC


def test_daily_follows_the_paris_wall_clock_across_daylight_saving():
    at_three = Daily(time(3, 0))
    assert at_three.latest(paris(2026, 1, 15, 12)) == datetime(2026, 1, 15, 2, 0, tzinfo=UTC)  # CET
    assert at_three.latest(paris(2026, 7, 15, 12)) == datetime(
        2026, 7, 15, 1, 0, tzinfo=UTC
    )  # CEST
    # 29 March 2026: clocks jump from 02:00 to 03:00, so 02:30 does not exist; it runs at 03:30 CEST
    assert Daily(time(2, 30)).latest(paris(2026, 3, 29, 12)) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )


def test_daily_seen_from_another_zone_is_the_same_instant():
    at_three = Daily(time(3, 0))
    new_york = datetime(
        2026, 1, 14, 21, 30, tzinfo=ZoneInfo("America/New_York")
    )  # 03:30 in Paris on the 15th
    assert at_three.latest(new_york) == paris(2026, 1, 15, 3, 0)


def test_hourly_occurrence():
    at_five = Hourly(minute=5)
    now = datetime(2026, 1, 15, 10, 4, 59, tzinfo=UTC)
    assert at_five.latest(now) == datetime(2026, 1, 15, 9, 5, tzinfo=UTC)
    assert at_five.latest(now + timedelta(seconds=1)) == datetime(2026, 1, 15, 10, 5, tzinfo=UTC)
    with pytest.raises(ValueError):
        Hourly(minute=60)


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        Daily(time(3)).latest(datetime(2026, 1, 15, 3))
    with pytest.raises(ValueError):
        Hourly().latest(datetime(2026, 1, 15, 3))


def test_retry_delay_doubles_then_is_capped():
    delays = [retry_delay(n, base_seconds=60, cap_seconds=600).total_seconds() for n in range(1, 7)]
    assert delays == [60, 120, 240, 480, 600, 600]
    assert retry_delay(10_000, base_seconds=60, cap_seconds=3600) == timedelta(hours=1)
    with pytest.raises(ValueError):
        retry_delay(0, base_seconds=60, cap_seconds=600)


def test_every_five_minutes_falls_on_the_multiples_of_five_in_utc():
    from pacte.engines.cadence import EveryMinutes

    five = EveryMinutes(5)
    assert five.latest(datetime(2026, 1, 15, 3, 4, 59, tzinfo=UTC)) == datetime(
        2026, 1, 15, 3, 0, tzinfo=UTC
    )
    assert five.latest(datetime(2026, 1, 15, 3, 5, tzinfo=UTC)) == datetime(
        2026, 1, 15, 3, 5, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        EveryMinutes(7)
    with pytest.raises(ValueError):
        five.latest(datetime(2026, 1, 15, 3))
