"""`pacte data …` subcommands: import a file into the catalogue, refresh grant states,
generate the demo datasets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


def _progress_bar(description: str) -> Progress:
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f} %"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=False,
    )


def cmd_import(args: argparse.Namespace) -> int:
    from pacte.startup import setup

    setup()
    from pacte.data.ingestion import import_file
    from pacte.errors import DomainError

    schema = None
    if args.schema:
        schema = json.loads(Path(args.schema).read_text(encoding="utf-8"))
    with _progress_bar("import") as progress:
        task = progress.add_task(f"Import de {Path(args.file).name}", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            dv = import_file(
                args.file,
                args.dataset,
                args.version,
                schema=schema,
                progress=report,
                person_column=args.person_column,
                enterprise_column=args.enterprise_column,
                max_contributions=args.rows_per_person,
            )
        except DomainError as e:
            progress.stop()
            print(
                f"Fichier refusé : {e.message}\nLe catalogue n'a pas été modifié.", file=sys.stderr
            )
            return 2
    print(
        f"Version « {dv.version} » de « {dv.dataset.slug} » ajoutée : {dv.row_count:,} lignes, SHA-256 {dv.sha256}."
    )
    return 0


def cmd_grants(args: argparse.Namespace) -> int:
    from pacte.startup import setup

    setup()
    from pacte.data.grants import refresh_grants

    counts = refresh_grants()
    print(
        f"Accès mis à jour : {counts['renewal_due']} à renouveler, {counts['expired']} expiré(s)."
    )
    return 0


def cmd_reservations(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from pacte.startup import setup

    setup()
    from pacte.data.gateway.aggregates import release_stale_reservations

    released = release_stale_reservations(timedelta(minutes=args.older_than_minutes))
    print(f"Réservations de budget orphelines rendues : {released}.")
    return 0


def generate(rows: int, seed: int, out: Path) -> dict[str, Path]:
    from pacte.data.demo import generate_files

    with _progress_bar("génération") as progress:
        tasks: dict[str, TaskID] = {}

        def report(slug: str, done: int, total: int) -> None:
            if slug not in tasks:
                tasks[slug] = progress.add_task(slug, total=total)
            progress.update(tasks[slug], completed=done)

        paths = generate_files(rows, seed, out, report)
    return paths


def cmd_generate(args: argparse.Namespace) -> int:
    from pacte.startup import setup

    setup()
    paths = generate(args.rows, args.seed, Path(args.out))
    for slug, path in paths.items():
        print(f"{slug} : {path}  →  pacte data import {path} --dataset {slug}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this domain's subcommands to the `pacte` parser."""
    p = sub.add_parser("data", help="accès aux données : import, accès, génération")
    dsub = p.add_subparsers(dest="data_command", required=True)
    q = dsub.add_parser(
        "import", help="importer un fichier Parquet ou CSV comme nouvelle version d'un jeu"
    )
    q.add_argument("file")
    q.add_argument(
        "--dataset", required=True, help="identifiant (slug) du jeu de données du catalogue"
    )
    q.add_argument("--version", default=None, help="nom de la version (défaut : horodatage)")
    q.add_argument(
        "--schema", default=None, help="schéma JSON (défaut : celui de la version en cours)"
    )
    q.add_argument("--person-column", default=None)
    q.add_argument("--enterprise-column", default=None)
    q.add_argument(
        "--rows-per-person",
        type=int,
        default=None,
        help="k : lignes retenues par personne pour les agrégats DP (défaut : celui de la version en cours, sinon 1)",
    )
    q.set_defaults(func=cmd_import)
    q = dsub.add_parser("grants", help="états des accès (renouvellement, expiration)")
    q.add_argument("action", choices=["refresh"])
    q.set_defaults(func=cmd_grants)
    q = dsub.add_parser(
        "reservations",
        help="rendre les réservations de budget DP orphelines (requêtes interrompues)",
    )
    q.add_argument("action", choices=["release-stale"])
    q.add_argument(
        "--older-than-minutes",
        type=int,
        default=10,
        help="âge minimal d'une réservation encore « réservée » pour la rendre (défaut : 10)",
    )
    q.set_defaults(func=cmd_reservations)
    q = dsub.add_parser("generate", help="générer les jeux de démonstration (Parquet)")
    q.add_argument("--rows", type=int, default=1_000_000)
    q.add_argument("--seed", type=int, default=2024)
    q.add_argument("--out", default="var/datasets/generated")
    q.set_defaults(func=cmd_generate)
