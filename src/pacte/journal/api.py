from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema

from pacte.input_limits import BigInt, Identifier, check_page
from pacte.journal import services
from pacte.journal.keys import verifier_key
from pacte.journal.models import Event
from pacte.journal.selectors import recent_events

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


@router.get("", response=EventPage, summary="Événements publics, du plus récent au plus ancien")
def list_events(request: HttpRequest, type: Identifier = "", project: Identifier = "", limit: BigInt = 50, offset: BigInt = 0) -> dict[str, object]:
    check_page(limit, offset, max_limit=500)
    qs = recent_events(type_prefix=type, project=project)
    return {"count": qs.count(), "items": list(qs[offset : offset + limit])}


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


@log_router.get("/checkpoint", summary="Dernier point de contrôle signé (note C2SP, texte brut)")
def get_checkpoint(request: HttpRequest) -> HttpResponse:
    r = _text(services.checkpoint_with_cosignatures(services.latest_checkpoint()))
    r["Cache-Control"] = "public, max-age=2"  # mutable: a few seconds at most (c2sp.org/tlog-tiles)
    return r


@log_router.get("/key", summary="Clé de vérification du journal (name+id+base64)")
def get_key(request: HttpRequest) -> HttpResponse:
    return _text(verifier_key() + "\n")


@log_router.get("/entries", response=LogEntryPage,
                summary="Entrées [start, end) du journal (au plus 1000 par page) ; count = taille publiée")
def get_entries(request: HttpRequest, start: BigInt = 0, end: BigInt | None = None) -> dict[str, object]:
    size = services.latest_checkpoint().size
    if end is None:
        end = min(size, start + MAX_ENTRIES_PAGE)
    if start < 0 or end < start:
        raise services.BadRequest(_("Il faut 0 ≤ start ≤ end."))
    if end - start > MAX_ENTRIES_PAGE:
        raise services.BadRequest(
            _("Au plus %(n)s entrées par page : réduisez end - start.") % {"n": MAX_ENTRIES_PAGE}
        )
    end = min(end, size)
    rows = Event.objects.filter(index__gte=start, index__lt=end).order_by("index").values_list("index", "leaf_hash", "entry")
    return {"count": size, "items": [{"index": i, "leaf_hash": bytes(h).hex(), "entry": e} for i, h, e in rows]}


@log_router.get("/proof/inclusion", response=ProofOut, summary="Preuve d'inclusion (RFC 9162) par index ou par empreinte")
def get_inclusion(request: HttpRequest, index: BigInt | None = None, size: BigInt | None = None, hash: Identifier = "") -> dict[str, object]:
    return services.inclusion(index=index, entry_hash=hash, size=size)


@log_router.get("/proof/consistency", response=ProofOut, summary="Preuve de cohérence (RFC 9162) entre deux tailles")
def get_consistency(request: HttpRequest, old: BigInt, new: BigInt | None = None) -> dict[str, object]:
    return services.consistency(old, new)


@log_router.post("/witness", response=list[CosignatureOut],
                 summary="Recevoir la cosignature (cosignature/v1) d'un témoin enregistré")
def post_witness(request: HttpRequest) -> list[dict[str, object]]:
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise services.BadRequest(_("Le corps doit être du texte UTF-8.")) from None
    saved = services.add_cosignature(body)
    return [{"checkpoint_size": c.checkpoint.size, "witness": c.witness.name, "timestamp": c.timestamp} for c in saved]
