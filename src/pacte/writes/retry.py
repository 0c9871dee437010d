"""Run a whole transaction again when the database gave up on it (deadlock, serialization).

PostgreSQL may still abort a transaction with ``deadlock detected`` (SQLSTATE 40P01) or a
serialization failure (40001) even with a fixed lock order (e.g. foreign-key share locks
taken implicitly); SQLite reports ``database is locked`` when its busy timeout runs out.
Nothing of the aborted attempt was committed, so running the use case again from the start
is safe. Only the OUTERMOST transaction is retried: inside another transaction the error
goes up to whoever opened it.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import DatabaseError, transaction

logger = logging.getLogger("pacte.writes")

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
ATTEMPTS = 5

P = ParamSpec("P")
R = TypeVar("R")


def is_retryable(exc: BaseException) -> bool:
    """True for a deadlock or a serialization failure (PostgreSQL) or a busy SQLite."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        state = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if state in RETRYABLE_SQLSTATES:
            return True
        if type(e).__module__.startswith("sqlite3") and "database is locked" in str(e):
            return True
        e = e.__cause__ or e.__context__
    return False


def backoff(attempt: int) -> None:
    """Sleep a short, jittered, growing delay before attempt ``attempt + 1``."""
    time.sleep(random.uniform(0.005, 0.02) * (2**attempt))


def retry_on_conflict(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a use case (itself ``@transaction.atomic``): when it is the outermost
    transaction and the database aborts it as a deadlock or serialization victim, run it
    again, at most ``ATTEMPTS`` times in all."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if transaction.get_connection().in_atomic_block:
            return func(*args, **kwargs)
        for attempt in range(ATTEMPTS):
            try:
                return func(*args, **kwargs)
            except DatabaseError as exc:
                if attempt == ATTEMPTS - 1 or not is_retryable(exc):
                    raise
                logger.warning(
                    "%s: transaction aborted (%s), attempt %d", func.__qualname__, exc, attempt + 2
                )
                backoff(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper
