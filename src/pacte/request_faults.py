"""Requests that fail outside the domain rules, answered once and the same way everywhere.

- the database cannot be reached, times out or dropped the connection → 503 with Retry-After;
- a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE → 413;
- a value the database refuses (too long, out of range) → 400;
- NUL characters in the address or the query string → 400, before any view runs;
- anything else → 500.

Under /api/ the answer is JSON ({"error", "message"}); elsewhere it is the French error page.
Three entry points share `error_for` and `respond`: the API's exception handlers (errors raised
inside django-ninja), `RequestFaultMiddleware.process_exception` (errors raised by a page view)
and the `handler400`/`handler500` views (errors raised by a middleware, e.g. loading the
session while the database is down).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import DataError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from pacte.errors import BadInput, DomainError, PayloadTooLarge, ServiceUnavailable
from pacte.input_limits import text_problem

if TYPE_CHECKING:
    from pacte.accounts.request_types import ActingRequest

logger = logging.getLogger("pacte.requests")

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX) or request.path.startswith(API_PREFIX)


def database_unavailable(exc: BaseException) -> bool:
    """Connection refused or lost, statement or lock timeout, server shutting down, SQLite busy."""
    return isinstance(exc, (OperationalError, InterfaceError))


def error_for(exc: BaseException) -> DomainError | None:
    """The typed error a client should see for `exc`, or None for a server error (500)."""
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, RequestDataTooBig):
        megabytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_000_000
        return PayloadTooLarge(
            _("Le corps de la requête dépasse la taille acceptée (%(mb)s Mo au plus).")
            % {"mb": f"{megabytes:g}"}
        )
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return BadInput(_("La requête contient trop de champs ou de fichiers."))
    if database_unavailable(exc):
        logger.warning("database unavailable: %s", exc)
        return ServiceUnavailable(
            _(
                "La base de données est momentanément indisponible. Réessayez dans quelques secondes."
            )
        )
    if isinstance(exc, DataError):
        logger.warning("value refused by the database: %s", exc)
        return BadInput(
            _(
                "Une valeur dépasse ce que la base de données accepte (longueur, nombre ou caractère)."
            )
        )
    return None


def _server_error_json() -> dict[str, str]:
    return {
        "error": "server_error",
        "message": _("Erreur interne du serveur : l'incident est enregistré."),
    }


def respond(request: HttpRequest, error: DomainError | None) -> HttpResponse:
    """JSON under /api/, the French error page elsewhere; Retry-After when the client may retry."""
    status = error.status if error is not None else 500
    if is_api(request):
        response: HttpResponse = JsonResponse(
            error.as_json() if error is not None else _server_error_json(),
            status=status,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        response = _page(request, error, status)
    if isinstance(error, ServiceUnavailable):
        response["Retry-After"] = str(error.retry_after)
    return response


def _page(request: HttpRequest, error: DomainError | None, status: int) -> HttpResponse:
    if isinstance(error, ServiceUnavailable):
        # render as an anonymous visitor: the page must not need the database that just failed
        request.user = AnonymousUser()
        cast("ActingRequest", request).acting = None
    try:
        return render(request, "error.html", {"error": error}, status=status)
    except Exception:  # the page itself failed (e.g. the database again): a bare page, still French
        logger.exception("error page failed to render")
        body = render_to_string("error_bare.html", {"error": error})
        return HttpResponse(body, status=status)


def respond_to_exception(request: HttpRequest, exc: BaseException) -> HttpResponse:
    error = error_for(exc)
    if error is None:
        logger.error("server error on %s %s", request.method, request.path, exc_info=exc)
    return respond(request, error)


def _query_problem(request: HttpRequest) -> str | None:
    problem = text_problem(request.path_info)
    if problem:
        return problem
    for key, values in request.GET.lists():
        for value in (key, *values):
            problem = text_problem(value)
            if problem:
                return problem
    return None


def _html_or_empty(response: HttpResponse) -> bool:
    if getattr(response, "streaming", False):
        return False
    ctype = response.get("Content-Type", "")
    return ctype.startswith("text/html") or not response.content


_STATUS_MESSAGES = {
    403: ("forbidden", gettext_noop("Accès refusé.")),
    404: ("not_found", gettext_noop("Ressource introuvable.")),
    405: ("method_not_allowed", gettext_noop("Méthode HTTP non permise sur cette adresse.")),
    413: ("payload_too_large", gettext_noop("Le corps de la requête est trop volumineux.")),
}


def _as_json(response: HttpResponse) -> HttpResponse:
    code, message = _STATUS_MESSAGES.get(
        response.status_code, ("error", gettext_noop("La requête a échoué."))
    )
    out = JsonResponse(
        {"error": code, "message": _(message)},
        status=response.status_code,
        json_dumps_params={"ensure_ascii": False},
    )
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if header in response:
            out[header] = response[header]
    return out


class RequestFaultMiddleware:
    """Refuse NUL characters in the address and query string; turn view exceptions into answers.

    Placed right after the security middleware, so that the session and authentication
    middlewares never see such a request. Form bodies are checked by the forms themselves
    (Django's CharField refuses NUL) and JSON bodies by the API's parser.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = _query_problem(request)
        if problem:
            return respond(
                request, BadInput(_("Adresse ou paramètres invalides : %(p)s") % {"p": problem})
            )
        response = self.get_response(request)
        if response.status_code >= 400 and is_api(request) and _html_or_empty(response):
            return _as_json(
                response
            )  # e.g. 405 from the router, 403 from CSRF: JSON like every API error
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, DomainError):
            return None  # DomainErrorMiddleware renders it
        error = error_for(exc)
        if error is None and not is_api(request):
            return None  # Django's handler500 (logged, French page)
        return respond_to_exception(request, exc)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: SuspiciousOperation raised anywhere (oversized body while a middleware reads it)."""
    error = error_for(exception) if exception is not None else None
    return respond(request, error or BadInput(_("Requête invalide.")))


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an exception escaped everything else; it is still in sys.exc_info()."""
    import sys

    exc = sys.exc_info()[1]
    return respond(request, error_for(exc) if exc is not None else None)
