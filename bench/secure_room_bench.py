"""Benchmark: secure room (restrict + run with disclosure control) vs DuckDB direct.

    python bench/secure_room_bench.py --rows 10000000      # quick: --rows 1000000

Builds bench/data/hiring_<rows>_seed<seed>.parquet with pacte.data.demo_data if absent,
stores it with record keys as the platform does at ingestion (``.keyed.parquet``; DuckDB
direct reads that same file), times (median of --repeat runs) the same grouped aggregate in
DuckDB directly and through the
secure room (persons rule only, then persons + enterprise/dominance rules), each without and
with a DatasetProfile (computed once, outside the timed loop: it is ingestion-time work, its
cost is printed), and measures pseudonymised-extract throughput. Prints a Rich table.
The secure room runs as the platform runs it: per-value contributor control and cell-key
perturbation (a fixed bench secret); ``--exact`` drops the perturbation.

Fairness: DuckDB direct and the secure room run with the same thread count (--threads,
default os.cpu_count()). ``secure_room.ratio`` compares the room's pooled connection (room4)
with DuckDB on a kept connection; ``secure_room.ratio_fresh`` a fresh connection per query on
both sides (connection set-up included), as before room4.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from rich.console import Console
from rich.table import Table

from pacte.data.demo_data import DEPARTEMENTS, generate_hiring_declarations
from pacte.engines.pseudonymise import (
    ExtractSpec,
    age_hierarchy,
    date_hierarchy,
    mapping_hierarchy,
    pseudonymised_extract,
    suppress_only,
)
from pacte.engines.secure_room import (
    ENTERPRISE_BITS_COLUMN,
    ENTERPRISE_ID_COLUMN,
    PERSON_BITS_COLUMN,
    PERSON_ID_COLUMN,
    DatasetProfile,
    dataset_profile,
    restrict,
    run,
    write_with_record_keys,
)
from pacte.engines.secure_room_profile import IDS_META_KEY
from pacte.engines.secure_room_spark import SparkScan

BENCH_SECRET = 0xBE7C4
#: Whether this code's ``run`` pools its connections (room4 on); the bench also runs the code
#: of an earlier commit (PYTHONPATH=<export>/src), same file and options, for before/after.
POOLING = "pooled" in inspect.signature(run).parameters

QUERY = (
    "SELECT region, naf_sector, COUNT(*) AS hires, AVG(monthly_salary_eur) AS mean_salary "
    "FROM data GROUP BY region, naf_sector ORDER BY region, naf_sector"
)
#: The floor (see ``floor`` in ``main``): one pass per (cell, enterprise), one per cell for the
#: distinct persons; the integer ids written at ingestion.
FLOOR_QUERY = (
    "WITH e AS (SELECT region, naf_sector, __pacte_eid AS eid, COUNT(*) AS n, "
    "SUM(monthly_salary_eur) AS s, COUNT(monthly_salary_eur) AS c, "
    "SUM(ABS(CAST(monthly_salary_eur AS DOUBLE))) AS a FROM data GROUP BY ALL), "
    "p AS (SELECT region, naf_sector, COUNT(DISTINCT __pacte_pid) AS persons FROM data "
    "GROUP BY ALL), "
    "g AS (SELECT region, naf_sector, SUM(n) AS hires, SUM(s) / SUM(c) AS mean_salary, "
    "COUNT(eid) AS enterprises, max(a, 2) AS top2, SUM(a) AS total FROM e GROUP BY ALL) "
    "SELECT g.*, p.persons, list_transform(g.top2, lambda v: v / g.total) AS top2_shares "
    "FROM g JOIN p USING (region, naf_sector) ORDER BY region, naf_sector"
)
COLUMNS = ["region", "naf_sector", "monthly_salary_eur", "contract_type", "age", "hire_date"]


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up (file cache)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-extract", action="store_true")
    parser.add_argument("--json-out", type=Path, help="write the ratios as a JSON fragment")
    parser.add_argument("--exact", action="store_true", help="no cell-key perturbation")
    parser.add_argument(
        "--spark",
        action="store_true",
        help="also run the secure room with its scans on Spark local[2] (issue 15, part 5)",
    )
    parser.add_argument(
        "--spark-repeat",
        type=int,
        default=None,
        help="timed Spark runs after one warm-up (default: --repeat; at 10 M rows: 1)",
    )
    parser.add_argument(
        "--reuse-stored",
        action="store_true",
        help="keep the .keyed.parquet of an earlier run (same secret) instead of rewriting it",
    )
    parser.add_argument(
        "--no-before",
        action="store_true",
        help="skip the figures of earlier branches (text ids, data format 1): they rewrite the "
        "file twice and take most of a 10 M run",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="per-query time limit in seconds (default: the published limit)",
    )
    args = parser.parse_args()
    console = Console()
    path: Path = args.data / f"hiring_{args.rows}_seed{args.seed}.parquet"
    if not path.exists():
        start = time.perf_counter()
        generate_hiring_declarations(args.rows, args.seed, path)
        console.print(f"generated {path} in {time.perf_counter() - start:.1f} s")

    # ingestion, once: the platform stores the data with each row's record key as a column
    stored = path.with_name(f"{path.stem}.keyed.parquet")
    if not (args.reuse_stored and stored.exists()):
        start = time.perf_counter()
        write_with_record_keys(
            [path],
            "person_id",
            BENCH_SECRET,
            [stored],
            enterprise_column="establishment_id",
            threads=args.threads,
        )
        console.print(
            f"write_with_record_keys (ingestion, once): {time.perf_counter() - start:.2f} s"
        )

    def direct() -> object:  # the same stored file the secure room reads
        con = duckdb.connect(":memory:")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET threads = {args.threads}")
        con.execute(f"CREATE VIEW data AS SELECT * FROM read_parquet('{stored}')")
        rows = con.execute(QUERY).fetchall()
        con.close()
        return rows

    # a service running DuckDB directly keeps its connection: the like-for-like baseline of
    # the room's pooled connections (issue 15 item 4)
    kept = duckdb.connect(":memory:")
    kept.execute("SET enable_progress_bar = false")
    kept.execute(f"SET threads = {args.threads}")
    kept.execute(f"CREATE VIEW data AS SELECT * FROM read_parquet('{stored}')")

    def direct_kept() -> object:
        return kept.execute(QUERY).fetchall()

    def floor() -> object:
        """The cheapest *correct* disclosure check a person could write in DuckDB on the same
        file (issue 15 item 4, ``secure_room.floor_ratio``): the direct query plus, per cell,
        the exact distinct persons and enterprises (the integer ids written at ingestion) and
        the two largest enterprises' shares of ``SUM(ABS(x))`` (dominance, p % rule) — no
        per-value contributor control, no cell keys: less than the room checks."""
        con = duckdb.connect(":memory:")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET threads = {args.threads}")
        con.execute(f"CREATE VIEW data AS SELECT * FROM read_parquet('{stored}')")
        rows = con.execute(FLOOR_QUERY).fetchall()
        con.close()
        return rows

    start = time.perf_counter()
    profile = dataset_profile([stored], "person_id", "establishment_id", threads=args.threads)
    t_profile = time.perf_counter() - start
    console.print(
        f"dataset_profile (ingestion, once): {t_profile:.2f} s — max rows/person "
        f"{profile.max_rows_per_person}, max rows/enterprise {profile.max_rows_per_enterprise}"
    )

    # before issue 15 part 4: the same stored file with its record keys but without the integer
    # ids (the secure room then reads and hashes the text ids), timed in the same run
    text_ids = path.with_name(f"{path.stem}.keyed-text-ids.parquet")
    format_1 = path.with_name(f"{path.stem}.keyed-format-1.parquet")
    profile_text = profile_format_1 = None
    if not args.no_before:
        con = duckdb.connect(":memory:")
        con.execute(
            f"COPY (SELECT * EXCLUDE ({PERSON_ID_COLUMN}, {ENTERPRISE_ID_COLUMN}) FROM "
            f"read_parquet('{stored}')) TO '{text_ids}' (FORMAT parquet, COMPRESSION zstd)"
        )
        con.close()
        profile_text = dataset_profile([text_ids], "person_id", "establishment_id")
        # before room3: data format 1 (integer ids, no bits columns), the person bits computed
        # in the main scan even with a profile — the path of the versions ingested before
        con = duckdb.connect(":memory:")
        meta = json.dumps({"enterprise_column": "establishment_id", "person_column": "person_id"})
        con.execute(
            f"COPY (SELECT * EXCLUDE ({PERSON_BITS_COLUMN}, {ENTERPRISE_BITS_COLUMN}) FROM "
            f"read_parquet('{stored}')) TO '{format_1}' (FORMAT parquet, COMPRESSION zstd, "
            f"KV_METADATA {{{IDS_META_KEY}: '{meta}'}})"
        )
        con.close()
        profile_format_1 = dataset_profile([format_1], "person_id", "establishment_id")

    def room(
        enterprise: str | None,
        with_profile: DatasetProfile | None,
        source: Path = stored,
        spark: Any = None,
        person_bits: bool | None = None,
        pooled: bool = True,
    ) -> Callable[[], object]:
        def call() -> object:
            restricted = restrict(QUERY, "data", COLUMNS)
            extra: dict[str, Any] = {"timeout_s": args.timeout} if args.timeout else {}
            if POOLING:  # (the code before room4 has no pool: --before runs it)
                extra["pooled"] = pooled
            if spark is not None:
                extra = {"scan": SparkScan(spark), "timeout_s": None}
            return run(
                restricted,
                [source],
                "person_id",
                enterprise,
                threads=args.threads,
                profile=with_profile,
                cell_key_secret=None if args.exact else BENCH_SECRET,
                person_bits=person_bits,
                **extra,
            )

        return call

    spec = ExtractSpec(
        direct_identifiers=["establishment_id"],
        pseudonymised=["person_id"],
        quasi_identifiers={
            "age": age_hierarchy(),
            "departement": mapping_hierarchy(
                ["region"], [{c: r for c, (_, r) in DEPARTEMENTS.items()}]
            ),
            "hire_date": date_hierarchy(),
            "sex": suppress_only(),
        },
    )

    def extract() -> object:
        result = pseudonymised_extract(path, spec, b"bench-grant-key-0123456789abcdef")
        return result.frame.select(pl.len()).collect()

    def extract_full() -> object:
        result = pseudonymised_extract(path, spec, b"bench-grant-key-0123456789abcdef")
        return result.frame.collect()

    t_direct = timed(direct, args.repeat)
    t_direct_kept = timed(direct_kept, args.repeat)
    t_floor = timed(floor, args.repeat)
    t_persons = timed(room(None, None), args.repeat)
    t_both = timed(room("establishment_id", None), args.repeat)
    t_persons_p = timed(room(None, profile), args.repeat)
    t_both_p = timed(room("establishment_id", profile), args.repeat)
    t_both_p_fresh = (
        timed(room("establishment_id", profile, pooled=False), args.repeat) if POOLING else t_both_p
    )
    t_both_text = t_both_p_text = t_both_p_f1 = 0.0
    if not args.no_before:
        t_both_text = timed(room("establishment_id", None, text_ids), args.repeat)
        t_both_p_text = timed(room("establishment_id", profile_text, text_ids), args.repeat)
        t_both_p_f1 = timed(
            room("establishment_id", profile_format_1, format_1, person_bits=True), args.repeat
        )
    t_spark = 0.0
    if args.spark:
        from pacte.data.gateway.engines import SparkEngine

        session = SparkEngine(master="local[2]", remote="").session()
        spark_repeat = args.spark_repeat or (1 if args.rows >= 10_000_000 else args.repeat)
        t_spark = timed(room("establishment_id", profile, spark=session), spark_repeat)
        SparkEngine.stop()
    t_direct_again = timed(direct, args.repeat)  # the machine may be shared: bracket
    t_direct = min(t_direct, t_direct_again)
    t_direct_kept = min(t_direct_kept, timed(direct_kept, args.repeat))
    kept.close()
    t_extract = 0.0 if args.skip_extract else timed(extract_full, max(1, args.repeat // 2))
    restricted = restrict(QUERY, "data", COLUMNS)
    limit = {"timeout_s": args.timeout} if args.timeout else {}
    report = run(restricted, [stored], "person_id", "establishment_id", **limit).report
    report_p = run(
        restricted, [stored], "person_id", "establishment_id", profile=profile, **limit
    ).report
    assert report == report_p, "profile changed the result"

    table = Table(
        title=f"Secure room vs DuckDB — {args.rows:,} rows, median of {args.repeat}, "
        f"{args.threads} threads"
    )
    table.add_column("measure")
    table.add_column("seconds", justify="right")
    table.add_column("ratio vs DuckDB", justify="right")
    table.add_column("rows/s", justify="right")
    table.add_row(
        "DuckDB direct (fresh connection per query)",
        f"{t_direct:.3f}",
        "1.00×",
        f"{args.rows / t_direct:,.0f}",
    )
    table.add_row(
        "DuckDB direct (kept connection): baseline of the pooled room",
        f"{t_direct_kept:.3f}",
        f"{t_direct_kept / t_direct:.2f}×",
        f"{args.rows / t_direct_kept:,.0f}",
    )
    table.add_row(
        "floor: direct + exact distinct persons/enterprises + top-2 shares per cell",
        f"{t_floor:.3f}",
        f"{t_floor / t_direct:.2f}×",
        f"{args.rows / t_floor:,.0f}",
    )
    table.add_row(
        "secure room (persons rule)",
        f"{t_persons:.3f}",
        f"{t_persons / t_direct:.2f}×",
        f"{args.rows / t_persons:,.0f}",
    )
    table.add_row(
        "secure room (persons + enterprises/dominance)",
        f"{t_both:.3f}",
        f"{t_both / t_direct:.2f}×",
        f"{args.rows / t_both:,.0f}",
    )
    table.add_row(
        "secure room + profile (persons rule)",
        f"{t_persons_p:.3f}",
        f"{t_persons_p / t_direct:.2f}×",
        f"{args.rows / t_persons_p:,.0f}",
    )
    table.add_row(
        "secure room + profile (persons + enterprises/dominance)",
        f"{t_both_p:.3f}",
        f"{t_both_p / t_direct:.2f}×",
        f"{args.rows / t_both_p:,.0f}",
    )
    table.add_row(
        "same, a fresh connection per query (not pooled)",
        f"{t_both_p_fresh:.3f}",
        f"{t_both_p_fresh / t_direct:.2f}×",
        f"{args.rows / t_both_p_fresh:,.0f}",
    )
    if not args.no_before:
        table.add_row(
            "before part 4, text ids (persons + enterprises/dominance)",
            f"{t_both_text:.3f}",
            f"{t_both_text / t_direct:.2f}×",
            f"{args.rows / t_both_text:,.0f}",
        )
        table.add_row(
            "before part 4, text ids + profile (persons + enterprises/dominance)",
            f"{t_both_p_text:.3f}",
            f"{t_both_p_text / t_direct:.2f}×",
            f"{args.rows / t_both_p_text:,.0f}",
        )
        table.add_row(
            "before room3: format 1 (no bits columns), person bits + profile (persons + enterprises)",
            f"{t_both_p_f1:.3f}",
            f"{t_both_p_f1 / t_direct:.2f}×",
            f"{args.rows / t_both_p_f1:,.0f}",
        )
    if t_spark:
        table.add_row(
            "secure room on Spark local[2] + profile (persons + enterprises/dominance)",
            f"{t_spark:.3f}",
            f"{t_spark / t_direct:.2f}×",
            f"{args.rows / t_spark:,.0f}",
        )
    if t_extract:
        table.add_row(
            "pseudonymised extract (k=11, collected)",
            f"{t_extract:.3f}",
            "",
            f"{args.rows / t_extract:,.0f}",
        )
    console.print(table)
    console.print(
        f"suppression: {report.rows_suppressed} groups / {report.groups}, "
        f"{report.cells_suppressed} cells, reasons {report.reasons}"
    )
    if args.json_out:
        fragment: dict[str, float] = {
            # persons + enterprise rules, with profile; like for like: the room's pooled
            # connection vs a kept DuckDB connection (room4; before, a fresh one each side)
            "secure_room.ratio": t_both_p / t_direct_kept,
            "secure_room.ratio_persons": t_persons_p / t_direct_kept,
            "secure_room.ratio_no_profile": t_both / t_direct_kept,
            # a fresh connection per query on both sides (the definition before room4)
            "secure_room.ratio_fresh": t_both_p_fresh / t_direct,
            # the cheapest correct check ÷ direct, and the room ÷ that floor (same run; fresh
            # connections on each side)
            "secure_room.floor_ratio": t_floor / t_direct,
            "secure_room.ratio_floor": t_both_p_fresh / t_floor,
            "secure_room.rows": args.rows,
        }
        if not args.no_before:
            fragment["secure_room.ratio_text_ids"] = t_both_p_text / t_direct  # before part 4
            fragment["secure_room.ratio_text_ids_no_profile"] = t_both_text / t_direct
            fragment["secure_room.ratio_format_1"] = t_both_p_f1 / t_direct  # before room3
        if t_spark:
            fragment["spark.secure_room_ratio_duckdb"] = t_spark / t_both_p
            fragment["spark.secure_room_ratio_direct"] = t_spark / t_direct
        args.json_out.write_text(json.dumps(fragment, indent=2, sort_keys=True) + "\n")
    _ = extract


if __name__ == "__main__":
    main()
