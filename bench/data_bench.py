"""API-level benchmark of the data gateway (issue 4), end to end through Django.

    .venv/bin/python bench/data_bench.py                 # 10,000,000 rows
    .venv/bin/python bench/data_bench.py --rows 1000000

Measures, in the same run and on the same Parquet file:
1. DP grouped count (region × NAF sector) POSTed to /api/v1/data/{ds}/aggregates through the
   Django test client (token auth, budget ledger reservation in the DB, the exact aggregate in
   DuckDB plus OpenDP's noise, release stored, journal entry) versus the same plain aggregate in
   DuckDB (goal ≤ 1.2×); in the same run, the same request computed by OpenDP's Polars plan
   (the reference path, ``dp.opendp_plan_ratio``); ``--profile`` prints where one request's
   time goes;
2. a secure-room query through the API versus DuckDB running the same SQL directly
   (goal ≤ 1.5×);
3. the pseudonymised extract (tier 2, k ≥ 11 persons, HMAC pseudonyms) streamed through the API, in rows/s;
4. the time to refuse a DP query with ρ = 1e-300 (below the published minimum): goal < 1 s.

A fresh SQLite database and VAR_DIR are created in a temporary folder; the generated Parquet
file is cached under --data (default bench/data). Timings are medians of --repeat runs after
one warm-up (the DP runs each use a distinct ρ so that none is served from the release cache).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--data", default="bench/data")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-extract", action="store_true")
    parser.add_argument("--json-out", type=Path, help="write the ratios as a JSON fragment")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile one DP request through the API and print where its time goes",
    )
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="pacte-data-bench-"))
    os.environ["PACTE_VAR_DIR"] = str(var)
    os.environ.pop("PACTE_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacte.settings")
    import django

    django.setup()
    import duckdb
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from rich.console import Console
    from rich.table import Table

    from pacte.data import demo_data
    from pacte.data.catalogue import publish_dataset
    from pacte.data.demo import HIRING, hiring_schema
    from pacte.data.gateway.aggregates import dataset_spec
    from pacte.data.gateway.secure_room import secure_room_profile
    from pacte.data.ingestion import add_version, normalise_parquet

    console = Console(width=160)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALLOWED_HOSTS = ["*"]

    data_dir = Path(args.data)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"{HIRING}-{args.rows}-seed{args.seed}.parquet"
    if not path.exists():
        t = time.perf_counter()
        with console.status(f"Génération de {args.rows:,} lignes…"):
            demo_data.generate_hiring_declarations(args.rows, args.seed, path)
            normalise_parquet(path)
        console.print(f"Généré {path} en {time.perf_counter() - t:.1f} s")
    else:
        normalise_parquet(path)

    t_setup = time.perf_counter()
    with console.status("Base, démo et accès (dont vue tronquée et profil à l'ingestion)…"):
        call_command("migrate", interactive=False, verbosity=0)
        from pacte.demo import _as, load_demo

        load_demo()
        from pacte.accounts.models import Organisation
        from pacte.data.demo import _demo_request

        steward = _as("donnees", "agence-emploi")
        ds = publish_dataset(
            steward,
            publisher=Organisation.objects.get(slug="agence-emploi"),
            slug="bench-embauches",
            title="Banc d'essai",
            sensitivity=2,
        )
        add_version(
            steward,
            ds,
            version="bench",
            paths=[str(path.resolve())],
            schema=hiring_schema(),
            row_count=args.rows,
            person_column="person_id",
            enterprise_column="establishment_id",
            rho_cap=10.0,
            max_contributions=3,
        )  # person unit, k = 3 (truncation on)
        purpose = (
            "Banc d'essai : mesurer la passerelle d'accès aux données pour la mission du pacte."
        )
        dp_grant, dp_token = _demo_request(
            "la-bonne-boite-citoyenne",
            ds,
            3,
            purpose,
            ["region", "naf_sector", "monthly_salary_eur"],
            3_000_000,
            2,
        )
        sr_grant, sr_token = _demo_request(
            "la-bonne-boite-citoyenne", ds, 4, purpose, [], 3_000_000, 2
        )
        px_grant, px_token = _demo_request(
            "mes-droits",
            ds,
            2,
            purpose,
            [
                "person_id",
                "departement",
                "naf_sector",
                "contract_type",
                "hire_date",
                "salary_band",
                "age",
                "sex",
            ],
            3_000_000,
            2,
        )

    console.print(
        f"Préparation (migrations, démo, ingestion : vue k = 3 + profil) : {time.perf_counter() - t_setup:.1f} s"
    )
    client = Client()
    file = ds.current_version.paths[0]  # the version's own file (with its record-key column)

    def post(token: str, url: str, body: dict) -> dict:
        r = client.post(
            url,
            data=json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        if r.status_code != 200:
            raise SystemExit(f"{url}: {r.status_code} {r.content[:300]!r}")
        return r.json()

    def timed(fn, n: int) -> float:  # type: ignore[no-untyped-def]
        fn()  # warm-up
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
        return statistics.median(samples)

    con = duckdb.connect()
    rho_base = dp_grant.rho_query
    counter = iter(range(10_000))

    def dp_call() -> None:
        body = {
            "group_by": ["region", "naf_sector"],
            "aggregates": [{"op": "count"}],
            "rho": rho_base / 10 - next(counter) * 1e-7,
        }
        out = post(dp_token, f"/api/v1/data/{ds.slug}/aggregates", body)
        assert not out["cached"] and len(out["cells"]) == len(demo_data.REGIONS) * len(
            demo_data.NAF_SECTIONS
        )

    plain_sql = f"SELECT region, naf_sector, COUNT(*) FROM read_parquet('{file}') GROUP BY region, naf_sector"
    from pacte.data.gateway import aggregates as gateway_aggregates
    from pacte.engines import privacy

    exact_then_noise = gateway_aggregates.compute_release

    def opendp_plan(spec, q, rho, engine):  # type: ignore[no-untyped-def]
        return privacy.run_query(spec, q, rho)  # the reference path: OpenDP's Polars plan

    with console.status("DP agrégats…"):
        t_dp = timed(dp_call, args.repeat)
        t_duck = timed(lambda: con.execute(plain_sql).fetchall(), args.repeat)
        # same run, same API, the DP computation by OpenDP's Polars plan (the path before dp2)
        gateway_aggregates.compute_release = opendp_plan
        try:
            t_dp_plan = timed(dp_call, args.repeat)
        finally:
            gateway_aggregates.compute_release = exact_then_noise

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(dp_call)
        console.print("[bold]Profil d'une requête DP via l'API (cumulatif)[/bold]")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)

    from pacte.data.models import Reservation

    def tiny_rho_refused() -> None:  # issue 8: this request used to spin for ever
        r = client.post(
            f"/api/v1/data/{ds.slug}/aggregates",
            content_type="application/json",
            data=json.dumps({"group_by": ["region", "naf_sector"], "rho": 1e-300}),
            HTTP_AUTHORIZATION=f"Bearer {dp_token}",
        )
        assert r.status_code == 400 and "minimum" in r.json()["message"], r.content

    with console.status("ρ minuscule (refus)…"):
        t_tiny = timed(tiny_rho_refused, args.repeat)
        assert not Reservation.objects.filter(state=Reservation.State.RESERVED).exists()

    sr_sql = (
        "SELECT region, naf_sector, COUNT(*) AS n, AVG(monthly_salary_eur) AS salaire "
        "FROM donnees GROUP BY region, naf_sector"
    )
    direct_sql = sr_sql.replace("FROM donnees", f"FROM read_parquet('{file}')")
    with console.status("Salle sécurisée…"):
        t_sr = timed(
            lambda: post(sr_token, f"/api/v1/data/{ds.slug}/secure-room", {"sql": sr_sql}),
            args.repeat,
        )
        t_sr_duck = timed(lambda: con.execute(direct_sql).fetchall(), args.repeat)

    # the engines alone (no HTTP, no ledger, no journal), to attribute the API's overhead
    from pacte.data.gateway.engines import DuckDBEngine
    from pacte.engines import secure_room

    spec = dataset_spec(ds.current_version, dp_grant.columns)
    dp_query = {"group_by": ["region", "naf_sector"]}
    t_dp_engine = timed(
        lambda: exact_then_noise(spec, dp_query, 0.0001, DuckDBEngine()), args.repeat
    )
    t_dp_plan_engine = timed(lambda: privacy.run_query(spec, dp_query, 0.0001), args.repeat)
    dv = ds.current_version
    allowed = [
        c["name"]
        for c in dv.columns
        if c["name"] in set(sr_grant.columns) and c["classification"] != "direct_identifier"
    ]  # exactly what the API passes
    profile = secure_room_profile(dv)
    assert profile is not None
    t_sr_engine = timed(
        lambda: secure_room.run(
            secure_room.restrict(sr_sql, "donnees", allowed),
            list(dv.paths),  # the version's own files: record keys and integer ids
            "person_id",
            "establishment_id",
            profile=profile,
        ),
        args.repeat,
    )
    view_sql = f"SELECT region, naf_sector, COUNT(*) FROM read_parquet('{dv.dp_view['path']}') GROUP BY region, naf_sector"
    t_duck_view = timed(lambda: con.execute(view_sql).fetchall(), args.repeat)

    table = Table(title=f"Passerelle de données — {args.rows:,} lignes ({path.name})")
    for col in ("Mesure", "Via l'API", "Moteur seul", "Référence", "Rapport", "Objectif"):
        table.add_column(col)
    dp_ratio, sr_ratio = t_dp / t_duck, t_sr / t_sr_duck
    k, kept = dv.max_contributions, dv.dp_view["rows_out"]
    table.add_row(
        f"Comptage DP région × secteur, unité = personne, k = {k} ({kept:,} lignes retenues) "
        "(agrégat exact DuckDB + bruit OpenDP, ledger, release, journal)",
        f"{t_dp * 1000:.0f} ms",
        f"{t_dp_engine * 1000:.0f} ms",
        f"DuckDB {t_duck * 1000:.0f} ms (fichier source ; vue tronquée {t_duck_view * 1000:.0f} ms)",
        f"{dp_ratio:.2f}×",
        "≤ 1,2× " + ("✓" if dp_ratio <= 1.2 else "✗"),
    )
    table.add_row(
        "Même requête, calcul par le plan Polars d'OpenDP (chemin de référence, même passage)",
        f"{t_dp_plan * 1000:.0f} ms",
        f"{t_dp_plan_engine * 1000:.0f} ms",
        f"DuckDB {t_duck * 1000:.0f} ms",
        f"{t_dp_plan / t_duck:.2f}×",
        "—",
    )
    table.add_row(
        "Requête DP à ρ = 1e-300 refusée (400, rien réservé)",
        f"{t_tiny * 1000:.0f} ms",
        "—",
        "—",
        "—",
        "< 1 s " + ("✓" if t_tiny < 1 else "✗"),
    )
    table.add_row(
        "Salle sécurisée (restrict + run + secret statistique)",
        f"{t_sr * 1000:.0f} ms",
        f"{t_sr_engine * 1000:.0f} ms",
        f"DuckDB {t_sr_duck * 1000:.0f} ms",
        f"{sr_ratio:.2f}×",
        "≤ 1,5× " + ("✓" if sr_ratio <= 1.5 else "✗"),
    )

    if not args.skip_extract:
        with console.status("Extrait pseudonymisé…"):
            t = time.perf_counter()
            r = client.get(
                f"/api/v1/data/{ds.slug}/extract", HTTP_AUTHORIZATION=f"Bearer {px_token}"
            )
            size = sum(len(chunk) for chunk in r.streaming_content)
            elapsed = time.perf_counter() - t
            rows_out = int(r["X-Pacte-Rows"])
        table.add_row(
            "Extrait pseudonymisé CSV (k ≥ 11, HMAC par accès) en flux",
            f"{elapsed:.1f} s",
            "—",
            f"{rows_out:,} lignes, {size / 1e6:.0f} Mo, k = {r['X-Pacte-K-Anonymity']}",
            f"{rows_out / elapsed:,.0f} lignes/s",
            "débit",
        )
    console.print(table)
    if args.json_out:
        fragment = {
            "dp.ratio": dp_ratio,
            "dp.engine_ratio": t_dp_engine / t_duck,
            "dp.opendp_plan_ratio": t_dp_plan / t_duck,
            "dp.opendp_plan_engine_ratio": t_dp_plan_engine / t_duck,
            "dp.api_overhead_ms": (t_dp - t_dp_engine) * 1000,
            "secure_room.api_ratio": sr_ratio,
            "secure_room.engine_ratio_api_bench": t_sr_engine / t_sr_duck,
            "data.rows": args.rows,
        }
        args.json_out.write_text(json.dumps(fragment, indent=2, sort_keys=True) + "\n")
    console.print(
        f"Commande : {' '.join([sys.executable.split('/')[-1], *sys.argv])}  (VAR_DIR {var})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
