"""Cadences of periodic jobs and the retry delays of queued work: pure date arithmetic.

A cadence answers one question: *which occurrence is the latest one at or before
``now``?* That occurrence (an aware UTC datetime) names the period of a job: the
scheduler enqueues a job once per occurrence, so that a job missed during downtime is
caught up once (the latest occurrence), never once per missed period.

* :class:`Daily` — every day at a wall-clock time in a time zone (``03:00 Europe/Paris``),
  daylight-saving changes included: the occurrence follows the wall clock. A wall-clock
  time that does not exist on a spring-forward day falls an hour later, as
  :mod:`zoneinfo` resolves it; an ambiguous one (autumn) takes its first occurrence.
* :class:`Hourly` — every hour at a given minute.
* :class:`EveryMinutes` — every few minutes (a divisor of 60), for jobs that keep up with the log.

:func:`retry_delay` is the bounded exponential backoff of queued deliveries.

No Django import; ``now`` is always given, never read from a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")


@dataclass(frozen=True)
class Daily:
    """Every day at ``at`` (wall clock) in ``zone`` (an IANA name)."""

    at: time
    zone: str = "Europe/Paris"

    def latest(self, now: datetime) -> datetime:
        """The latest occurrence at or before ``now``, in UTC."""
        _require_aware(now)
        tz = ZoneInfo(self.zone)
        local_day = now.astimezone(tz).date()
        for day in (local_day, local_day - timedelta(days=1), local_day - timedelta(days=2)):
            occurrence = datetime.combine(day, self.at, tzinfo=tz).astimezone(UTC)
            if occurrence <= now:
                return occurrence
        raise AssertionError(
            "unreachable: an occurrence exists within two days"
        )  # pragma: no cover

    def describe(self) -> str:
        return f"chaque jour à {self.at:%H:%M} ({self.zone})"


@dataclass(frozen=True)
class Hourly:
    """Every hour at ``minute`` past the hour."""

    minute: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.minute < 60:
            raise ValueError("minute must be between 0 and 59")

    def latest(self, now: datetime) -> datetime:
        """The latest occurrence at or before ``now``, in UTC."""
        _require_aware(now)
        utc = now.astimezone(UTC)
        occurrence = utc.replace(minute=self.minute, second=0, microsecond=0)
        if occurrence > utc:
            occurrence -= timedelta(hours=1)
        return occurrence

    def describe(self) -> str:
        return f"chaque heure à la minute {self.minute:02d}"


@dataclass(frozen=True)
class EveryMinutes:
    """Every ``step`` minutes, at the minutes of the hour that are multiples of ``step`` (UTC)."""

    step: int = 5

    def __post_init__(self) -> None:
        if self.step < 1 or 60 % self.step:
            raise ValueError("step must divide 60")

    def latest(self, now: datetime) -> datetime:
        """The latest occurrence at or before ``now``, in UTC."""
        _require_aware(now)
        utc = now.astimezone(UTC)
        return utc.replace(minute=utc.minute - utc.minute % self.step, second=0, microsecond=0)

    def describe(self) -> str:
        return f"toutes les {self.step} minutes"


Cadence = Daily | Hourly | EveryMinutes


def retry_delay(attempts: int, *, base_seconds: float, cap_seconds: float) -> timedelta:
    """Delay before the next try after ``attempts`` failed tries: base · 2^(attempts−1), capped."""
    if attempts < 1:
        raise ValueError("attempts starts at 1")
    if base_seconds < 0 or cap_seconds < 0:
        raise ValueError("delays are not negative")
    seconds = base_seconds * 2.0 ** min(attempts - 1, 62)
    return timedelta(seconds=min(seconds, cap_seconds))
