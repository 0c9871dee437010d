from __future__ import annotations

import math

import numpy as np
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
from scipy.stats import norm

from pacte.engines.bias import METRICS, MISSING_GROUP, audit


def _population(
    rng: np.random.Generator,
    sizes: dict[str, int],
    sel: dict[str, float],
    need_sel: dict[str, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """People in need are selected at need_sel[g], others at a rate keeping sel[g] overall."""
    groups, y_true, y_pred, in_need = [], [], [], []
    for g, n in sizes.items():
        need = rng.random(n) < 0.3
        p_other = (sel[g] - 0.3 * need_sel[g]) / 0.7
        pred = np.where(need, rng.random(n) < need_sel[g], rng.random(n) < p_other)
        truth = rng.random(n) < np.where(need, 0.6, 0.3)
        groups.append(np.full(n, g))
        y_true.append(truth)
        y_pred.append(pred)
        in_need.append(need)
    return (
        np.concatenate(y_true).astype(int),
        np.concatenate(y_pred).astype(int),
        np.concatenate(groups),
        np.concatenate(in_need).astype(int),
    )


def test_point_metrics_equal_metricframe_on_raw_rows() -> None:
    rng = np.random.default_rng(0)
    n = 5000
    groups = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    yt = rng.integers(0, 2, n)
    yp = (rng.random(n) < np.where(groups == "c", 0.3, 0.5)).astype(int)
    need = rng.integers(0, 2, n)
    result = audit(yt, yp, groups, in_need=need, n_bootstrap=0)
    raw = MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive_rate,
        },
        y_true=yt,
        y_pred=yp,
        sensitive_features=groups,
    ).by_group
    for g in ("a", "b", "c"):
        for m in ("selection_rate", "true_positive_rate", "false_positive_rate"):
            assert result.cell(g, m).value == pytest.approx(float(raw.loc[g, m]))
        mask = groups == g
        assert result.cell(g, "outcome_rate").value == pytest.approx(yt[mask].mean())
        assert result.cell(g, "coverage_in_need").value == pytest.approx(
            yp[mask & (need == 1)].mean()
        )
    assert result.reference_group == "a"  # largest group
    assert result.metrics == METRICS
    c = result.cell("c", "selection_rate")
    assert c.ratio == pytest.approx(c.value / result.cell("a", "selection_rate").value)
    assert c.ci_low is None  # no bootstrap requested


def test_passes_80_percent_rule_on_selection_but_fails_on_coverage() -> None:
    rng = np.random.default_rng(42)
    sizes = {"urbain": 20_000, "rural": 8_000}
    # same overall selection (~40 %), but rural people in need are rarely reached
    yt, yp, groups, need = _population(
        rng, sizes, sel={"urbain": 0.40, "rural": 0.38}, need_sel={"urbain": 0.60, "rural": 0.25}
    )
    result = audit(yt, yp, groups, in_need=need, seed=1)
    assert result.reference_group == "urbain"
    sel = result.cell("rural", "selection_rate")
    cov = result.cell("rural", "coverage_in_need")
    assert sel.status == "ok"
    assert 0.8 <= sel.ratio <= 1.25  # type: ignore[operator]
    assert cov.status == "breach"
    assert cov.ratio == pytest.approx(0.25 / 0.60, abs=0.05)
    assert cov in result.breaches
    assert cov in result.confirmed_breaches
    assert all(b.metric != "selection_rate" for b in result.breaches)


def test_small_group_is_insufficient_never_fair() -> None:
    rng = np.random.default_rng(3)
    n_big, n_small = 2000, 12
    groups = np.array(["majorité"] * n_big + ["petit groupe"] * n_small)
    yt = rng.integers(0, 2, groups.size)
    yp = rng.integers(0, 2, groups.size)
    result = audit(yt, yp, groups, min_group_size=30)
    for m in result.metrics:
        cell = result.cell("petit groupe", m)
        assert cell.status == "insufficient_data"
        assert cell.label_fr == "données insuffisantes"
    assert result.status_of("majorité", "selection_rate") == "ok"
    assert len(result.insufficient) == len(result.metrics)
    assert "coverage_in_need" not in result.metrics  # no in_need given


def test_metric_denominator_checked_not_just_group_size() -> None:
    # 100 people, but only 5 with y_true == 1: TPR is insufficient, selection is not
    groups = np.array(["a"] * 200 + ["b"] * 100)
    yt = np.array([1, 0] * 100 + [1] * 5 + [0] * 95)
    yp = np.array([1, 0, 0, 1] * 50 + [1, 0] * 50)
    result = audit(yt, yp, groups, n_bootstrap=50)
    assert result.status_of("b", "true_positive_rate") == "insufficient_data"
    assert result.status_of("b", "selection_rate") == "ok"


def test_stricter_band_from_the_pact() -> None:
    rng = np.random.default_rng(5)
    yt, yp, groups, need = _population(
        rng, {"a": 10_000, "b": 10_000}, {"a": 0.50, "b": 0.43}, {"a": 0.5, "b": 0.43}
    )
    default = audit(yt, yp, groups, in_need=need, reference_group="a")
    strict = audit(yt, yp, groups, in_need=need, reference_group="a", band=(0.9, 1.1))
    assert default.status_of("b", "selection_rate") == "ok"
    assert strict.status_of("b", "selection_rate") == "breach"
    assert strict.band == (0.9, 1.1)


def test_reference_group_choice_and_reference_cells() -> None:
    rng = np.random.default_rng(8)
    groups = rng.choice(["x", "y"], 1000)
    yt = rng.integers(0, 2, 1000)
    yp = rng.integers(0, 2, 1000)
    result = audit(yt, yp, groups, reference_group="y")
    ref = result.cell("y", "selection_rate")
    assert ref.is_reference and ref.ratio == 1.0
    with pytest.raises(ValueError):
        audit(yt, yp, groups, reference_group="z")


def test_bootstrap_interval_matches_delta_method_and_is_reproducible() -> None:
    rng = np.random.default_rng(11)
    n1, n2 = 40_000, 6_000
    groups = np.array(["ref"] * n1 + ["g"] * n2)
    yp = np.concatenate([rng.random(n1) < 0.30, rng.random(n2) < 0.24]).astype(int)
    yt = rng.integers(0, 2, n1 + n2)
    r1 = audit(yt, yp, groups, n_bootstrap=2000, seed=9)
    r2 = audit(yt, yp, groups, n_bootstrap=2000, seed=9)
    c = r1.cell("g", "selection_rate")
    assert c == r2.cell("g", "selection_rate")
    assert c.ci_low is not None and c.ci_high is not None and c.ratio is not None
    assert c.ci_low < c.ratio < c.ci_high
    # delta method on the log ratio of two independent proportions
    p1 = yp[:n1].mean()
    p2 = yp[n1:].mean()
    se = math.sqrt((1 - p1) / (n1 * p1) + (1 - p2) / (n2 * p2))
    z = norm.ppf(0.975)
    assert c.ci_low == pytest.approx(c.ratio * math.exp(-z * se), rel=0.02)
    assert c.ci_high == pytest.approx(c.ratio * math.exp(z * se), rel=0.02)


def test_rows_and_chart_rows() -> None:
    rng = np.random.default_rng(2)
    groups = rng.choice(["a", "b"], 500)
    result = audit(rng.integers(0, 2, 500), rng.integers(0, 2, 500), groups, n_bootstrap=20)
    rows = result.rows()
    assert len(rows) == 2 * len(result.metrics)
    assert {"group", "metric", "ratio", "ci_low", "ci_high", "status"} <= rows[0].keys()
    chart = result.chart_rows("selection_rate")
    assert [r[0] for r in chart] == ["a", "b"]


def test_missing_group_labels_and_validation() -> None:
    groups = np.array(["a"] * 50 + [None] * 50, dtype=object)
    yt = np.zeros(100, dtype=int)
    yp = np.ones(100, dtype=int)
    result = audit(yt, yp, groups, n_bootstrap=10)
    assert {g.group for g in result.groups} == {"a", MISSING_GROUP}
    with pytest.raises(ValueError):
        audit([0, 2], [0, 1], ["a", "b"])
    with pytest.raises(ValueError):
        audit([0, 1], [0, 1], ["a"])
    with pytest.raises(ValueError):
        audit([0, 1], [0, 1], ["a", "b"], band=(1.1, 1.2))


def test_large_audit_runs_on_counts() -> None:
    rng = np.random.default_rng(0)
    n = 300_000
    groups = rng.choice(list("ABCDE"), n)
    result = audit(
        rng.integers(0, 2, n), rng.integers(0, 2, n), groups, in_need=rng.integers(0, 2, n)
    )
    assert len(result.cells) == 5 * 5
    assert not result.breaches


def test_integer_and_categorical_group_labels() -> None:
    import pandas as pd

    rng = np.random.default_rng(4)
    codes = rng.integers(0, 3, 600)
    yt, yp = rng.integers(0, 2, 600), rng.integers(0, 2, 600)
    by_int = audit(yt, yp, codes, n_bootstrap=20)
    by_cat = audit(yt, yp, pd.Series(codes.astype(str), dtype="category"), n_bootstrap=20)
    assert [g.group for g in by_int.groups] == ["0", "1", "2"]
    assert by_int.cells == by_cat.cells
