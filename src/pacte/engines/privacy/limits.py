"""Published limits and constants of the differential-privacy engine."""

from __future__ import annotations

from typing import Any, Final, Literal

import opendp.prelude as dp
import polars as pl

dp.enable_features("contrib", "honest-but-curious")
_dp: Any = dp  # OpenDP's Python API is untyped: go through Any explicitly

ENGINE_VERSION: Final = "pacte-privacy/2"
TRUNCATION_META_KEY: Final = b"pacte.truncation"
TRUNCATION_SEED: Final = 0x50AC7E  # public: the order only has to ignore other persons' rows
DEFAULT_RHO: Final = 0.005
MIN_RHO: Final = 1e-6
"""Smallest ρ one query may spend (the proportionality table's finest step, 10⁻⁶). Below it the
noise is useless and its scale (σ ∝ 1/√ρ) would run into the limits of the noise machinery."""
MAX_RHO: Final = 0.1
MAX_NOISE_SCALE: Final = 1e8
"""Largest σ drawn for one statistic, checked *before* any sampling. OpenDP's discrete-Gaussian
sampler is fast at any scale but its output saturates at the integer type's bounds (±2³¹ for a
sum over 32-bit integers: 21 σ away at σ = 10⁸), and a saturated value is not Gaussian noise."""
DISCRETE_ACCURACY_MAX_SCALE: Final = 10_000.0
"""Up to this σ the 95 % margin is OpenDP's exact discrete-Gaussian accuracy, whose cost grows
linearly with σ (it sums the distribution: ~2 s at σ = 10⁶, hours at σ = 10¹⁹). Above, the
continuous Gaussian's closed form rounded up, plus one (the discrete tail is within one unit of
the continuous one at these scales; checked against OpenDP in the tests)."""
MAX_GROUP_BY: Final = 3
MAX_CELLS: Final = 100_000
MAX_AGGREGATES: Final = 10
MAX_FILTERS: Final = 10
MAX_IN_VALUES: Final = 100
ALPHA: Final = 0.05
_SAFETY: Final = 1.0 + 1e-9  # guards against OpenDP's conservative float rounding

AggOp = Literal["count", "sum", "mean"]
FilterOp = Literal["eq", "in"]
Scalar = str | int | bool
Calibration = Literal["closed_form", "resolve"]
Executor = Literal["polars", "opendp", "duckdb", "spark"]  # the last two: exact.run_query_on


_SMALL_INTS: Final = (pl.Int8, pl.Int16, pl.UInt8, pl.UInt16)
_WIDE_UINTS: Final = (pl.UInt32, pl.UInt64)


def _widen(column: str, dtype: pl.DataType) -> pl.Expr:
    """OpenDP 0.16 has no domain for Int8/Int16/UInt8/UInt16 (nor sums over UInt32/64):
    widen them inside the plan, so any file works."""
    if isinstance(dtype, _SMALL_INTS) or dtype in _SMALL_INTS:
        return pl.col(column).cast(pl.Int32)
    if isinstance(dtype, _WIDE_UINTS) or dtype in _WIDE_UINTS:
        return pl.col(column).cast(pl.Int64, strict=False)
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return pl.col(column).cast(pl.String)
    return pl.col(column)
