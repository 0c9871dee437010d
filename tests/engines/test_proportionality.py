from __future__ import annotations

import itertools
import json

import pytest

from pacte.engines.proportionality import (
    EXPOSURE_ORDER,
    MAX_DURATION_MONTHS,
    RHO_GRANT_CAP,
    RHO_GRANT_DEFAULT,
    RHO_QUERY_CAP,
    RHO_QUERY_DEFAULT,
    RULE_TABLE,
    RULES_VERSION,
    Benefit,
    CommitmentStrength,
    PactFacts,
    ReviewPath,
    Tier,
    allowed_tiers,
    benefit_band,
    commitment_strength,
    decide,
    strength_band,
    table_as_rows,
)

SENS = (0, 1, 2, 3)
STRENGTHS = tuple(CommitmentStrength)
BENEFITS = tuple(Benefit)
ALL = list(itertools.product(SENS, STRENGTHS, BENEFITS))
RULE_IDS = {r.id for r in RULE_TABLE}
EXTRACTS = {Tier.OPEN_EXTRACT, Tier.PSEUDONYMISED_EXTRACT}


def test_table_covers_every_combination_exactly_once() -> None:
    keys = [(r.sensitivity, r.strength, r.benefit) for r in RULE_TABLE]
    assert len(keys) == len(set(keys)) == 4 * 3 * 3
    assert set(keys) == set(ALL)
    assert len(RULE_IDS) == len(RULE_TABLE)
    for r in RULE_TABLE:
        assert r.id == f"R-{r.sensitivity}-{r.strength.value}-{r.benefit.value}"


@pytest.mark.parametrize(("s", "st", "b"), ALL)
def test_every_combination_decided_and_cited(s: int, st: CommitmentStrength, b: Benefit) -> None:
    d = decide(s, st, b)
    assert d.rule_id in RULE_IDS
    assert d.rules_version == RULES_VERSION == "2026-11"
    assert d.rule_id in d.explanation
    assert "sensibilité" in d.explanation  # French explanation
    assert d.highest_tier in d.allowed
    assert allowed_tiers(d) == frozenset(d.allowed)
    # allowed set is exactly the prefix of the exposure ladder up to the ceiling
    assert d.allowed == EXPOSURE_ORDER[: EXPOSURE_ORDER.index(d.highest_tier) + 1]
    assert Tier.CITIZEN_CONSENT in d.allowed
    assert 1 <= d.max_duration_months <= MAX_DURATION_MONTHS
    assert 0.0 <= d.rho_grant <= RHO_GRANT_CAP
    assert 0.0 <= d.rho_query <= RHO_QUERY_CAP
    assert d.rho_query <= d.rho_grant
    assert (d.rho_grant > 0) == d.allows(Tier.DP_AGGREGATES)
    assert (d.rho_query > 0) == d.allows(Tier.DP_AGGREGATES)
    json.dumps(d.as_dict())


def test_sensitivity_rules() -> None:
    for st, b in itertools.product(STRENGTHS, BENEFITS):
        assert decide(0, st, b).highest_tier is Tier.OPEN_EXTRACT
        for s in (1, 2, 3):
            assert not decide(s, st, b).allows(Tier.OPEN_EXTRACT)
        assert not (set(decide(3, st, b).allowed) & EXTRACTS)
        assert decide(3, st, b).review is ReviewPath.COMMITTEE
    assert decide(3, CommitmentStrength.WEAK, Benefit.HIGH).allowed == (Tier.CITIZEN_CONSENT,)
    assert decide(3, CommitmentStrength.MEDIUM, Benefit.LOW).highest_tier is Tier.DP_AGGREGATES
    assert decide(3, CommitmentStrength.STRONG, Benefit.HIGH).highest_tier is Tier.SECURE_ROOM
    assert decide(1, CommitmentStrength.WEAK, Benefit.HIGH).highest_tier is Tier.SECURE_ROOM


def test_defaults_anchor_on_personal_data_medium_medium() -> None:
    d = decide(2, CommitmentStrength.MEDIUM, Benefit.MEDIUM)
    assert d.rho_grant == RHO_GRANT_DEFAULT
    assert d.rho_query == RHO_QUERY_DEFAULT


def _assert_not_more(lo: object, hi: object, msg: str) -> None:
    """`hi` (riskier/less merit) never allows more than `lo`."""
    from pacte.engines.proportionality import Decision

    assert isinstance(lo, Decision) and isinstance(hi, Decision)
    assert set(hi.allowed) <= set(lo.allowed), msg
    assert hi.highest_tier.exposure <= lo.highest_tier.exposure, msg
    assert hi.max_duration_months <= lo.max_duration_months, msg
    assert hi.rho_grant <= lo.rho_grant, msg
    assert hi.rho_query <= lo.rho_query, msg


def test_monotone_in_sensitivity() -> None:
    for st, b in itertools.product(STRENGTHS, BENEFITS):
        for s in (0, 1, 2):
            lo, hi = decide(s, st, b), decide(s + 1, st, b)
            _assert_not_more(lo, hi, f"{lo.rule_id} -> {hi.rule_id}")
            assert hi.review.rank >= lo.review.rank, f"{lo.rule_id} -> {hi.rule_id}"


def test_monotone_in_strength_and_benefit() -> None:
    for s in SENS:
        for (i, st), (j, b) in itertools.product(enumerate(STRENGTHS), enumerate(BENEFITS)):
            here = decide(s, st, b)
            if i + 1 < len(STRENGTHS):
                better = decide(s, STRENGTHS[i + 1], b)
                _assert_not_more(better, here, f"{here.rule_id} -> {better.rule_id}")
            if j + 1 < len(BENEFITS):
                better = decide(s, st, BENEFITS[j + 1])
                _assert_not_more(better, here, f"{here.rule_id} -> {better.rule_id}")


def test_score_and_string_inputs() -> None:
    assert decide(2, 85, "high").strength is CommitmentStrength.STRONG
    assert decide(2, 85, "high").strength_score == 85
    assert "85/100" in decide(2, 85, "high").explanation
    assert decide(2, 0, Benefit.LOW).strength is CommitmentStrength.WEAK
    assert decide(2, "medium", "low").strength is CommitmentStrength.MEDIUM
    a = commitment_strength(PactFacts(measurable_principles=5, preregistered_impact_plan=True))
    assert decide(2, a, "low").strength_score == a.score


@pytest.mark.parametrize(
    ("s", "st", "b"),
    [
        (4, "weak", "low"),
        (-1, "weak", "low"),
        (1, "bogus", "low"),
        (1, "weak", "huge"),
        (1, 101, "low"),
    ],
)
def test_invalid_inputs(s: int, st: str | int, b: str) -> None:
    with pytest.raises(ValueError):
        decide(s, st, b)


def test_bool_is_not_a_score() -> None:
    with pytest.raises(ValueError):
        decide(1, True, "low")
    with pytest.raises(ValueError):
        decide(True, "weak", "low")


def test_table_as_rows_publishable() -> None:
    rows = table_as_rows()
    assert len(rows) == len(RULE_TABLE)
    text = json.dumps(rows, ensure_ascii=False)
    assert "R-3-strong-high" in text
    for row in rows:
        assert row["rules_version"] == RULES_VERSION
        assert row["id"] in RULE_IDS
        d = decide(row["sensitivity"], row["strength"], row["benefit"])  # type: ignore[arg-type]
        assert d.rule_id == row["id"]
        assert [int(t) for t in d.allowed] == row["allowed_tiers"]


# --------------------------------------------------------------------------- strength


def test_strength_bands() -> None:
    assert strength_band(0) is CommitmentStrength.WEAK
    assert strength_band(39) is CommitmentStrength.WEAK
    assert strength_band(40) is CommitmentStrength.MEDIUM
    assert strength_band(69) is CommitmentStrength.MEDIUM
    assert strength_band(70) is CommitmentStrength.STRONG
    assert strength_band(100) is CommitmentStrength.STRONG
    for bad in (-1, 101):
        with pytest.raises(ValueError):
            strength_band(bad)


def test_strength_empty_pact_is_weak() -> None:
    a = commitment_strength(PactFacts())
    assert a.score == 10  # only the clean compliance record
    assert a.band is CommitmentStrength.WEAK
    assert {f.key for f in a.factors} == {
        "measurable_principles",
        "bias_audit",
        "impact_plan",
        "commons",
        "security_homologation",
        "compliance_record",
    }


def test_strength_full_pact_is_100_and_max_points_sum_to_100() -> None:
    a = commitment_strength(
        PactFacts(
            measurable_principles=7,
            bias_audit_commitment=True,
            preregistered_impact_plan=True,
            commons_attestations=3,
            security_homologation=True,
            breaches=0,
        )
    )
    assert a.score == 100
    assert a.band is CommitmentStrength.STRONG
    assert sum(f.max_points for f in a.factors) == 100
    assert all(f.points == f.max_points for f in a.factors)
    json.dumps(a.as_dict(), ensure_ascii=False)


def test_strength_typical_and_breaches() -> None:
    base = PactFacts(
        measurable_principles=4,
        bias_audit_commitment=True,
        preregistered_impact_plan=False,
        commons_attestations=2,
        security_homologation=False,
    )
    a = commitment_strength(base)
    assert a.score == 20 + 15 + 10 + 10
    assert a.band is CommitmentStrength.MEDIUM
    from dataclasses import replace

    one = commitment_strength(replace(base, breaches=1))
    assert one.score == a.score - 10
    worse = commitment_strength(replace(base, breaches=10))
    assert worse.score == a.score - 40  # penalty capped
    assert worse.band is CommitmentStrength.WEAK
    record = {f.key: f for f in worse.factors}["compliance_record"]
    assert record.points == -30 and "10 manquement" in record.detail
    # never below zero
    assert commitment_strength(PactFacts(breaches=99)).score == 0


def test_strength_is_monotone_in_each_factor() -> None:
    for n in range(8):
        assert (
            commitment_strength(PactFacts(measurable_principles=n + 1)).score
            >= commitment_strength(PactFacts(measurable_principles=n)).score
        )
        assert (
            commitment_strength(PactFacts(breaches=n + 1)).score
            <= commitment_strength(PactFacts(breaches=n)).score
        )


def test_strength_rejects_negative_counts() -> None:
    with pytest.raises(ValueError):
        commitment_strength(PactFacts(measurable_principles=-1))
    with pytest.raises(ValueError):
        commitment_strength(PactFacts(breaches=-2))


# --------------------------------------------------------------------------- benefit


@pytest.mark.parametrize(
    ("population", "severity", "expected"),
    [
        (50, 1, Benefit.LOW),
        (50, 2, Benefit.LOW),
        (50, 3, Benefit.MEDIUM),
        (5_000, 1, Benefit.LOW),
        (5_000, 2, Benefit.MEDIUM),
        (5_000, 3, Benefit.HIGH),
        (2_000_000, 1, Benefit.MEDIUM),
        (2_000_000, 2, Benefit.HIGH),
        (2_000_000, 3, Benefit.HIGH),
    ],
)
def test_benefit_band(population: int, severity: int, expected: Benefit) -> None:
    assert benefit_band(population, severity) is expected


def test_benefit_band_monotone_and_invalid() -> None:
    pops = [0, 999, 1_000, 99_999, 100_000, 10**8]
    for sev in (1, 2, 3):
        ranks = [benefit_band(p, sev).rank for p in pops]
        assert ranks == sorted(ranks)
    for p in pops:
        ranks = [benefit_band(p, s).rank for s in (1, 2, 3)]
        assert ranks == sorted(ranks)
    for bad in ((-1, 1), (10, 0), (10, 4)):
        with pytest.raises(ValueError):
            benefit_band(*bad)
