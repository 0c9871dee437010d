from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.decorators import decorate_view

from pacte.api_contract import (
    ALWAYS,
    MAX_LONG_LIMIT,
    READ,
    WRITE,
    Cursor,
    Keyset,
    LongLimit,
    Offset,
    binary_response,
    paginate,
    responses,
)
from pacte.input_limits import INT64_MAX, Identifier
from pacte.journal import services
from pacte.journal.keys import verifier_key
from pacte.journal.models import Event, LogState
from pacte.journal.selectors import recent_events
from pacte.public_cache import public_api_list

router = Router(tags=["journal"])
log_router = Router(tags=["journal vérifiable"])

MAX_ENTRIES_PAGE = 1000


class EventOut(Schema):
    index: int
    type: str
    occurred_at: datetime
    subject_type: str
    subject_id: str
    entry: str
    entry_hash: str


class EventPage(Schema):
    count: int
    items: list[EventOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


MAX_EVENTS_PAGE = MAX_LONG_LIMIT


@router.get(
    "",
    response=responses({200: EventPage}, READ),  # 404: a cursor that names no page
    summary="Événements publics, du plus récent au plus ancien",
)
@decorate_view(public_api_list)  # anonymous GETs: the public page cache (pacte.public_cache)
def list_events(
    request: HttpRequest,
    type: Identifier = "",
    project: Identifier = "",
    limit: LongLimit = 50,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, object]:
    size = None  # filtered: COUNT(*) of the matching events
    if not (type or project):  # the log's size (one row) rather than a COUNT(*) of the log
        size = LogState.objects.values_list("size", flat=True).first() or 0
    return paginate(
        recent_events(type_prefix=type, project=project),
        limit,
        offset,
        max_limit=MAX_EVENTS_PAGE,
        keyset=NEWEST_FIRST,
        after=after,
        count=size,
    )


NEWEST_FIRST = Keyset(order=("-index",), types=(int,), key=lambda event: (event.index,))


# ------------------------------------------------------------------ /api/v1/log


class LogEntryOut(Schema):
    index: int
    leaf_hash: str
    entry: str


class LogEntryPage(Schema):
    count: int
    items: list[LogEntryOut]


class ProofOut(Schema):
    proof: list[str]
    size: int
    root: str
    index: int | None = None
    leaf_hash: str | None = None
    old: int | None = None
    old_root: str | None = None


class CosignatureOut(Schema):
    checkpoint_size: int
    witness: str
    timestamp: int


def _text(body: str) -> HttpResponse:
    return HttpResponse(body.encode("utf-8"), content_type="text/plain; charset=utf-8")


@log_router.get(
    "/checkpoint",
    response=responses({200: None}, ALWAYS),
    openapi_extra=binary_response(
        {"text/plain": "Note signée (c2sp.org/tlog-checkpoint)."},
        {"Cache-Control": "public, max-age=2"},
    ),
    summary="Dernier point de contrôle signé (note C2SP, texte brut)",
)
def get_checkpoint(request: HttpRequest) -> HttpResponse:
    r = _text(services.checkpoint_with_cosignatures(services.latest_checkpoint()))
    r["Cache-Control"] = "public, max-age=2"  # mutable: a few seconds at most (c2sp.org/tlog-tiles)
    return r


@log_router.get(
    "/key",
    response=responses({200: None}, ALWAYS),
    openapi_extra=binary_response({"text/plain": "Clé de vérification (une ligne)."}),
    summary="Clé de vérification du journal (name+id+base64)",
)
def get_key(request: HttpRequest) -> HttpResponse:
    return _text(verifier_key() + "\n")


LogPosition = Annotated[int, Field(ge=0, le=INT64_MAX)]
TreeSize = Annotated[int, Field(ge=1, le=INT64_MAX)]


@log_router.get(
    "/entries",
    response=responses({200: LogEntryPage}, ALWAYS),
    summary="Entrées [start, end) du journal (au plus 1000 par page) ; count = taille publiée",
    description=f"Au plus {MAX_ENTRIES_PAGE} entrées : `end` est ramené à `start + {MAX_ENTRIES_PAGE}` "
    "et à la taille publiée ; un intervalle vide (end ≤ start) donne une page vide.",
)
def get_entries(
    request: HttpRequest, start: LogPosition = 0, end: LogPosition | None = None
) -> dict[str, object]:
    size = services.latest_checkpoint().size
    end = min(size, start + MAX_ENTRIES_PAGE, start + MAX_ENTRIES_PAGE if end is None else end)
    rows = (
        Event.objects.filter(index__gte=start, index__lt=end)
        .order_by("index")
        .values_list("index", "leaf_hash", "entry")
    )
    return {
        "count": size,
        "items": [{"index": i, "leaf_hash": bytes(h).hex(), "entry": e} for i, h, e in rows],
    }


# A proof for an explicit tree size never changes (the log only grows, and never signs a tree
# inconsistent with one it signed): a cache or a reverse proxy may keep it for good, as a full
# tile. Without a size, the proof is for the latest checkpoint: a few seconds, as the checkpoint.
PROOF_PINNED = "public, max-age=31536000, immutable"
PROOF_LATEST = "public, max-age=2"


@log_router.get(
    "/proof/inclusion",
    response=responses({200: ProofOut}, READ),
    summary="Preuve d'inclusion (RFC 9162) par index ou par empreinte",
)
def get_inclusion(
    request: HttpRequest,
    response: HttpResponse,
    index: LogPosition | None = None,
    size: TreeSize | None = None,
    hash: Identifier = "",
) -> dict[str, object]:
    proof = services.inclusion(index=index, entry_hash=hash, size=size)
    response["Cache-Control"] = PROOF_PINNED if size is not None else PROOF_LATEST
    return proof


@log_router.get(
    "/proof/consistency",
    response=responses({200: ProofOut}, READ),
    summary="Preuve de cohérence (RFC 9162) entre deux tailles",
)
def get_consistency(
    request: HttpRequest, response: HttpResponse, old: TreeSize, new: TreeSize | None = None
) -> dict[str, object]:
    proof = services.consistency(old, new)
    response["Cache-Control"] = PROOF_PINNED if new is not None else PROOF_LATEST
    return proof


# The two bodies the log accepts, as a pattern (C2SP signed-note syntax): signature lines
# "— <name> <base64>" for the latest checkpoint, or a whole cosigned checkpoint (origin, size,
# canonical base64 root of 32 bytes, extension lines, blank line, signature lines).
_SIGNATURE_LINE = "\u2014 [\\x21-\\x2a\\x2c-\\x7e]+ (?:[A-Za-z0-9+/]{4}){2,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\n"
_CHECKPOINT = (
    "[\\x21-\\x7e][\\x20-\\x7e]*\n(?:0|[1-9][0-9]{0,17})\n[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\n"
    "(?:[\\x20-\\x7e]+\n)*\n"
)
WITNESS_PATTERN = f"^(?:{_CHECKPOINT})?(?:{_SIGNATURE_LINE}){{1,100}}$"
WITNESS_MAX_CHARS = 64_000  # a cosigned checkpoint with 100 signature lines is about 12,000
WITNESS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {
                "schema": {
                    "type": "string",
                    "pattern": WITNESS_PATTERN,
                    "maxLength": WITNESS_MAX_CHARS,
                    "description": "Lignes de cosignature (« — nom base64 ») pour le dernier point de contrôle, ou un point "
                    "de contrôle cosigné entier (texte UTF-8).",
                }
            }
        },
    }
}


@log_router.post(
    "/witness",
    response=responses({200: list[CosignatureOut]}, WRITE),
    openapi_extra=WITNESS_BODY,
    summary="Recevoir la cosignature (cosignature/v1) d'un témoin enregistré",
)
def post_witness(request: HttpRequest) -> list[dict[str, object]]:
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise services.BadRequest(_("Le corps doit être du texte UTF-8.")) from None
    if len(body) > WITNESS_MAX_CHARS:
        raise services.BadRequest(
            _("Corps trop long : %(n)s caractères au plus.") % {"n": WITNESS_MAX_CHARS}
        )
    saved = services.add_cosignature(body)
    return [
        {"checkpoint_size": c.checkpoint.size, "witness": c.witness.name, "timestamp": c.timestamp}
        for c in saved
    ]
