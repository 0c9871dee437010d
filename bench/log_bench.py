#!/usr/bin/env python3
"""Benchmark of the platform's transparency log (Django + database), one command:

    .venv/bin/python bench/log_bench.py --pg "$PACTE_PG_URL" [--quick]
    .venv/bin/python bench/log_bench.py --db sqlite            (SQLite only)

Prints ONE table, every figure beside its baseline measured in the same run (``--json-out F``
also writes the figures under stable names, see bench/README.md):

* durable appends/s: batches of 1,000 events through ``record_events`` (one lock, entries and
  tree nodes of levels >= 1 inserted — COPY on PostgreSQL, executemany on SQLite —, one signed
  checkpoint, ONE commit per batch) vs a plain bulk insert of the same rows into an index-free
  copy of the table, one commit per batch; the two alternate batch by batch, so that both see
  the same load on a shared machine (``--sizes ""``: appends only);
* inclusion and consistency proofs/s at 1M and 10M entries (``--sizes``; 100k with
  ``--quick``), served from the database through ``services.inclusion``/``consistency``
  (warm process-wide node cache; and cold: cache emptied before every proof) and through
  the HTTP endpoint (Django test client, full request/response cycle), and computed by a client
  from the C2SP tiles it fetches over HTTP (empty tile cache at the start, every proof verified
  against the signed root: what ``pacte log verify --url`` does), beside pymerkle
  generating the same proofs on an in-memory tree of the same size (run in
  ``bench/.venv``, where pymerkle lives, via ``bench/merkle_bench.py``);
* full verification of a 1M-entry export (``pacte log export`` then the offline verifier
  ``pacte log verify --dir``) vs pymerkle rebuilding the tree of the same entries.

Fresh databases (SQLite file; a new PostgreSQL database on the given server, dropped
afterwards).  SQLite runs with the platform's settings (WAL, synchronous=NORMAL: durable
against process crashes; ``--sqlite-sync full`` for power-loss durability); PostgreSQL with
the server's settings (``fsync``/``synchronous_commit`` are printed).
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
        admin = dict(
            host=u.hostname,
            port=u.port,
            user=u.username,
            password=u.password,
            dbname="postgres",
            autocommit=True,
        )
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

    return [
        NewEvent("bench.event", SYSTEM, "bench", (start + i) % subjects, {"i": start + i}, "bench")
        for i in range(n)
    ]


def _baseline_rows(evs, now, ts) -> list:
    """The rows a plain journal would insert for `evs`: canonical JSON + hashes computed."""
    import hashlib

    from pacte.engines.canonical import canonical_json

    rows = []
    for e in evs:
        text = canonical_json(
            {
                "v": 1,
                "type": e.type,
                "ts": now.isoformat(),
                "actor": e.actor.as_entry(),
                "subject": {"type": e.subject_type, "id": str(e.subject_id)},
                "project": e.project_slug,
                "data": e.data,
                "prev": None,
            }
        )
        raw = text.encode()
        rows.append(
            (
                0,
                e.type,
                ts,
                "",
                e.subject_type,
                str(e.subject_id),
                e.project_slug,
                text,
                hashlib.sha256(raw).hexdigest(),
                hashlib.sha256(b"\0" + raw).digest(),
                "",
            )
        )
    return rows


BASELINE_COLUMNS = (
    "index",
    "type",
    "occurred_at",
    "organisation_slug",
    "subject_type",
    "subject_id",
    "project_slug",
    "entry",
    "entry_hash",
    "leaf_hash",
    "prev",
)


def bench_appends(batches: int, batch: int, subjects: int) -> tuple[float, float]:
    """(log appends/s, baseline inserts/s), INTERLEAVED: each batch is appended to the log, then
    the same rows are bulk inserted into an index-free copy of the table (one commit each), so
    that both see the same load on a shared machine."""
    from django.db import connection, transaction
    from django.utils import timezone

    from pacte.journal.models import Event
    from pacte.journal.services import record_events
    from pacte.writes.rows import bulk_insert

    record_events(events(0, batch, subjects))  # warm-up (key generation, first checkpoint)
    with connection.cursor() as cur:
        q = connection.ops.quote_name
        cur.execute(
            f"CREATE TABLE bench_baseline AS SELECT * FROM {q(Event._meta.db_table)} WHERE 1 = 0"
        )
    t_log = t_base = 0.0
    for b in range(1, batches + 1):
        evs = events(b * batch, batch, subjects)
        t0 = time.perf_counter()
        record_events(evs)
        t_log += time.perf_counter() - t0
        evs = events(b * batch, batch, subjects)
        t0 = time.perf_counter()
        now = timezone.now()
        rows = _baseline_rows(evs, now, connection.ops.adapt_datetimefield_value(now))
        with transaction.atomic():
            bulk_insert("bench_baseline", BASELINE_COLUMNS, rows)
        t_base += time.perf_counter() - t0
    n = batches * batch
    return n / t_log, n / t_base


def fill(target: int, chunk: int = 50_000) -> None:
    """Grow the log to `target` entries quickly: synthetic entries + their nodes, bulk inserted."""
    from django.db import transaction

    from pacte.engines import merkle
    from pacte.journal.models import LogState
    from pacte.journal.services import integrate
    from pacte.journal.store import DbNodeStore
    from pacte.writes.rows import bulk_insert

    state = LogState.objects.get()
    # entries: valid canonical JSON with a prev chain per subject (one subject per entry here)
    size = state.size
    from django.db import connection

    now = connection.ops.adapt_datetimefield_value(
        __import__("django.utils.timezone").utils.timezone.now()
    )
    import hashlib

    while size < target:
        n = min(chunk, target - size)
        rows, leaves = [], []
        for i in range(size, size + n):
            text = f'{{"data":{{"i":{i}}},"prev":null,"subject":{{"id":"f{i}","type":"fill"}},"type":"bench.fill","v":1}}'
            raw = text.encode()
            lh = hashlib.sha256(b"\0" + raw).digest()
            rows.append(
                (
                    i,
                    "bench.fill",
                    now,
                    "",
                    "fill",
                    f"f{i}",
                    "",
                    text,
                    hashlib.sha256(raw).hexdigest(),
                    lh,
                    "",
                )
            )
            leaves.append(lh)
        with transaction.atomic():
            bulk_insert(
                "journal_event",
                (
                    "index",
                    "type",
                    "occurred_at",
                    "organisation_slug",
                    "subject_type",
                    "subject_id",
                    "project_slug",
                    "entry",
                    "entry_hash",
                    "leaf_hash",
                    "prev",
                ),
                rows,
            )
            # a store per chunk: a DbNodeStore keeps every node it wrote
            merkle.MerkleTree(DbNodeStore(), size).append_many(leaves)
            size += n
            LogState.objects.filter(id=1).update(size=size, tree_size=size)
        print(f"\r  remplissage : {size:,} / {target:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    integrate()


def _measure(fn, seconds: float, min_n: int = 50) -> float:
    n, t0 = 0, time.perf_counter()
    while n < min_n or time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - t0)


def bench_proofs(seconds: float) -> dict[str, float]:
    """Proofs/s at the current size: service (warm cache, cold cache) and HTTP (warm)."""
    from django.conf import settings
    from django.test import Client

    from pacte.engines import merkle
    from pacte.journal import services
    from pacte.journal.store import node_cache

    services.clear_caches()
    size = services.latest_checkpoint().size
    rng = random.Random(7)
    res: dict[str, float] = {"size": size}
    # correctness of what is measured: a few proofs verified against the signed checkpoint
    cp = services.latest_checkpoint()
    for _ in range(20):
        i, old = rng.randrange(size), rng.randrange(1, size)
        p = services.inclusion(index=i)
        merkle.verify_inclusion(
            bytes.fromhex(p["leaf_hash"]),
            i,
            size,
            [bytes.fromhex(h) for h in p["proof"]],
            bytes(cp.root),
        )
        c = services.consistency(old)
        merkle.verify_consistency(
            old,
            size,
            bytes.fromhex(c["old_root"]),
            bytes(cp.root),
            [bytes.fromhex(h) for h in c["proof"]],
        )
    cache = node_cache()
    # cold: the node cache is emptied before every proof (each proof reads the database)
    res["incl_cold"] = _measure(
        lambda: (cache.clear(), services.inclusion(index=rng.randrange(size))), seconds / 2
    )
    res["cons_cold"] = _measure(
        lambda: (cache.clear(), services.consistency(rng.randrange(1, size))), seconds / 2
    )
    t0 = time.perf_counter()
    res["warm_nodes"] = services.warm_cache()
    res["warm_s"] = time.perf_counter() - t0
    res["cache_mb"] = cache.nbytes / 2**20
    res["cache_budget_mb"] = cache.max_bytes / 2**20
    res["incl"] = _measure(lambda: services.inclusion(index=rng.randrange(size)), seconds)
    res["cons"] = _measure(lambda: services.consistency(rng.randrange(1, size)), seconds)
    client = Client()
    r = client.get("/api/v1/log/proof/inclusion", {"index": 0})
    assert r.status_code == 200, r.content[:300]
    assert settings.DEBUG is False
    res["incl_http"] = _measure(
        lambda: client.get("/api/v1/log/proof/inclusion", {"index": rng.randrange(size)}), seconds
    )
    res["cons_http"] = _measure(
        lambda: client.get("/api/v1/log/proof/consistency", {"old": rng.randrange(1, size)}),
        seconds,
    )
    res.update(bench_tile_proofs(client, size, seconds, rng))
    return res


def bench_tile_proofs(client, size: int, seconds: float, rng: random.Random) -> dict[str, float]:
    """Proofs computed by a client from the C2SP tiles it fetches over HTTP (what `pacte log
    verify --url` does), starting with an EMPTY tile cache: every tile a proof needs is fetched
    through the full Django request cycle the first time, then kept (tiles are immutable, so an
    HTTP cache or a CDN in front of the log would keep them too). Each proof is verified."""
    from pacte.engines import merkle
    from pacte.engines import tiles as T
    from pacte.journal import services

    root = bytes(services.latest_checkpoint().root)
    fetched = [0]

    def fetch(path: str) -> bytes:
        fetched[0] += 1
        r = client.get(f"/api/v1/log/{path}")
        assert r.status_code == 200, path
        return r.content

    cache: dict[str, bytes] = {}
    store = T.TileNodeStore(size, fetch, cache)
    tree = merkle.MerkleTree(store, size)

    def inclusion() -> None:
        i = rng.randrange(size)
        merkle.verify_inclusion(tree.leaf_hash(i), i, size, tree.inclusion_proof(i), root)

    def consistency() -> None:
        old = rng.randrange(1, size)
        merkle.verify_consistency(old, size, tree.root(old), root, tree.consistency_proof(old))

    # cold: the client starts with no tile; the window includes the tile requests
    out = {"incl_tiles_cold": _measure(inclusion, seconds / 2)}
    out["cons_tiles_cold"] = _measure(consistency, seconds / 2)
    # every hash tile held (fetched once), inner levels hashed on demand by each proof
    t0 = time.perf_counter()
    for ref in T.tiles_for_size(size):
        if ref.path not in cache:
            cache[ref.path] = fetch(ref.path)
    out["tiles_prefetch_s"] = time.perf_counter() - t0
    out["tiles_fetched"] = fetched[0]
    out["tiles_mb"] = sum(len(v) for v in cache.values()) / 2**20
    before = fetched[0]
    store = T.TileNodeStore(size, fetch, cache)  # no inner level hashed yet
    tree = merkle.MerkleTree(store, size)
    out["incl_tiles_unhashed"] = _measure(inclusion, seconds / 2)
    out["cons_tiles_unhashed"] = _measure(consistency, seconds / 2)
    # warm, like the warm service (whose node cache holds every level): every tile held and
    # its inner levels hashed in bulk once (`TileNodeStore.warm`, timed apart like the
    # service's cache loading); a client that has run a while, or behind an HTTP cache /
    # CDN (the tiles are immutable), is in this state
    store = T.TileNodeStore(size, fetch, cache)
    t0 = time.perf_counter()
    store.warm()
    out["tiles_hash_s"] = time.perf_counter() - t0
    tree = merkle.MerkleTree(store, size)
    out["incl_tiles_http"] = _measure(inclusion, seconds)
    out["cons_tiles_http"] = _measure(consistency, seconds)
    # the ratio to the warm service, INTERLEAVED (rounds alternating the service and the
    # client, both warm), so that both see the same load on a shared machine
    for key, ours, theirs in (
        ("incl", inclusion, lambda: services.inclusion(index=rng.randrange(size))),
        ("cons", consistency, lambda: services.consistency(rng.randrange(1, size))),
    ):
        n_ours = n_theirs = 0
        t_ours = t_theirs = 0.0
        for _ in range(5):
            for fn, is_ours in ((theirs, False), (ours, True)):
                n, t0 = 0, time.perf_counter()
                while n < 20 or time.perf_counter() - t0 < seconds / 5:
                    fn()
                    n += 1
                dt = time.perf_counter() - t0
                if is_ours:
                    n_ours, t_ours = n_ours + n, t_ours + dt
                else:
                    n_theirs, t_theirs = n_theirs + n, t_theirs + dt
        out[f"{key}_tiles_ratio_interleaved"] = (n_ours / t_ours) / (n_theirs / t_theirs)
    assert fetched[0] == before  # warm: no request at all
    return out


def bench_verify_export() -> dict[str, float]:
    """`pacte log export` then the offline verifier on the directory (what `pacte log verify
    --dir` runs, without the progress bar)."""
    import shutil

    from pacte.engines import offline_verifier as offline
    from pacte.journal.exports import export_log
    from pacte.journal.keys import verifier_key

    d = Path(tempfile.mkdtemp(prefix="pacte-logexport-"))
    try:
        t0 = time.perf_counter()
        size = export_log(d)
        t_export = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = offline.verify_source(offline.DirSource(d), verifier_key())
        t_verify = time.perf_counter() - t0
        assert res.size == size
        return {"export_size": size, "export_s": t_export, "verify_s": t_verify}
    finally:
        shutil.rmtree(d, ignore_errors=True)


def child(args: argparse.Namespace) -> dict:
    """One database: appends vs baseline, then proofs at each size (+ export verification)."""
    label, cleanup = configure(args.db, args.sqlite_sync)
    out: dict = {"label": label}
    try:
        from django.conf import settings

        settings.LOG_NODE_CACHE_BYTES = args.cache_mb * 2**20
        log(f"# {label}: appends…")
        out["log_rate"], out["base_rate"] = bench_appends(args.batches, args.batch, args.subjects)
        log(f"  appends {out['log_rate']:,.0f}/s, plain insert {out['base_rate']:,.0f}/s")
        out["sizes"] = []
        for n in args.size_list:
            t0 = time.perf_counter()
            fill(n)
            log(f"  filled to {n:,} in {time.perf_counter() - t0:,.0f} s; proofs…")
            r = bench_proofs(args.seconds)
            log(f"  {r}")
            if args.verify_export and n == args.verify_size:
                r.update(bench_verify_export())
                log(f"  export {r['export_s']:.1f} s, verify {r['verify_s']:.1f} s")
            out["sizes"].append(r)
    finally:
        cleanup()
    return out


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


PYMERKLE_CODE = r"""
import json, random, sys, time
sys.path.insert(0, sys.argv[1])
import merkle_bench as mb
pm = mb.load_pymerkle()
out = {"version": getattr(pm, "__version__", "?") if pm else None, "sizes": {}}
if pm is not None:
    for n in json.loads(sys.argv[2]):
        r = mb.bench_pymerkle(pm, n, int(sys.argv[3]), random.Random(6962))
        out["sizes"][str(n)] = r
        print(f"  pymerkle n={n:,}: {r}", file=sys.stderr, flush=True)
    v = int(sys.argv[4])
    if v:
        dt_ours, root = mb.full_verify_pacte(v)
        out["verify"] = {"size": v, "pymerkle_s": mb.full_verify_pymerkle(pm, v, root), "engine_s": dt_ours}
print(json.dumps(out))
"""


def run_pymerkle(args: argparse.Namespace) -> dict | None:
    import json
    import subprocess

    py = ROOT / "bench" / ".venv" / "bin" / "python"
    try:
        import pymerkle  # noqa: F401

        py = Path(sys.executable)
    except ImportError:
        if not py.exists():
            return None
    sizes = [n for n in args.size_list if n <= args.pymerkle_max]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    r = subprocess.run(
        [
            str(py),
            "-c",
            PYMERKLE_CODE,
            str(ROOT / "bench"),
            json.dumps(sizes),
            str(args.proofs),
            str(args.verify_size if args.verify_export else 0),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    sys.stderr.write(r.stderr)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def table(results: list[dict], pm: dict | None) -> None:
    def rate(x: float | None) -> str:
        return "—" if x is None else f"{x:,.0f}/s"

    pm_sizes = (pm or {}).get("sizes", {})
    pm_note = (
        "pymerkle absent"
        if pm is None or pm.get("version") is None
        else f"pymerkle {pm['version']}"
    )
    print()
    print("| mesure | base | taille | pacte | référence dans la même exécution | ratio |")
    print("|---|---|---:|---:|---|---:|")
    for r in results:
        db = r["label"]
        print(
            f"| appends durables (lots de 1 000, 1 commit/lot) | {db} | — | {rate(r['log_rate'])} | "
            f"insertion brute sans index : {rate(r['base_rate'])} | {r['log_rate'] / r['base_rate']:.2f} |"
        )
    for r in results:
        db = r["label"]
        for s in r["sizes"]:
            n = int(s["size"])
            theirs = pm_sizes.get(str(n)) or pm_sizes.get(str(n - n % 1000))
            for kind, key, pk in (
                ("inclusion", "incl", "incl_gen"),
                ("cohérence", "cons", "cons_gen"),
            ):
                ref = f"{pm_note} (mémoire) : {rate(theirs[pk])}" if theirs else f"{pm_note} : —"
                ratio = f"{s[key] / theirs[pk]:.1f}" if theirs else ""
                print(
                    f"| preuves de {kind}, service (cache chaud) | {db} | {n:,} | {rate(s[key])} | {ref} | {ratio} |"
                )
                print(
                    f"| preuves de {kind}, service (cache vidé à chaque preuve) | {db} | {n:,} | "
                    f"{rate(s[key + '_cold'])} | | |"
                )
                print(
                    f"| preuves de {kind}, HTTP GET /api/v1/log/proof/… | {db} | {n:,} | "
                    f"{rate(s[key + '_http'])} | service (cache chaud) : {rate(s[key])} | "
                    f"{s[key + '_http'] / s[key]:.2f} |"
                )
                print(
                    f"| preuves de {kind} calculées par le client à partir des tuiles HTTP "
                    f"(tuiles en cache, niveaux internes hachés, preuve vérifiée) | {db} | {n:,} | "
                    f"{rate(s[key + '_tiles_http'])} | service (cache chaud) : {rate(s[key])} | "
                    f"{s[key + '_tiles_http'] / s[key]:.2f} |"
                )
                if key + "_tiles_ratio_interleaved" in s:
                    print(
                        f"| idem, ratio mesuré en alternance avec le service (5 tours) | {db} | "
                        f"{n:,} | | | {s[key + '_tiles_ratio_interleaved']:.2f} |"
                    )
                if key + "_tiles_unhashed" in s:
                    print(
                        f"| idem, tuiles en cache mais niveaux internes hachés à la demande | {db} | "
                        f"{n:,} | {rate(s[key + '_tiles_unhashed'])} | | |"
                    )
                print(
                    f"| idem, client parti sans aucune tuile (requêtes comprises) | {db} | "
                    f"{n:,} | {rate(s[key + '_tiles_cold'])} | | |"
                )
            print(
                f"| tuiles de hachage lues par le client (toutes) | {db} | {n:,} | "
                f"{s['tiles_fetched']:,.0f} ({s['tiles_mb']:.1f} Mo, {s['tiles_prefetch_s']:.1f} s) | | |"
            )
            if "tiles_hash_s" in s:
                print(
                    f"| client : hachage en bloc des niveaux internes de toutes les tuiles | {db} | "
                    f"{n:,} | {s['tiles_hash_s']:.1f} s | | |"
                )
            print(
                f"| cache de nœuds : chargement | {db} | {n:,} | {s['warm_s']:.1f} s | "
                f"{s['cache_mb']:,.0f} Mo / budget {s['cache_budget_mb']:,.0f} Mo | |"
            )
            if "verify_s" in s:
                v = (pm or {}).get("verify") or {}
                ref = (
                    f"{pm_note} reconstruit l'arbre : {v['pymerkle_s']:.1f} s"
                    if v
                    else f"{pm_note} : —"
                )
                ratio = f"{v['pymerkle_s'] / s['verify_s']:.2f}" if v else ""
                print(
                    f"| vérification complète d'un export (`pacte log verify --dir`) | {db} | "
                    f"{int(s['export_size']):,} | {s['verify_s']:.1f} s (export : {s['export_s']:.1f} s) | {ref} | {ratio} |"
                )
                if v:
                    print(
                        f"| racine seule, moteur en mémoire (référence) | — | {v['size']:,} | {v['engine_s']:.1f} s | "
                        f"{pm_note} : {v['pymerkle_s']:.1f} s | {v['pymerkle_s'] / v['engine_s']:.1f} |"
                    )


def main() -> int:
    import json
    import subprocess

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--pg",
        help="PostgreSQL server URL (postgresql://user@host:port/any): also bench PostgreSQL",
    )
    ap.add_argument("--db", help="only this database: sqlite | postgresql://…")
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: 100k entries, 10 batches, 2 s a measure"
    )
    ap.add_argument("--batches", type=int, default=50)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument(
        "--subjects", type=int, default=1000, help="distinct subjects (prev chains) in the appends"
    )
    ap.add_argument("--sizes", default="1000000,10000000", help="log sizes for the proofs")
    ap.add_argument("--pg-sizes", help="sizes on PostgreSQL (default: --sizes)")
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each proof measurement")
    ap.add_argument(
        "--proofs", type=int, default=5000, help="pymerkle: proofs of each kind per size"
    )
    ap.add_argument("--pymerkle-max", type=int, default=10_000_000)
    ap.add_argument(
        "--verify-size", type=int, default=1_000_000, help="size of the exported log verified"
    )
    ap.add_argument(
        "--cache-mb", type=int, default=1024, help="node cache budget (LOG_NODE_CACHE_BYTES)"
    )
    ap.add_argument("--sqlite-sync", default="normal", choices=["normal", "full"])
    ap.add_argument(
        "--json-out", help="write the figures (stable names) to this JSON file for bench/run"
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--verify-export", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.batches, args.seconds, args.proofs, args.verify_size = (
            "100000",
            10,
            2.0,
            1000,
            100_000,
        )
        args.pg_sizes = args.pg_sizes and "100000"
    args.size_list = [int(x) for x in args.sizes.split(",") if x]
    sys.path.insert(0, str(ROOT / "src"))
    if args.child:
        print("RESULT " + json.dumps(child(args)), flush=True)
        return 0
    dbs = [args.db] if args.db else ["sqlite", *([args.pg] if args.pg else [])]
    print(f"# Journal vérifiable — {os.cpu_count()} cœurs — tailles {args.sizes}", flush=True)
    results = []
    for i, db in enumerate(dbs):
        sizes = args.pg_sizes if (db != "sqlite" and args.pg_sizes) else args.sizes
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--db",
            db,
            "--sizes",
            sizes,
            "--batches",
            str(args.batches),
            "--batch",
            str(args.batch),
            "--subjects",
            str(args.subjects),
            "--seconds",
            str(args.seconds),
            "--cache-mb",
            str(args.cache_mb),
            "--sqlite-sync",
            args.sqlite_sync,
            "--verify-size",
            str(args.verify_size),
        ]
        if i == 0:
            cmd.append("--verify-export")  # the export is verified once, from the first database
        r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        lines = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
        if r.returncode != 0 or not lines:
            print(f"échec du banc sur {db} (code {r.returncode})", flush=True)
            continue
        results.append(json.loads(lines[-1][7:]))
    args.verify_export = True
    pm = run_pymerkle(args) if args.size_list else None
    table(results, pm)
    if args.json_out:
        write_figures(Path(args.json_out), results)
    return 0


def figures(results: list[dict]) -> dict[str, float]:
    """The figures of issue 15's table under stable names (see bench/README.md)."""
    out: dict[str, float] = {}
    for r in results:
        db = "sqlite" if r["label"].startswith("SQLite") else "postgresql"
        out[f"log.append_per_s.{db}"] = round(r["log_rate"], 1)
        out[f"log.append_baseline_per_s.{db}"] = round(r["base_rate"], 1)
        out[f"log.append_ratio.{db}"] = round(r["log_rate"] / r["base_rate"], 3)
        for s in r["sizes"]:
            n = int(s["size"])
            for kind, key in (("inclusion", "incl"), ("consistency", "cons")):
                out[f"log.proofs_service_per_s.{kind}.{db}.{n}"] = round(s[key], 1)
                out[f"log.proofs_endpoint_http_per_s.{kind}.{db}.{n}"] = round(s[key + "_http"], 1)
                out[f"log.proofs_tiles_http_per_s.{kind}.{db}.{n}"] = round(
                    s[key + "_tiles_http"], 1
                )
                out[f"log.proofs_tiles_cold_per_s.{kind}.{db}.{n}"] = round(
                    s[key + "_tiles_cold"], 1
                )
                if key + "_tiles_unhashed" in s:
                    out[f"log.proofs_tiles_unhashed_per_s.{kind}.{db}.{n}"] = round(
                        s[key + "_tiles_unhashed"], 1
                    )
                if key + "_tiles_ratio_interleaved" in s:
                    out[f"log.proofs_http_ratio_service.{kind}.{db}.{n}"] = round(
                        s[key + "_tiles_ratio_interleaved"], 3
                    )
            if "tiles_hash_s" in s:
                out[f"log.proofs_tiles_hash_s.{db}.{n}"] = round(s["tiles_hash_s"], 2)
    # the headline: the largest size of the first database, the worse of the two kinds
    for r in results:
        if r["sizes"]:
            s = r["sizes"][-1]
            if "incl_tiles_ratio_interleaved" in s:  # measured interleaved with the service
                ratio = min(s["incl_tiles_ratio_interleaved"], s["cons_tiles_ratio_interleaved"])
            else:
                ratio = min(s["incl_tiles_http"] / s["incl"], s["cons_tiles_http"] / s["cons"])
            out["log.proofs_http_ratio_service"] = round(ratio, 3)
            out["log.proofs_endpoint_http_ratio_service"] = round(
                min(s["incl_http"] / s["incl"], s["cons_http"] / s["cons"]), 3
            )
            break
    return out


def write_figures(path: Path, results: list[dict]) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures(results), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
