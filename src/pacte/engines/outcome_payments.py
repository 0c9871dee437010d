"""Outcome payments (issue 11): what a window of an outcome contract pays, from published evidence.

Pure module: no Django. The formula, version ``FORMULA_VERSION``::

    outcome  = price × N × max(0, L)
    payment  = max(0, min(cap − paid, base + outcome × equity × gate))

* ``price``  euros per additional outcome (the contract's clause);
* ``N``      the people the estimate is about (the evaluation's treated group);
* ``L``      the lower bound of the 95 % confidence interval of the effect, as a share of people
             (0.0175 for +1.75 points): a cautious count of additional outcomes is ``N × L``;
* ``base``   the base fee of the window, paid whatever the evidence says (an inconclusive
             evaluation, whose lower bound is ≤ 0, pays the base fee only);
* ``cap``    the contract's cap, ``paid`` what the contract already paid: the payment never
             takes the contract over its cap;
* ``equity`` 1, or 1 + the published bonus when the bias audit shows the service reaches people
             in need at least as well as others (:func:`equity_factor`);
* ``gate``   0 while a bias audit is in breach, 1 otherwise: no outcome payment while in breach
             (the base fee is still due).

Arithmetic is exact ``Decimal`` (a 60-digit context, no binary floats: a float input is read
through its shortest ``repr``); **one rounding, at the end**, to the cent, half up
(``ROUND_HALF_UP``, "au centime le plus proche, la moitié au centime supérieur"). The outcome
shown alone is rounded the same way, for display only: the payment uses the exact value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

FORMULA_VERSION = "outcome-payment/1"
CENT = Decimal("0.01")
ZERO = Decimal(0)
ONE = Decimal(1)
PRECISION = 60


def to_decimal(value: Decimal | int | float | str) -> Decimal:
    """A number as an exact Decimal; a float through its shortest repr (0.0175, not 0.01749999…)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def to_cent(value: Decimal) -> Decimal:
    """Round to the cent, half up (the one rounding of the formula)."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return value.quantize(CENT, rounding=ROUND_HALF_UP)


def equity_factor(
    bonus: Decimal, in_need_coverage_ratio: Decimal | None, audit_in_breach: bool
) -> Decimal:
    """The equity rule: ``1 + bonus`` when a published bias audit is not in breach and shows that
    people in need are reached at least as well as others (the lowest ratio of coverage of people
    in need, group to reference, is ≥ 1); otherwise 1. No audit or no in-need column: 1."""
    if bonus < 0:
        raise ValueError("the equity bonus is never negative")
    if audit_in_breach or in_need_coverage_ratio is None or in_need_coverage_ratio < ONE:
        return ONE
    return ONE + bonus


@dataclass(frozen=True, slots=True)
class Inputs:
    price: Decimal  # € per additional outcome
    n: int  # people the estimate is about
    ci_low: Decimal  # lower bound of the 95 % CI of the effect, as a share
    base: Decimal  # base fee of the window, €
    cap: Decimal  # contract cap, €
    paid: Decimal  # already paid under the contract, €
    equity: Decimal = ONE  # 1 or 1 + bonus
    gate: int = 1  # 0 while a bias audit is in breach

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError("N is never negative")
        if self.gate not in (0, 1):
            raise ValueError("the gate is 0 or 1")
        for name in ("price", "base", "cap", "paid"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} is never negative")
        if self.equity < ONE:
            raise ValueError("the equity factor is at least 1")


@dataclass(frozen=True, slots=True)
class Result:
    inputs: Inputs
    outcome_exact: Decimal  # price × N × max(0, L), unrounded
    uncapped: Decimal  # base + outcome × equity × gate, unrounded
    room: Decimal  # cap − paid (never below 0)
    payment: Decimal  # to the cent
    formula_version: str = FORMULA_VERSION

    @property
    def outcome(self) -> Decimal:
        return to_cent(self.outcome_exact)

    @property
    def capped(self) -> bool:
        return self.uncapped > self.room

    @property
    def conclusive_gain(self) -> bool:
        return self.inputs.ci_low > 0

    def substituted(self) -> str:
        """The formula with its numbers, so that anyone can recompute the payment."""
        i = self.inputs
        return (
            f"outcome = price × N × max(0, L) = {_n(i.price)} × {i.n} × max(0, {_n(i.ci_low)}) = {_n(self.outcome)}\n"
            f"payment = min(cap − paid, base + outcome × equity × gate) = "
            f"min({_n(i.cap)} − {_n(i.paid)}, {_n(i.base)} + {_n(self.outcome_exact)} × {_n(i.equity)} × {i.gate}) "
            f"= {_n(self.payment)}  [{self.formula_version}; rounded to the cent, half up]"
        )


def _n(value: Decimal) -> str:
    """Plain decimal notation (never the exponent form)."""
    return format(value, "f")


def compute(inputs: Inputs) -> Result:
    """Apply the formula to one window's inputs."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        lower = max(ZERO, inputs.ci_low)
        outcome = inputs.price * inputs.n * lower
        uncapped = inputs.base + outcome * inputs.equity * inputs.gate
        room = max(ZERO, inputs.cap - inputs.paid)
        payment = to_cent(max(ZERO, min(room, uncapped)))
    return Result(
        inputs=inputs, outcome_exact=outcome, uncapped=uncapped, room=room, payment=payment
    )


def simulate(
    price: Decimal,
    n: int,
    ci_low: Decimal,
    base: Decimal,
    cap: Decimal,
    paid: Decimal = ZERO,
    equity: Decimal = ONE,
    in_breach: bool = False,
) -> Result:
    """The payment simulator: what would an effect with this lower bound pay under this clause?"""
    return compute(
        Inputs(
            price=price,
            n=n,
            ci_low=ci_low,
            base=base,
            cap=cap,
            paid=paid,
            equity=equity,
            gate=0 if in_breach else 1,
        )
    )
