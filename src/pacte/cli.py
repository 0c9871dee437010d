"""The `pacte` command: serve, migrate, demo, createadmin, commitments, worker, backup, manage."""

from __future__ import annotations

import argparse
import os
import sys

from pacte.startup import setup as _setup


def gunicorn_argv(args: argparse.Namespace) -> list[str]:
    """The gunicorn command `pacte serve` runs (kept apart so that it can be checked)."""
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "pacte.wsgi:application",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
        "--preload",
    ]
    return argv + control_socket_args(args.control_socket)


# gunicorn >= 25.1 opens a control socket (for `gunicornc`) at ONE default path per user
# ($XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl): a second instance on the same host
# takes it over, and `gunicornc` then drives the wrong one. Each instance gets its own, under its
# PACTE_VAR_DIR, unless PACTE_GUNICORN_CONTROL_SOCKET names another path or says "off".
UNIX_SOCKET_PATH_MAX = 104  # sun_path is 108 bytes on Linux, 104 on the BSDs


def control_socket_args(value: str) -> list[str]:
    if value.strip().lower() in ("off", "none", "no", "0", "false"):
        return ["--no-control-socket"]
    if len(os.fsencode(value)) >= UNIX_SOCKET_PATH_MAX:
        print(
            f"Attention : chemin trop long pour le socket de contrôle de gunicorn ({value}) : socket désactivé. "
            "Choisissez un chemin plus court avec PACTE_GUNICORN_CONTROL_SOCKET.",
            file=sys.stderr,
        )
        return ["--no-control-socket"]
    return ["--control-socket", value]


def _default_control_socket() -> str:
    from pathlib import Path

    var_dir = Path(os.environ.get("PACTE_VAR_DIR", Path.cwd() / "var")).resolve()
    return os.environ.get("PACTE_GUNICORN_CONTROL_SOCKET") or str(var_dir / "gunicorn.ctl")


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    argv = gunicorn_argv(args)
    print(f"Pacte sert sur http://{args.host}:{args.port}/", flush=True)
    os.execv(sys.executable, argv)
    return 0  # pragma: no cover


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    print("Base de données à jour.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if args.action == "data":
        from pacte.data.cli import cmd_generate

        return cmd_generate(args)
    _setup()
    from pacte.demo import DEMO_PASSWORD, load_demo

    if args.action == "load":
        # mail is never sent here: the demo's notifications (to *@demo.pacte.localhost) wait in the outbox
        loaded = load_demo()
        print("Démo chargée." if loaded else "La démo était déjà chargée : rien n'a changé.")
        print(
            f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) : porteur, membre, instructeur, "
            "instructeur2, signataire, donnees, evaluateur, auditeur, admin"
        )
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    _setup()
    import getpass

    from pacte.accounts.models import User
    from pacte.accounts.services import vouch_for_address

    password = args.password or getpass.getpass("Mot de passe : ")
    if len(password) < 12:
        print("Erreur : le mot de passe doit faire au moins 12 caractères.", file=sys.stderr)
        return 2
    user, _ = User.objects.get_or_create(username=args.username, defaults={"email": args.email})
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    vouch_for_address(user)
    print(f"Administrateur « {user.username} » prêt.")
    return 0


def cmd_commitments(args: argparse.Namespace) -> int:
    _setup()
    from pacte.pacts.commitments import refresh_commitment_statuses

    counts = refresh_commitment_statuses()
    print(
        f"Engagements mis à jour : {counts['due_soon']} à échéance proche, {counts['missed']} manqué(s)."
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _setup()
    from pacte.scheduling.worker import run_forever

    run_forever(interval=args.interval, once=args.once)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    _setup()
    from pathlib import Path

    from pacte.backup import make_backup, prune

    backup = make_backup(Path(args.out))
    print(
        f"Sauvegarde écrite : {backup.path} (journal : {backup.log_size} entrées ; sha256 {backup.sha256})."
    )
    if args.keep:
        for old in prune(Path(args.out), args.keep):
            print(f"Ancienne sauvegarde supprimée : {old}")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["pacte", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pacte", description="Pacte — la plateforme du Service Public Citoyen"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="servir la plateforme (gunicorn + whitenoise)")
    p.add_argument("--host", default=os.environ.get("PACTE_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PACTE_PORT", "8000")))
    p.add_argument("--workers", type=int, default=int(os.environ.get("PACTE_WORKERS", "2")))
    p.add_argument("--threads", type=int, default=int(os.environ.get("PACTE_THREADS", "4")))
    p.add_argument(
        "--control-socket",
        default=_default_control_socket(),
        help="socket de contrôle de gunicorn (gunicornc) : un par instance ; « off » le désactive "
        "(défaut : PACTE_GUNICORN_CONTROL_SOCKET, sinon PACTE_VAR_DIR/gunicorn.ctl)",
    )
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("migrate", help="créer ou mettre à jour la base de données")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("demo", help="données de démonstration")
    p.add_argument(
        "action",
        choices=["load", "data"],
        help="load : charger la démo ; data : générer les jeux de données",
    )
    p.add_argument("--rows", type=int, default=1_000_000, help="(data) nombre de lignes par jeu")
    p.add_argument("--seed", type=int, default=2024, help="(data) graine")
    p.add_argument("--out", default="var/datasets/generated", help="(data) dossier de sortie")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("createadmin", help="créer un administrateur de la plateforme")
    p.add_argument("username")
    p.add_argument("--email", default="")
    p.add_argument("--password", default=os.environ.get("PACTE_ADMIN_PASSWORD", ""))
    p.set_defaults(func=cmd_createadmin)
    p = sub.add_parser("commitments", help="moteur d'échéances des engagements")
    p.add_argument("action", choices=["check"])
    p.set_defaults(func=cmd_commitments)
    p = sub.add_parser(
        "worker", help="tâches planifiées et file des tâches de fond (notifications…)"
    )
    p.add_argument(
        "--interval",
        type=float,
        default=5.0,
        help="secondes entre deux tours quand la file est vide",
    )
    p.add_argument(
        "--once", action="store_true", help="un seul tour : planifier, vider la file, s'arrêter"
    )
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser(
        "backup", help="sauvegarder la base (pg_dump ou copie SQLite) avec l'état du journal"
    )
    p.add_argument(
        "--out",
        default=os.environ.get("PACTE_BACKUP_DIR", "var/backups"),
        help="dossier des sauvegardes",
    )
    p.add_argument(
        "--keep", type=int, default=0, help="ne garder que les N plus récentes (0 : toutes)"
    )
    p.set_defaults(func=cmd_backup)
    # Each domain adds its own subcommands (`pacte log …`, `pacte data …`, `pacte evidence …`,
    # `pacte accounts …`); their handlers call `pacte.startup.setup()` before touching Django.
    from pacte.accounts import cli as accounts_cli
    from pacte.data import cli as data_cli
    from pacte.evidence import cli as evidence_cli
    from pacte.journal import cli as journal_cli

    for domain in (journal_cli, data_cli, evidence_cli, accounts_cli):
        domain.register(sub)
    p = sub.add_parser("manage", help="commande Django (avancé)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Exception as exc:  # a person reads this: a sentence, not a traceback
        from django.db import DatabaseError

        from pacte.errors import DomainError

        if isinstance(exc, DomainError):
            print(f"Erreur : {exc.message}", file=sys.stderr)
            return 2
        if isinstance(exc, DatabaseError):
            print(
                f"Erreur de base de données : {exc}.\n"
                "La base est-elle à jour ? Lancez « pacte migrate » (PACTE_DATABASE_URL choisit la base).",
                file=sys.stderr,
            )
            return 2
        raise


if __name__ == "__main__":
    raise SystemExit(main())
