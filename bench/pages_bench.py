"""The pages people wait for, under load on a real server, against a bare view in the same run.

    bash -c '. scripts/pg.sh; pg_start; .venv/bin/python bench/pages_bench.py --db "$PACTE_PG_URL"'
    .venv/bin/python bench/pages_bench.py --db "$PACTE_PG_URL" --history 20000 --requests 200

Loads the demo into the given database (PostgreSQL by default, SQLite accepted), adds
``--extra`` generated projects (100, as registry_bench.py, so that both scripts measure the same
list) and a generated history (``--history`` log events on the measured project, and as many spread over
other subjects, so that the log and the API lists are not toy-sized), starts `pacte serve`
(gunicorn, 2 workers × 4 threads) with the public page cache OFF, and fires ``--requests``
requests with ``--concurrency`` clients (ApacheBench; 20 by default) at:

* the bare view (``/sante``: same middleware, one ``SELECT 1``, no template) — the baseline;
* the uncached project page, an audit page, the sign-in page;
* the floor: the legal page (``opendata:legal``: the base template and static text, no data),
  the cheapest page the template stack serves (``pages.floor_p95_ratio``);
* the API lists ``/api/v1/projects`` and ``/api/v1/events``.

Then a second server with the public page cache ON (60 s; pacte.public_cache) measures the bare
view, the project page and the two API lists again (``pages.project_p95_ratio.bench.cached``,
``api.projects_p95_ratio.bench.cached``, ``api.events_p95_ratio.bench.cached``) and counts the
cache's hits and misses in a pass of its own (``…_hit_rate.bench.cached``). ``--rounds N``
alternates OFF and ON N times in one sitting (the figures are the last round's).

Prints median / p95 / req/s and the ratios to the bare view, and with ``--json-out`` writes
``pages.project_p95_ratio.bench``, ``pages.audit_p95_ratio``, ``pages.login_p95_ratio``,
``pages.floor_p95_ratio``,
``api.projects_p95_ratio.bench``, ``api.events_p95_ratio.bench``, ``pages.fragment_p95_ratio.<section>``
(each section of the project page at its own URL, as htmx asks for it) (+ ``_median_ms``,
``_req_per_s``).

``--profile`` instead prints where the uncached project page spends its time (cProfile of 20
renders through Django's test client, queries counted), without a server.

``--single N`` measures the server time of each page alone (one client, no server, no load
from this script): the median and the best of N uncached renders through Django's test client
(middleware and template included, public page cache off) and the queries each render runs, for
the project page, each of its fragments, an audit page, the bare view and the two API lists.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry_bench import PACTE, add_projects, cache_hits, hammer_ab  # noqa: E402  (same directory)

PROJECT = "la-bonne-boite-citoyenne"


def setup_django(db: str, var: str) -> None:
    os.environ.update({"PACTE_DATABASE_URL": db, "PACTE_VAR_DIR": var})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacte.settings")
    import django

    django.setup()


def add_history(n: int) -> None:
    """``n`` events on the measured project and ``n`` on other subjects (idempotent by count)."""
    from pacte.journal.models import Event
    from pacte.journal.services import SYSTEM, NewEvent, record_events

    if Event.objects.filter(type="bench.fait").exists():
        return
    for start in range(0, n, 1000):
        batch = range(start, min(n, start + 1000))
        record_events(
            NewEvent("bench.fait", SYSTEM, "fait", f"s{i % 7}", {"i": i}, PROJECT) for i in batch
        )
        record_events(
            NewEvent("bench.fait", SYSTEM, "fait", f"autre-{i % 50}", {"i": i}, "") for i in batch
        )


def pages() -> list[tuple[str, str, str]]:
    from pacte.evidence.models import Audit

    audit = Audit.objects.order_by("pk").values_list("pk", flat=True).first()
    rows = [
        ("vue nue (/sante)", "/sante", ""),
        ("page projet (sans cache)", f"/projets/{PROJECT}/", "pages.project_p95_ratio.bench"),
    ]
    if audit is not None:
        rows.append(("page d'audit", f"/audits/{audit}/", "pages.audit_p95_ratio"))
    rows += [
        # the floor: the base template and static text, no data (the cheapest page the stack serves)
        ("page statique (mentions légales)", "/mentions-legales/", "pages.floor_p95_ratio"),
        ("connexion", "/connexion/", "pages.login_p95_ratio"),
        ("API /api/v1/projects", "/api/v1/projects", "api.projects_p95_ratio.bench"),
        ("API /api/v1/events", "/api/v1/events", "api.events_p95_ratio.bench"),
    ]
    return rows


def cached_pages() -> list[tuple[str, str, str]]:
    """What the run with the public page cache ON measures (the bare view first)."""
    return [
        ("vue nue (/sante)", "/sante", ""),
        (
            "page projet (avec cache)",
            f"/projets/{PROJECT}/",
            "pages.project_p95_ratio.bench.cached",
        ),
        (
            "API /api/v1/projects (avec cache)",
            "/api/v1/projects",
            "api.projects_p95_ratio.bench.cached",
        ),
        ("API /api/v1/events (avec cache)", "/api/v1/events", "api.events_p95_ratio.bench.cached"),
    ]


def fragment_pages() -> list[tuple[str, str, str]]:
    """The project page's sections at their own URL, as htmx asks for them (``hx:`` prefix)."""
    from pacte.web.project_sections import PROJECT_SECTIONS

    rows = [
        (
            f"section {name} (htmx)",
            f"hx:/projets/{PROJECT}/sections/{name}/",
            f"pages.fragment_p95_ratio.{name}",
        )
        for name in PROJECT_SECTIONS.names()
    ]
    rows.append(
        (
            "section événements (htmx)",
            f"hx:/projets/{PROJECT}/evenements/",
            "pages.fragment_p95_ratio.evenements",
        )
    )
    return rows


def single_pages() -> list[tuple[str, str]]:
    """(label, path) of every page ``--single`` measures: the bench pages, then the project
    page's fragments (each a page of its own)."""
    rows = [(label, path) for label, path, _name in pages()]
    from pacte.web.project_sections import PROJECT_SECTIONS

    names = PROJECT_SECTIONS.names()
    for name in names:
        rows.append((f"fragment {name}", f"/projets/{PROJECT}/sections/{name}/"))
    rows.append(("fragment événements", f"/projets/{PROJECT}/evenements/"))
    return rows


def single(rounds: int, json_out: str | None) -> None:
    """Median / best server time of ``rounds`` renders of each page, one client, cache off."""
    import statistics

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0
    client = Client()
    vendor = connection.vendor
    print(f"Temps serveur, un client, sans cache public, {vendor}, {rounds} rendus par page")
    print(
        f"{'page':40} {'statut':>6} {'requêtes':>8} {'médiane ms':>10} {'min ms':>8} {'CPU ms':>7}"
    )
    figures: dict[str, float] = {}
    for label, path in single_pages():
        first = client.get(path)  # warm code paths and templates, not data
        if first.status_code == 404 and label.startswith("fragment"):
            continue
        queries: list[str] = []

        def count(run, sql, *rest, queries=queries):  # type: ignore[no-untyped-def]
            queries.append(sql)
            return run(sql, *rest)

        with connection.execute_wrapper(count):
            client.get(path)
        times, cpu = [], []
        for _ in range(rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        med = statistics.median(times)
        print(
            f"{label[:40]:40} {first.status_code:>6} {len(queries):>8} "
            f"{med:>10.1f} {min(times):>8.1f} {statistics.median(cpu):>7.1f}"
        )
        key = path.strip("/").replace("/", ".") or "home"
        figures[f"pages.single_ms.{vendor}.{key}"] = round(med, 1)
        # this process's CPU (the test client, Django, and SQLite's engine, which runs in-process)
        figures[f"pages.single_cpu_ms.{vendor}.{key}"] = round(statistics.median(cpu), 1)
        figures[f"pages.single_queries.{vendor}.{key}"] = len(queries)
    # the same pages served by the public page cache (hits after one miss)
    settings.PUBLIC_PAGE_CACHE_SECONDS = 60
    for label, path in (
        ("page projet (cache)", f"/projets/{PROJECT}/"),
        ("API projects (cache)", "/api/v1/projects"),
        ("API events (cache)", "/api/v1/events"),
    ):
        client.get(path)
        times, cpu, served = [], [], []
        for _ in range(rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            served.append(client.get(path).get("X-Pacte-Cache"))
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        med = statistics.median(times)
        print(
            f"{label[:40]:40} {served.count('hit'):>4}/{rounds:<2}{'':>8} "
            f"{med:>10.1f} {min(times):>8.1f} {statistics.median(cpu):>7.1f}"
        )
        key = path.strip("/").replace("/", ".")
        figures[f"pages.single_ms.{vendor}.{key}.cached"] = round(med, 1)
        figures[f"pages.single_cpu_ms.{vendor}.{key}.cached"] = round(statistics.median(cpu), 1)
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


def profile(rounds: int, url: str = "") -> None:
    import cProfile
    import pstats

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0
    client = Client()
    url = url or f"/projets/{PROJECT}/"
    assert client.get(url).status_code == 200  # warm code paths, not data
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    print(f"{url}: {len(ctx.captured_queries)} queries")
    for q in ctx.captured_queries:
        print(f"  {q['time']:>6}s {q['sql'][:160]}")
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(rounds):
        client.get(url)
    prof.disable()
    print(f"{rounds} renders: {(time.perf_counter() - t0) / rounds * 1000:.1f} ms each")
    pstats.Stats(prof).sort_stats(os.environ.get("PACTE_PROFILE_SORT", "cumulative")).print_stats(
        45
    )


def serve_and_hammer(
    env: dict[str, str],
    args: argparse.Namespace,
    cache_seconds: str,
    targets: list[tuple[str, str, str]],
) -> tuple[list[tuple[str, str, str, float, float, float]], dict[tuple[str, str], tuple[int, int]]]:
    """Start `pacte serve` with the public page cache at ``cache_seconds``, fire ab at each target;
    with the cache on, count its hits and misses on each named target in a pass of its own."""
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [PACTE, "serve", "--port", str(args.port), "--workers", "2", "--threads", "4"],
        env={**env, "PACTE_PUBLIC_PAGE_CACHE_SECONDS": cache_seconds},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    hits: dict[tuple[str, str], tuple[int, int]] = {}
    try:
        for _ in range(600):  # wait until gunicorn answers (bounded: 60 s)
            try:
                if httpx.get(f"{base}/sante", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        for label, path, name in targets:
            headers: tuple[str, ...] = ()
            if path.startswith("hx:"):  # a section as htmx asks for it (skipped where absent)
                path, headers = path[3:], ("HX-Request: true",)
                if httpx.get(base + path, headers={"HX-Request": "true"}).status_code != 200:
                    continue
            rows.append(
                (
                    label,
                    path,
                    name,
                    *hammer_ab(base, path, args.requests, args.concurrency, headers),
                )
            )
            if cache_seconds != "0" and name:
                hits[(path, name)] = cache_hits(base, path, args.requests, args.concurrency)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return rows, hits


def report(rows: list[tuple[str, str, str, float, float, float]]) -> dict[str, float]:
    """Print the table (ratios to the bare view, the first row) and return the named figures."""
    head = (
        f"{'page':34} {'médiane ms':>10} {'p95 ms':>8} {'req/s':>7} {'p95÷nue':>8} {'méd÷nue':>8}"
    )
    print(head)
    bare = rows[0]
    figures: dict[str, float] = {}
    for label, _path, name, med, p95, rps in rows:
        ratio = p95 / max(bare[4], 1)
        print(
            f"{label[:34]:34} {med:>10.0f} {p95:>8.0f} {rps:>7.1f} {ratio:>8.2f} "
            f"{med / max(bare[3], 1):>8.2f}"
        )
        if name:
            figures[name] = round(ratio, 3)
            prefix, _, suffix = name.partition("_p95_ratio")
            figures[f"{prefix}_median_ms{suffix}"] = round(med, 1)
            figures[f"{prefix}_req_per_s{suffix}"] = round(rps, 1)
    return figures


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=os.environ.get("PACTE_DATABASE_URL", ""))
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--history", type=int, default=20000, help="generated log events")
    ap.add_argument(
        "--extra",
        type=int,
        default=100,
        help="generated projects (registry_bench.add_projects: the same data as registry_bench.py)",
    )
    ap.add_argument("--port", type=int, default=8766)
    ap.add_argument("--profile", type=int, default=0, help="cProfile N renders, no server")
    ap.add_argument("--profile-path", default="", help="page --profile measures (project page)")
    ap.add_argument("--no-load", action="store_true", help="the database already has the demo")
    ap.add_argument("--single", type=int, default=0, help="N renders per page, one client")
    ap.add_argument(
        "--rounds", type=int, default=1, help="alternate cache OFF / ON this many times"
    )
    ap.add_argument("--json-out", help="write the figures (stable names) to this JSON file")
    args = ap.parse_args()
    if not args.db:
        print("Give --db postgresql://… (or set PACTE_DATABASE_URL)", file=sys.stderr)
        return 2
    if not (args.profile or args.single) and not shutil.which("ab"):
        print("ApacheBench (ab, Debian apache2-utils) is needed", file=sys.stderr)
        return 2
    var = tempfile.mkdtemp(prefix="pacte-pages-")
    env = {**os.environ, "PACTE_DATABASE_URL": args.db, "PACTE_VAR_DIR": var}
    env["PACTE_LOG_LEVEL"] = "ERROR"
    if not args.no_load:
        subprocess.run([PACTE, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([PACTE, "demo", "load"], env=env, check=True, stdout=subprocess.DEVNULL)
    setup_django(args.db, var)
    add_projects(args.extra)
    add_history(args.history)
    if args.profile:
        profile(args.profile, args.profile_path)
        return 0
    if args.single:
        single(args.single, args.json_out)
        return 0
    from django.db import connections

    connections.close_all()
    vendor = "PostgreSQL" if args.db.startswith("postgres") else "SQLite"
    figures: dict[str, float] = {}
    # cache OFF then ON, alternated ``--rounds`` times in one sitting (each round on a fresh
    # server); the figures are those of the last round, every round is printed
    for round_no in range(1, args.rounds + 1):
        for cache_seconds in ("0", "60"):
            targets = pages() + fragment_pages() if cache_seconds == "0" else cached_pages()
            rows, hits = serve_and_hammer(env, args, cache_seconds, targets)
            state = "sans cache public" if cache_seconds == "0" else "AVEC le cache public (60 s)"
            print(
                f"Pages — tour {round_no}/{args.rounds} — {args.requests} requêtes, "
                f"{args.concurrency} clients (ab), {vendor}, gunicorn 2×4, {state}, "
                f"historique {args.history} + {args.history} événements"
            )
            figures.update(report(rows))
            for (path, name), (hit, miss) in hits.items():
                print(f"  cache {path}: {hit} hits, {miss} misses ({args.requests} requêtes)")
                prefix, _, suffix = name.partition("_p95_ratio")
                figures[f"{prefix}_hit_rate{suffix}"] = round(hit / max(hit + miss, 1), 3)
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
