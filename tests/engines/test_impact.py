from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm, t

from pacte.engines.impact import (
    AudienceMetricRefused,
    Estimate,
    difference_in_differences,
    difference_in_proportions,
    ensure_social_outcome,
    format_number_fr,
    is_audience_metric,
    minimum_detectable_effect,
    power_for,
    required_sample_size,
    risk_ratio,
    welch_difference_in_means,
)


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    p = x / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denom = 1 + z * z / n
    return (centre - half) / denom, (centre + half) / denom


def _newcombe_by_hand(x1: int, n1: int, x2: int, n2: int, alpha: float) -> tuple[float, float]:
    z = norm.ppf(1 - alpha / 2)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1, z)
    l2, u2 = _wilson(x2, n2, z)
    d = p1 - p2
    return (
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


# ------------------------------------------------------------------ reference case


def test_reference_case_100k_per_arm() -> None:
    est = difference_in_proportions(22_100, 100_000, 19_990, 100_000)
    shown, low, high = est.displayed()
    assert round(shown, 2) == 2.11
    assert round(low, 2) == 1.75
    assert round(high, 2) == 2.47
    assert est.conclusive
    assert est.p_value < 1e-20
    assert est.n_treatment == est.n_control == 100_000
    assert est.sentence_fr() == (
        "Effet estimé : +2,11 points (IC 95 % : +1,75 à +2,47). Le résultat est concluant."
    )


def test_reference_case_1k_per_arm_is_inconclusive() -> None:
    est = difference_in_proportions(221, 1_000, 200, 1_000)
    _, low, high = est.displayed()
    # design note: "about [-1.6, +5.6]"; Newcombe gives [-1.47, +5.67]
    assert low == pytest.approx(-1.5, abs=0.15)
    assert high == pytest.approx(5.6, abs=0.15)
    assert not est.conclusive
    assert est.p_value > 0.05
    assert est.sentence_fr().endswith("L'intervalle contient zéro : le résultat est non concluant.")
    assert "\u22121,47" in est.sentence_fr()


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "alpha"),
    [(22_100, 100_000, 19_990, 100_000, 0.05), (221, 1000, 200, 1000, 0.05), (7, 40, 15, 52, 0.1)],
)
def test_newcombe_matches_hand_formula(x1: int, n1: int, x2: int, n2: int, alpha: float) -> None:
    est = difference_in_proportions(x1, n1, x2, n2, alpha=alpha)
    low, high = _newcombe_by_hand(x1, n1, x2, n2, alpha)
    assert est.ci_low == pytest.approx(low, abs=1e-10)
    assert est.ci_high == pytest.approx(high, abs=1e-10)
    assert est.estimate == pytest.approx(x1 / n1 - x2 / n2)


def test_negative_conclusive_result_is_stated() -> None:
    est = difference_in_proportions(19_990, 100_000, 22_100, 100_000)
    assert est.conclusive
    s = est.sentence_fr()
    assert s.startswith("Effet estimé : \u22122,11 points (IC 95 % : \u22122,47 à \u22121,75).")
    assert "l'effet est négatif" in s


def test_alpha_changes_level_in_sentence() -> None:
    est = difference_in_proportions(221, 1000, 200, 1000, alpha=0.1)
    assert "IC 90 %" in est.sentence_fr()
    assert "IC 93 %" in difference_in_proportions(221, 1000, 200, 1000, alpha=0.07).sentence_fr()
    assert "IC 99,5 %" in difference_in_proportions(221, 1000, 200, 1000, alpha=0.005).sentence_fr()


def test_invalid_counts() -> None:
    with pytest.raises(ValueError):
        difference_in_proportions(11, 10, 1, 10)
    with pytest.raises(ValueError):
        difference_in_proportions(1, 0, 1, 10)


# ------------------------------------------------------------------ ratio


def test_risk_ratio() -> None:
    est = risk_ratio(22_100, 100_000, 19_990, 100_000)
    assert est.estimate == pytest.approx(0.221 / 0.1999)
    assert est.ci_low < est.estimate < est.ci_high
    assert est.conclusive
    assert est.kind == "ratio"
    small = risk_ratio(221, 1000, 200, 1000)
    assert small.ci_low < 1 < small.ci_high
    assert not small.conclusive
    assert "contient un" in small.sentence_fr()
    assert small.sentence_fr().startswith("Rapport estimé : 1,10 (IC 95 % :")


# ------------------------------------------------------------------ Welch


def test_welch_matches_hand_computation() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(10.0, 3.0, 57)
    b = rng.normal(9.0, 1.0, 31)
    est = welch_difference_in_means(a, b, unit="jours")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    d = a.mean() - b.mean()
    q = t.ppf(0.975, df)
    assert est.estimate == pytest.approx(d)
    assert est.ci_low == pytest.approx(d - q * se)
    assert est.ci_high == pytest.approx(d + q * se)
    assert est.p_value == pytest.approx(2 * t.sf(abs(d / se), df))
    assert " jours " in est.sentence_fr()


def test_welch_rejects_nan() -> None:
    with pytest.raises(ValueError):
        welch_difference_in_means([1.0, float("nan"), 2.0], [1.0, 2.0])


# ------------------------------------------------------------------ DiD


def _did_panel(rng: np.random.Generator, n: int, effect: float) -> dict[str, np.ndarray]:
    treated = rng.integers(0, 2, n)
    post = rng.integers(0, 2, n)
    cluster = rng.integers(0, 40, n)
    y = 1.0 + 0.5 * treated + 0.3 * post + effect * treated * post + rng.normal(0, 1, n)
    y += 0.2 * (cluster / 40)
    return {"y": y, "treated": treated, "post": post, "cluster": cluster}


def test_did_matches_cell_means_and_hc1() -> None:
    rng = np.random.default_rng(7)
    d = _did_panel(rng, 4000, 0.8)
    est = difference_in_differences(d["y"], d["treated"], d["post"])
    y, tr, po = d["y"], d["treated"], d["post"]

    def m(a: int, b: int) -> float:
        return float(y[(tr == a) & (po == b)].mean())

    by_hand = (m(1, 1) - m(1, 0)) - (m(0, 1) - m(0, 0))
    assert est.estimate == pytest.approx(by_hand)
    assert est.conclusive
    assert est.ci_low < 0.8 < est.ci_high
    assert "HC1" in est.method
    clustered = difference_in_differences(y, tr, po, cluster=d["cluster"])
    assert clustered.estimate == pytest.approx(est.estimate)
    assert "grappe" in clustered.method


def test_did_with_dataframe_columns() -> None:
    import pandas as pd

    rng = np.random.default_rng(3)
    df = pd.DataFrame(_did_panel(rng, 800, 0.0))
    est = difference_in_differences(df["y"], df["treated"], df["post"], cluster=df["cluster"])
    assert est.n_treatment + est.n_control == 800


def test_did_requires_all_cells() -> None:
    with pytest.raises(ValueError):
        difference_in_differences([1.0, 2.0, 3.0], [0, 0, 1], [0, 1, 0])


# ------------------------------------------------------------------ power


def test_required_sample_size_against_formula() -> None:
    n = required_sample_size(0.20, 0.02)
    h = 2 * math.asin(math.sqrt(0.22)) - 2 * math.asin(math.sqrt(0.20))
    per_arm = 2 * ((norm.ppf(0.975) + norm.ppf(0.8)) / h) ** 2  # Cohen's h, equal arms
    # statsmodels also counts the (negligible) opposite tail; agree within one unit
    assert 0 <= n.n_control - per_arm <= 1
    assert n.n_treatment == n.n_control
    assert n.total == n.n_treatment + n.n_control
    unbalanced = required_sample_size(0.20, 0.02, ratio=2.0)
    assert unbalanced.n_treatment == pytest.approx(2 * unbalanced.n_control, abs=2)


def test_power_and_mde_are_consistent() -> None:
    n = required_sample_size(0.20, 0.02)
    assert power_for(n.n_treatment, n.n_control, 0.20, 0.02) == pytest.approx(0.8, abs=2e-3)
    mde = minimum_detectable_effect(n.n_treatment, n.n_control, 0.20)
    assert mde == pytest.approx(0.02, abs=2e-4)
    assert power_for(n.n_treatment, n.n_control, 0.20, mde) == pytest.approx(0.8, abs=1e-6)
    # reference case: 1,000 per arm cannot detect 2 points
    assert minimum_detectable_effect(1000, 1000, 0.1999) > 0.05


def test_mde_impossible() -> None:
    with pytest.raises(ValueError):
        minimum_detectable_effect(2, 2, 0.5, power=0.99)


# ------------------------------------------------------------------ audience refusal


@pytest.mark.parametrize(
    "label",
    [
        "Nombre de visites",
        "Pages vues par mois",
        "Téléchargements de l'application",
        "TELECHARGEMENTS",
        "inscriptions à la newsletter",
        "Clics sur le bouton",
        "Utilisateurs actifs",
        "utilisateurs  actifs mensuels",
        "Monthly active users",
        "MAU",
        "page views",
        "Sign-ups",
        "downloads",
        "impressions",
        "sessions",
    ],
)
def test_audience_metrics_detected(label: str) -> None:
    assert is_audience_metric(label)
    with pytest.raises(AudienceMetricRefused) as info:
        ensure_social_outcome(label)
    assert isinstance(info.value, ValueError)
    assert "impact social" in str(info.value)


@pytest.mark.parametrize(
    "label",
    [
        "Retour à l'emploi durable à 6 mois",
        "Accès effectif au RSA",
        "Démarches prévues abouties",
        "Taux de respect des engagements",
        "Damage to mausoleum",  # 'mau' only as a whole word
    ],
)
def test_social_outcomes_accepted(label: str) -> None:
    assert not is_audience_metric(label)
    assert ensure_social_outcome(label) == label


# ------------------------------------------------------------------ misc


def test_format_number_fr() -> None:
    assert format_number_fr(2.1149, signed=True) == "+2,11"
    assert format_number_fr(-1234.5, 1) == "\u22121\u202f234,5"
    assert format_number_fr(-0.001) == "0,00"
    assert format_number_fr(float("nan")) == "non défini"


def test_as_dict() -> None:
    est = difference_in_proportions(221, 1000, 200, 1000)
    d = est.as_dict()
    assert d["conclusive"] is False
    assert d["n_treatment"] == 1000
    assert isinstance(est, Estimate)
