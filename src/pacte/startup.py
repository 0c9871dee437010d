"""Django start-up for command-line entry points: the `pacte` command and each domain's
subcommands (`pacte log …`, `pacte data …`, …) call :func:`setup` before touching Django.

It lives apart from :mod:`pacte.cli` so that domain commands import nothing from the
project's root command module (which imports them)."""

from __future__ import annotations

import os


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacte.settings")
    import django

    django.setup()
