"""C2SP signed notes, checkpoints and tlog cosignatures (Ed25519).

Pure Python over ``cryptography``; no Django.  Formats follow c2sp.org/signed-note,
c2sp.org/tlog-checkpoint and c2sp.org/tlog-cosignature (``cosignature/v1``), and
golang.org/x/mod/sumdb/note for key texts, so that Go verifiers and witnesses
interoperate unchanged.

* note: ``text`` (ends in ``\\n``) + ``\\n`` + one ``— <name> <base64(keyid||sig)>\\n``
  line per signature;
* key id: ``SHA-256(name || 0x0A || alg || public key)[:4]`` with ``alg`` 0x01 for
  note signatures and 0x04 for timestamped witness cosignatures;
* verifier key text: ``<name>+<8 hex key id>+<base64(alg || public key)>``;
* private key text (Go): ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || seed)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "ALG_COSIGNATURE_V1",
    "ALG_ED25519",
    "CosignatureSigner",
    "CosignatureVerifier",
    "NoteError",
    "NoteSignature",
    "NoteVerifier",
    "OpenedNote",
    "Signer",
    "Verifier",
    "append_signatures",
    "checkpoint",
    "cosignature_message",
    "cosignature_timestamp",
    "format_private_key",
    "generate_signer",
    "key_id",
    "note_text",
    "open_note",
    "parse_checkpoint",
    "parse_private_key",
    "parse_verifier_key",
    "verify",
    "verify_cosignature",
]

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100  # as golang.org/x/mod/sumdb/note
MAX_TIMESTAMP = 2**63 - 1

_SIG_PREFIX = "\u2014 "  # em dash, space
_COSIG_HEADER = "cosignature/v1\n"


class NoteError(ValueError):
    """Malformed note/key/checkpoint, or a signature that does not verify."""


# ------------------------------------------------------------------------ helpers


def _b64decode(s: str) -> bytes:
    try:
        return base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError("invalid base64") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _valid_name(name: str) -> bool:
    # non-empty, no Unicode space, no '+'; also no control characters
    return (
        bool(name)
        and "+" not in name
        and not any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in name)
    )


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _valid_name(name):
        raise NoteError(f"invalid key name {name!r}")


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """``SHA-256(name || 0x0A || alg || public key)[:4]`` as a big-endian uint32."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes_raw()


def _vkey_text(name: str, alg: int, pub: bytes) -> str:
    return f"{name}+{key_id(name, alg, pub):08x}+{_b64(bytes([alg]) + pub)}"


def _check_text(text: str) -> bytes:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    _check_chars(text)
    return text.encode("utf-8")


def _check_chars(s: str) -> None:
    for c in s:
        if ord(c) < 0x20 and c != "\n":
            raise NoteError("note contains a control character")
        if 0xD800 <= ord(c) <= 0xDFFF:
            raise NoteError("note is not valid UTF-8")


# ----------------------------------------------------------------- private keys


def format_private_key(name: str, private_key: Ed25519PrivateKey) -> str:
    """Go ``note.GenerateKey`` private key text: ``PRIVATE+KEY+name+id+b64(0x01||seed)``."""
    _check_name(name)
    seed = private_key.private_bytes_raw()
    kid = key_id(name, ALG_ED25519, _raw_public(private_key))
    return f"PRIVATE+KEY+{name}+{kid:08x}+{_b64(bytes([ALG_ED25519]) + seed)}"


def parse_private_key(text: str) -> tuple[str, Ed25519PrivateKey]:
    """Parse a Go/C2SP private key text; checks the key id.  Returns (name, key)."""
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise NoteError("malformed private key")
    name, hexid, b64 = parts[2], parts[3], parts[4]
    _check_name(name)
    raw = _b64decode(b64)
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError("unsupported private key algorithm or length")
    key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    if not re.fullmatch(r"[0-9a-f]{8}", hexid) or int(hexid, 16) != key_id(
        name, ALG_ED25519, _raw_public(key)
    ):
        raise NoteError("private key id mismatch")
    return name, key


# ----------------------------------------------------------------------- signing


class _NamedKey:
    """An Ed25519 private key under a key name, for one signature type (``alg``)."""

    alg: int

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_name(name)
        self.name = name
        self._key = private_key
        self.public_key = _raw_public(private_key)
        self.key_id = key_id(name, self.alg, self.public_key)

    @classmethod
    def from_private_key_text(cls, text: str) -> Self:
        name, key = parse_private_key(text)
        return cls(name, key)

    @property
    def private_key_text(self) -> str:
        return format_private_key(self.name, self._key)

    @property
    def verifier_key(self) -> str:
        return _vkey_text(self.name, self.alg, self.public_key)


class Signer(_NamedKey):
    """Signs notes with an Ed25519 key under a key name (signature type 0x01)."""

    alg = ALG_ED25519

    def verifier(self) -> Verifier:
        return Verifier(self.verifier_key)

    def signature_line(self, text: str) -> str:
        """The ``— name base64`` line (with its newline) for ``text``."""
        sig = self._key.sign(_check_text(text))
        return f"{_SIG_PREFIX}{self.name} {_b64(self.key_id.to_bytes(4, 'big') + sig)}\n"

    def sign(self, text: str) -> str:
        """Return the whole signed note for ``text`` (which must end in ``\\n``)."""
        return text + "\n" + self.signature_line(text)


def generate_signer(name: str) -> Signer:
    return Signer(name, Ed25519PrivateKey.generate())


# --------------------------------------------------------------------- verifiers


class NoteVerifier(Protocol):
    name: str
    key_id: int

    def verify_signature(self, text: bytes, sig: bytes) -> bool: ...


def _parse_vkey(text: str) -> tuple[str, int, int, bytes]:
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("malformed verifier key")
    name, hexid, b64 = parts
    _check_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hexid):
        raise NoteError("malformed verifier key id")
    raw = _b64decode(b64)
    if len(raw) < 2:
        raise NoteError("verifier key too short")
    alg, pub = raw[0], raw[1:]
    kid = int(hexid, 16)
    if kid != key_id(name, alg, pub):
        raise NoteError("verifier key id mismatch")
    return name, kid, alg, pub


class _Ed25519Verifier:
    alg = ALG_ED25519

    def __init__(self, vkey: str) -> None:
        name, kid, alg, pub = _parse_vkey(vkey)
        if alg != self.alg:
            raise NoteError(f"verifier key algorithm {alg:#04x}, expected {self.alg:#04x}")
        if len(pub) != 32:
            raise NoteError("Ed25519 public key must be 32 bytes")
        self.name = name
        self.key_id = kid
        self.public_key = pub
        self._pub = Ed25519PublicKey.from_public_bytes(pub)

    @property
    def verifier_key(self) -> str:
        return _vkey_text(self.name, self.alg, self.public_key)

    def _ed_verify(self, msg: bytes, sig: bytes) -> bool:
        if len(sig) != 64:
            return False
        try:
            self._pub.verify(sig, msg)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.verifier_key!r})"


class Verifier(_Ed25519Verifier):
    """Verifier for note signatures (type 0x01), parsed from verifier key text."""

    alg = ALG_ED25519

    def verify_signature(self, text: bytes, sig: bytes) -> bool:
        return self._ed_verify(text, sig)


def cosignature_message(body: str, timestamp: int) -> bytes:
    """The message signed by a ``cosignature/v1`` witness."""
    _check_timestamp(timestamp)
    return f"{_COSIG_HEADER}time {timestamp}\n{body}".encode()


def _check_timestamp(timestamp: int) -> None:
    if (
        not isinstance(timestamp, int)
        or isinstance(timestamp, bool)
        or not 0 <= timestamp <= MAX_TIMESTAMP
    ):
        raise NoteError("cosignature timestamp out of range")


class CosignatureVerifier(_Ed25519Verifier):
    """Verifier for timestamped witness cosignatures (type 0x04)."""

    alg = ALG_COSIGNATURE_V1

    def verify_signature(self, text: bytes, sig: bytes) -> bool:
        if len(sig) != 8 + 64:
            return False
        (ts,) = struct.unpack(">Q", sig[:8])
        if ts > MAX_TIMESTAMP:
            return False
        msg = f"{_COSIG_HEADER}time {ts}\n".encode() + text
        return self._ed_verify(msg, sig[8:])


def parse_verifier_key(vkey: str) -> Verifier | CosignatureVerifier:
    """Parse verifier key text of type 0x01 (note) or 0x04 (cosignature/v1)."""
    _, _, alg, _ = _parse_vkey(vkey)
    if alg == ALG_ED25519:
        return Verifier(vkey)
    if alg == ALG_COSIGNATURE_V1:
        return CosignatureVerifier(vkey)
    raise NoteError(f"unsupported verifier key algorithm {alg:#04x}")


# -------------------------------------------------------------------- open/verify


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: int
    signature: bytes  # the bytes after the key id (for 0x04: timestamp || sig)

    @property
    def base64(self) -> str:
        return _b64(self.key_id.to_bytes(4, "big") + self.signature)

    @property
    def line(self) -> str:
        return f"{_SIG_PREFIX}{self.name} {self.base64}\n"


@dataclass(frozen=True)
class OpenedNote:
    text: str
    signatures: list[NoteSignature]  # verified, in note order
    unverified: list[NoteSignature]  # from unknown keys (ignored)


def _split_note(signed_note: str) -> tuple[str, list[NoteSignature]]:
    if not isinstance(signed_note, str):
        raise NoteError("note must be a str")
    _check_chars(signed_note)
    split = signed_note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no signature block")
    text, block = signed_note[: split + 1], signed_note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError("malformed note: signature block must end with a newline")
    sigs: list[NoteSignature] = []
    for line in block[:-1].split("\n"):
        if not line.startswith(_SIG_PREFIX):
            raise NoteError("malformed signature line")
        name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not sep or not _valid_name(name) or not b64:
            raise NoteError("malformed signature line")
        raw = _b64decode(b64)
        if len(raw) < 5:
            raise NoteError("malformed signature")
        sigs.append(NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
        if len(sigs) > MAX_SIGNATURES:
            raise NoteError("too many signatures")
    return text, sigs


def note_text(signed_note: str) -> str:
    """The (unverified!) text of a signed note; raises on a malformed note."""
    return _split_note(signed_note)[0]


def _as_verifiers(keys: Sequence[str | NoteVerifier]) -> dict[tuple[str, int], NoteVerifier]:
    out: dict[tuple[str, int], NoteVerifier] = {}
    for k in keys:
        v: NoteVerifier = parse_verifier_key(k) if isinstance(k, str) else k
        ident = (v.name, v.key_id)
        prev = out.get(ident)
        if prev is not None:
            if getattr(prev, "verifier_key", None) == getattr(v, "verifier_key", 0):
                continue  # the same key given twice
            raise NoteError(f"ambiguous verifiers for {v.name}+{v.key_id:08x}")
        out[ident] = v
    return out


def open_note(
    signed_note: str, verifiers: Sequence[str | NoteVerifier], *, require: bool = True
) -> OpenedNote:
    """Parse ``signed_note`` and check every signature from a known key.

    Signatures from unknown (name, key id) pairs are ignored (reported as
    ``unverified``); a failing signature from a known key rejects the note; with
    ``require`` (default) at least one known key must have signed.  Repeated
    signatures by one key are reported once.
    """
    text, sigs = _split_note(signed_note)
    known = _as_verifiers(verifiers)
    msg = text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, int]] = set()
    for s in sigs:
        ident = (s.name, s.key_id)
        v = known.get(ident)
        if v is None:
            if s not in unverified:
                unverified.append(s)
            continue
        if ident in seen:
            continue
        seen.add(ident)
        if not v.verify_signature(msg, s.signature):
            raise NoteError(f"invalid signature by {s.name}+{s.key_id:08x}")
        verified.append(s)
    if require and not verified:
        raise NoteError("note has no verified signature from a known key")
    return OpenedNote(text, verified, unverified)


def verify(signed_note: str, verifier_keys: Sequence[str | NoteVerifier]) -> str:
    """Verify ``signed_note`` against the known keys and return its text."""
    return open_note(signed_note, verifier_keys).text


def append_signatures(signed_note: str, lines: Sequence[str]) -> str:
    """Add signature lines (e.g. witness cosignatures) to a signed note."""
    _split_note(signed_note)
    out = signed_note
    for line in lines:
        line = line if line.endswith("\n") else line + "\n"
        if len(_split_note("x\n\n" + line)[1]) != 1:
            raise NoteError("expected one signature line")
        if line not in out.split("\n\n")[-1].splitlines(keepends=True):
            out += line
    return out


# ------------------------------------------------------------------- checkpoints

_SIZE_RE = re.compile(r"0|[1-9][0-9]*")


def checkpoint(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    """Checkpoint body: origin, decimal size, base64 root, extension lines."""
    if not origin or "\n" in origin:
        raise NoteError("invalid checkpoint origin")
    _check_chars(origin)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise NoteError("checkpoint size must be a non-negative int")
    if not isinstance(root, bytes) or len(root) != 32:
        raise NoteError("checkpoint root must be 32 bytes")
    for ext in extensions:
        if not ext or "\n" in ext:
            raise NoteError("invalid checkpoint extension line")
        _check_chars(ext)
    return "".join(f"{line}\n" for line in (origin, str(size), _b64(root), *extensions))


def parse_checkpoint(text: str) -> tuple[str, int, bytes]:
    """Strictly parse a checkpoint body (not a signed note): (origin, size, root)."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteError("checkpoint must end with a newline")
    _check_chars(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint needs origin, size and root lines")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not origin:
        raise NoteError("empty checkpoint origin")
    if any(not line for line in lines[3:]):
        raise NoteError("empty checkpoint extension line")
    if not _SIZE_RE.fullmatch(size_s):
        raise NoteError("checkpoint size must be decimal without leading zeros")
    root = _b64decode(root_s)
    if len(root) != 32 or _b64(root) != root_s:
        raise NoteError("checkpoint root must be canonical base64 of 32 bytes")
    return origin, int(size_s), root


# ---------------------------------------------------------------- cosignatures


class CosignatureSigner(_NamedKey):
    """A witness key producing C2SP ``cosignature/v1`` signature lines (type 0x04)."""

    alg = ALG_COSIGNATURE_V1

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.verifier_key)

    def cosign(self, checkpoint_text: str, timestamp: int) -> str:
        """Signature line (with newline) over a checkpoint body or signed note.

        When given a signed note, only its text is signed; the caller is expected
        to have verified the log's signature and consistency first.
        """
        body = _body_of(checkpoint_text)
        sig = self._key.sign(cosignature_message(body, timestamp))
        blob = self.key_id.to_bytes(4, "big") + timestamp.to_bytes(8, "big") + sig
        return f"{_SIG_PREFIX}{self.name} {_b64(blob)}\n"


def _body_of(checkpoint_or_note: str) -> str:
    if "\n\n" in checkpoint_or_note:
        body = note_text(checkpoint_or_note)
    else:
        body = checkpoint_or_note
    parse_checkpoint(body)
    return body


def cosignature_timestamp(signature_line_or_base64: str) -> int:
    """The (unverified) timestamp carried by a cosignature line or its base64."""
    s = signature_line_or_base64.rstrip("\n")
    if s.startswith(_SIG_PREFIX):
        _, sigs = _split_note("x\n\n" + s + "\n")
        raw = sigs[0].signature
    else:
        raw = _b64decode(s)[4:]
    if len(raw) != 8 + 64:
        raise NoteError("not a cosignature/v1 signature")
    ts = int.from_bytes(raw[:8], "big")
    _check_timestamp(ts)
    return ts


def verify_cosignature(
    checkpoint_note_or_body: str,
    signature_line: str,
    witness_verifier_key: str | CosignatureVerifier,
) -> int:
    """Verify one witness cosignature line; return its timestamp.

    Raises :class:`NoteError` when the line is malformed, is not from this witness
    key (name and key id) or does not verify over the checkpoint body.
    """
    if isinstance(witness_verifier_key, str):
        v = parse_verifier_key(witness_verifier_key)
        if not isinstance(v, CosignatureVerifier):
            raise NoteError("not a cosignature/v1 verifier key")
    else:
        v = witness_verifier_key
    body = _body_of(checkpoint_note_or_body)
    line = signature_line if signature_line.endswith("\n") else signature_line + "\n"
    _, sigs = _split_note("x\n\n" + line)
    if len(sigs) != 1:
        raise NoteError("expected exactly one signature line")
    s = sigs[0]
    if (s.name, s.key_id) != (v.name, v.key_id):
        raise NoteError("cosignature is not from this witness key")
    if len(s.signature) != 72:
        raise NoteError("not a cosignature/v1 signature")
    if not v.verify_signature(body.encode("utf-8"), s.signature):
        raise NoteError("invalid cosignature")
    return int.from_bytes(s.signature[:8], "big")
