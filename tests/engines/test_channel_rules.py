"""The channel eligibility engine: every clause met and not met, the whole condition, the rule set."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pacte.engines.channel_rules import (
    NATIONAL,
    RULE_SET,
    RULES_VERSION,
    Clause,
    Condition,
    ServiceFacts,
    UnknownClause,
    evaluate,
    normalise,
    parse_condition,
    rule_set_rows,
)

GOOD = ServiceFacts(
    pact_active=True,
    evaluation_lower_bound=0.02,
    bias_audit_published=True,
    bias_in_breach=False,
    algorithm_sheet_published=True,
    accessibility_statement=True,
    territories=frozenset({"bretagne"}),
    needs=frozenset({"emploi"}),
)
ALL_CLAUSES = frozenset(Clause)


def only(clause: Clause, **params: object) -> Condition:
    return Condition(clauses=frozenset({clause}), **params)  # type: ignore[arg-type]


def result(clause: Clause, facts: ServiceFacts, **params: object):  # type: ignore[no-untyped-def]
    verdict = evaluate(only(clause, **params), facts)
    assert len(verdict.results) == 1
    return verdict.results[0]


def test_pact_active() -> None:
    assert result(Clause.PACT_ACTIVE, GOOD).met
    r = result(Clause.PACT_ACTIVE, replace(GOOD, pact_active=False))
    assert (r.met, r.code) == (False, "pact_not_active")


def test_positive_effect_needs_a_published_evaluation_with_lower_bound_strictly_above() -> None:
    r = result(Clause.POSITIVE_EFFECT, GOOD)
    assert r.met and r.code == "lower_bound_above" and r.param("low") == "0.02"
    r = result(Clause.POSITIVE_EFFECT, replace(GOOD, evaluation_lower_bound=None))
    assert (r.met, r.code) == (False, "no_published_evaluation")
    r = result(Clause.POSITIVE_EFFECT, replace(GOOD, evaluation_lower_bound=0.0))
    assert (r.met, r.code) == (False, "lower_bound_not_above")  # zero is not positive
    r = result(Clause.POSITIVE_EFFECT, GOOD, min_lower_bound=0.05)
    assert (r.met, r.param("min")) == (False, "0.05")
    r = result(Clause.POSITIVE_EFFECT, replace(GOOD, evaluation_lower_bound=-0.01))
    assert not r.met


def test_bias_within_band() -> None:
    assert result(Clause.BIAS_WITHIN_BAND, GOOD).met
    r = result(Clause.BIAS_WITHIN_BAND, replace(GOOD, bias_audit_published=False))
    assert (r.met, r.code) == (False, "no_bias_audit")
    r = result(Clause.BIAS_WITHIN_BAND, replace(GOOD, bias_in_breach=True))
    assert (r.met, r.code) == (False, "bias_out_of_band")


def test_algorithm_sheet_and_accessibility_statement() -> None:
    assert result(Clause.ALGORITHM_SHEET, GOOD).met
    r = result(Clause.ALGORITHM_SHEET, replace(GOOD, algorithm_sheet_published=False))
    assert (r.met, r.code) == (False, "no_algorithm_sheet")
    assert result(Clause.ACCESSIBILITY_STATEMENT, GOOD).met
    r = result(Clause.ACCESSIBILITY_STATEMENT, replace(GOOD, accessibility_statement=False))
    assert (r.met, r.code) == (False, "no_accessibility_statement")


def test_territory() -> None:
    assert result(Clause.TERRITORY, GOOD).code == "territory_any"  # national channel
    r = result(Clause.TERRITORY, GOOD, territories=frozenset({"bretagne", "normandie"}))
    assert r.met and r.param("territories") == "bretagne"
    r = result(Clause.TERRITORY, GOOD, territories=frozenset({"occitanie"}))
    assert (r.met, r.code, r.param("territories")) == (False, "territory_not_covered", "occitanie")
    national_service = replace(GOOD, territories=frozenset({NATIONAL}))
    assert result(Clause.TERRITORY, national_service, territories=frozenset({"occitanie"})).met


def test_need() -> None:
    assert result(Clause.NEED, GOOD).code == "need_any"
    assert result(Clause.NEED, GOOD, needs=frozenset({"emploi", "logement"})).met
    r = result(Clause.NEED, GOOD, needs=frozenset({"logement"}))
    assert (r.met, r.code, r.param("needs")) == (False, "need_not_covered", "logement")


def test_results_follow_the_rule_set_order_and_the_first_failure_is_reported() -> None:
    facts = replace(GOOD, algorithm_sheet_published=False, pact_active=False)
    verdict = evaluate(Condition(clauses=ALL_CLAUSES), facts)
    assert [r.clause for r in verdict.results] == [d.clause for d in RULE_SET]
    assert not verdict.met
    assert verdict.failing is not None and verdict.failing.clause is Clause.PACT_ACTIVE
    assert [r.clause for r in verdict.unmet] == [Clause.PACT_ACTIVE, Clause.ALGORITHM_SHEET]
    assert verdict.version == RULES_VERSION


def test_empty_condition_is_met_by_anything() -> None:
    verdict = evaluate(Condition(clauses=frozenset()), replace(GOOD, pact_active=False))
    assert verdict.met and verdict.failing is None and verdict.results == ()


facts_strategy = st.builds(
    ServiceFacts,
    pact_active=st.booleans(),
    evaluation_lower_bound=st.one_of(st.none(), st.floats(-0.5, 0.5)),
    bias_audit_published=st.booleans(),
    bias_in_breach=st.booleans(),
    algorithm_sheet_published=st.booleans(),
    accessibility_statement=st.booleans(),
    territories=st.frozensets(st.sampled_from(["bretagne", "occitanie", NATIONAL]), max_size=2),
    needs=st.frozensets(st.sampled_from(["emploi", "logement", "santé"]), max_size=2),
)
condition_strategy = st.builds(
    Condition,
    clauses=st.frozensets(st.sampled_from(list(Clause))),
    min_lower_bound=st.floats(-0.2, 0.2),
    territories=st.frozensets(st.sampled_from(["bretagne", "occitanie"]), max_size=2),
    needs=st.frozensets(st.sampled_from(["emploi", "logement", "santé"]), max_size=2),
)


@given(condition_strategy, facts_strategy)
def test_a_service_meets_a_condition_iff_it_meets_every_clause(
    condition: Condition, facts: ServiceFacts
) -> None:
    verdict = evaluate(condition, facts)
    singly = [
        evaluate(Condition(frozenset({c}), **_params(condition)), facts) for c in condition.clauses
    ]
    assert verdict.met == all(v.met for v in singly)
    assert {r.clause for r in verdict.results} == set(condition.clauses)
    # adding a clause can only make a condition harder to meet
    for extra in Clause:
        harder = evaluate(replace(condition, clauses=condition.clauses | {extra}), facts)
        assert not (harder.met and not verdict.met)


def _params(condition: Condition) -> dict[str, object]:
    return {
        "min_lower_bound": condition.min_lower_bound,
        "territories": condition.territories,
        "needs": condition.needs,
    }


def test_parse_condition_normalises_and_refuses_unknown_clauses() -> None:
    c = parse_condition(
        ["pact_active", "territory"], territories=[" Bretagne ", ""], needs=["Emploi"]
    )
    assert c.clauses == {Clause.PACT_ACTIVE, Clause.TERRITORY}
    assert c.territories == {"bretagne"} and c.needs == {"emploi"}
    with pytest.raises(UnknownClause) as exc:
        parse_condition(["pact_active", "vibes"])
    assert exc.value.code == "vibes"
    with pytest.raises(ValueError):
        parse_condition([], min_lower_bound=3.0)
    assert normalise(["A", " a ", ""]) == {"a"}


def test_rule_set_is_published_with_its_version() -> None:
    rows = rule_set_rows()
    assert [r["clause"] for r in rows] == [str(c) for c in Clause]
    assert all(r["version"] == RULES_VERSION for r in rows)
    assert rows[1]["parameters"] == ["min_lower_bound"]
