"""Benchmark: DP grouped count (engine level) against plain DuckDB / Polars.

    .venv/bin/python bench/privacy_bench.py --rows 10000000
    .venv/bin/python bench/privacy_bench.py --rows 1000000      # quick

Generates (seeded) a Parquet file under bench/data/ (gitignored) with region (18 keys),
naf_sector (21 letters A–U) and salary (int euros), then times, in the same run, the
median of --repeat runs of the grouped count region × naf_sector:

  (a) DuckDB on the Parquet file                       (reference)
  (b) Polars, default engine, and Polars streaming engine
  (c) pacte.engines.privacy.run_query, closed-form scale (OpenDP checks it), collected by
      Polars streaming — the engine's default path
  (c') same, collected inside OpenDP (executor="opendp")
  (d) same DP query with OpenDP's generic resolution (binary search of the scale,
      ``resolve()``) and OpenDP's own collect: the stock Context API path
  with --engines (issue 15): the gateway's path, exact aggregate on an engine then OpenDP's
  discrete Gaussian (``privacy.run_query_on``):
  (e) on DuckDB, (f) on Spark local[2] (session started once, outside the timings)
  --json-out FILE writes ``spark.dp_ratio_duckdb`` = (f)/(e) and the ratios to (a).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
from rich.console import Console
from rich.table import Table

from pacte.engines.privacy import ColumnRole, DatasetSpec, run_query

REGIONS = [
    "01", "02", "03", "04", "06", "11", "24", "27", "28",
    "32", "44", "52", "53", "75", "76", "84", "93", "94",
]  # fmt: skip
NAF = [chr(c) for c in range(ord("A"), ord("U") + 1)]
DATA_DIR = Path(__file__).resolve().parent / "data"


def generate(rows: int, seed: int) -> Path:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"salaries_{rows}_{seed}.parquet"
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    region_p = rng.dirichlet(np.ones(len(REGIONS)) * 2)
    naf_p = rng.dirichlet(np.ones(len(NAF)))
    df = pl.DataFrame(
        {
            "region": pl.Series(np.array(REGIONS)[rng.choice(len(REGIONS), rows, p=region_p)]),
            "naf_sector": pl.Series(np.array(NAF)[rng.choice(len(NAF), rows, p=naf_p)]),
            "salary": rng.lognormal(10.3, 0.45, rows).clip(0, 500_000).astype(np.int64),
        }
    )
    tmp = path.with_suffix(".tmp")
    df.write_parquet(tmp)
    tmp.rename(path)
    return path


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    fn()  # warm-up (plugin load, OS cache)
    times: list[float] = []
    out: Any = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20261)
    ap.add_argument("--rho", type=float, default=0.005)
    ap.add_argument("--skip-resolve", action="store_true", help="skip the slow generic path (d)")
    ap.add_argument(
        "--engines",
        action="store_true",
        help="also (e) the gateway's path on DuckDB and (f) on Spark local[2] (issue 15)",
    )
    ap.add_argument("--json-out", type=Path, help="write the ratios as a JSON fragment")
    args = ap.parse_args(argv)
    console = Console()

    t0 = time.perf_counter()
    path = generate(args.rows, args.seed)
    console.print(f"data: {path} ({args.rows:,} rows) ready in {time.perf_counter() - t0:.1f} s")

    spec = DatasetSpec(
        paths=(str(path),),
        version_id=f"bench-{args.rows}-{args.seed}",
        columns={
            "region": ColumnRole.PUBLIC_KEY,
            "naf_sector": ColumnRole.PUBLIC_KEY,
            "salary": ColumnRole.MEASURE,
        },
        bounds={"salary": (0, 200_000)},
        key_sets={"region": REGIONS, "naf_sector": NAF},
        max_rows=max(args.rows, 1),
    )
    query = {"group_by": ["region", "naf_sector"], "aggregates": [{"op": "count"}]}
    sql = f"SELECT region, naf_sector, count(*) AS n FROM read_parquet('{path}') GROUP BY ALL"

    def duck() -> Any:
        con = duckdb.connect()
        try:
            return con.sql(sql).fetchall()
        finally:
            con.close()

    def polars_plan() -> pl.LazyFrame:
        return pl.scan_parquet(path).group_by("region", "naf_sector").agg(pl.len())

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("(a) DuckDB", duck),
        ("(b) Polars (default engine)", lambda: polars_plan().collect()),
        ("(b') Polars (streaming)", lambda: polars_plan().collect(engine="streaming")),
        ("(c) DP run_query closed-form σ", lambda: run_query(spec, query, args.rho)),
        (
            "(c') DP closed-form σ, OpenDP collect",
            lambda: run_query(spec, query, args.rho, executor="opendp"),
        ),
    ]
    if not args.skip_resolve:
        cases.append(
            (
                "(d) DP generic resolve()",
                lambda: run_query(spec, query, args.rho, calibration="resolve", executor="opendp"),
            )
        )

    if args.engines:
        from pacte.data.gateway.engines import DuckDBEngine, SparkEngine
        from pacte.engines.privacy import run_query_on

        duck_engine, spark_engine = DuckDBEngine(), SparkEngine(master="local[2]", remote="")
        spark_engine.session()  # started once, like a worker's session, outside the timings
        cases.append(
            (
                "(e) DP exact on DuckDB + OpenDP noise",
                lambda: run_query_on(spec, query, args.rho, duck_engine.query, "duckdb"),
            )
        )
        cases.append(
            (
                "(f) DP exact on Spark local[2] + OpenDP noise",
                lambda: run_query_on(spec, query, args.rho, spark_engine.query, "spark"),
            )
        )

    results: dict[str, float] = {}
    outputs: dict[str, Any] = {}
    for name, fn in cases:
        with console.status(f"timing {name}…"):
            results[name], outputs[name] = timed(fn, args.repeat)

    ref = results["(a) DuckDB"]
    ref_pl = results["(b) Polars (default engine)"]
    table = Table(title=f"Grouped count region × naf_sector — {args.rows:,} rows, ρ={args.rho}")
    table.add_column("case")
    table.add_column(f"median of {args.repeat} (ms)", justify="right")
    table.add_column("× DuckDB", justify="right")
    table.add_column("× Polars", justify="right")
    for name, t in results.items():
        table.add_row(name, f"{t * 1000:,.1f}", f"{t / ref:.2f}", f"{t / ref_pl:.2f}")
    console.print(table)

    release = outputs["(c) DP run_query closed-form σ"]
    info = release.aggregates[0]
    console.print(
        f"DP release: {len(release.cells)} cells, σ={info.noise_scale:.3f}, "
        f"margin_95={info.margin_95}, ρ spent={release.rho_spent:.6f}"
    )
    dp_t = results["(c) DP run_query closed-form σ"]
    verdict = "OK" if dp_t <= 2 * ref else "ABOVE"
    console.print(
        f"goal DP ≤ 2× DuckDB: {verdict} ({dp_t / ref:.2f}×); vs Polars {dp_t / ref_pl:.2f}×"
    )
    if args.json_out:
        fragment: dict[str, Any] = {"dp.engine_ratio_duckdb": dp_t / ref}
        if args.engines:
            on_duck = results["(e) DP exact on DuckDB + OpenDP noise"]
            on_spark = results["(f) DP exact on Spark local[2] + OpenDP noise"]
            fragment["dp.exact_engine_ratio_duckdb"] = on_duck / ref
            fragment["spark.dp_ratio_duckdb"] = on_spark / on_duck
            fragment["spark.dp_seconds"] = on_spark
            fragment["spark.rows"] = args.rows
        args.json_out.write_text(json.dumps(fragment, indent=2, sort_keys=True) + "\n")
        console.print(f"wrote {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
