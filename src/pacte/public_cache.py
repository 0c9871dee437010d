"""Cache of public pages (and public API lists) for visitors without an account: never stale.

The key names the state of the database this request can see, read BEFORE the view runs:

* **PostgreSQL**: ``pg_current_snapshot()`` (``xmin:xmax:xip_list``). A transaction id below
  ``xmin`` has completed; one in ``[xmin, xmax)`` has completed unless it is listed in ``xip``; one
  at or above ``xmax`` had not started (PostgreSQL manual, "Transaction ID and Snapshot
  Information Functions"). Whether a completed transaction committed never changes afterwards, so
  two equal snapshots make the same rows visible. Every transaction that writes gets an id, so a
  commit between two reads changes the snapshot: its id was ``>= xmax`` or in ``xip`` before, and
  is ``< xmax`` and outside ``xip`` after. Snapshots only move forward (``xmin`` and ``xmax`` never
  decrease, a completed id never becomes in progress again, ids are 64 bits: no wrap-around).
* **SQLite**: ``PRAGMA data_version`` changes when ANOTHER connection commits to the database
  file (SQLite documentation: "unchanged for commits made on the same database connection", and
  the values of two connections are not comparable); so the key also names the connection (a
  serial unique to this process's life, given on ``connection_created``, not ``id()``, which
  Python reuses) and the connection's own writes (``total_changes``: rows inserted, updated or
  deleted by this connection since it opened; it only grows, so a rolled-back write changes the key
  too, which costs a miss, never a stale page). The one write ``total_changes`` does not count is
  a schema change (``CREATE``/``DROP``/``ALTER``, ``VACUUM``) made by the serving connection itself:
  only migrations do that, never a request, and they run in their own process.

**Why reading the key before the view is safe.** Django runs in autocommit: the key query and each
query of the view see the database as of their own start. If a transaction commits between the key
read (state ``K``) and the view's queries, the page is rendered from data newer than ``K`` and
stored under ``K``. No request that starts after that commit can compute ``K`` again: the commit
moved the snapshot (PostgreSQL), or the data version (SQLite, another connection), or
``total_changes`` (SQLite, the same connection) past ``K`` for good. Only requests that read their
key before the commit can get that page, and it is newer than what they saw, never older. Read
AFTER the view instead, the key could name a state newer than the page (a commit between the
render and the key read), and readers of that newer state would get the older page: stale.

**Where the key means nothing, nothing is cached**: inside a transaction (``in_atomic_block``: its
own uncommitted writes are invisible to the snapshot on PostgreSQL, and a rollback would undo rows
that ``total_changes`` counted on SQLite), on another database vendor, when the request is not
anonymous (a session or an ``Authorization`` header), carries a flash message, or when the
response sets a cookie, uses the CSRF token (``CSRF_COOKIE_NEEDS_UPDATE``), the CSP nonce, or a
session, or is not a plain 200.

**Time.** Some pages depend on the date, not only on the data (commitments due soon or overdue,
cure deadlines counted in days): the key includes the local date. Anything finer than a day (none
today) is bounded by ``PUBLIC_PAGE_CACHE_SECONDS``, kept as a TTL (0 switches the cache off).

See docs/cache-pages-publiques.md.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

# Headers every cached response varies on; the API lists also vary on the bearer token.
PAGE_VARY = ("Cookie", "Accept-Language", "HX-Request")
API_VARY = (*PAGE_VARY, "Authorization")
# Says whether the cache served a response ("hit") or stored it ("miss"); the benches count them.
CACHE_HEADER = "X-Pacte-Cache"

_PROCESS = uuid.uuid4().hex[:12]  # unique to this process's life, even with a shared cache
_serials = itertools.count(1)


def _name_connection(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    """Each new database connection (a new SQLite handle) gets a serial never given before."""
    connection.pacte_serial = f"{_PROCESS}.{next(_serials)}"  # type: ignore[attr-defined]


connection_created.connect(_name_connection, dispatch_uid="pacte.web.caching.serial")


def data_state(connection: BaseDatabaseWrapper = default_connection) -> str | None:
    """A name of the data this connection sees now, or None where no such name is sound."""
    if connection.in_atomic_block:
        return None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_snapshot()::text")
            return f"pg:{cursor.fetchone()[0]}"
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA data_version")
            version = cursor.fetchone()[0]
        serial = getattr(connection, "pacte_serial", None)
        if serial is None:  # opened before this module was imported: name it now, once
            _name_connection(None, connection)
            serial = connection.pacte_serial  # type: ignore[attr-defined]
        return f"sqlite:{serial}:{version}:{connection.connection.total_changes}"
    return None


def _anonymous(request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and not request.user.is_authenticated
        and "Authorization" not in request.headers
        and not len(messages.get_messages(request))  # a flash message is for this visitor only
    )


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    """A response that is the same for every anonymous visitor of this state and URL."""
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # a form's token is this visitor's
        and getattr(request, "_csp_nonce", None) is None  # the nonce is this response's
        and b"nonce=" not in response.content
        and not (session is not None and session.modified)
    )


def cached_response(
    vary: tuple[str, ...] = PAGE_VARY,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Serve anonymous GETs of ``view`` from the cache, under the key of the data they see."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not settings.PUBLIC_PAGE_CACHE_SECONDS or not _anonymous(request):
                return view(request, *args, **kwargs)
            state = data_state()
            if state is None:
                return view(request, *args, **kwargs)
            # htmx asks the same URL for a section's body alone (web.views.project_section)
            part = "hx" if request.headers.get("HX-Request") == "true" else "page"
            # the address hashed: any query string gives a short key of safe characters
            address = hashlib.sha256(request.get_full_path().encode()).hexdigest()
            key = (
                f"public-page:{state}:{timezone.localdate().isoformat()}:{get_language()}:"
                f"{part}:{address}"
            )
            cached: HttpResponse | None = cache.get(key)
            if cached is not None:
                return cached
            response = view(request, *args, **kwargs)
            if _storable(request, response):
                patch_vary_headers(response, vary)
                response[CACHE_HEADER] = "hit"  # what a later request gets from the cache
                cache.set(key, response, settings.PUBLIC_PAGE_CACHE_SECONDS)
                response[CACHE_HEADER] = "miss"
            return response

        return wrapper

    return decorate


# the public pages (web.views and the other apps' public views)
public_page = cached_response(PAGE_VARY)
# the public API lists, through ninja.decorate_view (anonymous: no bearer token either)
public_api_list = cached_response(API_VARY)
