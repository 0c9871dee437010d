"""Ledger benchmark (issue 11): posting balanced transactions and computing all totals, against a
plain insert and a plain SUM, in the same run and on the same database.

    .venv/bin/python bench/funding_bench.py                      # 100,000 transactions, SQLite
    .venv/bin/python bench/funding_bench.py --transactions 20000
    PACTE_DATABASE_URL=postgresql://… .venv/bin/python bench/funding_bench.py   # a throw-away PostgreSQL

Measures:
1. ledger: 100,000 two-legged transactions posted through ``ledger.post_batch`` (batches of 1,000;
   the database's posting triggers check every balance) then every total (per programme, per
   institution, per project, per year) through ``ledger.totals``;
2. ledger, one transaction at a time through ``ledger.post`` (what a use case does, without the
   journal event), on --single transactions;
3. baseline: the same rows inserted into a plain table (no triggers, no foreign keys) with
   executemany, and a plain ``SUM(amount) GROUP BY account``.
A fresh SQLite database (or the given PostgreSQL, migrated) is used; timings are wall-clock.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="pacte-funding-bench-"))
    os.environ["PACTE_VAR_DIR"] = str(var)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacte.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from rich.console import Console
    from rich.table import Table

    from pacte.accounts import policy
    from pacte.accounts.models import Organisation
    from pacte.funding import ledger
    from pacte.funding.models import LedgerAccount, LedgerTransaction, Programme

    console = Console(width=140)
    call_command("migrate", verbosity=0)
    run = int(
        time.time()
    )  # a database may be shared with other benchmarks (bench/run): fresh names each run
    inst = Organisation.objects.create(
        slug=f"bench-inst-{run}", name="Institution", kind="institution", legal_form="operator"
    )
    programme = Programme.objects.create(
        slug=f"bench-{run}",
        institution=inst,
        title="Bench",
        budget_eur=Decimal("1e9"),
        starts_on="2026-01-01",
        ends_on="2026-12-31",
    )
    accounts = [
        LedgerAccount.objects.create(
            code=f"bench-{run}:{i}",
            name=f"Compte {i}",
            kind=kind,
            programme=programme,
            institution=inst,
            project_slug=f"projet-{i % 5}",
        )
        for i, kind in enumerate(
            ["available", "committed", "payable", "paid", "withheld", "receivable"] * 3
        )
    ]
    n = args.transactions
    amounts = [Decimal(1 + (i * 7919) % 100_000) / 100 for i in range(n)]
    pairs = [(accounts[i % len(accounts)], accounts[(i * 5 + 1) % len(accounts)]) for i in range(n)]
    pairs = [
        (a, b if b.pk != a.pk else accounts[(accounts.index(a) + 1) % len(accounts)])
        for a, b in pairs
    ]

    t0 = time.perf_counter()
    with transaction.atomic():
        for start in range(0, n, args.batch):
            ledger.post_batch(
                "allocated",
                programme,
                [
                    [ledger.Leg(a, amt), ledger.Leg(b, -amt)]
                    for (a, b), amt in zip(
                        pairs[start : start + args.batch],
                        amounts[start : start + args.batch],
                        strict=True,
                    )
                ],
            )
    t_post = time.perf_counter() - t0
    t0 = time.perf_counter()
    year = (
        LedgerTransaction.objects.filter(programme=programme).values_list("year", flat=True).first()
    )
    totals = [
        ledger.totals(programme=programme),
        ledger.totals(institution=inst),
        ledger.totals(year=year),
    ]
    totals += [ledger.totals(project_slug=f"projet-{i}") for i in range(5)]
    t_totals = time.perf_counter() - t0

    m = args.single
    t0 = time.perf_counter()
    with transaction.atomic():
        for (a, b), amt in zip(pairs[:m], amounts[:m], strict=True):
            ledger.move(policy.SYSTEM, "allocated", programme, amt, a, b, journal=False)
    t_single = time.perf_counter() - t0

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_plain")
        cur.execute("CREATE TABLE bench_plain (tx integer, account integer, amount numeric(14, 2))")
        rows = [(i, a.pk, amt) for i, ((a, b), amt) in enumerate(zip(pairs, amounts, strict=True))]
        rows += [
            (i, b.pk, -amt) for i, ((a, b), amt) in enumerate(zip(pairs, amounts, strict=True))
        ]
        t0 = time.perf_counter()
        with transaction.atomic():
            for start in range(0, len(rows), 10_000):
                cur.executemany(
                    "INSERT INTO bench_plain (tx, account, amount) VALUES (%s, %s, %s)",
                    rows[start : start + 10_000],
                )
        t_plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        cur.execute("SELECT account, SUM(amount) FROM bench_plain GROUP BY account")
        plain_sums = cur.fetchall()
        t_plain_sum = time.perf_counter() - t0
        cur.execute("DROP TABLE bench_plain")

    assert len(plain_sums) == len(accounts)
    table = Table(title=f"Ledger, {connection.vendor}, {n:,} transactions ({2 * n:,} entries)")
    for col in ("measure", "seconds", "per transaction (µs)"):
        table.add_column(col)
    table.add_row(
        f"ledger.post_batch ×{n:,} (DB-checked balance)", f"{t_post:.2f}", f"{t_post / n * 1e6:.0f}"
    )
    table.add_row("plain INSERT of the same rows", f"{t_plain:.2f}", f"{t_plain / n * 1e6:.0f}")
    table.add_row(
        "all totals (8 views: programme, institution, year, 5 projects)", f"{t_totals:.3f}", ""
    )
    table.add_row("plain SUM … GROUP BY account", f"{t_plain_sum:.3f}", "")
    table.add_row(
        f"ledger.post one at a time ×{m:,}", f"{t_single:.2f}", f"{t_single / m * 1e6:.0f}"
    )
    console.print(table)
    console.print(
        f"ratio post_batch / plain insert: {t_post / t_plain:.1f}×; totals / plain SUM: "
        f"{t_totals / t_plain_sum:.1f}×"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
