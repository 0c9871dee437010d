"""The nightly open-data dump: a ZIP of CSV and JSON, a data dictionary and the Etalab 2.0 licence.

Written in a streaming way: each table is read in chunks (``Table.rows``), each row written at
once to the table's CSV entry in the ZIP and to a temporary JSON file copied in after, so the
dump never holds a table in memory. The file is written beside its final name and renamed
into place; then one transaction records the dump and its journal event (size and SHA-256, so
anyone can check the file they downloaded against the public log).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone, translation

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.opendata.events import opendata_event
from pacte.opendata.models import Dump
from pacte.opendata.tables import TABLES, Table
from pacte.writes.retry import retry_on_conflict

LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
LICENCE_SOURCE = (
    "https://github.com/etalab/licence-ouverte (LO.md, open-licence.md, "
    "commit 48b983e67f2dcbd9a851daa178876b1ec6b49785)"
)
LICENCE_DIR = Path(__file__).parent / "data"
DICTIONARY_COLUMNS = ("table", "column", "type", "description")


def dump_dir() -> Path:
    return Path(settings.OPEN_DATA_DIR)


def filename_for(day: date) -> str:
    return f"pacte-{day.isoformat()}.zip"


_ENCODER = DjangoJSONEncoder()


def _json_default(value: Any) -> Any:
    """Dates, datetimes and decimals written exactly as the API writes them."""
    return _ENCODER.default(value)


def csv_cell(value: Any) -> str:
    """One CSV cell: empty for null, true/false, ISO dates, JSON for lists and objects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_default)
    if isinstance(value, datetime | date | Decimal):
        return str(_json_default(value))
    return str(value)


def _write_table(zf: zipfile.ZipFile, table: Table) -> int:
    names = table.column_names
    count = 0
    with tempfile.TemporaryFile("w+b") as js:
        with zf.open(f"{table.name}.csv", "w") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.writer(text)
            writer.writerow(names)
            js.write(b"[")
            for row in table.rows():
                writer.writerow([csv_cell(row.get(n)) for n in names])
                record = {n: row.get(n) for n in names}
                line = json.dumps(record, ensure_ascii=False, default=_json_default)
                js.write((",\n" if count else "\n").encode() + line.encode("utf-8"))
                count += 1
            js.write(b"\n]\n")
            text.flush()
            text.detach()
        js.seek(0)
        with zf.open(f"{table.name}.json", "w") as raw_json:
            shutil.copyfileobj(js, raw_json)
    return count


def _dictionary_csv(tables: Iterable[Table]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(DICTIONARY_COLUMNS)
    for t in tables:
        for c in t.columns:
            writer.writerow([t.name, c.name, c.type, str(c.description)])
    return out.getvalue().encode("utf-8")


def _dictionary_json(tables: Iterable[Table], counts: dict[str, int], day: date) -> bytes:
    doc = {
        "title": "Données publiques de Pacte",
        "publisher": settings.PUBLISHER_NAME,
        "date": day.isoformat(),
        "licence": {
            "name": "Licence Ouverte / Open Licence 2.0",
            "spdx": "etalab-2.0",
            "url": LICENCE_URL,
        },
        "tables": [
            {
                "name": t.name,
                "description": str(t.description),
                "api": t.api,
                "rows": counts[t.name],
                "files": [f"{t.name}.csv", f"{t.name}.json"],
                "columns": [
                    {"name": c.name, "type": c.type, "description": str(c.description)}
                    for c in t.columns
                ],
            }
            for t in tables
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def licence_text(day: date) -> str:
    """LICENCE.txt: who produced the data and when, then the official French and English texts
    of the Licence Ouverte 2.0, vendored unchanged from Etalab (see data/*.SOURCE.txt)."""
    french = (LICENCE_DIR / "licence-ouverte-2.0.fr.md").read_text(encoding="utf-8")
    english = (LICENCE_DIR / "licence-ouverte-2.0.en.md").read_text(encoding="utf-8")
    return (
        "Licence Ouverte / Open Licence, version 2.0 (Etalab) — identifiant SPDX : etalab-2.0\n"
        f"Présentation : {LICENCE_URL}\n"
        f"Textes officiels reproduits ci-dessous sans modification : {LICENCE_SOURCE}\n\n"
        f"Producteur (« Concédant ») : {settings.PUBLISHER_NAME}\n"
        f"Données : export public de Pacte du {day.isoformat()} (date de dernière mise à jour)\n\n"
        "================ TEXTE OFFICIEL (FRANÇAIS) ================\n\n"
        f"{french.strip()}\n\n"
        "================ OFFICIAL TEXT (ENGLISH) ================\n\n"
        f"{english.strip()}\n"
    )


def write_archive(path: Path, day: date) -> dict[str, int]:
    """Write the ZIP at ``path``; return the rows per table."""
    counts: dict[str, int] = {}
    with (
        translation.override("fr"),
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf,
    ):
        for table in TABLES:
            counts[table.name] = _write_table(zf, table)
        zf.writestr("dictionnaire.csv", _dictionary_csv(TABLES))
        zf.writestr("dictionnaire.json", _dictionary_json(TABLES, counts, day))
        zf.writestr("LICENCE.txt", licence_text(day))
    return counts


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def publish_dump(principal: policy.Principal, day: date | None = None) -> Dump:
    """Write today's dump and record it (the platform only: a nightly job)."""
    policy.require(principal, Action.PLATFORM_CLOCK, None)
    day = day or timezone.localdate()
    folder = dump_dir()
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / filename_for(day)
    partial = folder / f".{final.name}.{uuid.uuid4().hex}.part"
    try:
        counts = write_archive(partial, day)
        digest, size = _sha256(partial), partial.stat().st_size
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return _record(principal, day, final.name, size, digest, counts)


@retry_on_conflict
@transaction.atomic
def _record(
    principal: policy.Principal,
    day: date,
    filename: str,
    size: int,
    digest: str,
    counts: dict[str, int],
) -> Dump:
    dump, _ = Dump.objects.update_or_create(
        day=day,
        defaults={"filename": filename, "byte_size": size, "sha256": digest, "tables": counts},
    )
    opendata_event(
        "opendata.dump_published",
        principal,
        "opendata_dump",
        filename,
        sha256=digest,
        byte_size=size,
        rows=counts,
        licence="etalab-2.0",
    )
    return dump


def open_dump(dump: Dump) -> IO[bytes]:
    return (dump_dir() / dump.filename).open("rb")
