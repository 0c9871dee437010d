"""The JSON API under /api/v1/: one NinjaAPI, one router per domain, errors rendered once."""

from __future__ import annotations

import copy
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from pacte.api_contract import complete_openapi
from pacte.errors import DomainError, ServiceUnavailable
from pacte.input_limits import french_message, parse_json
from pacte.request_faults import error_for, respond_to_exception


class CheckedJsonParser(Parser):
    """JSON bodies are checked as a whole: no NUL, no lone surrogate, bounded strings and integers."""

    def parse_body(self, request: HttpRequest) -> Any:
        return parse_json(request.body)


class PacteAPI(NinjaAPI):
    """The routes are fixed once the URLconf is imported, so the OpenAPI document is built once per
    address prefix and language (about 2 s of CPU each time) and each caller gets its own copy."""

    _openapi_documents: dict[tuple[str, str], Any] = {}

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        key = (path_prefix, get_language() or "")
        document = self._openapi_documents.get(key)
        if document is None:
            document = complete_openapi(super().get_openapi_schema(path_prefix=path_prefix))
            self._openapi_documents[key] = document
        return copy.deepcopy(document)


api = PacteAPI(
    title="Pacte API",
    version="1",
    urls_namespace="api",
    parser=CheckedJsonParser(),
    description="API publique de Pacte : projets, pactes, versions, engagements, journal. "
    "Les écritures exigent un jeton (Authorization: Bearer …).",
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = api.create_response(request, exc.as_json(), status=exc.status)
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(Exception)
def _any_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Database unavailable (503), oversized body (413), refused value (400), else 500: all JSON."""
    error = error_for(exc)
    if error is not None:
        return _domain_error(request, error)
    return respond_to_exception(request, exc)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload")]
        fields.setdefault(".".join(loc) or "request", []).append(french_message(err))
    first = next(iter(fields.items()), None)
    if first:
        message = _("Requête invalide : %(field)s : %(problem)s Vérifiez les champs signalés.") % {
            "field": first[0],
            "problem": first[1][0],
        }
    else:
        message = _("Requête invalide. Vérifiez les champs signalés.")
    return api.create_response(
        request,
        {"error": "bad_request", "message": message, "fields": fields},
        status=400,
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {
            "error": "not_authenticated",
            "message": _("Jeton d'API manquant, invalide, expiré ou révoqué."),
        },
        status=401,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if (
        exc.__cause__ is not None and error_for(exc.__cause__) is not None
    ):  # the body parser's own error
        return _domain_error(request, error_for(exc.__cause__))  # type: ignore[arg-type]
    return api.create_response(
        request, {"error": "error", "message": str(exc)}, status=exc.status_code
    )


def _mount() -> None:
    from pacte.channels.api import router as channels_router
    from pacte.comptoirs.api import router as comptoirs_router
    from pacte.data.api import router as data_router
    from pacte.evidence.api import router as evidence_router
    from pacte.funding.api import router as funding_router
    from pacte.journal.api import log_router
    from pacte.journal.api import router as journal_router
    from pacte.pacts.api import router as pacts_router
    from pacte.participation.api import router as participation_router
    from pacte.projects.api import router as projects_router
    from pacte.writes.idempotency import transactional_writes

    api.add_router("/projects", projects_router)
    api.add_router("/pacts", pacts_router)
    api.add_router("/events", journal_router)
    api.add_router("/log", log_router)  # the verifiable log (checkpoint, entries, proofs, witness)
    api.add_router("", data_router)  # /catalog.jsonld, /data/…, /datasets/…, /grants/…
    api.add_router("", evidence_router)  # /evaluations, /audits, /panels, …
    api.add_router("/funding", funding_router)  # programmes, contracts, payments, ocds.json, CSV
    api.add_router("", channels_router)  # /channels/…, /institutions/{slug}/record
    api.add_router(
        "", participation_router
    )  # /consultations/…/comments, /comments/…, /follows, /reuses
    api.add_router("", __import__("pacte.opendata.api").opendata.api.router)  # /statistics
    api.add_router("", comptoirs_router)  # /comptoir/posts, /experts, /challenges
    # every write in one transaction (retried on deadlock); Idempotency-Key on POSTs
    api.add_decorator(transactional_writes, mode="view")


_mount()
