from __future__ import annotations

import argparse
import json

import httpx
import pytest
from django.core.wsgi import get_wsgi_application
from django.db import transaction

from pacte.engines import merkle, note
from pacte.journal import cli
from pacte.journal.exports import export_log
from pacte.journal.keys import get_signer
from pacte.journal.models import Checkpoint, Event, LogNode, LogState
from pacte.journal.services import SYSTEM, integrate, record_event, verify_log
from tests.journal.helpers import append, keep_test_connection  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keep_test_connection")]


def http_client() -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=get_wsgi_application()), base_url="http://testserver"
    )


def verify(capsys, *, url=None, dir=None, key=None, checkpoint=None) -> tuple[int, str]:
    args = argparse.Namespace(
        url=url, dir=dir, key=key or get_signer().verifier_key, checkpoint=checkpoint, quiet=True
    )
    code = cli.cmd_verify(args, client=http_client() if url else None)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_verify_export_dir_ok_then_tampered_entry_fails(tmp_path, capsys):
    append(20)
    export_log(tmp_path, chunk_lines=7)
    assert len(list((tmp_path / "entries").glob("*.jsonl"))) == 3
    code, out = verify(capsys, dir=str(tmp_path), key=str(tmp_path / "key"))
    assert code == 0, out
    assert "20 entrées" in out
    chunk = sorted((tmp_path / "entries").glob("*.jsonl"))[1]
    lines = chunk.read_text().splitlines()
    item = json.loads(lines[2])
    item["entry"] = item["entry"].replace('"i":', '"j":')  # one byte changed
    item["leaf_hash"] = None
    lines[2] = json.dumps(item)
    chunk.write_text("\n".join(lines) + "\n")
    code, out = verify(capsys, dir=str(tmp_path))
    assert code == 1 and "ÉCHEC" in out


def test_verify_dir_detects_a_removed_entry_and_a_forged_checkpoint(tmp_path, capsys):
    append(10)
    export_log(tmp_path)
    good = (tmp_path / "checkpoint").read_text()
    chunk = next((tmp_path / "entries").glob("*.jsonl"))
    lines = chunk.read_text().splitlines()
    chunk.write_text("\n".join(lines[:4] + lines[5:]) + "\n")
    code, out = verify(capsys, dir=str(tmp_path))
    assert code == 1 and "manquante" in out
    chunk.write_text("\n".join(lines) + "\n")
    # flip one byte of the checkpoint body: the signature fails
    (tmp_path / "checkpoint").write_text(good.replace("\n10\n", "\n11\n", 1))
    code, out = verify(capsys, dir=str(tmp_path))
    assert code == 1 and "signature" in out
    # a wrong key
    from pacte.engines import note

    (tmp_path / "checkpoint").write_text(good)
    code, out = verify(capsys, dir=str(tmp_path), key=note.generate_signer("autre").verifier_key)
    assert code == 1


def test_verify_url_with_consistency_against_a_saved_checkpoint(tmp_path, capsys):
    append(7)
    saved = tmp_path / "old.txt"
    saved.write_text(http_client().get("/api/v1/log/checkpoint").text)
    append(9)
    code, out = verify(capsys, url="http://testserver", checkpoint=str(saved))
    assert code == 0, out
    assert "16 entrées" in out and "précédent (taille 7)" in out


def _tamper_db_entry(index: int) -> None:
    ev = Event.objects.get(index=index)
    Event.objects.filter(pk=ev.pk).update(entry=ev.entry.replace('"i":', '"j":'))


def test_db_tamper_entry_is_detected_by_verify_log_and_by_verify_url(capsys):
    append(10)
    assert verify_log().ok
    _tamper_db_entry(3)
    report = verify_log()
    assert not report.ok and any("entrée 3" in p for p in report.problems)
    code, out = verify(capsys, url="http://testserver")
    assert code == 1 and "entrée 3" in out


def test_db_tamper_node_is_detected(tmp_path, capsys):
    append(6)
    saved = tmp_path / "old.txt"
    saved.write_text(http_client().get("/api/v1/log/checkpoint").text)
    append(4)
    node = LogNode.objects.get(level=1, index=2)  # leaves 4-5: in the consistency proof 6 -> 10
    h = bytearray(bytes(node.hash))
    h[0] ^= 1
    LogNode.objects.filter(level=1, index=2).update(hash=bytes(h))
    report = verify_log()
    assert any("nœud (1, 2)" in p for p in report.problems)
    assert cli.cmd_audit(argparse.Namespace()) == 1
    # the proof endpoint answers from that node: its proof does not verify
    _, _, old_root = note.parse_checkpoint(note.note_text(saved.read_text()))
    new_root = bytes(Checkpoint.objects.get(size=10).root)
    p = http_client().get("/api/v1/log/proof/consistency", params={"old": 6, "new": 10}).json()
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(6, 10, old_root, new_root, [bytes.fromhex(h) for h in p["proof"]])
    # `verify --url` computes its proofs from the tiles; a stored hash the tiles serve (leaf 4,
    # in the consistency proof 6 -> 10) rewritten is a fork to it
    leaf = bytearray(bytes(Event.objects.get(index=4).leaf_hash))
    leaf[0] ^= 1
    Event.objects.filter(index=4).update(leaf_hash=bytes(leaf))
    code, out = verify(capsys, url="http://testserver", checkpoint=str(saved))
    assert code == 1 and "FOURCHE" in out


def test_db_tamper_checkpoint_is_detected(capsys):
    append(10)
    cp = Checkpoint.objects.order_by("-size").first()
    Checkpoint.objects.filter(pk=cp.pk).update(note=cp.note.replace("\n10\n", "\n12\n", 1))
    assert any("signature" in p for p in verify_log().problems)
    code, out = verify(capsys, url="http://testserver")
    assert code == 1 and "signature" in out


def test_rewritten_history_is_detected_as_a_fork_by_verify_and_monitor(tmp_path, capsys):
    append(8)
    saved = tmp_path / "old.txt"
    saved.write_text(http_client().get("/api/v1/log/checkpoint").text)
    state = tmp_path / "monitor"
    margs = argparse.Namespace(
        url="http://testserver", state=str(state), key=None, once=True, interval=0
    )
    assert cli.cmd_monitor(margs, client=http_client()) == 0
    # the operator rewrites entry 2 and rebuilds a tree and checkpoints that look valid
    _tamper_db_entry(2)
    from pacte.engines import merkle

    ev = Event.objects.get(index=2)
    Event.objects.filter(pk=ev.pk).update(leaf_hash=merkle.leaf_hash(ev.entry.encode()))
    LogNode.objects.all().delete()
    Checkpoint.objects.all().delete()
    LogState.objects.update(tree_size=0)
    integrate()
    append(3)
    code, out = verify(capsys, url="http://testserver", checkpoint=str(saved))
    assert code == 1 and "FOURCHE" in out
    assert cli.cmd_monitor(margs, client=http_client()) == 1
    err = capsys.readouterr().err
    assert "ALERTE" in err and "FOURCHE" in err
    assert list((state / "alerts").iterdir())


def test_monitor_follows_and_alerts_on_a_missing_prev_link(tmp_path, capsys):
    append(5)
    state = tmp_path / "monitor"
    margs = argparse.Namespace(
        url="http://testserver", state=str(state), key=None, once=True, interval=0
    )
    assert cli.cmd_monitor(margs, client=http_client()) == 0
    append(3)
    assert cli.cmd_monitor(margs, client=http_client()) == 0
    assert "3 nouvelle(s) entrée(s)" in capsys.readouterr().out
    # an event of subject t:0 whose prev skips the real previous entry (a hidden event)
    with transaction.atomic():
        e = record_event("x.next", actor=SYSTEM, subject_type="t", subject_id=0)
        doc = json.loads(e.entry)
        doc["prev"] = "f" * 64
        from pacte.engines import merkle
        from pacte.engines.canonical import canonical_json

        text = canonical_json(doc)
        Event.objects.filter(pk=e.pk).update(
            entry=text, leaf_hash=merkle.leaf_hash(text.encode()), prev="f" * 64
        )
        LogNode.objects.filter(level__gt=0).delete()
        LogState.objects.update(tree_size=0)
    LogNode.objects.all().delete()
    Checkpoint.objects.filter(size=e.index + 1).delete()
    integrate()
    assert cli.cmd_monitor(margs, client=http_client()) == 1
    assert "prev" in capsys.readouterr().err


def test_cli_parser_has_log_commands():
    from pacte.cli import build_parser

    args = build_parser().parse_args(["log", "verify", "--dir", "x", "--key", "k"])
    assert args.func is cli.cmd_verify
    with pytest.raises(SystemExit):
        build_parser().parse_args(["log", "verify", "--dir", "x", "--url", "y", "--key", "k"])
