"""Long run of the property-based secure-room attacker (issue 8), plus refusal times and
cell-key utility on the demo job-seeker cohort.

    python bench/secure_room_attack.py --examples 500          # a few minutes

* attacker: ``--examples`` queries drawn by tests/engines/secure_room_attacker.py (conditional
  aggregates in ten SQL forms, WHERE, subquery/CTE, HAVING, ORDER BY/LIMIT, UNION, windows,
  conditions taken from real rows), run through restrict + run with cell-key perturbation,
  checked against the independent pandas oracle; prints accepted/refused/violations;
* refusal time p50/p99 over the refused queries of the corpus, and for oversized inputs
  (the 75 kB OR-chain of the issue, a chain just under the text limit);
* utility: mean and max absolute perturbation of every count cell of a set of grouped
  tables on the demo cohort (50 000 rows, seed 2024).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.engines import secure_room_attacker as attacker  # noqa: E402

from pacte.data import demo_data  # noqa: E402
from pacte.data.demo import DEMO_ROWS, DEMO_SEED  # noqa: E402
from pacte.engines.secure_room import (  # noqa: E402
    LIMITS,
    SqlRefused,
    dataset_profile,
    restrict,
    run,
    write_with_record_keys,
)

SECRET = 0xA77AC


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--rows", type=int, default=6_000, help="cohort rows for the attacker")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pacte-attack-"))
    raw = demo_data.generate_jobseeker_cohort(args.rows, DEMO_SEED, folder / "small.parquet")
    df = pd.read_parquet(raw)
    # stored as the platform stores a version: record keys in a reserved column of the file
    [small] = write_with_record_keys([raw], "person_id", SECRET, [folder / "small.keyed.parquet"])
    profiles = {e: dataset_profile([small], "person_id", e) for e in (None, "education_level")}
    counts = {"accepted": 0, "refused": 0, "violations": 0}
    refusal_times: list[float] = []
    answer_times: list[float] = []
    examples: list[str] = []

    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(query=attacker.queries(df), enterprise=st.sampled_from([None, "education_level"]))
    def attack(query: attacker.Query, enterprise: str | None) -> None:
        sql = query.sql()
        start = time.perf_counter()
        try:
            restricted = restrict(sql, "donnees", attacker.COLUMNS)
            result = run(
                restricted,
                [small],
                "person_id",
                enterprise,
                cell_key_secret=SECRET,
                profile=profiles[enterprise],
            )
        except SqlRefused:
            refusal_times.append(time.perf_counter() - start)
            counts["refused"] += 1
            return
        answer_times.append(time.perf_counter() - start)
        counts["accepted"] += 1
        problems = attacker.violations(query, df, result.columns, result.rows, enterprise)
        if problems or query.trick:
            counts["violations"] += 1
            examples.append(f"{sql}\n  {problems or query.trick}")

    start = time.perf_counter()
    attack()
    print(
        f"attacker: {args.examples} examples in {time.perf_counter() - start:.0f} s on {args.rows} rows — "
        f"accepted {counts['accepted']}, refused {counts['refused']}, violations {counts['violations']}"
    )
    for e in examples[:5]:
        print("  VIOLATION", e)
    print(
        f"refusal time over the corpus: p50 {1000 * percentile(refusal_times, 0.5):.1f} ms, "
        f"p99 {1000 * percentile(refusal_times, 0.99):.1f} ms, max {1000 * max(refusal_times, default=0):.1f} ms "
        f"({len(refusal_times)} refusals); answers p50 {1000 * percentile(answer_times, 0.5):.0f} ms"
    )

    def chain_time(size: int) -> tuple[int, float, str]:
        terms = []
        i = 0
        while len(" OR ".join(terms)) < size:
            terms.append(f"departement = '{i % 100:02d}' AND sex = 'F'")
            i += 1
        sql = "SELECT COUNT(*) FROM donnees WHERE " + " OR ".join(terms)
        start = time.perf_counter()
        try:
            restrict(sql, "donnees", attacker.COLUMNS)
            outcome = "accepted"
        except SqlRefused as e:
            outcome = e.reason
        return len(sql), time.perf_counter() - start, outcome

    for size in (75_000, 37_000, LIMITS.max_sql_chars - 200, 8_000):
        n, seconds, outcome = chain_time(size)
        print(f"OR-chain of {n} characters: restrict {1000 * seconds:.1f} ms ({outcome})")

    [cohort] = write_with_record_keys(
        [demo_data.generate_jobseeker_cohort(DEMO_ROWS, DEMO_SEED, folder / "cohort.parquet")],
        "person_id",
        SECRET,
        [folder / "cohort.keyed.parquet"],
    )
    profile = dataset_profile([cohort], "person_id")
    deltas: list[int] = []
    for keys in (
        "departement",
        "region, sex",
        "age_band, sex, education_level",
        "departement, sex",
        "region, age_band",
        "departement, unemployment_duration_band",
    ):
        sql = f"SELECT {keys}, COUNT(*) AS n FROM donnees GROUP BY {keys} ORDER BY {keys}"
        restricted = restrict(sql, "donnees", attacker.COLUMNS)
        exact = run(restricted, [cohort], "person_id", profile=profile).rows
        noisy = run(restricted, [cohort], "person_id", profile=profile, cell_key_secret=SECRET).rows
        deltas += [int(b[-1]) - int(a[-1]) for a, b in zip(exact, noisy, strict=True)]
    print(
        f"cell-key utility on the demo cohort ({DEMO_ROWS} rows): {len(deltas)} published counts, "
        f"mean |perturbation| {statistics.fmean(abs(d) for d in deltas):.3f}, "
        f"max {max(abs(d) for d in deltas)}, share unchanged {sum(1 for d in deltas if d == 0) / len(deltas):.3f}"
    )


if __name__ == "__main__":
    main()
