"""`pacte evidence …` and `pacte compliance …` subcommands."""

from __future__ import annotations

import argparse
import sys
from datetime import date


def cmd_replay(args: argparse.Namespace) -> int:
    from pacte.startup import setup

    setup()
    from rich.console import Console

    from pacte.errors import DomainError
    from pacte.evidence.replay import replay_from_log

    console = Console()
    try:
        with console.status(
            f"Recalcul de l'affectation de « {args.experiment} » depuis le journal…"
        ):
            report = replay_from_log(args.experiment)
    except DomainError as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr)
        return 2
    for label, ok in report.checks:
        console.print(f"[{'green' if ok else 'red'}]{'✓' if ok else '✗'}[/] {label}")
    if report.counts:
        console.print(
            "Effectifs par bras : " + ", ".join(f"{k} = {v}" for k, v in report.counts.items())
        )
    if report.ok:
        console.print(
            f"[green]Affectation de « {report.experiment} » vérifiée : identique au journal.[/]"
        )
        return 0
    console.print(
        f"[red]ÉCART : l'affectation de « {report.experiment} » ne correspond pas au journal.[/]"
    )
    return 1


def cmd_compliance(args: argparse.Namespace) -> int:
    from pacte.startup import setup

    setup()
    from pacte.evidence.compliance import run_compliance

    try:
        today = date.fromisoformat(args.today) if args.today else None
    except ValueError:
        print("Erreur : --today attend une date AAAA-MM-JJ.", file=sys.stderr)
        return 2
    report = run_compliance(today)
    statuses = (
        ", ".join(f"{k} : {v}" for k, v in sorted(report.statuses.items()))
        or "aucun engagement en vigueur"
    )
    print(f"Conformité au {report.today.isoformat()} — engagements : {statuses}.")
    for t in report.transitions:
        print(f"  pacte {t}")
    for s in report.state_breaches:
        print(f"  manquement de l'institution : {s}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this domain's subcommands to the `pacte` parser."""
    p = sub.add_parser("evidence", help="preuves : expérimentations, évaluations")
    esub = p.add_subparsers(dest="evidence_command", required=True)
    r = esub.add_parser(
        "replay", help="recalculer l'affectation d'une expérimentation depuis le seul journal"
    )
    r.add_argument("experiment", help="identifiant (slug) de l'expérimentation")
    r.set_defaults(func=cmd_replay)
    p = sub.add_parser("compliance", help="moteur de conformité des engagements")
    csub = p.add_subparsers(dest="compliance_command", required=True)
    r = csub.add_parser(
        "run", help="recalculer les statuts et faire avancer les pactes en manquement"
    )
    r.add_argument("--today", default="", help="date simulée AAAA-MM-JJ (par défaut : aujourd'hui)")
    r.set_defaults(func=cmd_compliance)
