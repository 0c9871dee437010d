"""`pacte signing-keys …`: custodial signing keys under the key-encryption key."""

from __future__ import annotations

import argparse
import sys


def cmd_reencrypt(args: argparse.Namespace) -> int:
    from pacte.startup import setup

    setup()
    from pacte.accounts.signing_keys import reencrypt_all

    r = reencrypt_all()
    print(
        f"Clés de signature : {r.reencrypted} rechiffrée(s) sous PACTE_KEY_ENCRYPTION_KEY, "
        f"{r.current} déjà à jour."
    )
    if r.unreadable:
        print(
            f"Erreur : {len(r.unreadable)} clé(s) indéchiffrable(s) (identifiants {', '.join(map(str, r.unreadable))}) : "
            "ni la clé de chiffrement configurée ni PACTE_SECRET_KEY ne les ouvrent.",
            file=sys.stderr,
        )
        return 1
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this domain's subcommands to the `pacte` parser."""
    p = sub.add_parser("signing-keys", help="clés de signature conservées par la plateforme")
    ksub = p.add_subparsers(dest="signing_keys_command", required=True)
    r = ksub.add_parser(
        "reencrypt",
        help="rechiffrer toutes les clés sous la clé de chiffrement actuelle "
        "(après la mise à jour, ou après avoir changé PACTE_KEY_ENCRYPTION_KEY)",
    )
    r.set_defaults(func=cmd_reencrypt)
