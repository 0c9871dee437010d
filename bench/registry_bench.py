"""Latency of the public registry under load, against a bare Django view on the same server.

    PACTE_DATABASE_URL=postgresql://… python bench/registry_bench.py [--requests 200] [--concurrency 20]

Starts `pacte serve` (gunicorn) on the given database with the demo loaded (plus --extra
generated projects and --history generated log events, the data pages_bench.py adds too, so that
the two scripts measure the project page and `/api/v1/projects` on the same data), then fires N requests with C concurrent clients at the registry list,
a project page, every public API list endpoint and the bare health view (`/sante`, a Django
view that renders no template and runs `SELECT 1`), and reports median / p95 latency,
throughput, and the ratios to the bare view measured in the same run.

The issue-9 figure (API lists ≥ 0.3 × the bare view's throughput at concurrency 8):

    PACTE_DATABASE_URL=postgresql://… python bench/registry_bench.py --concurrency 8 --requests 400 --cache 0
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
PACTE = str(ROOT / ".venv" / "bin" / "pacte")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def hammer(base: str, path: str, n: int, concurrency: int) -> list[float]:
    local = {}

    def one(_: int) -> float:
        import threading

        client = local.setdefault(threading.get_ident(), httpx.Client(base_url=base, timeout=30))
        t0 = time.perf_counter()
        try:
            r = client.get(path)
        except (
            httpx.RemoteProtocolError
        ):  # the server closed an idle keep-alive connection: reconnect once
            r = client.get(path)
        elapsed = time.perf_counter() - t0
        if r.status_code != 200:
            raise SystemExit(f"{path}: HTTP {r.status_code}")
        return elapsed * 1000

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(concurrency * 2)))  # warm-up: connections, caches
        t0 = time.perf_counter()
        latencies = list(pool.map(one, range(n)))
        wall = time.perf_counter() - t0
    for c in local.values():
        c.close()
    latencies.append(n / wall)  # smuggle throughput as last item
    return latencies


def hammer_ab(
    base: str, path: str, n: int, concurrency: int, headers: tuple[str, ...] = ()
) -> tuple[float, float, float]:
    """ApacheBench (C, so the load generator is not the bottleneck): median, p95, req/s.
    ``headers``: "Name: value" lines sent with every request."""
    import re
    import shutil

    ab = shutil.which("ab")
    assert ab
    ab = [ab, *(arg for h in headers for arg in ("-H", h))]  # type: ignore[assignment]
    subprocess.run(
        [*ab, "-q", "-n", str(concurrency * 2), "-c", str(concurrency), base + path],
        check=True,
        capture_output=True,
    )  # warm-up
    out = subprocess.run(
        [*ab, "-q", "-n", str(n), "-c", str(concurrency), base + path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx responses" in out or "Failed requests:        0" not in out:
        raise SystemExit(f"{path}: some requests failed\n{out}")
    pct = dict(re.findall(r"^\s+(\d+)%\s+(\d+)", out, re.M))
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return float(pct["50"]), float(pct["95"]), rps


def cache_hits(
    base: str, path: str, n: int, concurrency: int, headers: tuple[str, ...] = ()
) -> tuple[int, int]:
    """(hits, misses) of the public page cache over ``n`` requests (ApacheBench ``-v 4`` prints
    each response's headers; the server says ``X-Pacte-Cache: hit`` or ``miss``). Not timed: a
    pass of its own, so that printing headers costs the timed run nothing."""
    import re
    import shutil

    ab = shutil.which("ab")
    assert ab
    out = subprocess.run(
        [
            ab,
            *(arg for h in headers for arg in ("-H", h)),
            "-v",
            "4",
            "-n",
            str(n),
            "-c",
            str(concurrency),
            base + path,
        ],
        check=True,
        capture_output=True,
        text=True,
        errors="replace",
    ).stdout
    found = re.findall(r"^X-Pacte-Cache: (hit|miss)", out, re.M | re.I)
    return found.count("hit"), found.count("miss")


PAGES = [
    ("vue Django nue (/sante)", "/sante"),
    ("liste du registre (/projets/)", "/projets/"),
    ("page projet", "/projets/la-bonne-boite-citoyenne/"),
    ("API projets", "/api/v1/projects"),
    ("API pactes", "/api/v1/pacts"),
    ("API engagements", "/api/v1/pacts/commitments"),
    ("API événements", "/api/v1/events"),
    ("API évaluations", "/api/v1/evaluations"),
    ("API audits", "/api/v1/audits"),
    ("API panels", "/api/v1/panels"),
]
# stable names of the figures (bench/README.md): the p95 of each page divided by the bare view's
FIGURE_NAMES = {
    "/projets/": "pages.registry",
    "/projets/la-bonne-boite-citoyenne/": "pages.project",
    "/api/v1/projects": "api.list",
    "/api/v1/pacts": "api.pacts",
    "/api/v1/pacts/commitments": "api.commitments",
    "/api/v1/events": "api.events",
    "/api/v1/evaluations": "api.evaluations",
    "/api/v1/audits": "api.audits",
    "/api/v1/panels": "api.panels",
}


# the pages whose cache hit rate the cached run counts (figures ``<name>_hit_rate.cached``)
CACHE_COUNTED = {
    "/projets/la-bonne-boite-citoyenne/": "pages.project",
    "/api/v1/projects": "api.list",
    "/api/v1/events": "api.events",
}


def add_projects(n: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacte.settings")
    import django

    django.setup()
    from pacte.accounts.models import Organisation
    from pacte.demo import _as
    from pacte.projects.models import Project
    from pacte.projects.phases import create_project

    if Project.objects.filter(slug__startswith="bench-").exists():
        return
    carrier = Organisation.objects.get(slug="asso-coach-emploi")
    for i in range(n):
        create_project(
            _as("porteur", carrier.slug),
            name=f"Bench projet {i}",
            slug=f"bench-{i}",
            pitch="Projet généré pour mesurer le registre",
            territory="France",
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=os.environ.get("PACTE_DATABASE_URL", ""))
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--extra", type=int, default=100, help="generated projects added to the demo")
    ap.add_argument(
        "--history",
        type=int,
        default=1000,
        help="generated log events on the measured project and as many elsewhere "
        "(pages_bench.add_history: the same data as pages_bench.py, so that both agree)",
    )
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument(
        "--python-client", action="store_true", help="use httpx threads instead of ApacheBench"
    )
    ap.add_argument(
        "--cache", default="60,0", help="public page cache seconds, one run each (default 60,0)"
    )
    ap.add_argument("--json-out", help="write the figures (stable names) to this JSON file")
    args = ap.parse_args()
    if not args.db:
        print("Give --db postgresql://… (or set PACTE_DATABASE_URL)", file=sys.stderr)
        return 2
    var = tempfile.mkdtemp(prefix="pacte-bench-")
    env = {
        **os.environ,
        "PACTE_DATABASE_URL": args.db,
        "PACTE_VAR_DIR": var,
        "PACTE_LOG_LEVEL": "ERROR",
    }
    os.environ.update({"PACTE_DATABASE_URL": args.db, "PACTE_VAR_DIR": var})
    subprocess.run([PACTE, "migrate"], env=env, check=True)
    subprocess.run([PACTE, "demo", "load"], env=env, check=True, stdout=subprocess.DEVNULL)
    add_projects(args.extra)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pages_bench import add_history  # same directory; the same generated history

    add_history(args.history)
    from django.db import connections

    connections.close_all()  # no connection of this process stays open during the run
    import shutil

    use_ab = shutil.which("ab") is not None and not args.python_client
    base = f"http://127.0.0.1:{args.port}"
    vendor = "PostgreSQL" if args.db.startswith("postgres") else "SQLite"
    figures: dict[str, float] = {}
    for cache_seconds in args.cache.split(","):
        server = subprocess.Popen(
            [PACTE, "serve", "--port", str(args.port), "--workers", "2", "--threads", "4"],
            env={**env, "PACTE_PUBLIC_PAGE_CACHE_SECONDS": cache_seconds},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):  # wait until gunicorn answers (bounded)
                try:
                    if httpx.get(f"{base}/sante", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            rows = []
            for label, path in PAGES:
                if use_ab:
                    rows.append((label, *hammer_ab(base, path, args.requests, args.concurrency)))
                else:
                    lat = hammer(base, path, args.requests, args.concurrency)
                    rps = lat.pop()
                    rows.append((label, statistics.median(lat), percentile(lat, 0.95), rps))
            if cache_seconds != "0" and use_ab:  # the cache's hit rate, in a pass of its own
                for path, name in CACHE_COUNTED.items():
                    hits, misses = cache_hits(base, path, args.requests, args.concurrency)
                    figures[f"{name}_hit_rate.cached"] = round(hits / max(hits + misses, 1), 3)
                    print(f"{path}: cache {hits} hits, {misses} misses")
        finally:
            server.terminate()
            try:
                server.wait(30)
            except (
                subprocess.TimeoutExpired
            ):  # a busy machine: do not lose the figures for a slow exit
                server.kill()
                server.wait()
        cache = (
            f"cache public activé ({cache_seconds} s, clé = état de la base)"
            if cache_seconds != "0"
            else "sans cache"
        )
        client = "ab" if use_ab else "httpx"
        table = Table(
            title=f"Registre — {args.requests} requêtes, {args.concurrency} clients ({client}), "
            f"{vendor}, gunicorn 2×4, {cache}"
        )
        for col in (
            "page",
            "médiane (ms)",
            "p95 (ms)",
            "req/s",
            "req/s ÷ vue nue",
            "médiane ÷ vue nue",
            "p95 ÷ vue nue",
        ):
            table.add_column(col)
        bare = rows[0]
        for label, med, p95, rps in rows:
            table.add_row(
                label,
                f"{med:.1f}",
                f"{p95:.1f}",
                f"{rps:.0f}",
                f"{rps / bare[3]:.2f}",
                f"{med / max(bare[1], 1):.2f}",
                f"{p95 / max(bare[2], 1):.2f}",
            )
        Console().print(table)
        suffix = "" if cache_seconds == "0" else ".cached"  # the goals are about uncached pages
        for (_label, med, p95, rps), (_, path) in zip(rows, PAGES, strict=True):
            name = FIGURE_NAMES.get(path)
            if name:
                figures[f"{name}_p95_ratio{suffix}"] = round(p95 / max(bare[2], 1), 3)
                figures[f"{name}_median_ms{suffix}"] = round(med, 1)
                figures[f"{name}_req_per_s{suffix}"] = round(rps, 1)
    if args.json_out:
        import json

        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
