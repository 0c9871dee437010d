"""C2SP tlog-witness add-checkpoint against our own log (the pure witness is tested in
tests/engines/test_witness.py)."""

from __future__ import annotations

import argparse
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pacte.engines import note
from pacte.engines.witness import WitnessState, add_checkpoint_body, witness_add_checkpoint

# ------------------------------------------------------------------ against our own log


@pytest.mark.django_db
def test_our_log_through_the_witness_and_back(client, settings):
    from pacte.journal.keys import get_signer
    from pacte.journal.models import Cosignature
    from pacte.journal.services import register_witness
    from tests.journal.helpers import append

    w = note.CosignatureSigner("temoin.example/w", Ed25519PrivateKey.generate())
    register_witness(w.verifier_key)
    vkey = client.get("/api/v1/log/key").content.decode().strip()
    assert note.Verifier(vkey).name == settings.LOG_ORIGIN  # key name = origin (C2SP convention)

    append(5)
    cp1 = client.get("/api/v1/log/checkpoint").content.decode()
    status, body, state = witness_add_checkpoint(
        WitnessState(), add_checkpoint_body(0, [], cp1), w, vkey, now=100
    )
    assert status == 200
    # the response lines, posted as they are, are accepted for the latest checkpoint
    r = client.post("/api/v1/log/witness", data=body, content_type="text/plain")
    assert r.status_code == 200, r.content
    assert r.json() == [{"checkpoint_size": 5, "witness": "temoin.example/w", "timestamp": 100}]

    append(9)
    cp2 = client.get("/api/v1/log/checkpoint").content.decode()
    c = client.get("/api/v1/log/proof/consistency?old=5&new=14").json()
    proof = [bytes.fromhex(h) for h in c["proof"]]
    status, body, state2 = witness_add_checkpoint(
        state, add_checkpoint_body(5, proof, cp2), w, vkey, now=200
    )
    assert status == 200 and state2.size(settings.LOG_ORIGIN) == 14
    # the cosigned checkpoint (checkpoint text, blank line, the witness line) is accepted too
    cosigned = note.note_text(cp2) + "\n" + body.decode()
    assert (
        client.post("/api/v1/log/witness", data=cosigned, content_type="text/plain").status_code
        == 200
    )
    assert sorted(Cosignature.objects.values_list("checkpoint__size", "timestamp")) == [
        (5, 100),
        (14, 200),
    ]
    served = client.get("/api/v1/log/checkpoint").content.decode()
    assert body.decode() in served
    assert note.verify_cosignature(served, body.decode(), w.verifier_key) == 200
    page = client.get("/journal/verifiable/").content.decode()
    assert "cosigné par temoin.example/w" in page

    # replaying the old checkpoint: 409 with the witness's size
    res = witness_add_checkpoint(state2, add_checkpoint_body(5, [], cp1), w, vkey)
    assert (res.status, res.body) == (409, b"14\n")
    # the operator signs a forked checkpoint (same size 20, another history): 422
    forged = get_signer().sign(note.checkpoint(settings.LOG_ORIGIN, 20, b"\x05" * 32))
    append(6)
    c = client.get("/api/v1/log/proof/consistency?old=14&new=20").json()
    res = witness_add_checkpoint(
        state2, add_checkpoint_body(14, [bytes.fromhex(h) for h in c["proof"]], forged), w, vkey
    )
    assert res.status == 422 and res.state is state2


@pytest.mark.django_db
def test_cli_witness_cosign_over_http(tmp_path, capsys, wsgi_client, settings):
    from pacte.cli import build_parser
    from pacte.journal import cli
    from pacte.journal.models import Cosignature, Event
    from pacte.journal.services import register_witness
    from tests.journal.helpers import append

    keyfile = tmp_path / "witness.key"
    assert cli.cmd_witness_keygen(argparse.Namespace(name="cli.witness/w", out=str(keyfile))) == 0
    wkey = capsys.readouterr().out.strip()
    assert note.parse_verifier_key(wkey).alg == note.ALG_COSIGNATURE_V1
    assert oct(keyfile.stat().st_mode & 0o777) == "0o600"
    register_witness(wkey)
    state_dir = tmp_path / "state"
    args = build_parser().parse_args(
        [
            "log",
            "witness",
            "cosign",
            "--url",
            "http://testserver",
            "--key",
            str(keyfile),
            "--state",
            str(state_dir),
        ]
    )
    assert args.func is cli.cmd_witness_cosign

    append(4)
    assert cli.cmd_witness_cosign(args, client=wsgi_client()) == 0, capsys.readouterr().err
    assert "taille 4" in capsys.readouterr().out
    append(7)
    assert cli.cmd_witness_cosign(args, client=wsgi_client()) == 0, capsys.readouterr().err
    assert "depuis la taille 4" in capsys.readouterr().out
    state = json.loads((state_dir / "state.json").read_text())
    assert state["logs"][settings.LOG_ORIGIN]["size"] == 11
    assert sorted(Cosignature.objects.values_list("checkpoint__size", flat=True)) == [4, 11]
    served = wsgi_client().get("/api/v1/log/checkpoint").text
    line = Cosignature.objects.get(checkpoint__size=11).signature
    note.verify_cosignature(served, line, wkey)
    assert "cosigné par cli.witness/w" in wsgi_client().get("/journal/verifiable/").text
    # the pinned log key, and the cosigned checkpoint kept by the witness
    assert (state_dir / "log-key").read_text().strip() == wsgi_client().get(
        "/api/v1/log/key"
    ).text.strip()
    note.verify_cosignature((state_dir / "checkpoint").read_text(), line, wkey)

    # the log rewrites a node that the consistency proof 11 -> 14 uses: refused, state kept
    append(3)
    node = Event.objects.get(index=10)  # node (0, 10) is the entry's leaf hash
    Event.objects.filter(index=10).update(leaf_hash=bytes(32))
    assert cli.cmd_witness_cosign(args, client=wsgi_client()) == 1
    err = capsys.readouterr().err
    assert "REFUS" in err and "HTTP 422" in err
    assert (
        json.loads((state_dir / "state.json").read_text())["logs"][settings.LOG_ORIGIN]["size"]
        == 11
    )
    assert list((state_dir / "refused").iterdir())
    Event.objects.filter(index=10).update(leaf_hash=bytes(node.leaf_hash))
    from pacte.journal.services import clear_caches

    clear_caches()
    assert cli.cmd_witness_cosign(args, client=wsgi_client()) == 0
    assert Cosignature.objects.filter(checkpoint__size=14).exists()


def test_witness_subcommands_parse():
    from pacte.cli import build_parser
    from pacte.journal import cli

    p = build_parser()
    assert p.parse_args(["log", "witness", "add", "k"]).func is cli.cmd_witness
    assert (
        p.parse_args(["log", "witness", "keygen", "w.example", "--out", "f"]).func
        is cli.cmd_witness_keygen
    )
    with pytest.raises(SystemExit):
        p.parse_args(
            ["log", "witness", "cosign", "--url", "u", "--key", "k"]
        )  # --state is required
