"""C2SP tlog-witness add-checkpoint, witness side: the pure function (no database)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pacte.engines import merkle, note
from pacte.engines import witness as W
from pacte.engines.witness import WitnessState, add_checkpoint_body, witness_add_checkpoint

ORIGIN = "log.example/test"
ENTRIES = [f"entry {i}".encode() for i in range(40)]


@pytest.fixture(scope="module")
def log_signer() -> note.Signer:
    return note.generate_signer(ORIGIN)


@pytest.fixture(scope="module")
def wit() -> note.CosignatureSigner:
    return note.CosignatureSigner("witness.example/w1", Ed25519PrivateKey.generate())


def signed_cp(signer: note.Signer, n: int, root: bytes | None = None) -> str:
    return signer.sign(
        note.checkpoint(ORIGIN, n, merkle.root(ENTRIES[:n]) if root is None else root)
    )


def add(state, body, wit, log_signer, now=1_700_000_000):
    return witness_add_checkpoint(state, body, wit, log_signer.verifier_key, now=now)


def test_body_format_is_byte_exact(log_signer):
    cp = signed_cp(log_signer, 7)
    proof = merkle.consistency_proof(ENTRIES[:7], 3)
    body = add_checkpoint_body(3, proof, cp)
    expected = "old 3\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof) + "\n" + cp
    assert body == expected.encode()
    req = W.parse_add_checkpoint(body)
    assert (req.old_size, req.proof, req.checkpoint) == (3, proof, cp)
    assert add_checkpoint_body(0, [], cp) == ("old 0\n\n" + cp).encode()


def test_first_checkpoint_then_growth_then_same_size(log_signer, wit):
    s0 = WitnessState()
    status, body, s1 = add(
        s0, add_checkpoint_body(0, [], signed_cp(log_signer, 5)), wit, log_signer
    )
    assert status == 200 and s0.logs == {}  # the input state is never modified
    assert s1.size(ORIGIN) == 5 and s1.logs[ORIGIN].root == merkle.root(ENTRIES[:5])
    # response: one cosignature/v1 line per witness key, em dash, newline
    text = body.decode()
    assert (
        text.startswith("\u2014 witness.example/w1 ")
        and text.endswith("\n")
        and text.count("\n") == 1
    )
    raw = base64.b64decode(text.split()[-1])
    assert len(raw) == 4 + 8 + 64 and int.from_bytes(raw[4:12], "big") == 1_700_000_000
    cp5 = signed_cp(log_signer, 5)
    assert note.verify_cosignature(cp5, text, wit.verifier_key) == 1_700_000_000
    # the client may concatenate the response to the checkpoint and verify it as a note
    opened = note.open_note(cp5 + text, [log_signer.verifier_key, wit.verifier_key])
    assert len(opened.signatures) == 2
    # growth 5 -> 40 with the RFC 6962 consistency proof
    proof = merkle.consistency_proof(ENTRIES, 5)
    res = add(
        s1,
        add_checkpoint_body(5, proof, signed_cp(log_signer, 40)),
        wit,
        log_signer,
        now=1_700_000_100,
    )
    assert res.status == 200 and res.state.size(ORIGIN) == 40
    # the same checkpoint again (old = size, same root, empty proof): cosigned again
    again = add(res.state, add_checkpoint_body(40, [], signed_cp(log_signer, 40)), wit, log_signer)
    assert again.status == 200 and again.state.size(ORIGIN) == 40
    # state round-trips through JSON
    assert WitnessState.loads(res.state.dumps()) == res.state


def test_several_witness_keys_give_several_lines(log_signer, wit):
    other = note.CosignatureSigner("witness.example/w2", Ed25519PrivateKey.generate())
    res = witness_add_checkpoint(
        WitnessState(),
        add_checkpoint_body(0, [], signed_cp(log_signer, 3)),
        [wit, other],
        log_signer.verifier_key,
        now=5,
    )
    lines = res.text.splitlines(keepends=True)
    assert res.status == 200 and len(lines) == 2
    assert note.verify_cosignature(signed_cp(log_signer, 3), lines[1], other.verifier_key) == 5


def _at(log_signer, wit, n=10) -> WitnessState:
    res = add(WitnessState(), add_checkpoint_body(0, [], signed_cp(log_signer, n)), wit, log_signer)
    assert res.status == 200
    return res.state


def test_409_wrong_old_size_returns_the_known_size_as_text_x_tlog_size(log_signer, wit):
    state = _at(log_signer, wit, 10)
    for old in (0, 7, 12):
        proof = merkle.consistency_proof(ENTRIES[:20], old) if old else []
        res = add(
            state, add_checkpoint_body(old, proof, signed_cp(log_signer, 20)), wit, log_signer
        )
        assert (res.status, res.body, res.content_type) == (409, b"10\n", "text/x.tlog.size")
        assert res.state is state
    # a fresh witness answers 0 to a client guessing a size
    res = add(
        WitnessState(),
        add_checkpoint_body(
            7, merkle.consistency_proof(ENTRIES[:20], 7), signed_cp(log_signer, 20)
        ),
        wit,
        log_signer,
    )
    assert (res.status, res.body) == (409, b"0\n")


def test_422_same_size_other_root(log_signer, wit):
    """c2sp.org/tlog-witness (current): same size, another root hash -> 422, not 409."""
    state = _at(log_signer, wit, 10)
    res = add(
        state, add_checkpoint_body(10, [], signed_cp(log_signer, 10, b"\x07" * 32)), wit, log_signer
    )
    assert res.status == 422 and res.content_type.startswith("text/plain") and res.state is state


def test_size_zero_checkpoint_must_carry_the_empty_tree_root(log_signer, wit):
    ok = add(
        WitnessState(),
        add_checkpoint_body(0, [], signed_cp(log_signer, 0, merkle.EMPTY_ROOT)),
        wit,
        log_signer,
    )
    assert ok.status == 200 and ok.state.size(ORIGIN) == 0
    res = add(
        WitnessState(),
        add_checkpoint_body(0, [], signed_cp(log_signer, 0, b"\x01" * 32)),
        wit,
        log_signer,
    )
    assert res.status == 422 and res.state.logs == {}


def test_the_witness_never_cosigns_with_a_zero_timestamp(log_signer, wit):
    body = add_checkpoint_body(0, [], signed_cp(log_signer, 3))
    with pytest.raises(ValueError):
        add(WitnessState(), body, wit, log_signer, now=0)
    res = add(WitnessState(), body, wit, log_signer, now=None)
    assert note.cosignature_timestamp(res.text) > 1_700_000_000


def test_422_bad_or_forked_proof(log_signer, wit):
    state = _at(log_signer, wit, 10)
    proof = merkle.consistency_proof(ENTRIES[:20], 10)
    bad = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    for p in (bad, proof[:-1], [*proof, proof[0]]):
        res = add(state, add_checkpoint_body(10, p, signed_cp(log_signer, 20)), wit, log_signer)
        assert res.status == 422 and res.state is state
    # a fork: entries 0..9 rewritten, a correctly built proof of the forked tree
    forked = [b"forged"] + ENTRIES[1:20]
    res = add(
        state,
        add_checkpoint_body(
            10, merkle.consistency_proof(forked, 10), signed_cp(log_signer, 20, merkle.root(forked))
        ),
        wit,
        log_signer,
    )
    assert res.status == 422
    # old size 0 needs an empty proof; equal sizes too
    assert (
        add(
            WitnessState(),
            add_checkpoint_body(0, proof[:1], signed_cp(log_signer, 20)),
            wit,
            log_signer,
        ).status
        == 422
    )
    assert (
        add(
            state, add_checkpoint_body(10, proof[:1], signed_cp(log_signer, 10)), wit, log_signer
        ).status
        == 422
    )


def test_403_and_404(log_signer, wit):
    cp = signed_cp(log_signer, 4)
    impostor = note.Signer(ORIGIN, Ed25519PrivateKey.generate())  # same name, other key
    res = add(
        WitnessState(),
        add_checkpoint_body(0, [], impostor.sign(note.note_text(cp))),
        wit,
        log_signer,
    )
    assert res.status == 403
    # a known key whose signature fails
    text = note.note_text(cp)
    sig_line = cp[len(text) + 1 :]
    raw = bytearray(base64.b64decode(sig_line.split()[-1]))
    raw[-1] ^= 1
    broken = text + "\n" + f"\u2014 {ORIGIN} {base64.b64encode(bytes(raw)).decode()}\n"
    assert add(WitnessState(), add_checkpoint_body(0, [], broken), wit, log_signer).status == 403
    # unknown signatures are ignored next to a valid one
    both = note.append_signatures(
        cp, [impostor.signature_line(text).replace(ORIGIN, "other.example", 1)]
    )
    assert add(WitnessState(), add_checkpoint_body(0, [], both), wit, log_signer).status == 200
    other = note.generate_signer("other.example/log")
    res = add(
        WitnessState(),
        add_checkpoint_body(0, [], other.sign(note.checkpoint("other.example/log", 1, b"\0" * 32))),
        wit,
        log_signer,
    )
    assert res.status == 404


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 01\n\n",
        b"old -1\n\n",
        b"old 1 \n\n",
        b"Old 1\n\n",
        b"old 1",
        b"old 0\nnot base64!\n\n",
        b"old 0\n" + base64.b64encode(b"x" * 31) + b"\n\n",
        b"old 0\n\n",
        b"old 0\n\xff\n\n",
        b"old 0\n\nlog.example/test\n4\n",
    ],
)
def test_400_malformed(log_signer, wit, body):
    res = add(WitnessState(), body, wit, log_signer)
    assert res.status == 400, res.text


def test_400_too_many_proof_lines_and_old_larger_than_size(log_signer, wit):
    cp = signed_cp(log_signer, 4)
    line = base64.b64encode(b"\0" * 32) + b"\n"
    body = b"old 2\n" + line * 64 + b"\n" + cp.encode()
    assert add(WitnessState(), body, wit, log_signer).status == 400
    body63 = b"old 2\n" + line * 63 + b"\n" + cp.encode()
    assert (
        add(WitnessState(), body63, wit, log_signer).status == 409
    )  # parsed: 63 lines are allowed
    state = _at(log_signer, wit, 10)
    assert (
        add(state, add_checkpoint_body(10, [], cp), wit, log_signer).status == 400
    )  # old 10 > size 4
