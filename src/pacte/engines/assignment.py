"""Pre-registered, replayable randomisation (features S2, P2).

Pure module: no Django. The protocol an experiment follows:

1. the analysis plan is fixed and :func:`analysis_plan_hash` is written to the public log;
2. a secret seed is drawn (:func:`new_seed`) and only :func:`commit_seed` (its SHA-256) is
   logged — before any assignment;
3. :func:`assign` allocates units; once the experiment is closed the seed is revealed and
   anyone can :func:`replay` the allocation from (seed, unit ids, strata) alone.

Algorithm of :func:`assign` (version ``ASSIGNMENT_ALGORITHM``):

* every unit gets the key ``HMAC-SHA256(seed, "unit|" + unit_id)``; units are sorted by that
  key inside their stratum — so the input order never matters;
* the sorted units are cut into blocks of ``sum(ratio)`` units; each block receives the arms
  in the proportion given by ``ratio``, in an order given by sorting the block slots by
  ``HMAC-SHA256(seed, "block|" + stratum + "|" + block index + "|" + slot)``. Complete blocks
  are exactly balanced; the last, incomplete block takes a random subset of its slots, so no
  arm is systematically favoured.

:func:`stratified_draw` draws a test panel among volunteers: inside each stratum volunteers are
sorted by ``HMAC-SHA256(seed, "draw|" + id)`` and the first ``target`` are taken.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pacte.engines import canonical

__all__ = [
    "ASSIGNMENT_ALGORITHM",
    "MIN_SEED_BYTES",
    "DrawResult",
    "analysis_plan_hash",
    "assign",
    "commit_seed",
    "new_seed",
    "proportional_targets",
    "replay",
    "stratified_draw",
    "verify_seed",
]

ASSIGNMENT_ALGORITHM = "pacte-hmac-sha256-blocked-v1"
MIN_SEED_BYTES = 16
DEFAULT_STRATUM = ""


# --------------------------------------------------------------------------- hashing


def analysis_plan_hash(plan: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON (RFC 8785, :mod:`pacte.engines.canonical`) of a
    pre-registered analysis plan; NaN and infinities are refused."""
    return canonical.sha256_hex(plan)


def new_seed() -> bytes:
    """A fresh 32-byte secret seed."""
    return secrets.token_bytes(32)


def _check_seed(seed: bytes) -> None:
    if not isinstance(seed, bytes | bytearray):
        raise TypeError("seed must be bytes")
    if len(seed) < MIN_SEED_BYTES:
        raise ValueError(
            f"seed must have at least {MIN_SEED_BYTES} bytes, otherwise its commitment can be "
            "brute-forced and the assignment predicted before it is revealed"
        )


def commit_seed(seed: bytes) -> str:
    """Public commitment to the seed: SHA-256 hex of the raw seed bytes."""
    _check_seed(seed)
    return hashlib.sha256(bytes(seed)).hexdigest()


def verify_seed(seed: bytes, commitment: str) -> bool:
    """True when ``seed`` is the one committed to (constant-time comparison)."""
    try:
        return hmac.compare_digest(commit_seed(seed), commitment.lower())
    except (TypeError, ValueError):
        return False


def _key(seed: bytes, message: str) -> bytes:
    return hmac.digest(seed, message.encode("utf-8"), "sha256")  # one-shot C HMAC-SHA-256


# --------------------------------------------------------------------------- assignment


def _slot_order(seed: bytes, stratum: str, block_index: int, block: int) -> list[int]:
    keys = [_key(seed, f"block|{stratum}|{block_index}|{i}") for i in range(block)]
    return sorted(range(block), key=lambda i: keys[i])


def _check_units(unit_ids: Sequence[str]) -> list[str]:
    ids = [str(u) for u in unit_ids]
    if len(set(ids)) != len(ids):
        raise ValueError("unit ids must be unique")
    return ids


def assign(
    unit_ids: Sequence[str],
    seed: bytes,
    arms: Sequence[str] = ("control", "treatment"),
    ratio: Sequence[int] = (1, 1),
    strata: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Deterministic blocked randomisation, balanced within each stratum.

    Returns ``{unit_id: arm}``. The result depends only on the seed, the *set* of unit ids,
    their strata, ``arms`` and ``ratio`` — not on the order of ``unit_ids``.
    """
    _check_seed(seed)
    ids = _check_units(unit_ids)
    arms = [str(a) for a in arms]
    ratio = [int(r) for r in ratio]
    if len(arms) < 2 or len(set(arms)) != len(arms):
        raise ValueError("at least two distinct arms are required")
    if len(ratio) != len(arms) or any(r < 1 for r in ratio):
        raise ValueError("ratio needs one positive integer per arm")
    if strata is not None:
        missing = [u for u in ids if u not in strata]
        if missing:
            raise ValueError(f"{len(missing)} unit(s) without a stratum, e.g. {missing[0]!r}")

    by_stratum: dict[str, list[str]] = {}
    for u in ids:
        s = str(strata[u]) if strata is not None else DEFAULT_STRATUM
        by_stratum.setdefault(s, []).append(u)

    pattern = [arm for arm, r in zip(arms, ratio, strict=True) for _ in range(r)]
    block = len(pattern)
    result: dict[str, str] = {}
    for stratum in sorted(by_stratum):
        ordered = sorted(by_stratum[stratum], key=lambda u: (_key(seed, f"unit|{u}"), u))
        for b in range(math.ceil(len(ordered) / block)):
            members = ordered[b * block : (b + 1) * block]
            slots = _slot_order(seed, stratum, b, block)
            for unit, slot in zip(members, slots, strict=False):
                result[unit] = pattern[slot]
    return result


def replay(
    unit_ids: Sequence[str],
    seed: bytes,
    commitment: str,
    arms: Sequence[str] = ("control", "treatment"),
    ratio: Sequence[int] = (1, 1),
    strata: Mapping[str, str] | None = None,
    published: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Redo an assignment from a revealed seed after checking it against its commitment.

    With ``published``, also checks that the published allocation is the replayed one.
    Raises ValueError on any mismatch.
    """
    if not verify_seed(seed, commitment):
        raise ValueError("the revealed seed does not match the logged commitment")
    redone = assign(unit_ids, seed, arms=arms, ratio=ratio, strata=strata)
    if published is not None and dict(published) != redone:
        differing = sorted(
            u for u in redone.keys() | published.keys() if redone.get(u) != published.get(u)
        )
        raise ValueError(
            f"published allocation differs from the replay for {len(differing)} unit(s), "
            f"e.g. {differing[0]!r}"
        )
    return redone


# --------------------------------------------------------------------------- panel draw


@dataclass(frozen=True, slots=True)
class DrawResult:
    selected: list[str]
    selected_by_stratum: dict[str, list[str]]
    targets: dict[str, int]
    shortfall: dict[str, int]  # target - available, only strata that could not be filled

    @property
    def complete(self) -> bool:
        return not self.shortfall


def proportional_targets(shares: Mapping[str, float], total: int) -> dict[str, int]:
    """Split ``total`` seats across strata in proportion to ``shares`` (largest remainder).

    Ties on remainders are broken by stratum name, so the split is deterministic.
    """
    if total < 0:
        raise ValueError("total must be non-negative")
    if not shares or any(v < 0 for v in shares.values()) or sum(shares.values()) <= 0:
        raise ValueError("shares must be non-negative with a positive sum")
    whole = sum(shares.values())
    quotas = {k: total * v / whole for k, v in shares.items()}
    seats = {k: math.floor(q) for k, q in quotas.items()}
    left = total - sum(seats.values())
    for k in sorted(quotas, key=lambda k: (-(quotas[k] - seats[k]), k))[:left]:
        seats[k] += 1
    return seats


def stratified_draw(
    volunteers: Sequence[tuple[str, str]],
    targets: Mapping[str, int],
    seed: bytes,
) -> DrawResult:
    """Draw ``targets[stratum]`` volunteers per stratum, reproducibly from the seed.

    ``volunteers`` is a sequence of ``(volunteer_id, stratum)``. Strata absent from
    ``targets`` are not drawn. When a stratum has fewer volunteers than its target, all are
    taken and the missing number is reported in ``shortfall``.
    """
    _check_seed(seed)
    ids = _check_units([v for v, _ in volunteers])
    if any(t < 0 for t in targets.values()):
        raise ValueError("targets must be non-negative")
    pools: dict[str, list[str]] = {}
    for vid, stratum in zip(ids, (str(s) for _, s in volunteers), strict=True):
        pools.setdefault(stratum, []).append(vid)
    selected_by: dict[str, list[str]] = {}
    shortfall: dict[str, int] = {}
    for stratum in sorted(targets):
        want = int(targets[stratum])
        pool = sorted(pools.get(stratum, []), key=lambda v: (_key(seed, f"draw|{v}"), v))
        selected_by[stratum] = pool[:want]
        if len(pool) < want:
            shortfall[stratum] = want - len(pool)
    selected = [v for stratum in sorted(selected_by) for v in selected_by[stratum]]
    return DrawResult(
        selected=selected,
        selected_by_stratum=selected_by,
        targets={k: int(v) for k, v in targets.items()},
        shortfall=shortfall,
    )


# ---------------------------------------------------------------- the allocation as the log writes it

_RANGE_RE = re.compile(r"^(.*?)(\d+)$")


def compact_units(ids: list[str]) -> dict[str, Any]:
    """Log form of the unit ids: a consecutive zero-padded range when it is one, else the list."""
    if len(ids) > 2:
        m = _RANGE_RE.match(ids[0])
        if m:
            prefix, first = m.group(1), m.group(2)
            width, start = len(first), int(first)
            if all(u == f"{prefix}{start + i:0{width}d}" for i, u in enumerate(ids)):
                return {
                    "range": {"prefix": prefix, "start": start, "count": len(ids), "width": width}
                }
    return {"list": ids}


def expand_units(spec: dict[str, Any]) -> list[str]:
    """The unit ids back from their log form (see :func:`compact_units`)."""
    if "range" in spec:
        r = spec["range"]
        return [f"{r['prefix']}{r['start'] + i:0{r['width']}d}" for i in range(r["count"])]
    return [str(u) for u in spec["list"]]


def allocation_digest(allocation: dict[str, str]) -> str:
    """SHA-256 of the allocation's RFC 8785 form, as the log records it."""
    return canonical.sha256_hex(allocation)
