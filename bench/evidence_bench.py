"""Benchmark of the evidence engines against plain NumPy / Polars point computations.

    .venv/bin/python bench/evidence_bench.py --n 1000000 --repeat 5

Generates ``n`` synthetic participants in 5 groups (seeded), then times, in the same run
(median of ``--repeat`` runs each):

* evaluation = difference in proportions (Newcombe CI + score test) + Welch difference in means,
  against the same two point estimates (and Welch t) computed with plain NumPy and Polars;
* audit = ``bias.audit`` (Fairlearn MetricFrame + count bootstrap) against the same per-group
  metrics and disparity ratios computed with a Polars ``group_by`` and with NumPy ``bincount``.

It also checks that the point figures agree between implementations.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from rich.console import Console
from rich.table import Table

from pacte.engines.bias import audit
from pacte.engines.impact import difference_in_proportions, welch_difference_in_means

GROUPS = np.array(["A", "B", "C", "D", "E"])
SHARES = [0.40, 0.25, 0.18, 0.12, 0.05]


def generate(n: int, seed: int) -> dict[str, npt.NDArray[Any]]:
    rng = np.random.default_rng(seed)
    g = rng.choice(len(GROUPS), n, p=SHARES)
    treated = rng.integers(0, 2, n).astype(np.int8)
    outcome = (rng.random(n) < 0.1999 + 0.0211 * treated).astype(np.int8)
    days = rng.normal(120.0 - 6.0 * treated, 40.0, n)
    in_need = (rng.random(n) < 0.3).astype(np.int8)
    p_sel = np.where(in_need == 1, 0.55, 0.35) - 0.03 * g
    y_pred = (rng.random(n) < p_sel).astype(np.int8)
    y_true = (rng.random(n) < np.where(in_need == 1, 0.6, 0.3)).astype(np.int8)
    return {
        "group": GROUPS[g],
        "treated": treated,
        "outcome": outcome,
        "days": days,
        "in_need": in_need,
        "y_pred": y_pred,
        "y_true": y_true,
    }


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    fn()  # warm-up (imports, caches)
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


# ------------------------------------------------------------------ evaluation


def pacte_evaluation(d: dict[str, npt.NDArray[Any]]) -> tuple[float, float]:
    t = d["treated"] == 1
    y = d["outcome"]
    est = difference_in_proportions(
        int(y[t].sum()), int(t.sum()), int(y[~t].sum()), int((~t).sum())
    )
    welch = welch_difference_in_means(d["days"][t], d["days"][~t])
    return est.estimate, welch.estimate


def numpy_evaluation(d: dict[str, npt.NDArray[Any]]) -> tuple[float, float]:
    t = d["treated"] == 1
    y = d["outcome"]
    diff = y[t].mean() - y[~t].mean()
    a, b = d["days"][t], d["days"][~t]
    mdiff = a.mean() - b.mean()
    _t_stat = mdiff / np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return float(diff), float(mdiff)


def polars_evaluation(df: pl.DataFrame) -> tuple[float, float]:
    agg = df.group_by("treated").agg(pl.col("outcome").mean(), pl.col("days").mean())
    rows = {int(r["treated"]): r for r in agg.iter_rows(named=True)}
    return (
        rows[1]["outcome"] - rows[0]["outcome"],
        rows[1]["days"] - rows[0]["days"],
    )


# ------------------------------------------------------------------ audit


def pacte_audit(d: dict[str, npt.NDArray[Any]], n_bootstrap: int) -> dict[tuple[str, str], float]:
    res = audit(d["y_true"], d["y_pred"], d["group"], in_need=d["in_need"], n_bootstrap=n_bootstrap)
    return {(c.group, c.metric): float(c.ratio) for c in res.cells if c.ratio is not None}


def polars_audit(df: pl.DataFrame) -> dict[tuple[str, str], float]:
    yp, yt, need = pl.col("y_pred"), pl.col("y_true"), pl.col("in_need")
    agg = (
        df.group_by("group")
        .agg(
            pl.len().alias("n"),
            yp.mean().alias("selection_rate"),
            yt.mean().alias("outcome_rate"),
            (yp.filter(yt == 1)).mean().alias("true_positive_rate"),
            (yp.filter(yt == 0)).mean().alias("false_positive_rate"),
            (yp.filter(need == 1)).mean().alias("coverage_in_need"),
        )
        .sort("n", descending=True)
    )
    metrics = agg.columns[2:]
    ref = agg.row(0, named=True)
    out = {}
    for row in agg.iter_rows(named=True):
        for m in metrics:
            out[(row["group"], m)] = row[m] / ref[m]
    return out


def numpy_audit(d: dict[str, npt.NDArray[Any]]) -> dict[tuple[str, str], float]:
    labels, inv = np.unique(d["group"], return_inverse=True)
    yp, yt, need = d["y_pred"], d["y_true"], d["in_need"]
    k = labels.size

    def rate(num: npt.NDArray[Any], mask: npt.NDArray[Any] | None) -> npt.NDArray[np.float64]:
        w = np.ones_like(num) if mask is None else mask
        return np.bincount(inv, weights=num * w, minlength=k) / np.bincount(
            inv, weights=w, minlength=k
        )

    metrics = {
        "selection_rate": rate(yp, None),
        "outcome_rate": rate(yt, None),
        "true_positive_rate": rate(yp, yt == 1),
        "false_positive_rate": rate(yp, yt == 0),
        "coverage_in_need": rate(yp, need == 1),
    }
    ref = int(np.argmax(np.bincount(inv, minlength=k)))
    return {(str(labels[g]), m): float(v[g] / v[ref]) for m, v in metrics.items() for g in range(k)}


def max_gap(a: dict[Any, float], b: dict[Any, float]) -> float:
    return max(abs(a[k] - b[k]) for k in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--json-out", help="write the figures (stable names) to this JSON file")
    args = parser.parse_args()
    if args.repeat < 5:
        parser.error("--repeat must be at least 5 (median of >= 5 runs)")

    console = Console(width=max(Console().width, 132))
    t0 = time.perf_counter()
    d = generate(args.n, args.seed)
    df = pl.DataFrame(d)
    console.print(
        f"[bold]{args.n:,}[/] participants, {len(GROUPS)} groups, seed {args.seed} "
        f"(generated in {time.perf_counter() - t0:.2f} s); median of {args.repeat} runs"
    )

    rows: list[tuple[str, float, float, float, float]] = []

    t_ours, ours = timed(lambda: pacte_evaluation(d), args.repeat)
    t_np, ref_np = timed(lambda: numpy_evaluation(d), args.repeat)
    t_pl, ref_pl = timed(lambda: polars_evaluation(df), args.repeat)
    gap = max(abs(x - y) for x, y in zip(ours, ref_np, strict=True))
    gap = max(gap, *(abs(x - y) for x, y in zip(ours, ref_pl, strict=True)))
    rows.append(("Évaluation (diff. proportions + Welch)", t_ours, t_np, t_pl, gap))

    t_ours, ours_a = timed(lambda: pacte_audit(d, 0), args.repeat)
    t_np, np_a = timed(lambda: numpy_audit(d), args.repeat)
    t_pl, pl_a = timed(lambda: polars_audit(df), args.repeat)
    rows.append(
        (
            "Audit, sans bootstrap",
            t_ours,
            t_np,
            t_pl,
            max(max_gap(ours_a, np_a), max_gap(ours_a, pl_a)),
        )
    )
    t_boot, ours_b = timed(lambda: pacte_audit(d, args.bootstrap), args.repeat)
    rows.append(
        (f"Audit + bootstrap ({args.bootstrap})", t_boot, t_np, t_pl, max_gap(ours_b, pl_a))
    )

    table = Table(title=f"Pacte evidence engines vs NumPy / Polars — n = {args.n:,}")
    table.add_column("Tâche")
    table.add_column("Pacte (ms)", justify="right")
    table.add_column("NumPy (ms)", justify="right")
    table.add_column("Polars (ms)", justify="right")
    table.add_column("Pacte / NumPy", justify="right")
    table.add_column("Pacte / Polars", justify="right")
    table.add_column("écart max. des points", justify="right")
    for name, ours_t, np_t, pl_t, g in rows:
        table.add_row(
            name,
            f"{ours_t * 1e3:.1f}",
            f"{np_t * 1e3:.1f}",
            f"{pl_t * 1e3:.1f}",
            f"{ours_t / np_t:.2f}×",
            f"{ours_t / pl_t:.2f}×",
            f"{g:.1e}",
        )
    console.print(table)
    console.print(
        "Baselines compute point figures only; Pacte adds intervals, p-values, statuses "
        "and (last row) bootstrap intervals."
    )
    if args.json_out:  # stable names, see bench/README.md
        import json
        from pathlib import Path

        evaluation, audit = rows[0], rows[1]
        figures = {
            "evaluation.ratio_numpy": round(evaluation[1] / evaluation[2], 3),
            "audit.ratio_numpy": round(audit[1] / audit[2], 3),
            "audit.ratio_polars": round(audit[1] / audit[3], 3),
            "audit.n": args.n,
        }
        Path(args.json_out).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
