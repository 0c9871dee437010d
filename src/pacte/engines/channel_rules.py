"""Eligibility of a citizen service for an institution's distribution channel (issue 12, S4).

Pure module (no Django). An institution's channel (agency counters, advisers' toolbox,
public-service directory, website) lists every service that meets its *condition*; a condition
is a choice of clauses from the published, versioned rule set :data:`RULE_SET` (with the
parameters some clauses take), evaluated over the facts of one service (its pact, its published
evidence, what it declares about territory and need).

The engine returns codes and parameters, never sentences: the application renders each
:class:`ClauseResult` in plain French through gettext (``pacte.channels.texts``), and the public
page shows the rule set itself from :func:`rule_set_rows`.

A service meets a condition if and only if it meets every chosen clause (:attr:`Verdict.met`);
the first failing clause, in the rule set's order, is the one a carrier is told about first
(:attr:`Verdict.failing`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

__all__ = [
    "RULES_VERSION",
    "RULE_SET",
    "NATIONAL",
    "Clause",
    "ClauseDefinition",
    "ClauseResult",
    "Condition",
    "ServiceFacts",
    "Verdict",
    "evaluate",
    "normalise",
    "parse_condition",
    "rule_set_rows",
]

RULES_VERSION: Final = "2026-12"

# A service (or a channel) that declares this territory covers the whole country.
NATIONAL: Final = "france"


class Clause(StrEnum):
    PACT_ACTIVE = "pact_active"
    POSITIVE_EFFECT = "positive_effect"
    BIAS_WITHIN_BAND = "bias_within_band"
    ALGORITHM_SHEET = "algorithm_sheet"
    ACCESSIBILITY_STATEMENT = "accessibility_statement"
    TERRITORY = "territory"
    NEED = "need"


@dataclass(frozen=True)
class ClauseDefinition:
    clause: Clause
    parameters: tuple[str, ...]  # names of the parameters the clause reads from the Condition
    fact: str  # the fact it reads, for the published table


RULE_SET: Final[tuple[ClauseDefinition, ...]] = (
    ClauseDefinition(Clause.PACT_ACTIVE, (), "pact_active"),
    ClauseDefinition(Clause.POSITIVE_EFFECT, ("min_lower_bound",), "evaluation_lower_bound"),
    ClauseDefinition(Clause.BIAS_WITHIN_BAND, (), "bias_audit_published, bias_in_breach"),
    ClauseDefinition(Clause.ALGORITHM_SHEET, (), "algorithm_sheet_published"),
    ClauseDefinition(Clause.ACCESSIBILITY_STATEMENT, (), "accessibility_statement"),
    ClauseDefinition(Clause.TERRITORY, ("territories",), "territories"),
    ClauseDefinition(Clause.NEED, ("needs",), "needs"),
)
CLAUSE_ORDER: Final = tuple(d.clause for d in RULE_SET)


def normalise(words: Iterable[str]) -> frozenset[str]:
    """Territories and needs compare case-insensitively, without surrounding spaces."""
    return frozenset(w.strip().casefold() for w in words if w and w.strip())


@dataclass(frozen=True)
class ServiceFacts:
    """What the platform knows about one service (a project under one pact) on one day.

    ``evaluation_lower_bound`` is the highest lower 95 % bound among the service's published
    evaluations (as a share, None when none is published); ``bias_in_breach`` is read from the
    latest published bias audit (meaningless when ``bias_audit_published`` is False).
    """

    pact_active: bool
    evaluation_lower_bound: float | None
    bias_audit_published: bool
    bias_in_breach: bool
    algorithm_sheet_published: bool
    accessibility_statement: bool
    territories: frozenset[str] = frozenset()
    needs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Condition:
    """A channel's condition: the chosen clauses and their parameters.

    ``min_lower_bound``: the lower bound must be strictly above it (0: a positive effect);
    ``territories``/``needs``: the channel's; empty means "any" (a national channel, every need).
    """

    clauses: frozenset[Clause]
    min_lower_bound: float = 0.0
    territories: frozenset[str] = frozenset()
    needs: frozenset[str] = frozenset()
    version: str = RULES_VERSION


@dataclass(frozen=True)
class ClauseResult:
    """One clause for one service: met or not, a code saying why, and the figures to cite."""

    clause: Clause
    met: bool
    code: str
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str:
        return dict(self.params).get(name, "")


@dataclass(frozen=True)
class Verdict:
    version: str
    results: tuple[ClauseResult, ...] = field(default=())

    @property
    def met(self) -> bool:
        return all(r.met for r in self.results)

    @property
    def failing(self) -> ClauseResult | None:
        return next((r for r in self.results if not r.met), None)

    @property
    def unmet(self) -> tuple[ClauseResult, ...]:
        return tuple(r for r in self.results if not r.met)


def _listing(words: Iterable[str]) -> str:
    return ", ".join(sorted(words))


def _check(clause: Clause, condition: Condition, facts: ServiceFacts) -> ClauseResult:
    if clause is Clause.PACT_ACTIVE:
        if facts.pact_active:
            return ClauseResult(clause, True, "pact_active")
        return ClauseResult(clause, False, "pact_not_active")
    if clause is Clause.POSITIVE_EFFECT:
        threshold = (("min", f"{condition.min_lower_bound:g}"),)
        low = facts.evaluation_lower_bound
        if low is None:
            return ClauseResult(clause, False, "no_published_evaluation", threshold)
        shown = (("low", f"{low:g}"), *threshold)
        if low > condition.min_lower_bound:
            return ClauseResult(clause, True, "lower_bound_above", shown)
        return ClauseResult(clause, False, "lower_bound_not_above", shown)
    if clause is Clause.BIAS_WITHIN_BAND:
        if not facts.bias_audit_published:
            return ClauseResult(clause, False, "no_bias_audit")
        if facts.bias_in_breach:
            return ClauseResult(clause, False, "bias_out_of_band")
        return ClauseResult(clause, True, "bias_within_band")
    if clause is Clause.ALGORITHM_SHEET:
        if facts.algorithm_sheet_published:
            return ClauseResult(clause, True, "algorithm_sheet_published")
        return ClauseResult(clause, False, "no_algorithm_sheet")
    if clause is Clause.ACCESSIBILITY_STATEMENT:
        if facts.accessibility_statement:
            return ClauseResult(clause, True, "accessibility_statement_present")
        return ClauseResult(clause, False, "no_accessibility_statement")
    if clause is Clause.TERRITORY:
        wanted = condition.territories
        if not wanted or NATIONAL in wanted:
            return ClauseResult(clause, True, "territory_any")
        covered = facts.territories & wanted
        if NATIONAL in facts.territories or covered:
            named = _listing(covered or wanted)
            return ClauseResult(clause, True, "territory_covered", (("territories", named),))
        return ClauseResult(
            clause, False, "territory_not_covered", (("territories", _listing(wanted)),)
        )
    # Clause.NEED
    wanted = condition.needs
    if not wanted:
        return ClauseResult(clause, True, "need_any")
    covered = facts.needs & wanted
    if covered:
        return ClauseResult(clause, True, "need_covered", (("needs", _listing(covered)),))
    return ClauseResult(clause, False, "need_not_covered", (("needs", _listing(wanted)),))


def evaluate(condition: Condition, facts: ServiceFacts) -> Verdict:
    """Every chosen clause, in the rule set's order; the service meets the condition iff all are met."""
    results = tuple(_check(c, condition, facts) for c in CLAUSE_ORDER if c in condition.clauses)
    return Verdict(condition.version, results)


class UnknownClause(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_condition(
    clauses: Iterable[str],
    *,
    min_lower_bound: float = 0.0,
    territories: Iterable[str] = (),
    needs: Iterable[str] = (),
) -> Condition:
    """A condition from stored or submitted values; an unknown clause raises :class:`UnknownClause`,
    a lower bound outside [-1, 1] raises ValueError."""
    chosen: set[Clause] = set()
    for code in clauses:
        try:
            chosen.add(Clause(code))
        except ValueError:
            raise UnknownClause(code) from None
    if not -1.0 <= min_lower_bound <= 1.0:
        raise ValueError("min_lower_bound must lie in [-1, 1] (a share)")
    return Condition(
        clauses=frozenset(chosen),
        min_lower_bound=float(min_lower_bound),
        territories=normalise(territories),
        needs=normalise(needs),
    )


def rule_set_rows() -> list[dict[str, str | list[str]]]:
    """The published rule set as rows (version, clause, parameters, fact read)."""
    return [
        {
            "version": RULES_VERSION,
            "clause": str(d.clause),
            "parameters": list(d.parameters),
            "fact": d.fact,
        }
        for d in RULE_SET
    ]
