"""Bias audit engine (feature C3): group metrics, disparity ratios, bootstrap intervals.

Pure module: no Django. Point metrics per group come from Fairlearn's ``MetricFrame``:

* ``selection_rate``       share of the group that receives the decision (y_pred == 1);
* ``outcome_rate``         share of the group with a positive outcome (mean of y_true);
* ``true_positive_rate``   among people with y_true == 1, share selected;
* ``false_positive_rate``  among people with y_true == 0, share selected;
* ``coverage_in_need``     among people in need (in_need == 1), share selected — a service can
                           pass the 80 % rule on selection and still miss the people it exists
                           for.

Each group's metric is divided by the reference group's (default: the largest group). A ratio
outside ``band`` (the 80 % rule [0.8, 1.25] by default, a pact may set a stricter one) is a
``breach``. A group whose denominator for a metric (group size, positives, negatives or people
in need) is below ``min_group_size`` is ``insufficient_data`` — never declared fair.

Bootstrap intervals
-------------------
Fairlearn's own ``MetricFrame(n_boot=...)`` resamples rows and recomputes every metric per
replicate, which costs O(rows x replicates) — too slow for 1M rows x 200 replicates — and it
does not give ratios against a chosen reference group. All five metrics are functions of each
group's counts over the 8 cells (y_true, y_pred, in_need). Resampling rows *within each group*
(stratified bootstrap, group sizes fixed) is exactly equivalent in distribution to drawing those
8 cell counts from ``Multinomial(n_group, observed cell shares)``. We therefore draw
``(groups, n_bootstrap, 8)`` multinomial counts with NumPy in one call per group, compute the
metrics and ratios vectorised, and take percentile intervals. Cost is O(rows) for the counting
plus O(groups x replicates), independent of the number of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    selection_rate,
)

__all__ = [
    "METRIC_LABELS_FR",
    "METRICS",
    "AuditResult",
    "DisparityCell",
    "GroupSummary",
    "audit",
]

Status = Literal["ok", "breach", "insufficient_data"]

MISSING_GROUP = "(non renseigné)"

METRICS: tuple[str, ...] = (
    "selection_rate",
    "outcome_rate",
    "true_positive_rate",
    "false_positive_rate",
    "coverage_in_need",
)

METRIC_LABELS_FR: dict[str, str] = {
    "selection_rate": "Taux de sélection",
    "outcome_rate": "Taux de résultat positif",
    "true_positive_rate": "Taux de vrais positifs",
    "false_positive_rate": "Taux de faux positifs",
    "coverage_in_need": "Couverture des personnes dans le besoin",
}

STATUS_LABELS_FR: dict[str, str] = {
    "ok": "dans la bande",
    "breach": "écart hors bande",
    "insufficient_data": "données insuffisantes",
}


def _outcome_rate(y_true: Any, y_pred: Any, sample_weight: Any) -> float:
    return float(np.average(np.asarray(y_true), weights=np.asarray(sample_weight)))


def _selection(y_true: Any, y_pred: Any, sample_weight: Any) -> float:
    return float(selection_rate(y_true, y_pred, pos_label=1, sample_weight=sample_weight))


def _rate_among(y_true: Any, y_pred: Any, sample_weight: Any, truth: int) -> float:
    """Fairlearn's selection rate among the rows with ``y_true == truth``: the true positive
    rate (truth 1) or the false positive rate (truth 0), by definition, without the
    confusion-matrix validation of ``true_positive_rate`` that dominated the audit's cost."""
    mask = np.asarray(y_true) == truth
    if not mask.any():
        return float("nan")
    return float(
        selection_rate(
            np.asarray(y_true)[mask],
            np.asarray(y_pred)[mask],
            pos_label=1,
            sample_weight=np.asarray(sample_weight)[mask],
        )
    )


def _tpr(y_true: Any, y_pred: Any, sample_weight: Any) -> float:
    return _rate_among(y_true, y_pred, sample_weight, 1)


def _fpr(y_true: Any, y_pred: Any, sample_weight: Any) -> float:
    return _rate_among(y_true, y_pred, sample_weight, 0)


def _coverage_in_need(y_true: Any, y_pred: Any, in_need: Any, sample_weight: Any) -> float:
    mask = np.asarray(in_need) == 1
    if not mask.any():
        return float("nan")
    return float(np.average(np.asarray(y_pred)[mask], weights=np.asarray(sample_weight)[mask]))


@dataclass(frozen=True, slots=True)
class GroupSummary:
    group: str
    n: int
    n_positive: int  # y_true == 1
    n_negative: int  # y_true == 0
    n_in_need: int
    metrics: dict[str, float]


@dataclass(frozen=True, slots=True)
class DisparityCell:
    group: str
    metric: str
    value: float
    reference_value: float
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    denominator: int
    status: Status
    is_reference: bool = False

    def interval_outside(self, band: tuple[float, float]) -> bool:
        """True when the whole bootstrap interval lies outside ``band``."""
        if self.ci_low is None or self.ci_high is None:
            return False
        return self.ci_high < band[0] or self.ci_low > band[1]

    @property
    def label_fr(self) -> str:
        return STATUS_LABELS_FR[self.status]


@dataclass(frozen=True, slots=True)
class AuditResult:
    reference_group: str
    band: tuple[float, float]
    min_group_size: int
    n_bootstrap: int
    seed: int
    metrics: tuple[str, ...]
    groups: list[GroupSummary]
    cells: list[DisparityCell] = field(default_factory=list)

    @property
    def breaches(self) -> list[DisparityCell]:
        return [c for c in self.cells if c.status == "breach"]

    @property
    def confirmed_breaches(self) -> list[DisparityCell]:
        """Breaches whose whole bootstrap interval lies outside the band."""
        return [c for c in self.breaches if c.interval_outside(self.band)]

    @property
    def insufficient(self) -> list[DisparityCell]:
        return [c for c in self.cells if c.status == "insufficient_data"]

    def cell(self, group: str, metric: str) -> DisparityCell:
        for c in self.cells:
            if c.group == group and c.metric == metric:
                return c
        raise KeyError((group, metric))

    def status_of(self, group: str, metric: str) -> Status:
        return self.cell(group, metric).status

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows (one per group x metric), ready for a table, JSON or the charts engine."""
        return [
            {
                "group": c.group,
                "metric": c.metric,
                "metric_label": METRIC_LABELS_FR[c.metric],
                "value": c.value,
                "reference_value": c.reference_value,
                "ratio": c.ratio,
                "ci_low": c.ci_low,
                "ci_high": c.ci_high,
                "denominator": c.denominator,
                "status": c.status,
                "status_label": c.label_fr,
                "is_reference": c.is_reference,
            }
            for c in self.cells
        ]

    def chart_rows(
        self, metric: str
    ) -> list[tuple[str, float | None, float | None, float | None, str]]:
        """(group, ratio, low, high, status) tuples for ``charts.group_metrics_svg``."""
        return [
            (c.group, c.ratio, c.ci_low, c.ci_high, c.status)
            for c in self.cells
            if c.metric == metric
        ]


# cell index = 4 * y_true + 2 * y_pred + in_need
def _metrics_from_counts(counts: npt.NDArray[np.int64]) -> dict[str, npt.NDArray[np.float64]]:
    """Metrics from (..., 8) cell counts; NaN where the denominator is zero."""
    c = counts.astype(np.float64)
    n = c.sum(axis=-1)
    pred1 = c[..., [2, 3, 6, 7]].sum(axis=-1)
    true1 = c[..., 4:].sum(axis=-1)
    true0 = c[..., :4].sum(axis=-1)
    tp = c[..., [6, 7]].sum(axis=-1)
    fp = c[..., [2, 3]].sum(axis=-1)
    need = c[..., [1, 3, 5, 7]].sum(axis=-1)
    need_sel = c[..., [3, 7]].sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "selection_rate": np.where(n > 0, pred1 / n, np.nan),
            "outcome_rate": np.where(n > 0, true1 / n, np.nan),
            "true_positive_rate": np.where(true1 > 0, tp / true1, np.nan),
            "false_positive_rate": np.where(true0 > 0, fp / true0, np.nan),
            "coverage_in_need": np.where(need > 0, need_sel / need, np.nan),
        }


def _binary(name: str, values: npt.ArrayLike) -> npt.NDArray[np.int8]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if arr.dtype.kind in "iu":  # integers: two vectorised reductions, no set lookup per value
        valid = arr.size == 0 or (int(arr.min()) >= 0 and int(arr.max()) <= 1)
    else:
        valid = bool(np.isin(arr, (0, 1)).all())
    if not valid:
        raise ValueError(f"{name} must contain only 0/1 values")
    return arr.astype(np.int8, copy=False)


def _fixed_width_codes(
    values: npt.NDArray[Any],
) -> tuple[npt.NDArray[np.int64], list[str]] | None:
    """Codes (in order of first appearance) and labels of a fixed-width NumPy string array,
    without one Python object per row: its bytes are read as 64-bit words, each factorised
    as integers (pandas' hash table) and the per-word codes combined. ``None`` for other
    arrays (objects, numbers), which :func:`pd.factorize` takes as they are."""
    if values.dtype.kind not in "US" or values.dtype.itemsize == 0 or values.size == 0:
        return None
    n, width = values.size, values.dtype.itemsize
    contiguous = np.ascontiguousarray(values)
    if width in (1, 2, 4, 8):  # one word already (e.g. one character: 4 bytes): no copy
        packed = contiguous.view(np.dtype(f"u{width}")).reshape(n, 1)
        words = 1
    else:
        words = (width + 7) // 8
        raw = np.zeros((n, words * 8), dtype=np.uint8)
        raw[:, :width] = contiguous.view(np.uint8).reshape(n, width)
        packed = raw.view(np.uint64)
    codes = np.asarray(pd.factorize(packed[:, 0])[0], dtype=np.int64)
    for j in range(1, words):
        word = np.asarray(pd.factorize(packed[:, j])[0], dtype=np.int64)
        combined = codes * (int(word.max()) + 1) + word
        codes = np.asarray(pd.factorize(combined)[0], dtype=np.int64)
    first = np.empty(int(codes.max()) + 1, dtype=np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)  # the last write wins: first appearance
    return codes, [str(v) for v in values[first]]


def _group_codes(
    sensitive_features: npt.ArrayLike | Sequence[Any],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.str_]]:
    """Integer code per person and the sorted ``str`` labels (missing -> MISSING_GROUP).

    Hash-based ``pd.factorize`` without sorting, then only the few distinct labels are
    sorted and the codes remapped: much cheaper than sorting a million strings.
    """
    values = np.asarray(sensitive_features)
    if values.ndim != 1:
        raise ValueError("sensitive_features must be one-dimensional (one label per person)")
    fixed = _fixed_width_codes(values)
    if fixed is not None:
        codes, raw_labels = fixed
    else:
        if values.dtype.kind not in "US":
            values = values.astype(object)
        raw_codes, uniques = pd.factorize(values)
        raw_labels = [str(u) for u in uniques]
        codes = np.asarray(raw_codes, dtype=np.int64)
    if (codes < 0).any():
        raw_labels.append(MISSING_GROUP)
        codes = np.where(codes < 0, len(raw_labels) - 1, codes)
    sorted_labels = sorted(set(raw_labels))
    position = {label: i for i, label in enumerate(sorted_labels)}
    remap = np.array([position[label] for label in raw_labels], dtype=np.int64)
    return remap[codes], np.array(sorted_labels, dtype=str)


def _inputs(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    sensitive_features: npt.ArrayLike | Sequence[Any],
    in_need: npt.ArrayLike | None,
    band: tuple[float, float],
    min_group_size: int,
    n_bootstrap: int,
) -> tuple[
    npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any] | None
]:
    """Check and convert the inputs: (y_true, y_pred, group codes, group labels, in_need)."""
    yt = _binary("y_true", y_true)
    yp = _binary("y_pred", y_pred)
    codes, labels = _group_codes(sensitive_features)
    if not (yt.shape == yp.shape == codes.shape):
        raise ValueError("y_true, y_pred and sensitive_features must have the same length")
    if yt.size == 0:
        raise ValueError("nothing to audit")
    need = _binary("in_need", in_need) if in_need is not None else None
    if need is not None and need.shape != yt.shape:
        raise ValueError("in_need must have the same length as y_true")
    lo_band, hi_band = band
    if not 0 < lo_band <= 1 <= hi_band:
        raise ValueError("band must satisfy 0 < low <= 1 <= high")
    if n_bootstrap < 0 or min_group_size < 1:
        raise ValueError("n_bootstrap must be >= 0 and min_group_size >= 1")
    return yt, yp, codes, labels, need


def _metric_frame(
    counts: npt.NDArray[Any],
    labels: npt.NDArray[Any],
    with_need: bool,
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Fairlearn's MetricFrame on the compressed table: one row per non-empty (group, cell),
    weighted by its count. Every metric is a weighted mean, so this equals MetricFrame on raw
    rows, at O(groups x 8) cost instead of Fairlearn's per-row Python overhead."""
    g_idx, c_idx = np.nonzero(counts)
    weights = counts[g_idx, c_idx].astype(np.float64)
    cy_true = (c_idx // 4).astype(np.int8)
    cy_pred = ((c_idx // 2) % 2).astype(np.int8)
    c_need = (c_idx % 2).astype(np.int8)
    metric_fns: dict[str, Any] = {
        "selection_rate": _selection,
        "outcome_rate": _outcome_rate,
        "true_positive_rate": _tpr,
        "false_positive_rate": _fpr,
    }
    sample_params: dict[str, dict[str, Any]] = {
        name: {"sample_weight": weights} for name in metric_fns
    }
    if with_need:
        metric_fns["coverage_in_need"] = _coverage_in_need
        sample_params["coverage_in_need"] = {"in_need": c_need, "sample_weight": weights}
    frame = MetricFrame(
        metrics=metric_fns,
        y_true=cy_true,
        y_pred=cy_pred,
        sensitive_features=pd.Series(labels[g_idx], name="group"),
        sample_params=sample_params,
    )
    by_group: pd.DataFrame = frame.by_group
    return by_group, tuple(m for m in METRICS if m in metric_fns)


def _reference_index(
    labels: npt.NDArray[Any], sizes: npt.NDArray[Any], reference_group: str | None
) -> int:
    if reference_group is None:
        return int(np.argmax(sizes))  # ties -> first label in sorted order
    hits = np.flatnonzero(labels == str(reference_group))
    if hits.size == 0:
        raise ValueError(f"reference group {reference_group!r} is absent from the data")
    return int(hits[0])


def _bootstrap_ratios(
    counts: npt.NDArray[Any],
    sizes: npt.NDArray[Any],
    ref_idx: int,
    metric_names: tuple[str, ...],
    n_bootstrap: int,
    seed: int,
) -> dict[str, npt.NDArray[np.float64]]:
    """Stratified bootstrap on counts, (groups, B, 8): each metric's ratio to the reference."""
    boot_ratios: dict[str, npt.NDArray[np.float64]] = {}
    if n_bootstrap == 0:
        return boot_ratios
    rng = np.random.default_rng(seed)
    draws = np.empty((counts.shape[0], n_bootstrap, 8), dtype=np.int64)
    for g in range(counts.shape[0]):
        draws[g] = rng.multinomial(sizes[g], counts[g] / sizes[g], size=n_bootstrap)
    boot_metrics = _metrics_from_counts(draws)
    with np.errstate(divide="ignore", invalid="ignore"):
        for m in metric_names:
            vals = boot_metrics[m]
            boot_ratios[m] = vals / vals[ref_idx][np.newaxis, :]
    return boot_ratios


@dataclass(frozen=True)
class _Judgement:
    band: tuple[float, float]
    min_group_size: int
    n_bootstrap: int
    confidence: float


def _cell(
    label: str,
    m: str,
    value: float,
    ref_value: float,
    denom: int,
    ref_denom: int,
    boot: npt.NDArray[np.float64] | None,
    is_reference: bool,
    j: _Judgement,
) -> DisparityCell:
    """One (group, metric) cell: ratio to the reference, bootstrap interval, status."""
    ratio: float | None = None
    if ref_value > 0 and not np.isnan(value):
        ratio = value / ref_value
    ci_low = ci_high = None
    if ratio is not None and boot is not None:
        finite = boot[np.isfinite(boot)]
        if finite.size >= max(10, j.n_bootstrap // 2):
            tail = (1.0 - j.confidence) / 2.0
            q = np.quantile(finite, [tail, 1.0 - tail])
            ci_low, ci_high = float(q[0]), float(q[1])
    status: Status
    if denom < j.min_group_size or ref_denom < j.min_group_size or ratio is None:
        status = "insufficient_data"
    elif ratio < j.band[0] or ratio > j.band[1]:
        status = "breach"
    else:
        status = "ok"
    return DisparityCell(
        group=label,
        metric=m,
        value=value,
        reference_value=ref_value,
        ratio=ratio,
        ci_low=ci_low,
        ci_high=ci_high,
        denominator=denom,
        status=status,
        is_reference=is_reference,
    )


def audit(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    sensitive_features: npt.ArrayLike | Sequence[Any],
    in_need: npt.ArrayLike | None = None,
    reference_group: str | None = None,
    band: tuple[float, float] = (0.8, 1.25),
    min_group_size: int = 30,
    n_bootstrap: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
) -> AuditResult:
    """Audit a binary decision (``y_pred``) against outcomes (``y_true``) by group.

    ``sensitive_features`` holds one group label per person (converted to ``str``).
    ``in_need`` (0/1) enables the coverage-among-people-in-need metric.
    ``band`` is the accepted ratio interval; a pact may only make it stricter than
    (0.8, 1.25) — this is checked by the caller that knows the pact, not here.
    """
    yt, yp, codes, labels, need = _inputs(
        y_true, y_pred, sensitive_features, in_need, band, min_group_size, n_bootstrap
    )
    # One O(rows) pass: counts per (group, cell), cell = 4*y_true + 2*y_pred + in_need
    cell_idx = 4 * yt.astype(np.int64) + 2 * yp.astype(np.int64)
    if need is not None:
        cell_idx += need
    counts = np.bincount(codes * 8 + cell_idx, minlength=8 * labels.size).reshape(-1, 8)
    by_group, metric_names = _metric_frame(counts, labels, need is not None)
    sizes = counts.sum(axis=1)
    ref_idx = _reference_index(labels, sizes, reference_group)
    ref_label = str(labels[ref_idx])
    denominators = {
        "selection_rate": sizes,
        "outcome_rate": sizes,
        "true_positive_rate": counts[:, 4:].sum(axis=1),
        "false_positive_rate": counts[:, :4].sum(axis=1),
        "coverage_in_need": counts[:, [1, 3, 5, 7]].sum(axis=1),
    }
    boot_ratios = _bootstrap_ratios(counts, sizes, ref_idx, metric_names, n_bootstrap, seed)
    judgement = _Judgement(
        (float(band[0]), float(band[1])), min_group_size, n_bootstrap, confidence
    )
    summaries: list[GroupSummary] = []
    cells: list[DisparityCell] = []
    for g, label in enumerate(labels):
        label_s = str(label)
        metric_values = {m: float(by_group.loc[label_s][m]) for m in metric_names}
        summaries.append(
            GroupSummary(
                group=label_s,
                n=int(sizes[g]),
                n_positive=int(denominators["true_positive_rate"][g]),
                n_negative=int(denominators["false_positive_rate"][g]),
                n_in_need=int(denominators["coverage_in_need"][g]) if need is not None else 0,
                metrics=metric_values,
            )
        )
        for m in metric_names:
            cells.append(
                _cell(
                    label_s,
                    m,
                    metric_values[m],
                    float(by_group.loc[ref_label, m]),
                    int(denominators[m][g]),
                    int(denominators[m][ref_idx]),
                    boot_ratios[m][g] if m in boot_ratios else None,
                    g == ref_idx,
                    judgement,
                )
            )
    return AuditResult(
        reference_group=ref_label,
        band=judgement.band,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        seed=seed,
        metrics=metric_names,
        groups=summaries,
        cells=cells,
    )
