"""The witness role over HTTP (c2sp.org/tlog-witness add-checkpoint and the monitoring
checkpoint), `pacte log witness push` against it, cosignature timestamps, `recover --witness`,
and `pacte log monitor --full`."""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.wsgi import get_wsgi_application
from django.db import transaction

from pacte.engines import merkle, note
from pacte.engines.witness import add_checkpoint_body
from pacte.errors import ValidationFailed
from pacte.journal import cli, memory
from pacte.journal.keys import get_signer
from pacte.journal.models import Cosignature, Event, WitnessedLog
from pacte.journal.services import (
    SYSTEM,
    add_cosignature,
    integrate,
    record_event,
    register_witness,
)
from tests.journal.helpers import keep_test_connection  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keep_test_connection")]

_APP = None


def http() -> httpx.Client:
    global _APP
    if _APP is None:
        _APP = get_wsgi_application()
    return httpx.Client(transport=httpx.WSGITransport(app=_APP), base_url="http://testserver")


def append(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        with transaction.atomic():
            record_event("x.test", actor=SYSTEM, subject_type="t", subject_id=i % 3, data={"i": i})
    cp = integrate()
    memory.remember(cp.note)


@pytest.fixture
def witness_role(settings):
    """This instance also runs the witness role, witnessing its own log (two configurations of
    one platform: the log, and a witness trusting the log's key)."""
    w = note.CosignatureSigner("temoin.example/api/v1/witness", Ed25519PrivateKey.generate())
    settings.WITNESS_SIGNING_KEY = w.private_key_text
    settings.WITNESS_LOG_KEYS = [get_signer().verifier_key]
    return w


def post(body: bytes) -> httpx.Response:
    return http().post("/api/v1/witness/add-checkpoint", content=body)


def test_witness_http_status_codes_and_bodies(witness_role, settings):
    w = witness_role
    append(5)
    cp5 = http().get("/api/v1/log/checkpoint").text
    r = post(add_checkpoint_body(0, [], cp5))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("\u2014 temoin.example/api/v1/witness ") and r.text.count("\n") == 1
    ts = note.verify_cosignature(cp5, r.text, w.verifier_key)
    assert abs(ts - time.time()) < 3600
    row = WitnessedLog.objects.get(origin=settings.LOG_ORIGIN)
    assert row.size == 5 and bytes(row.root) == note.parse_checkpoint(note.note_text(cp5))[2]
    # a stale old size: 409, the known size in the body, text/x.tlog.size
    append(3, start=5)
    cp8 = http().get("/api/v1/log/checkpoint").text
    r = post(add_checkpoint_body(0, [], cp8))
    assert (r.status_code, r.text, r.headers["content-type"]) == (409, "5\n", "text/x.tlog.size")
    # the right old size with the consistency proof: 200
    proof = [
        bytes.fromhex(h)
        for h in http().get("/api/v1/log/proof/consistency?old=5&new=8").json()["proof"]
    ]
    assert post(add_checkpoint_body(5, proof, cp8)).status_code == 200
    # same size, another root (a fork signed by the log's key): 422, not 409
    forged = get_signer().sign(note.checkpoint(settings.LOG_ORIGIN, 8, b"\x05" * 32))
    assert post(add_checkpoint_body(8, [], forged)).status_code == 422
    # a bad proof: 422; old size larger than the checkpoint: 400
    assert (
        post(add_checkpoint_body(5, [b"\0" * 32] * len(proof), cp8)).status_code == 409
    )  # 5 is stale now
    assert post(add_checkpoint_body(8, [b"\0" * 32], cp8)).status_code == 422
    assert post(add_checkpoint_body(9, [], cp8)).status_code == 400
    # a size-0 checkpoint must carry the empty-tree root: 422 (for a log the witness never saw)
    other = note.generate_signer("autre.example/log")
    settings.WITNESS_LOG_KEYS = [get_signer().verifier_key, other.verifier_key]
    bad0 = other.sign(note.checkpoint("autre.example/log", 0, b"\x01" * 32))
    assert post(add_checkpoint_body(0, [], bad0)).status_code == 422
    ok0 = other.sign(note.checkpoint("autre.example/log", 0, merkle.EMPTY_ROOT))
    assert post(add_checkpoint_body(0, [], ok0)).status_code == 200
    # unknown origin: 404; a key the witness does not trust for the origin: 403; malformed: 400
    stranger = note.generate_signer("inconnu.example/log")
    assert (
        post(
            add_checkpoint_body(
                0, [], stranger.sign(note.checkpoint("inconnu.example/log", 1, b"\1" * 32))
            )
        ).status_code
        == 404
    )
    impostor = note.Signer(settings.LOG_ORIGIN, Ed25519PrivateKey.generate())
    assert post(add_checkpoint_body(0, [], impostor.sign(note.note_text(cp8)))).status_code == 403
    assert post(b"old 01\n\n" + cp8.encode()).status_code == 400
    assert http().get("/api/v1/witness/add-checkpoint").status_code == 405
    # the witness's state did not move on any refusal
    assert WitnessedLog.objects.get(origin=settings.LOG_ORIGIN).size == 8
    # monitoring prefix: the latest cosigned checkpoint, with the log's and the witness's signatures
    h = hashlib.sha256(settings.LOG_ORIGIN.encode()).hexdigest()
    r = http().get(f"/api/v1/witness/{h}/checkpoint")
    assert r.status_code == 200
    opened = note.open_note(r.text, [get_signer().verifier_key, w.verifier_key])
    assert len(opened.signatures) == 2 and note.parse_checkpoint(opened.text)[1] == 8
    assert http().get(f"/api/v1/witness/{'0' * 64}/checkpoint").status_code == 404


def test_witness_role_is_off_without_configuration(settings):
    settings.WITNESS_SIGNING_KEY = ""
    settings.WITNESS_LOG_KEYS = []
    append(2)
    cp = http().get("/api/v1/log/checkpoint").text
    assert post(add_checkpoint_body(0, [], cp)).status_code == 404


def test_pacte_log_witness_push_round_trip(witness_role, capsys, settings):
    from pacte.cli import build_parser

    register_witness(witness_role.verifier_key)
    args = build_parser().parse_args(
        ["log", "witness", "push", "--to", "http://testserver/api/v1/witness"]
    )
    assert args.func is cli.cmd_witness_push
    append(4)
    assert cli.cmd_witness_push(args, client=http()) == 0, capsys.readouterr().err
    assert "taille 4 cosigné par temoin.example/api/v1/witness" in capsys.readouterr().out
    append(6, start=4)
    assert cli.cmd_witness_push(args, client=http()) == 0, (
        capsys.readouterr().err
    )  # 409 -> proof 4..10 -> 200
    assert sorted(Cosignature.objects.values_list("checkpoint__size", flat=True)) == [4, 10]
    served = http().get("/api/v1/log/checkpoint").text
    note.verify_cosignature(
        served, Cosignature.objects.get(checkpoint__size=10).signature, witness_role.verifier_key
    )
    # an unregistered witness: the cosignature is refused by the log, exit 1
    Cosignature.objects.all().delete()
    from pacte.journal.models import Witness

    Witness.objects.update(active=False)
    append(1, start=10)
    assert cli.cmd_witness_push(args, client=http()) == 1
    assert "inconnu" in capsys.readouterr().err

    # the memory file is lost: it is fetched back from the witness's cosigned checkpoint
    Path(settings.LOG_MEMORY_FILE).unlink()
    rargs = build_parser().parse_args(
        ["log", "recover", "--witness", "http://testserver/api/v1/witness"]
    )
    assert cli.cmd_recover(rargs, client=http()) == 0
    assert "Mémoire avancée" in capsys.readouterr().out
    assert memory.read_memory().size == 11


def test_the_log_refuses_cosignatures_without_or_with_a_future_timestamp(settings):
    w = note.CosignatureSigner("temoin.example/w", Ed25519PrivateKey.generate())
    register_witness(w.verifier_key)
    append(3)
    text = note.note_text(http().get("/api/v1/log/checkpoint").text)
    for ts in (0, int(time.time()) + 3600):
        r = http().post("/api/v1/log/witness", content=(text + "\n" + w.cosign(text, ts)).encode())
        assert r.status_code == 422, r.text
        assert "horodatage" in r.json()["message"] or "futur" in r.json()["message"]
    with pytest.raises(ValidationFailed):
        add_cosignature(text + "\n" + w.cosign(text, 0))
    ok = http().post(
        "/api/v1/log/witness",
        content=(text + "\n" + w.cosign(text, int(time.time()) + 60)).encode(),
    )
    assert ok.status_code == 200
    assert Cosignature.objects.count() == 1


# ------------------------------------------------------------------ monitor --full


def test_monitor_full_reverifies_every_entry(tmp_path, capsys):
    append(10)
    state = tmp_path / "monitor"
    margs = argparse.Namespace(
        url="http://testserver", state=str(state), key=None, once=True, interval=0, full=False
    )
    assert cli.cmd_monitor(margs, client=http()) == 0
    # an OLD entry is modified in the database (its tree nodes, proofs and checkpoints intact)
    ev = Event.objects.get(index=3)
    Event.objects.filter(pk=ev.pk).update(entry=ev.entry.replace('"i":3', '"i":33'))
    append(2, start=10)
    # the plain monitor only fetches the new entries: it does not (need to) see it
    assert cli.cmd_monitor(margs, client=http()) == 0
    assert "2 nouvelle(s) entrée(s)" in capsys.readouterr().out
    # --full fetches and verifies all of them again: the alert is raised
    full = argparse.Namespace(**{**vars(margs), "full": True})
    assert cli.cmd_monitor(full, client=http()) == 1
    err = capsys.readouterr().err
    assert "ALERTE" in err
    assert json.loads((state / "chain.json").read_text())["size"] == 12  # state did not advance
    # once repaired, --full passes and says how many entries it re-verified
    Event.objects.filter(pk=ev.pk).update(entry=ev.entry)
    assert cli.cmd_monitor(full, client=http()) == 0
    assert "12 entrée(s) revérifiée(s)" in capsys.readouterr().out


def test_monitor_parser_has_full():
    from pacte.cli import build_parser

    args = build_parser().parse_args(["log", "monitor", "--url", "u", "--state", "s", "--full"])
    assert args.full is True


def test_push_reports_a_witness_that_saw_a_larger_tree(witness_role, capsys, settings):
    """A witness that already cosigned a larger size than the database is evidence that the
    database is behind what the log published: `push` says so and points to `recover`."""
    from pacte.cli import build_parser

    register_witness(witness_role.verifier_key)
    append(3)
    WitnessedLog.objects.create(
        origin=settings.LOG_ORIGIN, size=50, root=b"\1" * 32, checkpoint="(cosigné)"
    )
    args = build_parser().parse_args(
        ["log", "witness", "push", "--to", "http://testserver/api/v1/witness"]
    )
    assert cli.cmd_witness_push(args, client=http()) == 1
    err = capsys.readouterr().err
    assert "taille 50" in err and "pacte log recover" in err
    assert not Cosignature.objects.exists()
