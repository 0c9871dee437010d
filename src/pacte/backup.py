"""`pacte backup`: a consistent copy of the database, with a manifest of the log's state.

PostgreSQL: `pg_dump --format=custom` (one consistent snapshot; restore with `pg_restore`).
SQLite: the online backup API of sqlite3 (a plain file copy of a database in WAL mode may be torn).
Beside each copy, `<name>.json` records the log size and the latest signed checkpoint at backup
time: after a restore, every checkpoint published since then is newer than the database, and the
transparency log must be recovered as docs/transparency-log-operations.md says before it signs
again (docs/deployment.md, "Sauvegardes").
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from pacte.errors import DomainError


class BackupFailed(DomainError):
    status = 500
    code = "backup_failed"


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: Path
    sha256: str
    log_size: int


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _log_state() -> dict[str, Any]:
    from pacte.journal.models import Checkpoint, LogState

    state = LogState.objects.filter(pk=1).first()
    cp = Checkpoint.objects.order_by("-size", "-id").first()
    return {
        "size": state.size if state else 0,
        "checkpoint": {"size": cp.size, "root_hex": bytes(cp.root).hex(), "note": cp.note}
        if cp
        else None,
    }


def _pg_dump(target: Path) -> None:
    db = connection.settings_dict
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupFailed(
            _(
                "pg_dump est introuvable : installez le client PostgreSQL (paquet postgresql-client)."
            )
        )
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    command = [
        pg_dump,
        "--format=custom",
        "--no-owner",
        "--file",
        str(target),
        "--dbname",
        str(db["NAME"]),
    ]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command += [flag, str(db[key])]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupFailed(
            _("pg_dump a échoué : %(error)s") % {"error": done.stderr.strip() or done.returncode}
        )


def _sqlite_copy(target: Path) -> None:
    source = sqlite3.connect(str(connection.settings_dict["NAME"]))
    try:
        copy = sqlite3.connect(str(target))
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            copy.close()
    finally:
        source.close()


def make_backup(out_dir: Path, *, now: datetime | None = None) -> Backup:
    """Write one backup (and its manifest) into `out_dir`; the copy is written under a temporary
    name and renamed only once complete, so a half-written file never looks like a backup."""
    now = now or datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    vendor = connection.vendor
    suffix = {"postgresql": ".dump", "sqlite": ".sqlite3"}.get(vendor)
    if suffix is None:
        raise BackupFailed(
            _("Sauvegarde non prise en charge pour la base %(vendor)s.") % {"vendor": vendor}
        )
    final = out_dir / f"pacte-{stamp}{suffix}"
    if final.exists():
        raise BackupFailed(_("La sauvegarde %(path)s existe déjà.") % {"path": final})
    partial = final.with_name(final.name + ".partial")
    log = _log_state()  # read before the copy: the copy holds at least these entries
    if vendor == "postgresql":
        _pg_dump(partial)
    else:
        _sqlite_copy(partial)
    digest = _sha256(partial)
    partial.rename(final)
    manifest = final.with_name(final.name + ".json")
    manifest.write_text(
        json.dumps(
            {
                "created_at": now.isoformat(),
                "database": vendor,
                "file": final.name,
                "sha256": digest,
                "log": log,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    return Backup(path=final, manifest=manifest, sha256=digest, log_size=int(log["size"]))


def prune(out_dir: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest backups (and their manifests); returns what was deleted."""
    backups = sorted(p for p in out_dir.glob("pacte-*") if p.suffix in (".dump", ".sqlite3"))
    removed = backups[: max(0, len(backups) - keep)]
    for p in removed:
        p.unlink()
        p.with_name(p.name + ".json").unlink(missing_ok=True)
    return removed
