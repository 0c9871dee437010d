"""The WITNESS side of C2SP tlog-witness (``add-checkpoint``), as a pure function.

No Django, no network, no clock unless asked: :func:`witness_add_checkpoint` takes the
witness's state, the raw request body, the witness key(s) and the trusted log key(s),
and returns ``(status, response_body, new_state)`` exactly as c2sp.org/tlog-witness
specifies the HTTP exchange:

request body::

    old <decimal size, no leading zeros>\\n
    <base64 consistency proof hash>\\n        (0 to 63 lines)
    \\n
    <signed checkpoint note>

responses:

* 200 — one ``cosignature/v1`` signature line per witness key (``— name base64\\n``);
* 400 — malformed body, or old size larger than the checkpoint size;
* 403 — no signature verifies against a trusted key for the origin;
* 404 — unknown origin;
* 409 — old size is not the size the witness last cosigned: body is that size in
  decimal and a newline, ``Content-Type: text/x.tlog.size``;
* 422 — the consistency proof does not verify (or is not empty for old size 0), the
  checkpoint has the size the witness cosigned but another root hash, or a checkpoint of
  size 0 does not carry the root hash of the empty tree.

The cosignature timestamp is never 0 (the specification forbids omitting it).

The caller (an HTTP handler, the ``pacte log witness cosign`` command, a test) must
persist ``new_state`` atomically with the check, *before* handing out the cosignature
(see the race described in the specification).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pacte.engines import merkle, note

__all__ = [
    "CONTENT_TYPE_SIZE",
    "CONTENT_TYPE_TEXT",
    "MAX_PROOF_LINES",
    "AddCheckpointRequest",
    "LogRecord",
    "MalformedRequest",
    "WitnessResult",
    "WitnessState",
    "add_checkpoint_body",
    "parse_add_checkpoint",
    "trusted_logs",
    "witness_add_checkpoint",
]

MAX_PROOF_LINES = 63
CONTENT_TYPE_SIZE = "text/x.tlog.size"
CONTENT_TYPE_TEXT = "text/plain; charset=utf-8"
_OLD_RE = re.compile(r"old (0|[1-9][0-9]*)")


class MalformedRequest(ValueError):
    """The request body does not follow the add-checkpoint format (HTTP 400)."""


@dataclass(frozen=True)
class LogRecord:
    """What a witness remembers of one log: the latest checkpoint it cosigned."""

    size: int
    root: bytes
    checkpoint: str = ""  # the signed note it cosigned (evidence, optional)


@dataclass(frozen=True)
class WitnessState:
    """The witness's record per log origin.  Immutable: each call returns a new one."""

    logs: Mapping[str, LogRecord] = field(default_factory=dict)

    def size(self, origin: str) -> int:
        rec = self.logs.get(origin)
        return rec.size if rec else 0

    def with_log(self, origin: str, record: LogRecord) -> WitnessState:
        logs = dict(self.logs)
        logs[origin] = record
        return WitnessState(logs)

    def to_json(self) -> dict[str, Any]:
        return {
            "logs": {
                o: {
                    "size": r.size,
                    "root": base64.b64encode(r.root).decode("ascii"),
                    "checkpoint": r.checkpoint,
                }
                for o, r in sorted(self.logs.items())
            }
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WitnessState:
        logs: dict[str, LogRecord] = {}
        for origin, r in (data.get("logs") or {}).items():
            root = base64.b64decode(r["root"], validate=True)
            if len(root) != merkle.HASH_SIZE or int(r["size"]) < 0:
                raise ValueError(f"invalid witness state for {origin!r}")
            logs[origin] = LogRecord(int(r["size"]), root, str(r.get("checkpoint", "")))
        return cls(logs)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def loads(cls, text: str) -> WitnessState:
        return cls.from_json(json.loads(text))


@dataclass(frozen=True)
class WitnessResult:
    """``status, body, new_state = witness_add_checkpoint(...)`` (also has ``content_type``)."""

    status: int
    body: bytes
    state: WitnessState
    content_type: str = CONTENT_TYPE_TEXT

    def __iter__(self) -> Iterator[Any]:
        return iter((self.status, self.body, self.state))

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass(frozen=True)
class AddCheckpointRequest:
    old_size: int
    proof: list[bytes]
    checkpoint: str  # the signed note, as sent


# ------------------------------------------------------------------ request format


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], signed_checkpoint: str) -> bytes:
    """The request body of ``POST <prefix>/add-checkpoint`` (the LOG side)."""
    if not isinstance(old_size, int) or isinstance(old_size, bool) or old_size < 0:
        raise ValueError("old size must be a non-negative int")
    if len(proof) > MAX_PROOF_LINES:
        raise ValueError(f"at most {MAX_PROOF_LINES} consistency proof lines")
    lines = [f"old {old_size}\n"]
    for h in proof:
        if len(h) != merkle.HASH_SIZE:
            raise ValueError("proof hashes must be 32 bytes")
        lines.append(base64.b64encode(h).decode("ascii") + "\n")
    lines.append("\n")
    return ("".join(lines) + signed_checkpoint).encode("utf-8")


def parse_add_checkpoint(body: bytes | str) -> AddCheckpointRequest:
    """Strictly parse an add-checkpoint request body; raises :class:`MalformedRequest`."""
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedRequest("body is not UTF-8") from None
    else:
        text = body
    pos = text.find("\n")
    if pos < 0:
        raise MalformedRequest("missing old size line")
    m = _OLD_RE.fullmatch(text[:pos])
    if m is None:
        raise MalformedRequest("first line must be `old <size>` (decimal, no leading zeros)")
    old = int(m.group(1))
    proof: list[bytes] = []
    while True:
        start = pos + 1
        pos = text.find("\n", start)
        if pos < 0:
            raise MalformedRequest("missing empty line before the checkpoint")
        line = text[start:pos]
        if line == "":
            break
        if len(proof) == MAX_PROOF_LINES:
            raise MalformedRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
        try:
            h = base64.b64decode(line.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise MalformedRequest("consistency proof line is not base64") from None
        if len(h) != merkle.HASH_SIZE or base64.b64encode(h).decode("ascii") != line:
            raise MalformedRequest("consistency proof line must encode one 32-byte hash")
        proof.append(h)
    signed = text[pos + 1 :]
    if not signed:
        raise MalformedRequest("missing checkpoint")
    return AddCheckpointRequest(old, proof, signed)


# ------------------------------------------------------------------ configuration


def trusted_logs(
    log_verifier_key: str | Sequence[str] | Mapping[str, str | Sequence[str]],
) -> dict[str, list[str]]:
    """Origin -> trusted verifier keys.

    A key text (or a list of them) is trusted for the origin equal to its key name —
    the C2SP convention, and this platform's; a mapping gives origins explicitly.
    """
    out: dict[str, list[str]] = {}
    if isinstance(log_verifier_key, Mapping):
        for origin, keys in log_verifier_key.items():
            ks = [keys] if isinstance(keys, str) else list(keys)
            for k in ks:
                note.Verifier(k)  # type 0x01 (Ed25519 note signature) only
            out[origin] = [k.strip() for k in ks]
        return out
    ks = [log_verifier_key] if isinstance(log_verifier_key, str) else list(log_verifier_key)
    for k in ks:
        out.setdefault(note.Verifier(k).name, []).append(k.strip())
    return out


# ------------------------------------------------------------------ the witness


def _result(
    status: int, message: str, state: WitnessState, content_type: str = CONTENT_TYPE_TEXT
) -> WitnessResult:
    return WitnessResult(status, message.encode("utf-8"), state, content_type)


def witness_add_checkpoint(
    state: WitnessState,
    request_body: bytes | str,
    witness_signer: note.CosignatureSigner | Sequence[note.CosignatureSigner],
    log_verifier_key: str | Sequence[str] | Mapping[str, str | Sequence[str]],
    *,
    now: int | None = None,
) -> WitnessResult:
    """Handle one ``add-checkpoint`` request (c2sp.org/tlog-witness); see the module doc.

    ``now`` is the cosignature timestamp (seconds since the epoch; default: the clock).
    ``state`` is never modified; on success the result carries the new state.
    """
    signers = (
        [witness_signer]
        if isinstance(witness_signer, note.CosignatureSigner)
        else list(witness_signer)
    )
    if not signers:
        raise ValueError("a witness needs at least one cosignature key")
    logs = trusted_logs(log_verifier_key)
    try:
        req = parse_add_checkpoint(request_body)
        text = note.note_text(req.checkpoint)
        origin, size, root = note.parse_checkpoint(text)
    except (MalformedRequest, note.NoteError) as exc:
        return _result(400, f"malformed request: {exc}\n", state)

    keys = logs.get(origin)
    if keys is None:
        return _result(404, f"unknown log origin {origin!r}\n", state)
    try:
        note.open_note(req.checkpoint, keys)
    except note.NoteError as exc:
        return _result(
            403, f"checkpoint not signed by a trusted key for {origin!r}: {exc}\n", state
        )

    if req.old_size > size:
        return _result(
            400, f"old size {req.old_size} is larger than the checkpoint size {size}\n", state
        )
    known = state.logs.get(origin)
    known_size = known.size if known else 0
    if req.old_size != known_size:
        return _result(409, f"{known_size}\n", state, CONTENT_TYPE_SIZE)

    if size == 0 and root != merkle.EMPTY_ROOT:
        return _result(
            422, "a checkpoint of size 0 must carry the root hash of the empty tree\n", state
        )
    if req.old_size == 0:
        if req.proof:
            return _result(422, "the consistency proof must be empty for old size 0\n", state)
    elif known is not None and req.old_size == size:
        if root != known.root:
            return _result(
                422,
                f"checkpoint of size {size} has another root hash than the one cosigned\n",
                state,
            )
        if req.proof:
            return _result(422, "the consistency proof must be empty between equal sizes\n", state)
    else:
        assert known is not None
        try:
            merkle.verify_consistency(req.old_size, size, known.root, root, req.proof)
        except merkle.ProofError as exc:
            return _result(
                422,
                f"consistency proof from {req.old_size} to {size} does not verify: {exc}\n",
                state,
            )

    ts = int(time.time()) if now is None else now
    if not 0 < ts <= note.MAX_TIMESTAMP:
        raise ValueError(
            "a cosignature timestamp must be a positive number of seconds since the epoch"
        )
    lines = "".join(s.cosign(text, ts) for s in signers)
    new_state = state.with_log(origin, LogRecord(size, root, req.checkpoint))
    return WitnessResult(200, lines.encode("utf-8"), new_state, CONTENT_TYPE_TEXT)
