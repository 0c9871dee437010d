"""Operations: `pacte serve`'s gunicorn command (one control socket per instance) and `pacte backup`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection

from pacte.cli import build_parser, gunicorn_argv


def serve_args(*argv: str):  # type: ignore[no-untyped-def]
    return build_parser().parse_args(["serve", *argv])


def printed_config(argv: list[str]) -> dict[str, str]:
    """What the installed gunicorn's own option parser makes of the command (as `gunicorn` does at
    start-up, without starting it): proves that this gunicorn accepts the options."""
    from gunicorn.config import Config

    cfg = Config()
    parsed = cfg.parser().parse_args(argv[3:])
    for key, value in vars(parsed).items():
        if value is not None and key != "args":
            cfg.set(key.lower(), value)
    return {
        "control_socket": str(cfg.control_socket),
        "control_socket_disable": str(cfg.control_socket_disable),
        "bind": ",".join(cfg.bind),
    }


def test_two_instances_get_two_control_sockets(tmp_path, monkeypatch):
    monkeypatch.delenv("PACTE_GUNICORN_CONTROL_SOCKET", raising=False)
    sockets = []
    for name, port in (("a", "8001"), ("b", "8002")):
        monkeypatch.setenv("PACTE_VAR_DIR", str(tmp_path / name))
        argv = gunicorn_argv(serve_args("--port", port))
        assert argv[:4] == [sys.executable, "-m", "gunicorn", "pacte.wsgi:application"]
        config = printed_config(argv)
        assert config["control_socket_disable"] == "False"
        sockets.append(config["control_socket"])
    assert sockets == [str(tmp_path / "a" / "gunicorn.ctl"), str(tmp_path / "b" / "gunicorn.ctl")]


def test_control_socket_can_be_named_or_disabled(tmp_path, monkeypatch):
    monkeypatch.setenv("PACTE_GUNICORN_CONTROL_SOCKET", "off")
    assert printed_config(gunicorn_argv(serve_args()))["control_socket_disable"] == "True"
    argv = gunicorn_argv(serve_args("--control-socket", str(tmp_path / "x.ctl")))
    assert printed_config(argv)["control_socket"] == str(tmp_path / "x.ctl")
    too_long = "/tmp/" + "d" * 120 + "/gunicorn.ctl"
    assert "--no-control-socket" in gunicorn_argv(serve_args("--control-socket", too_long))


@pytest.mark.django_db(
    transaction=True
)  # the copy is read by another connection: data must be committed
def test_backup_is_a_consistent_copy_with_the_log_state(tmp_path, world, capsys):
    from pacte.backup import make_backup, prune
    from pacte.cli import main
    from pacte.journal.models import Event
    from pacte.journal.services import integrate

    world.project(name="Projet sauvegardé")
    integrate()  # a signed checkpoint to record
    events = Event.objects.count()
    assert events > 0
    assert main(["backup", "--out", str(tmp_path)]) == 0
    assert "Sauvegarde écrite" in capsys.readouterr().out
    [copy] = [p for p in tmp_path.iterdir() if p.suffix in (".dump", ".sqlite3")]
    manifest = json.loads(copy.with_name(copy.name + ".json").read_text())
    assert manifest["database"] == connection.vendor and manifest["log"]["size"] == events
    assert (
        manifest["log"]["checkpoint"]["size"] == events
        and "\n\n— " in manifest["log"]["checkpoint"]["note"]
    )
    import hashlib

    assert hashlib.sha256(copy.read_bytes()).hexdigest() == manifest["sha256"]
    assert not list(tmp_path.glob("*.partial"))
    if connection.vendor == "sqlite":
        with sqlite3.connect(copy) as db:
            assert db.execute("SELECT count(*) FROM journal_event").fetchone()[0] == events
            assert db.execute(
                "SELECT name FROM projects_project WHERE name = 'Projet sauvegardé'"
            ).fetchone()
    else:
        listing = subprocess.run(
            ["pg_restore", "--list", str(copy)], capture_output=True, text=True, check=True
        )
        assert "TABLE DATA public journal_event" in listing.stdout
    # --keep: only the newest backups stay
    for day in (1, 2):
        make_backup(tmp_path, now=datetime(2030, 1, day, tzinfo=UTC))
    removed = prune(tmp_path, keep=1)
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert len(removed) == 2 and len(kept) == 2 and kept[0].startswith("pacte-20300102"), kept
    assert Path(str(removed[0]) + ".json").exists() is False
