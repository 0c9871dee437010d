from __future__ import annotations

import hashlib
import hmac
import random
from collections import Counter

import pytest

from pacte.engines.assignment import (
    MIN_SEED_BYTES,
    analysis_plan_hash,
    assign,
    commit_seed,
    new_seed,
    proportional_targets,
    replay,
    stratified_draw,
    verify_seed,
)

SEED = bytes(range(32))
OTHER = bytes(range(1, 33))


def test_plan_hash_is_canonical_sha256() -> None:
    plan = {"résultat": "retour à l'emploi", "fenêtre_mois": 6, "mde": 0.02, "b": [1, 2]}
    expected = hashlib.sha256(
        '{"b":[1,2],"fenêtre_mois":6,"mde":0.02,"résultat":"retour à l\'emploi"}'.encode()
    ).hexdigest()
    assert analysis_plan_hash(plan) == expected
    reordered = {"b": [1, 2], "mde": 0.02, "fenêtre_mois": 6, "résultat": "retour à l'emploi"}
    assert analysis_plan_hash(reordered) == expected
    assert analysis_plan_hash({**plan, "mde": 0.03}) != expected
    # RFC 8785 numbers: 2.0 is written 2, 1e-07 is written 1e-7
    assert (
        analysis_plan_hash({"mde": 2.0, "alpha": 1e-07})
        == hashlib.sha256(b'{"alpha":1e-7,"mde":2}').hexdigest()
    )
    with pytest.raises(ValueError):
        analysis_plan_hash({"x": float("nan")})


def test_seed_commitment() -> None:
    c = commit_seed(SEED)
    assert c == hashlib.sha256(SEED).hexdigest()
    assert verify_seed(SEED, c)
    assert verify_seed(SEED, c.upper())
    assert not verify_seed(OTHER, c)
    assert not verify_seed(b"short", c)
    with pytest.raises(ValueError):
        commit_seed(b"x" * (MIN_SEED_BYTES - 1))
    assert len(new_seed()) == 32 and new_seed() != new_seed()


def _reference_assign(ids: list[str], seed: bytes) -> dict[str, str]:
    """Independent re-implementation of the documented algorithm, 1:1, one stratum."""

    def k(msg: str) -> bytes:
        return hmac.new(seed, msg.encode(), hashlib.sha256).digest()

    ordered = sorted(ids, key=lambda u: k(f"unit|{u}"))
    out: dict[str, str] = {}
    pattern = ["control", "treatment"]
    for b in range(0, len(ordered), 2):
        slots = sorted(range(2), key=lambda i: k(f"block||{b // 2}|{i}"))
        for unit, slot in zip(ordered[b : b + 2], slots, strict=False):
            out[unit] = pattern[slot]
    return out


def test_assignment_follows_documented_algorithm() -> None:
    ids = [f"u{i}" for i in range(101)]
    assert assign(ids, SEED) == _reference_assign(ids, SEED)


def test_assignment_is_order_independent_and_seed_dependent() -> None:
    ids = [f"personne-{i:04d}" for i in range(500)]
    a = assign(ids, SEED)
    shuffled = ids[:]
    random.Random(4).shuffle(shuffled)
    assert assign(shuffled, SEED) == a
    assert assign(tuple(reversed(ids)), SEED) == a
    b = assign(ids, OTHER)
    assert a != b
    assert Counter(a.values()) == {"control": 250, "treatment": 250}


def test_balanced_within_strata() -> None:
    ids = [f"u{i}" for i in range(1001)]
    strata = {u: ("nord", "sud", "est")[i % 3] for i, u in enumerate(ids)}
    strata.update({f"u{i}": "ouest" for i in range(5)})
    result = assign(ids, SEED, strata=strata)
    assert set(result) == set(ids)
    for s in set(strata.values()):
        counts = Counter(result[u] for u in ids if strata[u] == s)
        assert abs(counts["control"] - counts["treatment"]) <= 1


def test_unequal_ratio_and_three_arms() -> None:
    ids = [f"u{i}" for i in range(300)]
    result = assign(ids, SEED, arms=("témoin", "a", "b"), ratio=(2, 1, 1))
    assert Counter(result.values()) == {"témoin": 150, "a": 75, "b": 75}


def test_incomplete_blocks_do_not_favour_an_arm() -> None:
    # 400 strata of one unit each: everything is in an incomplete block
    ids = [f"u{i}" for i in range(400)]
    strata = {u: u for u in ids}
    treated = sum(1 for v in assign(ids, SEED, strata=strata).values() if v == "treatment")
    assert 160 < treated < 240


def test_assignment_input_validation() -> None:
    with pytest.raises(ValueError):
        assign(["a", "a"], SEED)
    with pytest.raises(ValueError):
        assign(["a"], b"short")
    with pytest.raises(ValueError):
        assign(["a", "b"], SEED, strata={"a": "x"})
    with pytest.raises(ValueError):
        assign(["a"], SEED, arms=("x", "x"))
    with pytest.raises(ValueError):
        assign(["a"], SEED, ratio=(1, 0))


def test_replay() -> None:
    ids = [f"u{i}" for i in range(50)]
    strata = {u: str(i % 2) for i, u in enumerate(ids)}
    published = assign(ids, SEED, strata=strata)
    c = commit_seed(SEED)
    assert replay(list(reversed(ids)), SEED, c, strata=strata, published=published) == published
    with pytest.raises(ValueError, match="commitment"):
        replay(ids, OTHER, c, strata=strata)
    tampered = dict(published)
    tampered["u0"] = "treatment" if published["u0"] == "control" else "control"
    with pytest.raises(ValueError, match="differs"):
        replay(ids, SEED, c, strata=strata, published=tampered)


def test_stratified_draw_reproducible_with_shortfall() -> None:
    volunteers = [(f"v{i}", ("18-25", "26-64", "65+")[i % 3]) for i in range(90)]
    volunteers += [(f"w{i}", "rural") for i in range(4)]
    targets = {"18-25": 10, "26-64": 10, "65+": 5, "rural": 6}
    r1 = stratified_draw(volunteers, targets, SEED)
    r2 = stratified_draw(list(reversed(volunteers)), targets, SEED)
    assert r1 == r2
    assert len(r1.selected) == 10 + 10 + 5 + 4
    assert len(set(r1.selected)) == len(r1.selected)
    assert r1.shortfall == {"rural": 2}
    assert not r1.complete
    assert {len(v) for k, v in r1.selected_by_stratum.items() if k != "rural"} == {10, 5}
    r3 = stratified_draw(volunteers, targets, OTHER)
    assert r3.selected != r1.selected
    # the draw depends only on each stratum's own pool
    fewer = [v for v in volunteers if v[1] != "65+"]
    r4 = stratified_draw(fewer, {"18-25": 10}, SEED)
    assert r4.selected == r1.selected_by_stratum["18-25"]


def test_proportional_targets() -> None:
    t = proportional_targets({"a": 0.5, "b": 0.3, "c": 0.2}, 11)
    assert sum(t.values()) == 11
    assert t == {"a": 6, "b": 3, "c": 2}
    assert proportional_targets({"x": 1, "y": 1, "z": 1}, 10) == {"x": 4, "y": 3, "z": 3}
    with pytest.raises(ValueError):
        proportional_targets({}, 3)
