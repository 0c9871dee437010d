"""The outcome-payment formula (pure, no database), against an oracle written with Fraction."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pacte.engines.outcome_payments import (
    FORMULA_VERSION,
    Inputs,
    compute,
    equity_factor,
    simulate,
)


def oracle(
    price: Fraction,
    n: int,
    low: Fraction,
    base: Fraction,
    cap: Fraction,
    paid: Fraction,
    equity: Fraction,
    gate: int,
) -> Fraction:
    """Written differently: rational arithmetic, integer cents, half-up by floor(x + 1/2)."""
    outcome = price * n * (low if low > 0 else 0)
    room = cap - paid if cap > paid else Fraction(0)
    raw = base + outcome * equity * gate
    chosen = raw if raw < room else room
    cents = chosen * 100
    whole = (cents + Fraction(1, 2)).numerator // (cents + Fraction(1, 2)).denominator
    return Fraction(whole, 100)


# integers scaled to decimals: cheap to draw (st.decimals is slow on a busy machine)
euros = st.integers(0, 100_000_000).map(lambda c: Decimal(c).scaleb(-2))  # 0.00 … 1 000 000.00
shares = st.integers(-1_000_000, 1_000_000).map(lambda m: Decimal(m).scaleb(-6))  # -1 … 1, 6 places
equities = st.integers(1000, 2000).map(lambda m: Decimal(m).scaleb(-3))  # 1.000 … 2.000


@given(
    price=euros,
    n=st.integers(0, 5_000_000),
    low=shares,
    base=euros,
    cap=euros,
    paid=euros,
    equity=equities,
    gate=st.sampled_from([0, 1]),
)
def test_formula_matches_a_rational_oracle_to_the_cent(
    price, n, low, base, cap, paid, equity, gate
):
    result = compute(
        Inputs(
            price=price, n=n, ci_low=low, base=base, cap=cap, paid=paid, equity=equity, gate=gate
        )
    )
    expected = oracle(
        Fraction(price),
        n,
        Fraction(low),
        Fraction(base),
        Fraction(cap),
        Fraction(paid),
        Fraction(equity),
        gate,
    )
    assert Fraction(result.payment) == expected
    assert result.payment.as_tuple().exponent == -2


@given(price=euros, n=st.integers(0, 100_000), low=shares, base=euros, cap=euros, paid=euros)
def test_payment_never_takes_the_contract_over_its_cap(price, n, low, base, cap, paid):
    result = compute(Inputs(price=price, n=n, ci_low=low, base=base, cap=cap, paid=paid))
    assert result.payment >= 0
    assert result.payment <= max(Decimal(0), cap - paid)


def test_reference_case_pays_on_the_lower_bound_not_the_estimate():
    # +2.11 points, CI [1.75, 2.47], 10 000 people, 15 € per additional outcome
    r = simulate(
        price=Decimal("15"),
        n=10_000,
        ci_low=Decimal("0.0175"),
        base=Decimal("20000"),
        cap=Decimal("300000"),
    )
    assert r.outcome == Decimal("2625.00")  # 175 additional outcomes × 15 €
    assert r.payment == Decimal("22625.00")
    assert r.formula_version == FORMULA_VERSION
    text = r.substituted()
    assert "15 × 10000 × max(0, 0.0175) = 2625.00" in text
    assert "= 22625.00" in text


def test_inconclusive_evaluation_pays_the_base_fee_only():
    r = simulate(
        price=Decimal("1500"),
        n=4000,
        ci_low=Decimal("-0.004"),
        base=Decimal("20000"),
        cap=Decimal("300000"),
    )
    assert r.outcome == 0
    assert r.payment == Decimal("20000.00")
    assert not r.conclusive_gain


def test_bias_gate_stops_the_outcome_payment_but_not_the_base_fee():
    open_gate = simulate(
        price=Decimal("100"),
        n=1000,
        ci_low=Decimal("0.05"),
        base=Decimal("1000"),
        cap=Decimal("100000"),
    )
    closed = simulate(
        price=Decimal("100"),
        n=1000,
        ci_low=Decimal("0.05"),
        base=Decimal("1000"),
        cap=Decimal("100000"),
        in_breach=True,
    )
    assert open_gate.payment == Decimal("6000.00")
    assert closed.payment == Decimal("1000.00")


def test_cap_counts_what_was_already_paid():
    r = simulate(
        price=Decimal("100"),
        n=1000,
        ci_low=Decimal("0.05"),
        base=Decimal("1000"),
        cap=Decimal("10000"),
        paid=Decimal("7000.50"),
    )
    assert r.payment == Decimal("2999.50")
    assert r.capped


def test_rounding_is_half_up_once_at_the_end():
    # exactly half a cent rounds up; just under half a cent rounds down
    r = simulate(
        price=Decimal("0.005"), n=1, ci_low=Decimal("1"), base=Decimal("0"), cap=Decimal("10")
    )
    assert r.payment == Decimal("0.01")  # 0.005 rounds up
    r = simulate(
        price=Decimal("0.0049"), n=1, ci_low=Decimal("1"), base=Decimal("0"), cap=Decimal("10")
    )
    assert r.payment == Decimal("0.00")


def test_equity_factor_rule():
    bonus = Decimal("0.10")
    assert equity_factor(bonus, Decimal("1.02"), audit_in_breach=False) == Decimal("1.10")
    assert equity_factor(bonus, Decimal("1"), audit_in_breach=False) == Decimal("1.10")
    assert equity_factor(bonus, Decimal("0.95"), audit_in_breach=False) == 1
    assert equity_factor(bonus, Decimal("1.3"), audit_in_breach=True) == 1
    assert equity_factor(bonus, None, audit_in_breach=False) == 1
    with pytest.raises(ValueError):
        equity_factor(Decimal("-0.1"), Decimal("1.2"), audit_in_breach=False)


def test_float_inputs_are_read_through_their_shortest_repr():
    from pacte.engines.outcome_payments import to_decimal

    assert to_decimal(0.0175) == Decimal("0.0175")


@pytest.mark.parametrize(
    "bad", [dict(n=-1), dict(gate=2), dict(price=Decimal("-1")), dict(equity=Decimal("0.9"))]
)
def test_invalid_inputs_are_refused(bad):
    args = (
        dict(
            price=Decimal("1"),
            n=1,
            ci_low=Decimal("0.1"),
            base=Decimal("0"),
            cap=Decimal("1"),
            paid=Decimal("0"),
        )
        | bad
    )
    with pytest.raises(ValueError):
        Inputs(**args)
