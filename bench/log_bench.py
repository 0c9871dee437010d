#!/usr/bin/env python3
"""Benchmark of the platform's transparency log (Django + database), one command:

    .venv/bin/python bench/log_bench.py --db sqlite --batches 50
    .venv/bin/python bench/log_bench.py --db postgresql://pacte@127.0.0.1:55440/pacte --batches 50

Measures, in the same run and on the same database:

* durable appends/s: batches of 1,000 events through ``record_events`` (one lock, bulk
  insert of entries and tree nodes, one signed checkpoint, ONE commit per batch);
* the baseline: a plain bulk insert of the same rows into the same table, one commit per
  batch, without the log machinery (no prev lookup, no tree, no checkpoint) → ratio;
* inclusion and consistency proofs/s served from the database node store at ``--proof-size``
  entries (default 1M, filled quickly with bulk inserts of synthetic entries + their nodes).

The database is created from scratch (a fresh SQLite file, or a fresh PostgreSQL database
on the given server) and dropped afterwards.  SQLite runs with the platform's settings
(WAL, synchronous=NORMAL: durable against process crashes; ``--sqlite-sync full`` for
power-loss durability); PostgreSQL with the server's settings (check ``fsync``/
``synchronous_commit`` are on for honest numbers: the bench prints them).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]


def configure(db: str, sqlite_sync: str) -> tuple[str, callable]:
    tmp = Path(tempfile.mkdtemp(prefix="pacte-logbench-"))
    os.environ["PACTE_VAR_DIR"] = str(tmp / "var")
    os.environ.setdefault("PACTE_ENV", "test")
    os.environ.pop("PACTE_LOG_SIGNING_KEY", None)
    cleanup = lambda: None  # noqa: E731
    if db == "sqlite":
        os.environ["PACTE_DATABASE_URL"] = f"sqlite://{tmp / 'bench.sqlite3'}"
        label = f"SQLite (WAL, synchronous={sqlite_sync.upper()})"
    else:
        import psycopg

        u = urlparse(db)
        name = f"pacte_logbench_{uuid.uuid4().hex[:8]}"
        admin = dict(host=u.hostname, port=u.port, user=u.username, password=u.password, dbname="postgres",
                     autocommit=True)
        with psycopg.connect(**admin) as c:
            c.execute(f'CREATE DATABASE "{name}"')
            fsync = c.execute("SHOW fsync").fetchone()[0]
            sync = c.execute("SHOW synchronous_commit").fetchone()[0]
            version = c.execute("SHOW server_version").fetchone()[0]
        os.environ["PACTE_DATABASE_URL"] = u._replace(path=f"/{name}").geturl()
        label = f"PostgreSQL {version} (fsync={fsync}, synchronous_commit={sync})"

        def cleanup() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(**admin) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    os.environ["DJANGO_SETTINGS_MODULE"] = "pacte.settings"
    import django

    django.setup()
    if db == "sqlite" and sqlite_sync != "normal":
        from django.db.backends.signals import connection_created

        def _sync(sender, connection, **kw):  # type: ignore[no-untyped-def]
            connection.cursor().execute(f"PRAGMA synchronous={sqlite_sync.upper()}")

        connection_created.connect(_sync, weak=False)
    from django.core.management import call_command

    call_command("migrate", "journal", verbosity=0)
    return label, cleanup


def events(start: int, n: int, subjects: int):
    from pacte.journal.services import SYSTEM, NewEvent

    return [NewEvent("bench.event", SYSTEM, "bench", (start + i) % subjects, {"i": start + i}, "bench")
            for i in range(n)]


def bench_appends(batches: int, batch: int, subjects: int) -> tuple[float, float]:
    """(log appends/s, baseline inserts/s)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from pacte.journal.canonical import canonical_json
    from pacte.journal.models import Event
    from pacte.journal.services import record_events
    from pacte.journal.store import bulk_insert

    record_events(events(0, batch, subjects))  # warm-up (key generation, first checkpoint)
    t0 = time.perf_counter()
    for b in range(1, batches + 1):
        record_events(events(b * batch, batch, subjects))
    log_rate = batches * batch / (time.perf_counter() - t0)

    # baseline: the same rows (canonical JSON + hashes computed, as any honest journal would),
    # plain bulk INSERT into a copy of the table, one commit per batch
    import hashlib

    with connection.cursor() as cur:
        q = connection.ops.quote_name
        cur.execute(f"CREATE TABLE bench_baseline AS SELECT * FROM {q(Event._meta.db_table)} WHERE 1 = 0")
    cols = ("index", "type", "occurred_at", "organisation_slug", "subject_type", "subject_id", "project_slug",
            "entry", "entry_hash", "leaf_hash", "prev")
    t0 = time.perf_counter()
    for b in range(1, batches + 1):
        now = timezone.now()
        ts = connection.ops.adapt_datetimefield_value(now)
        rows = []
        for e in events(b * batch, batch, subjects):
            text = canonical_json({"v": 1, "type": e.type, "ts": now.isoformat(), "actor": e.actor.as_entry(),
                                   "subject": {"type": e.subject_type, "id": str(e.subject_id)},
                                   "project": e.project_slug, "data": e.data, "prev": None})
            raw = text.encode()
            rows.append((0, e.type, ts, "", e.subject_type, str(e.subject_id), e.project_slug, text,
                         hashlib.sha256(raw).hexdigest(), hashlib.sha256(b"\0" + raw).digest(), ""))
        with transaction.atomic():
            bulk_insert("bench_baseline", cols, rows)
    base_rate = batches * batch / (time.perf_counter() - t0)
    return log_rate, base_rate


def fill(target: int, chunk: int = 50_000) -> None:
    """Grow the log to `target` entries quickly: synthetic entries + their nodes, bulk inserted."""
    from django.db import transaction

    from pacte.engines import merkle
    from pacte.journal.models import LogState
    from pacte.journal.services import integrate
    from pacte.journal.store import DbNodeStore, bulk_insert

    state = LogState.objects.get()
    # entries: valid canonical JSON with a prev chain per subject (one subject per entry here)
    size = state.size
    tree = merkle.MerkleTree(DbNodeStore(), state.tree_size)
    from django.db import connection

    now = connection.ops.adapt_datetimefield_value(__import__("django.utils.timezone").utils.timezone.now())
    import hashlib

    while size < target:
        n = min(chunk, target - size)
        rows, leaves = [], []
        for i in range(size, size + n):
            text = f'{{"data":{{"i":{i}}},"prev":null,"subject":{{"id":"f{i}","type":"fill"}},"type":"bench.fill","v":1}}'
            raw = text.encode()
            lh = hashlib.sha256(b"\0" + raw).digest()
            rows.append((i, "bench.fill", now, "", "fill", f"f{i}", "", text, hashlib.sha256(raw).hexdigest(), lh, ""))
            leaves.append(lh)
        with transaction.atomic():
            bulk_insert("journal_event", ("index", "type", "occurred_at", "organisation_slug", "subject_type",
                                          "subject_id", "project_slug", "entry", "entry_hash", "leaf_hash", "prev"), rows)
            tree.append_many(leaves)
            size += n
            LogState.objects.filter(id=1).update(size=size, tree_size=size)
        print(f"\r  remplissage : {size:,} / {target:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    integrate()


def bench_proofs(seconds: float) -> tuple[float, float, int]:
    from pacte.engines import merkle
    from pacte.journal import services

    size = services.latest_checkpoint().size
    rng = random.Random(7)
    # inclusion
    n, t0 = 0, time.perf_counter()
    root = None
    while time.perf_counter() - t0 < seconds:
        i = rng.randrange(size)
        p = services.inclusion(index=i, size=size)
        n += 1
        if n == 1:
            root = bytes.fromhex(p["root"])
            merkle.verify_inclusion(bytes.fromhex(p["leaf_hash"]), i, size, [bytes.fromhex(h) for h in p["proof"]], root)
    inc = n / (time.perf_counter() - t0)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        old = rng.randrange(1, size)
        c = services.consistency(old, size)
        n += 1
        if n == 1:
            merkle.verify_consistency(old, size, bytes.fromhex(c["old_root"]), root, [bytes.fromhex(h) for h in c["proof"]])
    con = n / (time.perf_counter() - t0)
    return inc, con, size


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite", help="sqlite | postgresql://user@host:port/any")
    ap.add_argument("--batches", type=int, default=50)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--subjects", type=int, default=1000, help="distinct subjects (prev chains) in the appends")
    ap.add_argument("--proof-size", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each proof measurement")
    ap.add_argument("--sqlite-sync", default="normal", choices=["normal", "full"])
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    label, cleanup = configure(args.db, args.sqlite_sync)
    try:
        print(f"# Journal vérifiable — {label}, {os.cpu_count()} cœurs", flush=True)
        log_rate, base_rate = bench_appends(args.batches, args.batch, args.subjects)
        print(f"appends durables (lots de {args.batch}, 1 commit/lot) : {log_rate:,.0f}/s ; "
              f"insertion brute : {base_rate:,.0f}/s ; ratio {log_rate / base_rate:.2f}", flush=True)
        from pacte.journal.services import verify_log

        if args.proof_size:
            fill(args.proof_size)
        inc, con, size = bench_proofs(args.seconds)
        print(f"preuves servies depuis la base à {size:,} entrées : inclusion {inc:,.0f}/s ; cohérence {con:,.0f}/s",
              flush=True)
        print()
        print("| base | appends/s (log) | insert brut/s | ratio | taille | inclusion/s | cohérence/s |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        print(f"| {label} | {log_rate:,.0f} | {base_rate:,.0f} | {log_rate / base_rate:.2f} | {size:,} | {inc:,.0f} | {con:,.0f} |")
        if size <= 200_000:
            assert verify_log().ok
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
