"""C2SP tlog-tiles static paths under ``/api/v1/log/``: hash tiles and entry bundles.

Plain Django views (one indexed range query each).  Only what the latest signed
checkpoint covers is served; full tiles are immutable (long-lived ``Cache-Control``),
partial tiles are kept briefly in caches; missing tiles are 404 and never cached.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe

from pacte.engines.tiles import WIDTH, TileError, TileRef, encode_bundle, parse_tile_path
from pacte.journal import checkpoints
from pacte.journal.models import Event
from pacte.journal.store import level_hashes

CACHE_FULL = "public, max-age=31536000, immutable"
CACHE_PARTIAL = "public, max-age=60"
OCTETS = "application/octet-stream"


def _text(status: int, message: str) -> HttpResponse:
    r = HttpResponse(
        message.encode("utf-8"), status=status, content_type="text/plain; charset=utf-8"
    )
    r["Cache-Control"] = "no-store"
    return r


def _octets(ref: TileRef, data: bytes) -> HttpResponse:
    r = HttpResponse(data, content_type=OCTETS)
    r["Cache-Control"] = CACHE_PARTIAL if ref.partial else CACHE_FULL
    return r


def _ref(rest: str) -> TileRef | HttpResponse:
    try:
        return parse_tile_path(rest)
    except TileError as exc:
        return _text(
            400,
            _("Chemin de tuile invalide (c2sp.org/tlog-tiles) : %(error)s") % {"error": exc} + "\n",
        )


def _available(ref: TileRef, size: int) -> bool:
    """The tile exists for the published tree: its W hashes are complete nodes."""
    level = 0 if ref.level is None else 8 * ref.level
    if level > 63:
        return False
    return ref.index * WIDTH + ref.width <= size >> level


def _not_yet(ref: TileRef, size: int) -> HttpResponse:
    return _text(
        404,
        _("Tuile %(path)s absente : le dernier point de contrôle signé a %(size)s entrées.")
        % {"path": ref.path, "size": size}
        + "\n",
    )


@require_safe
def hash_tile(request: HttpRequest, rest: str) -> HttpResponse:
    ref = _ref(rest)
    if isinstance(ref, HttpResponse):
        return ref
    if ref.level is None:  # routed to `entry_bundle`
        return _text(400, _("Chemin de tuile invalide.") + "\n")
    size = checkpoints._published_size()
    if not _available(ref, size):
        return _not_yet(ref, size)
    lo = ref.index * WIDTH
    hashes = level_hashes(8 * ref.level, lo, lo + ref.width)
    if len(hashes) != ref.width or any(len(h) != 32 for h in hashes):
        return _text(
            500,
            _("Nœuds manquants pour %(path)s : lancez `pacte log audit`.") % {"path": ref.path}
            + "\n",
        )
    return _octets(ref, b"".join(hashes))


@require_safe
@gzip_page
def entry_bundle(request: HttpRequest, rest: str) -> HttpResponse:
    ref = _ref("entries/" + rest)
    if isinstance(ref, HttpResponse):
        return ref
    size = checkpoints._published_size()
    if not _available(ref, size):
        return _not_yet(ref, size)
    lo = ref.index * WIDTH
    rows = list(
        Event.objects.filter(index__gte=lo, index__lt=lo + ref.width)
        .order_by("index")
        .values_list("index", "entry")
    )
    if [i for i, _ in rows] != list(range(lo, lo + ref.width)):
        return _text(
            500,
            _("Entrées manquantes pour %(path)s : lancez `pacte log audit`.") % {"path": ref.path}
            + "\n",
        )
    try:
        data = encode_bundle([e.encode("utf-8") for _, e in rows])
    except TileError as exc:
        return _text(500, f"{ref.path} : {exc}\n")
    return _octets(ref, data)
