"""The log remembers what it signed: an older backup restored (or a forked database) makes it
refuse to sign and stop writes (503) until `pacte log recover` resolves it."""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
from pathlib import Path

import httpx
import pytest
from django.core.wsgi import get_wsgi_application
from django.db import connection, transaction
from django.utils import timezone

from pacte.accounts.services import create_api_token
from pacte.engines import note
from pacte.journal import checkpoints, cli, entries, memory, services
from pacte.journal.exports import export_log
from pacte.journal.models import Checkpoint, Cosignature, Event, LogNode, LogState
from pacte.journal.services import SYSTEM, integrate, record_event, verify_log
from pacte.settings import default_log_origin


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Like django.test.Client: WSGI requests must not close the test's DB connection."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


_APP = None


def http() -> httpx.Client:
    global _APP
    if _APP is None:  # django.setup() reconfigures logging: once, not under a test's caplog
        _APP = get_wsgi_application()
    return httpx.Client(transport=httpx.WSGITransport(app=_APP), base_url="http://testserver")


@pytest.fixture(autouse=True, scope="module")
def _wsgi_app_before_caplog():
    http()


def append(n: int, *, start: int = 0) -> None:
    """n governance events, each committed, each followed by the after-commit signing
    (what a request does), so that the memory file follows."""
    for i in range(start, start + n):
        with transaction.atomic():
            record_event("x.test", actor=SYSTEM, subject_type="t", subject_id=i % 3, data={"i": i})
        if connection.in_atomic_block:  # inside a test transaction: commit hooks never run
            integrate_and_remember()
    if not connection.in_atomic_block:
        integrate()


def integrate_and_remember() -> Checkpoint:
    cp = integrate()
    memory.remember(cp.note)  # what the on_commit hook does once the signing transaction commits
    return cp


def remembered_size() -> int | None:
    m = memory.read_memory()
    return None if m is None else m.size


@pytest.fixture
def write(world, content):  # type: ignore[no-untyped-def]
    """A governance write through the API (a draft pact), as a client does it."""
    project = world.project()
    _, raw = create_api_token(world.carrier_admin.user, world.carrier, "t")

    def post() -> tuple[int, dict]:
        r = http().post(
            "/api/v1/pacts",
            json={"project": project.slug, "institution": "agence", "content": content},
            headers={"Authorization": f"Bearer {raw}"},
        )
        return r.status_code, r.json()

    return post


def recover(*argv: str) -> tuple[int, str]:
    from pacte.cli import build_parser

    args = build_parser().parse_args(["log", "recover", *argv])
    assert args.func is cli.cmd_recover
    code = cli.cmd_recover(args, client=http())
    return code, ""


# ------------------------------------------------------------------ memory file


@pytest.mark.django_db
def test_signing_remembers_the_checkpoint_outside_the_database(settings):
    path = Path(settings.LOG_MEMORY_FILE)
    assert memory.read_memory() is None and not path.exists()
    append(3)
    assert path.read_text() == Checkpoint.objects.get(size=3).note  # exactly what was signed
    m = memory.read_memory()
    assert (m.origin, m.size) == (settings.LOG_ORIGIN, 3)
    # never moves backwards: a late writer with an older checkpoint changes nothing
    append(2, start=3)
    assert memory.remember(Checkpoint.objects.get(size=3).note) is False
    assert remembered_size() == 5
    # no temporary file left behind
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".lock")) == [
        path.name
    ]
    # a file signed by another key is not trusted
    other = note.generate_signer(settings.LOG_ORIGIN).sign(
        note.checkpoint(settings.LOG_ORIGIN, 9, b"\1" * 32)
    )
    path.write_text(other)
    with pytest.raises(memory.LogHalted):
        memory.read_memory()


@pytest.mark.django_db(transaction=True)
def test_the_after_commit_hook_writes_the_memory_and_never_fails_the_request(caplog):
    with transaction.atomic():
        record_event("x.test", actor=SYSTEM, subject_type="t", subject_id=1)
    assert remembered_size() == 1  # signed after commit and remembered, no explicit integrate()

    def boom(stage: str) -> None:
        if stage == "checkpoint-signing":
            raise RuntimeError("disk on fire")

    entries.crash_hook = boom
    try:
        with caplog.at_level(logging.ERROR, logger="pacte.journal"), transaction.atomic():
            e = record_event("x.test", actor=SYSTEM, subject_type="t", subject_id=2)
    finally:
        entries.crash_hook = None
    assert Event.objects.filter(pk=e.pk).exists()  # the request's change is committed
    assert "checkpoint signing after commit failed" in caplog.text
    assert remembered_size() == 1
    assert integrate().size == 2 and remembered_size() == 2  # the next signature catches up


# ------------------------------------------------------------------ an older backup restored


def _sqlite_copy() -> sqlite3.Connection:
    connection.ensure_connection()
    copy = sqlite3.connect(":memory:")
    connection.connection.backup(copy)
    return copy


def _sqlite_restore(copy: sqlite3.Connection) -> None:
    copy.backup(connection.connection)
    services.clear_caches()


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="a byte copy of the SQLite database (PostgreSQL: next test)",
)
@pytest.mark.django_db(transaction=True)
def test_older_sqlite_backup_restored_no_new_checkpoint_writes_503_then_recover(
    write, tmp_path, capsys, caplog
):
    append(5)
    size = LogState.objects.get().size
    backup = _sqlite_copy()  # the "older backup"
    append(4, start=5)
    assert remembered_size() == size + 4
    export_log(tmp_path / "export")  # the published log, as exported (or mirrored)
    _sqlite_restore(backup)
    assert LogState.objects.get().size == size
    _refused_then_recovered(write, tmp_path, capsys, caplog)


@pytest.mark.django_db
def test_older_backup_of_the_journal_tables_restored_then_recover(write, tmp_path, capsys, caplog):
    """The same on any database: the journal tables rewound to an older copy."""
    append(5)
    tables = [Cosignature, Checkpoint, LogNode, Event, LogState]
    saved = {m: list(m.objects.all()) for m in tables}
    append(4, start=5)
    export_log(tmp_path / "export")
    for m in tables:
        m.objects.all().delete()
    for m in reversed(tables):
        m.objects.bulk_create(saved[m])
    services.clear_caches()
    _refused_then_recovered(write, tmp_path, capsys, caplog)


def _refused_then_recovered(write, tmp_path, capsys, caplog) -> None:  # type: ignore[no-untyped-def]
    db_size = LogState.objects.get().size
    assert remembered_size() == db_size + 4
    checkpoints = Checkpoint.objects.count()
    # governance writes stop with a 503 JSON and an operator message, loudly, nothing written ...
    with caplog.at_level(logging.ERROR, logger="pacte.journal"):
        status, body = write()
    assert (
        status == 503 and body["error"] == "log_halted" and "pacte log recover" in body["message"]
    )
    assert "SIGNATURE REFUSÉE (behind)" in caplog.text
    with pytest.raises(memory.LogHalted) as exc, transaction.atomic():
        record_event("x.test", actor=SYSTEM, subject_type="t", subject_id=1)
    assert "en retard" in exc.value.message and "pacte log recover" in exc.value.message
    assert LogState.objects.get().size == db_size
    # ... no new checkpoint is signed ...
    assert integrate().size == db_size
    assert Checkpoint.objects.count() == checkpoints and remembered_size() == db_size + 4
    # ... reads go on, with the last checkpoint the database holds
    r = http().get("/api/v1/log/checkpoint")
    assert r.status_code == 200 and f"\n{db_size}\n" in r.text
    # the operator looks: exit 1 and the divergence
    assert recover()[0] == 1
    out = capsys.readouterr().out
    assert "DIVERGENCE (behind)" in out and f"taille {db_size + 4}" in out
    # re-append the published entries from the export: exit 0, service restored
    assert recover("--from-export", str(tmp_path / "export"))[0] == 0
    out = capsys.readouterr().out
    assert "4 entrée(s) publiée(s) ré-ajoutée(s)" in out and "cohérent" in out
    assert LogState.objects.get().size == db_size + 4
    assert http().get("/api/v1/log/checkpoint").text == Path(memory.memory_path()).read_text()
    status, body = write()
    assert status in (200, 201), body  # writes go through again
    append(1, start=100)
    assert remembered_size() == LogState.objects.get().size > db_size + 5
    assert verify_log().ok


@pytest.mark.django_db
def test_recover_from_an_export_that_is_not_the_published_log_writes_nothing(tmp_path, capsys):
    append(5)
    tables = [Cosignature, Checkpoint, LogNode, Event, LogState]
    saved = {m: list(m.objects.all()) for m in tables}
    append(3, start=5)
    export_log(tmp_path / "export")
    chunk = next((tmp_path / "export" / "entries").glob("*.jsonl"))
    lines = chunk.read_text().splitlines()
    item = json.loads(lines[6])
    item["entry"] = item["entry"].replace('"i":6', '"i":66')
    lines[6] = json.dumps(item)
    chunk.write_text("\n".join(lines) + "\n")
    for m in tables:
        m.objects.all().delete()
    for m in reversed(tables):
        m.objects.bulk_create(saved[m])
    services.clear_caches()
    from pacte.cli import main

    assert main(["log", "recover", "--from-export", str(tmp_path / "export")]) == 2
    assert "ne redonnent pas la racine" in capsys.readouterr().err
    assert LogState.objects.get().size == 5 and Event.objects.count() == 5


@pytest.mark.django_db
def test_forked_database_refused_until_a_new_origin_is_accepted(write, settings, capsys):
    append(4)
    # another history of the same length and more (e.g. another database): a fork
    for m in (Cosignature, Checkpoint, LogNode, Event, LogState):
        m.objects.all().delete()
    services.clear_caches()
    memory_before = Path(settings.LOG_MEMORY_FILE).read_text()
    with pytest.raises(memory.LogHalted), transaction.atomic():
        record_event("x.other", actor=SYSTEM, subject_type="t", subject_id=1)
    # forge the fork behind the platform's back: 6 other entries, then try to sign
    with transaction.atomic():
        state = checkpoints._lock_state()
        appended, leaves = entries._append(
            state,
            [services.NewEvent("x.other", SYSTEM, "t", i) for i in range(6)],
            timezone.now(),
        )
        checkpoints._integrate_locked(state, pending=(0, leaves), new_size=6)
    with pytest.raises(memory.LogHalted) as exc:
        integrate()
    assert "FOURCHE" in exc.value.message
    assert (
        not Checkpoint.objects.exists()
        and Path(settings.LOG_MEMORY_FILE).read_text() == memory_before
    )
    assert write()[0] == 503
    from pacte.cli import main

    assert main(["log", "recover"]) == 1
    assert "DIVERGENCE (fork)" in capsys.readouterr().out
    # re-appending cannot mend a fork
    assert main(["log", "recover", "--from-url", "http://testserver"]) == 2
    # a new origin must be configured AND repeated
    assert main(["log", "recover", "--accept-new-origin", settings.LOG_ORIGIN]) == 2
    assert "nouvelle origine" in capsys.readouterr().err
    settings.LOG_ORIGIN = "pacte.example.org/api/v1/log/2"
    assert main(["log", "recover", "--accept-new-origin", "pacte.example.org/api/v1/log"]) == 2
    assert main(["log", "recover", "--accept-new-origin", "pacte.example.org/api/v1/log/2"]) == 0
    out = capsys.readouterr().out
    assert "cohérent" in out
    m = memory.read_memory()
    assert (m.origin, m.size) == ("pacte.example.org/api/v1/log/2", 6)
    assert list(Path(settings.LOG_MEMORY_FILE).parent.glob("*.retired-*"))  # the old memory is kept
    assert write()[0] in (200, 201)  # writes go through again
    assert verify_log().ok


# ------------------------------------------------------------------ entry cap, origin


@pytest.mark.django_db
def test_an_entry_over_64_kib_is_refused_with_a_clear_error():
    append(1)
    with pytest.raises(services.EntryTooLarge) as exc, transaction.atomic():
        record_event(
            "x.big", actor=SYSTEM, subject_type="t", subject_id=1, data={"text": "é" * 33_000}
        )
    assert exc.value.status == 422 and "65535 octets" in exc.value.message
    with pytest.raises(services.EntryTooLarge):
        services.record_events(
            [
                services.NewEvent("x.ok", SYSTEM, "t", 1),
                services.NewEvent("x.big", SYSTEM, "t", 2, {"text": "x" * 70_000}),
            ]
        )
    assert LogState.objects.get().size == 1 and Event.objects.count() == 1
    with transaction.atomic():  # just below the cap: accepted, and served in an entry bundle
        e = record_event(
            "x.big", actor=SYSTEM, subject_type="t", subject_id=1, data={"text": "x" * 65_000}
        )
    assert 65_000 < len(e.entry.encode()) <= 0xFFFF
    integrate()
    r = http().get("/api/v1/log/tile/entries/000.p/2")
    assert r.status_code == 200 and len(r.content) > 65_000


def test_default_origin_names_the_log_url_prefix():
    assert (
        default_log_origin("https://pacte.example.org/", "ignored")
        == "pacte.example.org/api/v1/log"
    )
    assert default_log_origin("https://example.org/pacte", "x") == "example.org/pacte/api/v1/log"
    assert default_log_origin("", "localhost") == "localhost/api/v1/log"


def test_settings_derive_the_origin_from_the_public_url(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("PACTE_")}
    env.update(PACTE_VAR_DIR=str(tmp_path), PACTE_PUBLIC_URL="https://pacte.example.org")
    code = "from pacte import settings as s; print(s.LOG_ORIGIN)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "pacte.example.org/api/v1/log"
    env["PACTE_LOG_ORIGIN"] = "pacte.example.org/log"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "pacte.example.org/log"


def test_recover_parser():
    from pacte.cli import build_parser

    p = build_parser()
    assert p.parse_args(["log", "recover"]).func is cli.cmd_recover
    with pytest.raises(SystemExit):
        p.parse_args(["log", "recover", "--from-export", "d", "--accept-new-origin", "o"])
    assert isinstance(p.parse_args(["log", "recover", "--witness", "u"]), argparse.Namespace)


def test_a_development_key_named_after_another_origin_is_not_reused(settings, tmp_path):
    """A key is named after its log's origin (C2SP): after the default origin changed, the old
    development key file is left as it is and the new origin gets its own key."""
    from pacte.journal import keys

    settings.VAR_DIR = tmp_path
    settings.LOG_SIGNING_KEY = ""
    old = note.generate_signer("pacte.localhost/log").private_key_text
    (tmp_path / keys.KEY_FILE_NAME).write_text(old + "\n")
    keys._cache.clear()
    try:
        signer = keys.get_signer()
        assert signer.name == settings.LOG_ORIGIN
        assert (tmp_path / keys.KEY_FILE_NAME).read_text().strip() == old
        assert len(list(tmp_path.glob(f"{keys.KEY_FILE_NAME}-*"))) == 1
        keys._cache.clear()
        assert keys.get_signer().verifier_key == signer.verifier_key  # stable
    finally:
        keys._cache.clear()
