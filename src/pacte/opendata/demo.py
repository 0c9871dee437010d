"""Open-data demo: the dump is written once, after every other domain's demo (last extension)."""

from __future__ import annotations

from pacte.accounts import policy
from pacte.opendata.dump import publish_dump
from pacte.opendata.selectors import latest_dump


def load() -> None:
    if latest_dump() is None:
        publish_dump(policy.SYSTEM)
