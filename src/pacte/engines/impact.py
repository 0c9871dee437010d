"""Impact evaluation engine (feature C4): effect estimates, power, audience-metric refusal.

Pure module: no Django. Every statistic comes from statsmodels or SciPy; this module only
shapes inputs and outputs, and writes the plain-French sentence shown on public pages.

Conventions
-----------
* Proportions are fractions (0.221), differences in proportions are stored as fractions too
  (0.0211) and *displayed* in percentage points (``Estimate.scale == 100``).
* ``conclusive`` means the confidence interval excludes the null value: 0 for differences,
  1 for ratios. A non-conclusive result is published like the others (seed 003: null and
  negative results are results).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    test_proportions_2indep,
)

__all__ = [
    "AUDIENCE_TERMS",
    "AudienceMetricRefused",
    "Estimate",
    "SampleSize",
    "difference_in_differences",
    "difference_in_proportions",
    "ensure_social_outcome",
    "format_number_fr",
    "is_audience_metric",
    "minimum_detectable_effect",
    "power_for",
    "required_sample_size",
    "risk_ratio",
    "welch_difference_in_means",
]

MINUS = "\u2212"  # typographic minus sign, used in French output

Kind = Literal["difference", "ratio"]


# --------------------------------------------------------------------------- formatting


def format_number_fr(value: float, decimals: int = 2, *, signed: bool = False) -> str:
    """Format a number the French way: decimal comma, thin-space thousands, true minus sign.

    >>> format_number_fr(2.1149, signed=True)
    '+2,11'
    >>> format_number_fr(-1234.5, 1)
    '−1\u202f234,5'
    """
    if math.isnan(value):
        return "non défini"
    if math.isinf(value):
        return "+∞" if value > 0 else f"{MINUS}∞"
    rounded = round(value, decimals)
    if rounded == 0:
        rounded = 0.0  # avoid "-0,00"
    body = f"{abs(rounded):,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    if rounded < 0:
        return MINUS + body
    return ("+" + body) if signed else body


# --------------------------------------------------------------------------- estimates


@dataclass(frozen=True, slots=True)
class Estimate:
    """One effect estimate with its interval, as published on an impact page."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    n_treatment: int
    n_control: int
    method: str
    estimand: str
    alpha: float = 0.05
    kind: Kind = "difference"
    unit: str = "points"
    scale: float = 100.0  # multiply stored values by this for display (fraction -> points)

    @property
    def null_value(self) -> float:
        return 1.0 if self.kind == "ratio" else 0.0

    @property
    def conclusive(self) -> bool:
        """True when the interval excludes the null value (0 for differences, 1 for ratios)."""
        null = self.null_value
        return bool(self.ci_low > null or self.ci_high < null)

    @property
    def confidence_level(self) -> float:
        return 1.0 - self.alpha

    def displayed(self) -> tuple[float, float, float]:
        """(estimate, low, high) in display units (points for differences in proportions)."""
        return (self.estimate * self.scale, self.ci_low * self.scale, self.ci_high * self.scale)

    def sentence_fr(self, decimals: int = 2) -> str:
        """Plain-French sentence, e.g.
        ``Effet estimé : +2,11 points (IC 95 % : +1,75 à +2,47). Le résultat est concluant.``
        """
        est, low, high = self.displayed()
        pct = round(100 * self.confidence_level, 1)
        level = format_number_fr(pct, 0 if pct.is_integer() else 1)
        unit = f" {self.unit}" if self.unit else ""
        if self.kind == "ratio":
            head = (
                f"Rapport estimé : {format_number_fr(est, decimals)} "
                f"(IC {level} % : {format_number_fr(low, decimals)} à "
                f"{format_number_fr(high, decimals)})."
            )
            null_word = "un"
            negative = est < 1
        else:
            head = (
                f"Effet estimé : {format_number_fr(est, decimals, signed=True)}{unit} "
                f"(IC {level} % : {format_number_fr(low, decimals, signed=True)} à "
                f"{format_number_fr(high, decimals, signed=True)})."
            )
            null_word = "zéro"
            negative = est < 0
        if not self.conclusive:
            return f"{head} L'intervalle contient {null_word} : le résultat est non concluant."
        if negative:
            return f"{head} Le résultat est concluant : l'effet est négatif."
        return f"{head} Le résultat est concluant."

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["conclusive"] = self.conclusive
        data["sentence_fr"] = self.sentence_fr()
        return data


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


def _check_counts(success: int, n: int, arm: str) -> None:
    if n <= 0:
        raise ValueError(f"{arm}: the arm must contain at least one unit (n={n})")
    if not 0 <= success <= n:
        raise ValueError(f"{arm}: successes must be between 0 and n (got {success} of {n})")


def difference_in_proportions(
    success_t: int,
    n_t: int,
    success_c: int,
    n_c: int,
    alpha: float = 0.05,
    *,
    estimand: str = "intention de traiter (ITT)",
) -> Estimate:
    """p_t - p_c with Newcombe's hybrid score interval and a score test p-value."""
    _check_alpha(alpha)
    _check_counts(success_t, n_t, "treatment")
    _check_counts(success_c, n_c, "control")
    low, high = confint_proportions_2indep(
        success_t, n_t, success_c, n_c, method="newcomb", compare="diff", alpha=alpha
    )
    test = test_proportions_2indep(success_t, n_t, success_c, n_c, compare="diff")
    return Estimate(
        estimate=success_t / n_t - success_c / n_c,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(test.pvalue),
        n_treatment=int(n_t),
        n_control=int(n_c),
        method="Différence de proportions, intervalle de Newcombe (score hybride de Wilson)",
        estimand=estimand,
        alpha=alpha,
        kind="difference",
        unit="points",
        scale=100.0,
    )


def risk_ratio(
    success_t: int,
    n_t: int,
    success_c: int,
    n_c: int,
    alpha: float = 0.05,
    *,
    method: str = "log-adjusted",
    estimand: str = "intention de traiter (ITT)",
) -> Estimate:
    """p_t / p_c with a statsmodels ratio interval (log-adjusted by default)."""
    _check_alpha(alpha)
    _check_counts(success_t, n_t, "treatment")
    _check_counts(success_c, n_c, "control")
    if success_c == 0:
        raise ValueError("risk ratio undefined: no success in the control arm")
    low, high = confint_proportions_2indep(
        success_t, n_t, success_c, n_c, method=method, compare="ratio", alpha=alpha
    )
    test = test_proportions_2indep(success_t, n_t, success_c, n_c, compare="ratio")
    return Estimate(
        estimate=(success_t / n_t) / (success_c / n_c),
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(test.pvalue),
        n_treatment=int(n_t),
        n_control=int(n_c),
        method=f"Rapport de risques, intervalle {method}",
        estimand=estimand,
        alpha=alpha,
        kind="ratio",
        unit="",
        scale=1.0,
    )


def welch_difference_in_means(
    x_t: npt.ArrayLike,
    x_c: npt.ArrayLike,
    alpha: float = 0.05,
    *,
    unit: str = "",
    estimand: str = "intention de traiter (ITT)",
) -> Estimate:
    """mean(x_t) - mean(x_c), Welch t-test (unequal variances) and its interval (SciPy)."""
    _check_alpha(alpha)
    a = np.asarray(x_t, dtype=float)
    b = np.asarray(x_c, dtype=float)
    if a.ndim != 1 or b.ndim != 1 or a.size < 2 or b.size < 2:
        raise ValueError("each arm needs a 1-D sample of at least two values")
    if np.isnan(a).any() or np.isnan(b).any():
        raise ValueError("missing values (NaN) in the outcome: impute or drop them explicitly")
    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(confidence_level=1.0 - alpha)
    return Estimate(
        estimate=float(a.mean() - b.mean()),
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        p_value=float(res.pvalue),
        n_treatment=int(a.size),
        n_control=int(b.size),
        method="Différence de moyennes, test de Welch",
        estimand=estimand,
        alpha=alpha,
        kind="difference",
        unit=unit,
        scale=1.0,
    )


def difference_in_differences(
    outcome: npt.ArrayLike,
    treated: npt.ArrayLike,
    post: npt.ArrayLike,
    cluster: npt.ArrayLike | None = None,
    alpha: float = 0.05,
    *,
    unit: str = "",
    scale: float = 1.0,
    estimand: str = "effet moyen sur les traités (ATT), différence de différences",
) -> Estimate:
    """OLS ``y ~ treated + post + treated:post``; the interaction is the DiD estimate.

    Standard errors: HC1 (heteroskedasticity-robust) without ``cluster``, cluster-robust by
    ``cluster`` otherwise. Accepts arrays or DataFrame columns. For a binary outcome pass
    ``unit="points", scale=100`` to display percentage points.
    """
    import statsmodels.api as sm  # heavy import, lazy

    _check_alpha(alpha)
    y = np.asarray(outcome, dtype=float)
    d = np.asarray(treated, dtype=float)
    t = np.asarray(post, dtype=float)
    if not (y.shape == d.shape == t.shape) or y.ndim != 1:
        raise ValueError("outcome, treated and post must be 1-D arrays of the same length")
    if not (np.isin(d, (0.0, 1.0)).all() and np.isin(t, (0.0, 1.0)).all()):
        raise ValueError("treated and post must be 0/1 indicators")
    for dv in (0.0, 1.0):
        for tv in (0.0, 1.0):
            if not np.any((d == dv) & (t == tv)):
                raise ValueError("each of the four (treated, post) cells needs observations")
    X = np.column_stack([np.ones_like(y), d, t, d * t])
    model = sm.OLS(y, X)
    if cluster is None:
        fit = model.fit(cov_type="HC1")
        se_label = "HC1"
    else:
        groups = np.unique(np.asarray(cluster), return_inverse=True)[1]
        if groups.shape != y.shape:
            raise ValueError("cluster must have the same length as outcome")
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
        se_label = "robustes par grappe"
    ci = np.asarray(fit.conf_int(alpha=alpha))
    return Estimate(
        estimate=float(fit.params[3]),
        ci_low=float(ci[3, 0]),
        ci_high=float(ci[3, 1]),
        p_value=float(fit.pvalues[3]),
        n_treatment=int(np.sum(d == 1)),
        n_control=int(np.sum(d == 0)),
        method=f"Différence de différences (MCO, erreurs-types {se_label})",
        estimand=estimand,
        alpha=alpha,
        kind="difference",
        unit=unit,
        scale=scale,
    )


# --------------------------------------------------------------------------- power


@dataclass(frozen=True, slots=True)
class SampleSize:
    n_treatment: int
    n_control: int

    @property
    def total(self) -> int:
        return self.n_treatment + self.n_control


def _effect_size(p_control: float, mde: float) -> float:
    if not 0.0 < p_control < 1.0:
        raise ValueError("p_control must be in (0, 1)")
    if mde == 0 or not 0.0 < p_control + mde < 1.0:
        raise ValueError("mde must be non-zero and keep p_control + mde inside (0, 1)")
    return float(abs(proportion_effectsize(p_control + mde, p_control)))


def required_sample_size(
    p_control: float,
    mde: float,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> SampleSize:
    """Units per arm to detect an absolute change ``mde`` (fraction, 0.02 = 2 points).

    Two-sided test on Cohen's h (statsmodels ``NormalIndPower``); ``ratio`` = n_t / n_c.
    """
    _check_alpha(alpha)
    if not 0.0 < power < 1.0 or ratio <= 0:
        raise ValueError("power must be in (0, 1) and ratio positive")
    es = _effect_size(p_control, mde)
    n_c = float(
        NormalIndPower().solve_power(
            effect_size=es, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
        )
    )
    return SampleSize(n_treatment=math.ceil(n_c * ratio), n_control=math.ceil(n_c))


def power_for(n_t: int, n_c: int, p_control: float, mde: float, alpha: float = 0.05) -> float:
    """Probability that a two-sided test at ``alpha`` detects an absolute change ``mde``."""
    _check_alpha(alpha)
    if n_t <= 0 or n_c <= 0:
        raise ValueError("both arms need at least one unit")
    es = _effect_size(p_control, mde)
    return float(
        NormalIndPower().power(
            effect_size=es, nobs1=n_c, alpha=alpha, ratio=n_t / n_c, alternative="two-sided"
        )
    )


def minimum_detectable_effect(
    n_t: int, n_c: int, p_control: float, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest absolute increase (fraction) detectable with the given power (Brent's method).

    Raises ValueError when even the largest possible increase is not detectable.
    """
    if not 0.0 < power < 1.0:
        raise ValueError("power must be in (0, 1)")
    hi = (1.0 - p_control) * (1 - 1e-9)
    lo = 1e-9

    def gap(m: float) -> float:
        return power_for(n_t, n_c, p_control, m, alpha) - power

    if gap(hi) < 0:
        raise ValueError("sample too small: no increase is detectable with this power")
    if gap(lo) >= 0:
        return lo
    return float(optimize.brentq(gap, lo, hi, xtol=1e-10))


# --------------------------------------------------------------------------- audience refusal

AUDIENCE_TERMS: tuple[str, ...] = (
    # French
    "visite",
    "visites",
    "visiteur",
    "visiteurs",
    "visiteurs uniques",
    "page vue",
    "pages vues",
    "vues de page",
    "nombre de vues",
    "affichages",
    "telechargement",
    "telechargements",
    "inscription",
    "inscriptions",
    "inscrits",
    "clic",
    "clics",
    "taux de clic",
    "sessions",
    "utilisateur actif",
    "utilisateurs actifs",
    "audience",
    "trafic",
    "frequentation du site",
    "impressions",
    "abonnes",
    "likes",
    "partages",
    "taux de rebond",
    "temps passe",
    "installations",
    "ouvertures de l'application",
    # English
    "visit",
    "visits",
    "visitor",
    "visitors",
    "unique visitors",
    "page view",
    "page views",
    "pageview",
    "pageviews",
    "download",
    "downloads",
    "sign-up",
    "sign-ups",
    "signup",
    "signups",
    "registrations",
    "click",
    "clicks",
    "click-through",
    "ctr",
    "active users",
    "monthly active users",
    "daily active users",
    "mau",
    "dau",
    "wau",
    "traffic",
    "followers",
    "bounce rate",
    "time on site",
    "installs",
    "user engagement",
)


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("\u2019", "'").casefold()
    return re.sub(r"\s+", " ", stripped)


_AUDIENCE_RE = re.compile(
    r"(?<![\w-])(?:"
    + "|".join(re.escape(t) for t in sorted(AUDIENCE_TERMS, key=len, reverse=True))
    + r")(?![\w-])"
)


class AudienceMetricRefused(ValueError):
    """Raised when a primary outcome measures audience rather than social impact (seed 003)."""

    def __init__(self, text: str, matched: str) -> None:
        self.text = text
        self.matched = matched
        super().__init__(
            f"« {text} » mesure l'audience du service (« {matched} »), pas son impact social. "
            "Le pacte exige un résultat social pour la personne (par exemple le retour à "
            "l'emploi, l'accès effectif à un droit, une démarche aboutie), mesuré sur une "
            "population et une fenêtre définies. Les mesures d'audience peuvent être suivies, "
            "mais jamais comme résultat principal."
        )


def _audience_match(text: str) -> str | None:
    m = _AUDIENCE_RE.search(_normalise(text))
    return m.group(0) if m else None


def is_audience_metric(text: str) -> bool:
    """True if the outcome label names an audience measure (accent- and case-insensitive)."""
    return _audience_match(text) is not None


def ensure_social_outcome(text: str) -> str:
    """Return ``text`` unchanged, or raise :class:`AudienceMetricRefused`."""
    matched = _audience_match(text)
    if matched is not None:
        raise AudienceMetricRefused(text, matched)
    return text
