"""Tests for pacte.engines.note (C2SP signed note, checkpoint, cosignature/v1)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from pacte.engines import note
from pacte.engines.note import (
    CosignatureSigner,
    CosignatureVerifier,
    NoteError,
    Signer,
    Verifier,
)

# --------------------------------------------------------------- published vectors
# golang.org/x/mod/sumdb/note (package documentation / note_test.go)
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
    "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
# transparency-dev/formats note_cosigv1_test.go: a 0x01 key whose base64 has a '+',
# and a native cosignature/v1 (0x04) key
PLUS_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
COSIG_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
COSIG_TS_VECTOR = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOw"
    "orDcFiEBYJXORmnFBOBA=="
)
# c2sp.org/signed-note example key and c2sp.org/tlog-cosignature example line
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_WITNESS_LINE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
    "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
)


def seeded_key(i: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"seed%d" % i).digest())


def test_go_vector_verifies() -> None:
    assert note.verify(GO_NOTE, [GO_VKEY]) == GO_TEXT
    opened = note.open_note(GO_NOTE, [GO_VKEY])
    assert [(s.name, s.key_id) for s in opened.signatures] == [("PeterNeumann", 0xC74F20A3)]
    with pytest.raises(NoteError):
        note.verify(GO_NOTE.replace("cryptography", "cryptographY"), [GO_VKEY])


def test_go_vector_signs_byte_for_byte() -> None:
    signer = Signer.from_private_key_text(GO_SKEY)
    assert signer.verifier_key == GO_VKEY
    assert signer.private_key_text == GO_SKEY
    assert signer.sign(GO_TEXT) == GO_NOTE  # Ed25519 is deterministic


def test_published_verifier_keys_parse() -> None:
    for k in (GO_VKEY, ENOCH_VKEY, PLUS_VKEY, C2SP_VKEY):
        v = note.parse_verifier_key(k)
        assert isinstance(v, Verifier)
        assert v.verifier_key == k
    assert Verifier(PLUS_VKEY).name == "TEST"
    cv = note.parse_verifier_key(COSIG_VKEY)
    assert isinstance(cv, CosignatureVerifier)
    assert (cv.name, cv.key_id) == ("remora.n621.de", 0xDA77ADE7)
    with pytest.raises(NoteError):
        Verifier(COSIG_VKEY)  # wrong algorithm for a note verifier


def test_cosignature_timestamp_vectors() -> None:
    assert note.cosignature_timestamp(COSIG_TS_VECTOR) == 1727964367
    # the C2SP example cosignature carries "time 1679315147"
    assert note.cosignature_timestamp(C2SP_WITNESS_LINE) == 1679315147
    with pytest.raises(NoteError):  # an ordinary 0x01 signature
        note.cosignature_timestamp(GO_NOTE.rsplit(" ", 1)[1].strip())
    with pytest.raises(NoteError):
        note.cosignature_timestamp("5%/$!\n 2")


# --------------------------------------------------------------------- signing


def test_round_trip_and_key_format() -> None:
    s = Signer("pacte.example/log", seeded_key(1))
    text = "hello\nworld\n"
    signed = s.sign(text)
    assert signed.startswith(text + "\n— pacte.example/log ")
    assert note.verify(signed, [s.verifier_key]) == text
    name, b64 = s.verifier_key.split("+", 2)[0], s.verifier_key.split("+", 2)[2]
    assert name == "pacte.example/log"
    raw = base64.b64decode(b64)
    assert raw[0] == 0x01 and len(raw) == 33
    kid = hashlib.sha256(b"pacte.example/log\n\x01" + raw[1:]).digest()[:4]
    assert s.verifier_key.split("+")[1] == kid.hex()
    sig = base64.b64decode(signed.rsplit(" ", 1)[1])
    assert sig[:4] == kid and len(sig) == 68
    # private key text round trip
    s2 = Signer.from_private_key_text(s.private_key_text)
    assert s2.verifier_key == s.verifier_key
    assert s2.sign(text) == signed
    g = note.generate_signer("fresh")
    assert note.verify(g.sign("x\n"), [g.verifier_key]) == "x\n"


def test_sign_rejects_bad_text_and_names() -> None:
    s = Signer("a", seeded_key(2))
    for bad in ("no newline", "ctrl\x01\n", ""):
        with pytest.raises(NoteError):
            s.sign(bad)
    for name in ("", "a b", "a+b", "tab\tx", "nl\n"):
        with pytest.raises(NoteError):
            Signer(name, seeded_key(2))


def test_plus_in_base64_key() -> None:
    for i in range(1000):
        s = Signer("plus.example", seeded_key(i))
        if "+" in s.verifier_key.split("+", 2)[2]:
            break
    else:  # pragma: no cover
        pytest.fail("no key with '+' in 1000 seeds")
    v = Verifier(s.verifier_key)
    assert v.public_key == s.public_key
    assert note.verify(s.sign("t\n"), [s.verifier_key]) == "t\n"
    assert Signer.from_private_key_text(s.private_key_text).verifier_key == s.verifier_key


def test_tampering_any_byte_rejected() -> None:
    s = Signer("log.example", seeded_key(3))
    text = "log.example\n42\n" + base64.b64encode(b"\x07" * 32).decode() + "\n"
    signed = s.sign(text)
    vkeys = [s.verifier_key]
    # every character of the body
    for i in range(len(text)):
        c = text[i]
        repl = "Y" if c != "Y" else "Z"
        if c == "\n":
            continue
        bad = signed[:i] + repl + signed[i + 1 :]
        with pytest.raises(NoteError):
            note.verify(bad, vkeys)
    # every byte of the signature (key id flips make the key unknown -> rejected too)
    line = signed[len(text) + 1 :]
    b64 = line.rsplit(" ", 1)[1].strip()
    raw = base64.b64decode(b64)
    for j in range(len(raw)):
        mutated = bytearray(raw)
        mutated[j] ^= 0x01
        bad = signed.replace(b64, base64.b64encode(bytes(mutated)).decode())
        with pytest.raises(NoteError):
            note.verify(bad, vkeys)


def test_unknown_signers_ignored_known_bad_rejected() -> None:
    a = Signer("a.example", seeded_key(4))
    b = Signer("b.example", seeded_key(5))
    text = "body\n"
    both = a.sign(text) + b.signature_line(text)
    assert note.verify(both, [a.verifier_key]) == text
    assert note.verify(both, [b.verifier_key]) == text
    opened = note.open_note(both, [a.verifier_key, b.verifier_key])
    assert [x.name for x in opened.signatures] == ["a.example", "b.example"]
    opened = note.open_note(both, [a.verifier_key])
    assert [x.name for x in opened.unverified] == ["b.example"]
    # no known key at all
    with pytest.raises(NoteError):
        note.verify(both, [ENOCH_VKEY])
    assert note.open_note(both, [ENOCH_VKEY], require=False).signatures == []
    # same name, other key id: ignored (not a failure)
    a_other = Signer("a.example", seeded_key(6))
    mixed = a.sign(text) + a_other.signature_line(text)
    assert note.verify(mixed, [a.verifier_key]) == text
    # a known key whose signature fails rejects the whole note
    forged_line = a.signature_line("other\n")
    with pytest.raises(NoteError):
        note.verify(b.sign(text) + forged_line, [a.verifier_key, b.verifier_key])
    # duplicate lines by one key are accepted once
    dup = a.sign(text) + a.signature_line(text)
    assert len(note.open_note(dup, [a.verifier_key]).signatures) == 1
    # the same key listed twice is fine
    assert note.verify(dup, [a.verifier_key, a.verifier_key]) == text


def test_malformed_notes_rejected() -> None:
    s = Signer("a", seeded_key(7))
    good = s.sign("t\n")
    vk = [s.verifier_key]
    line = good[3:]
    bad_notes = [
        "t\n",  # no signature block
        "t\n\n",  # empty block
        good[:-1],  # no final newline
        good.replace("— ", "- "),  # hyphen, not em dash
        good.replace("— a ", "— a  "),  # bad spacing
        good.replace("— a ", "—a "),
        good + "garbage\n",
        good + "\n",
        "t\n\n— a\n",  # no signature
        "t\n\n— a !!!!\n",  # bad base64
        "t\n\n— a AAAA\n",  # too short
        "t\x01\n\n" + line,  # control character
        "— a " + line,
    ]
    for bad in bad_notes:
        with pytest.raises(NoteError):
            note.verify(bad, vk)
    too_many = "t\n\n" + "".join(
        Signer(f"k{i}", seeded_key(i)).signature_line("t\n") for i in range(101)
    )
    with pytest.raises(NoteError):
        note.verify(too_many, vk)


def test_text_may_contain_blank_lines() -> None:
    s = Signer("a", seeded_key(8))
    text = "para 1\n\npara 2\n"
    assert note.verify(s.sign(text), [s.verifier_key]) == text


def test_bad_verifier_keys() -> None:
    good = Signer("k", seeded_key(9)).verifier_key
    name, hexid, b64 = good.split("+", 2)
    bads = [
        "k+" + hexid,
        f"{name}+{int(hexid, 16) ^ 1:08x}+{b64}",  # wrong key id
        f"{name}+{hexid.upper()}+{b64}",
        f"{name}+{hexid}+notbase64!",
        f"+{hexid}+{b64}",
        f"a b+{hexid}+{b64}",
        f"{name}+{hexid}+" + base64.b64encode(b"\x02" + b"\x00" * 32).decode(),
        f"{name}+{hexid}+" + base64.b64encode(b"\x01" + b"\x00" * 31).decode(),
    ]
    for bad in bads:
        with pytest.raises(NoteError):
            note.parse_verifier_key(bad)
    with pytest.raises(NoteError):
        note.parse_private_key("PRIVATE+KEY+x+00000000+AAAA")
    with pytest.raises(NoteError):
        note.parse_private_key(GO_SKEY.replace("c74f20a3", "c74f20a4"))


# ------------------------------------------------------------------ checkpoints

ROOT = hashlib.sha256(b"root").digest()
ROOT_B64 = base64.b64encode(ROOT).decode()


def test_checkpoint_round_trip() -> None:
    body = note.checkpoint("pacte.example/log", 1234, ROOT)
    assert body == f"pacte.example/log\n1234\n{ROOT_B64}\n"
    assert note.parse_checkpoint(body) == ("pacte.example/log", 1234, ROOT)
    ext = note.checkpoint("o", 0, ROOT, ["— not a sig", "ext two"])
    assert note.parse_checkpoint(ext) == ("o", 0, ROOT)
    for bad_args in [("", 1, ROOT), ("a\nb", 1, ROOT), ("o", -1, ROOT), ("o", 1, ROOT[:31])]:
        with pytest.raises(NoteError):
            note.checkpoint(*bad_args)
    with pytest.raises(NoteError):
        note.checkpoint("o", 1, ROOT, [""])


@pytest.mark.parametrize(
    "bad",
    [
        f"o\n01\n{ROOT_B64}\n",  # leading zero
        f"o\n+1\n{ROOT_B64}\n",
        f"o\n-1\n{ROOT_B64}\n",
        f"o\n1 \n{ROOT_B64}\n",
        f"o\n\u0661\n{ROOT_B64}\n",  # Arabic-Indic digit one
        f"o\n1\n{ROOT_B64}",  # no final newline
        f"o\n1\n{ROOT_B64[:-1]}\n",
        f"o\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",
        f"o\n1\n {ROOT_B64}\n",
        f"\n1\n{ROOT_B64}\n",
        "o\n1\n",
        f"o\n1\n{ROOT_B64}\n\n",  # empty extension line
        f"o\n1\n{ROOT_B64}\r\n",
        "o\n1\nAAAA\n",
    ],
)
def test_checkpoint_strictness(bad: str) -> None:
    with pytest.raises(NoteError):
        note.parse_checkpoint(bad)


def test_signed_checkpoint() -> None:
    s = Signer("pacte.example/log", seeded_key(10))
    body = note.checkpoint("pacte.example/log", 7, ROOT)
    signed = s.sign(body)
    assert note.parse_checkpoint(note.verify(signed, [s.verifier_key]))[1] == 7


# ------------------------------------------------------------------ cosignatures


def test_cosignature_round_trip() -> None:
    log = Signer("pacte.example/log", seeded_key(11))
    w = CosignatureSigner("witness.example/w1", seeded_key(12))
    body = note.checkpoint("pacte.example/log", 99, ROOT, ["ext"])
    signed = log.sign(body)
    line = w.cosign(signed, 1_700_000_000)
    assert line.startswith("— witness.example/w1 ") and line.endswith("\n")
    raw = base64.b64decode(line.split(" ")[-1])
    assert len(raw) == 4 + 8 + 64
    pub = w.public_key
    assert raw[:4] == hashlib.sha256(b"witness.example/w1\n\x04" + pub).digest()[:4]
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    # the signed message is exactly the C2SP one
    assert w.verifier().verify_signature(body.encode(), raw[4:])
    msg = f"cosignature/v1\ntime 1700000000\n{body}".encode()
    assert note.cosignature_message(body, 1_700_000_000) == msg
    Ed25519PublicKey.from_public_bytes(pub).verify(raw[12:], msg)

    assert w.verifier_key.split("+")[1] == raw[:4].hex()
    assert base64.b64decode(w.verifier_key.split("+", 2)[2])[0] == 0x04
    assert note.verify_cosignature(signed, line, w.verifier_key) == 1_700_000_000
    assert note.verify_cosignature(body, line.rstrip("\n"), w.verifier_key) == 1_700_000_000
    # cosigned note: log + witness verify together via open_note
    cosigned = note.append_signatures(signed, [line])
    opened = note.open_note(cosigned, [log.verifier_key, w.verifier_key])
    assert [x.name for x in opened.signatures] == ["pacte.example/log", "witness.example/w1"]
    assert note.verify(cosigned, [log.verifier_key]) == body
    # the witness key is not a note key: a 0x01 verifier with the same key is unknown
    same_key_note = Signer("witness.example/w1", seeded_key(12)).verifier_key
    assert note.open_note(cosigned, [same_key_note], require=False).signatures == []
    # private key text round trip (Go-style, shared with note signers)
    w2 = CosignatureSigner.from_private_key_text(w.private_key_text)
    assert w2.cosign(body, 1_700_000_000) == line


def test_cosignature_tamper() -> None:
    w = CosignatureSigner("w", seeded_key(13))
    other = CosignatureSigner("w2", seeded_key(14))
    body = note.checkpoint("log", 5, ROOT)
    line = w.cosign(body, 1234)
    b64 = line.rstrip("\n").split(" ")[-1]
    raw = base64.b64decode(b64)
    for j in range(len(raw)):
        m = bytearray(raw)
        m[j] ^= 0x01
        with pytest.raises(NoteError):
            note.verify_cosignature(
                body, f"— w {base64.b64encode(bytes(m)).decode()}", w.verifier_key
            )
    for i in range(len(body)):
        if body[i] == "\n":
            continue
        bad = body[:i] + ("A" if body[i] != "A" else "B") + body[i + 1 :]
        with pytest.raises(NoteError):
            note.verify_cosignature(bad, line, w.verifier_key)
    with pytest.raises(NoteError):
        note.verify_cosignature(body, line, other.verifier_key)
    with pytest.raises(NoteError):
        note.verify_cosignature(body, line.replace("— w ", "— w2 "), other.verifier_key)
    with pytest.raises(NoteError):  # a note (0x01) key is not a witness key
        note.verify_cosignature(body, line, Signer("w", seeded_key(13)).verifier_key)
    with pytest.raises(NoteError):
        w.cosign(body, -1)
    with pytest.raises(NoteError):
        w.cosign(body, 2**63)
    with pytest.raises(NoteError):
        w.cosign("not a checkpoint\n", 1)
    # the timestamp is signed: changing it breaks the signature
    forged = raw[:4] + (1235).to_bytes(8, "big") + raw[12:]
    with pytest.raises(NoteError):
        note.verify_cosignature(body, f"— w {base64.b64encode(forged).decode()}", w.verifier_key)
