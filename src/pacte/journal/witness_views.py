"""The witness role over HTTP (c2sp.org/tlog-witness), so that one Pacte instance can
witness another's log:

* ``POST /api/v1/witness/add-checkpoint`` — request and response bodies, content types and
  status codes exactly as the specification defines them (the pure handling is
  :func:`pacte.engines.witness.witness_add_checkpoint`);
* ``GET /api/v1/witness/<hex SHA-256 of the origin>/checkpoint`` — the latest checkpoint
  cosigned for that log (monitoring prefix), 404 if never cosigned.

Configuration: ``PACTE_WITNESS_SIGNING_KEY`` (a ``cosignature/v1`` private key, see
``pacte log witness keygen``) and ``PACTE_WITNESS_LOG_KEYS`` (the verifier keys of the
logs witnessed, comma separated; each key is trusted for the origin equal to its name).
Without them every request is answered 404 (no log is known).
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from pacte.engines import note, witness
from pacte.journal.models import WitnessedLog

logger = logging.getLogger("pacte.journal")

MAX_BODY = 64 * 1024  # 63 proof lines and a checkpoint with its signatures fit easily


def _text(status: int, message: str, content_type: str = witness.CONTENT_TYPE_TEXT) -> HttpResponse:
    r = HttpResponse(message.encode("utf-8"), status=status, content_type=content_type)
    r["Cache-Control"] = "no-store"
    return r


def _signers() -> list[note.CosignatureSigner]:
    key = settings.WITNESS_SIGNING_KEY.strip()
    return [note.CosignatureSigner.from_private_key_text(key)] if key else []


def _trusted() -> dict[str, list[str]]:
    keys = list(settings.WITNESS_LOG_KEYS)
    return witness.trusted_logs(keys) if keys else {}


def _state(row: WitnessedLog) -> witness.WitnessState:
    if not row.checkpoint:
        return witness.WitnessState()
    return witness.WitnessState(
        {row.origin: witness.LogRecord(row.size, bytes(row.root), row.checkpoint)}
    )


@csrf_exempt
@require_POST
def add_checkpoint(request: HttpRequest) -> HttpResponse:
    if len(request.body) > MAX_BODY:
        return _text(400, f"request body larger than {MAX_BODY} bytes\n")
    body = request.body
    try:
        origin, _, _ = note.parse_checkpoint(
            note.note_text(witness.parse_add_checkpoint(body).checkpoint)
        )
    except (witness.MalformedRequest, note.NoteError) as exc:
        return _text(400, f"malformed request: {exc}\n")
    trusted = _trusted()
    signers = _signers()
    if origin not in trusted or not signers:
        return _text(404, f"unknown log origin {origin!r}\n")
    WitnessedLog.objects.get_or_create(origin=origin)  # safe against a concurrent first request
    with transaction.atomic():
        row = WitnessedLog.objects.select_for_update().get(origin=origin)
        state = _state(row)
        result = witness.witness_add_checkpoint(state, body, signers, {origin: trusted[origin]})
        if not result.ok:
            if result.status in (409, 422):
                logger.warning(
                    "witness: %s refused for %s: %s", result.status, origin, result.text.strip()
                )
            return _text(result.status, result.text, result.content_type)
        record = result.state.logs[origin]
        # what the monitoring endpoint serves: the log's verified signature(s) and ours
        opened = note.open_note(record.checkpoint, trusted[origin])
        cosigned = opened.text + "\n" + "".join(s.line for s in opened.signatures) + result.text
        WitnessedLog.objects.filter(pk=row.pk).update(
            size=record.size, root=record.root, checkpoint=cosigned
        )
    return _text(200, result.text)  # persisted (committed) before the cosignature leaves


@require_safe
def witnessed_checkpoint(request: HttpRequest, origin_hash: str) -> HttpResponse:
    for row in WitnessedLog.objects.exclude(checkpoint=""):
        if hashlib.sha256(row.origin.encode("utf-8")).hexdigest() == origin_hash:
            return _text(200, row.checkpoint)
    return _text(404, "this witness never cosigned a checkpoint of that log\n")
