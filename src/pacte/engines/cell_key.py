"""Cell-key perturbation for the secure room (tier 4), after ABS TableBuilder and the UK ONS.

Pure module (no Django, no DuckDB).

Every person gets a fixed *record key*, uniform on ``[0, 2**32)``: a keyed hash of the person
identifier with a secret drawn at ingestion for the dataset version (it never leaves the
platform). The *cell key* of a published value is the sum of the record keys of the rows that
contribute to it, modulo ``2**32``. Two things are read from it:

* its top 8 bits (``0..255``), the column of the published **perturbation table**
  (:data:`PTABLE`): a count ``n`` is published as ``n + perturbation(n, cell_key)``;
* its low 24 bits, a fraction ``u`` in ``[0, 1)`` used for magnitudes (see :func:`magnitude_noise`).

The same set of contributing rows always gives the same cell key, hence the same published
value (no averaging by repetition); two tables whose cells differ by one person have
independent-looking cell keys, so their difference is that person plus the difference of two
perturbations, which is zero only with the probability :func:`same_perturbation_rate` gives.

The table: maximum perturbation ``D = 2``; for counts ``n >= 3`` the perturbation is
``-2, -1, 0, +1, +2`` with probabilities ``21, 43, 128, 43, 21`` (in 256ths): mean 0,
variance ``254/256`` (about 1), mean absolute perturbation ``170/256`` (about 0.66). For
``n = 2`` only ``-1, 0, +1`` (``43, 170, 43``), for ``n = 1`` only ``0``; 0 stays 0 (a zero
never becomes non-zero). Every row is symmetric, so counts stay unbiased. In practice counts
below the persons threshold (11) are suppressed before perturbation, so published counts are
at least 9.

Magnitudes (``SUM``, ``AVG``): ``SUM(x)`` is published as ``SUM(x) + m * (p + u - 1/2)`` where
``p`` is the perturbation of the general row (``n >= 3``) for the same cell key, ``u`` the
fraction above and ``m`` the largest absolute contribution of one row in the cell; ``AVG(x)``
as ``AVG(x) + m * (p + u - 1/2) / COUNT(x)`` (the perturbed sum over the true count). The noise
has mean 0 and a standard deviation of about ``1.04 m``: one contributor, whatever its value,
is hidden in noise of its own size. This is the ABS approach for continuous variables
(perturbation proportional to the top contribution, driven by the cell key).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

KEY_BITS: Final = 32
KEY_MODULUS: Final = 1 << KEY_BITS
#: Number of columns of the perturbation table (the top 8 bits of the cell key).
PTABLE_COLUMNS: Final = 256
_LOW_BITS: Final = KEY_BITS - 8
MAX_PERTURBATION: Final = 2

#: Weights (in 256ths) of each perturbation, by count category: 1, 2 and "3 or more".
PTABLE: Final[Mapping[int, tuple[tuple[int, int], ...]]] = {
    1: ((0, 256),),
    2: ((-1, 43), (0, 170), (1, 43)),
    3: ((-2, 21), (-1, 43), (0, 128), (1, 43), (2, 21)),
}


def _row(count: int) -> tuple[tuple[int, int], ...]:
    if count <= 0:
        return ((0, PTABLE_COLUMNS),)
    return PTABLE[min(count, 3)]


def _check_table() -> None:
    for row in PTABLE.values():
        if sum(w for _, w in row) != PTABLE_COLUMNS or sum(p * w for p, w in row) != 0:
            raise AssertionError("the perturbation table must be unbiased and complete")


_check_table()


def cell_key(key_sum: int) -> int:
    """The cell key from the (unbounded) sum of the contributing rows' record keys."""
    return int(key_sum) % KEY_MODULUS


def perturbation(count: int, key: int) -> int:
    """Perturbation of a count ``count`` whose cell key is ``key`` (deterministic)."""
    column = (key % KEY_MODULUS) >> _LOW_BITS
    upper = 0
    for value, weight in _row(count):
        upper += weight
        if column < upper:
            return value
    raise AssertionError("unreachable: the table rows sum to 256")


def fraction(key: int) -> float:
    """The low 24 bits of the cell key as a fraction in ``[0, 1)``."""
    return ((key % KEY_MODULUS) & ((1 << _LOW_BITS) - 1)) / float(1 << _LOW_BITS)


def magnitude_noise(key: int) -> float:
    """Multiplier of the largest contribution for a magnitude cell: ``p + u - 1/2``."""
    return perturbation(3, key) + fraction(key) - 0.5


def probabilities(count: int) -> dict[int, float]:
    return {value: weight / PTABLE_COLUMNS for value, weight in _row(count)}


def variance(count: int) -> float:
    return sum(p * p * w for p, w in _row(count)) / PTABLE_COLUMNS


def mean_absolute(count: int) -> float:
    return sum(abs(p) * w for p, w in _row(count)) / PTABLE_COLUMNS


def same_perturbation_rate(count_a: int, count_b: int) -> float:
    """Probability that two counts with independent uniform cell keys get the same perturbation.

    This is how often the difference of two published counts equals the true difference
    (e.g. one person's contribution), when the two cells differ by at least one record key.
    """
    a = probabilities(count_a)
    b = probabilities(count_b)
    return sum(a[p] * b.get(p, 0.0) for p in a)


def describe() -> dict[str, Any]:
    """The published parameters (rules page and every secure-room answer)."""
    return {
        "method": "cell-key (ABS TableBuilder / ONS)",
        "record_key": f"uniform on [0, 2^{KEY_BITS}), fixed per person and dataset version",
        "cell_key": f"sum of the contributing rows' record keys mod 2^{KEY_BITS}; "
        "top 8 bits select the table column",
        "max_perturbation": MAX_PERTURBATION,
        "table": {
            ("≥3" if count == 3 else str(count)): {str(p): w for p, w in row}
            for count, row in PTABLE.items()
        },
        "table_denominator": PTABLE_COLUMNS,
        "variance": round(variance(3), 4),
        "mean_absolute_perturbation": round(mean_absolute(3), 4),
        "magnitudes": "SUM(x) + m·(p + u − ½), AVG(x) + m·(p + u − ½)/COUNT(x); m = largest |x| "
        "of one contributing row, p from the table (row ≥3), u = low 24 bits of the cell key / 2^24",
    }
