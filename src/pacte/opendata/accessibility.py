"""RGAA 4.1 conformity from the checklist kept in the repository (data/rgaa_checklist.json).

Each of the 106 criteria is conforming (C), non-conforming (NC), not applicable (NA) or not yet
evaluated (NE). Criteria checked automatically name the axe-core rules that check them; those
rules run on every page in tests/web/test_accessibility.py, which fails on any violation, so a
criterion marked C by automation cannot stay C while its rules fail. The rate is the RGAA one:
conforming criteria over applicable evaluated criteria (C / (C + NC)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RGAA_CRITERIA = 106


@dataclass(frozen=True)
class Conformity:
    rate: float  # percent, one decimal
    level: str  # "totalement conforme" | "partiellement conforme" | "non conforme"
    conforming: int
    non_conforming: int
    not_applicable: int
    not_evaluated: int
    automated: int
    manual: int
    referential: str
    audited_on: str
    scope: str
    non_accessible: list[dict[str, Any]]
    criteria: list[dict[str, Any]]

    @property
    def complete(self) -> bool:
        return self.not_evaluated == 0


def conformity(checklist: dict[str, Any]) -> Conformity:
    criteria = checklist["criteria"]
    if len(criteria) != RGAA_CRITERIA or len({c["id"] for c in criteria}) != RGAA_CRITERIA:
        raise ValueError("the RGAA 4.1 checklist must list each of its 106 criteria once")
    count = {s: sum(1 for c in criteria if c["status"] == s) for s in ("C", "NC", "NA", "NE")}
    applicable = count["C"] + count["NC"]
    rate = round(100 * count["C"] / applicable, 1) if applicable else 0.0
    # RGAA: totally conforming at 100 % of a complete audit, partially from 50 %, else not
    if rate == 100 and count["NE"] == 0:
        level = "totalement conforme"
    elif rate >= 50:
        level = "partiellement conforme"
    else:
        level = "non conforme"
    return Conformity(
        rate=rate,
        level=level,
        conforming=count["C"],
        non_conforming=count["NC"],
        not_applicable=count["NA"],
        not_evaluated=count["NE"],
        automated=sum(1 for c in criteria if c.get("method") == "automatique"),
        manual=sum(1 for c in criteria if c.get("method") == "manuel" and c["status"] != "NE"),
        referential=checklist["referential"],
        audited_on=checklist["audited_on"],
        scope=checklist["scope"],
        non_accessible=checklist["non_accessible"],
        criteria=[c for c in criteria if c["status"] == "NC"],
    )
