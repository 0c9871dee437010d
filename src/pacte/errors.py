"""Typed domain errors. Each carries its HTTP status; rendered once as JSON (API) or a page (UI)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field_errors:
            data["fields"] = self.field_errors
        return data


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


class BadInput(DomainError):
    """Unreadable or unacceptable input (malformed JSON, NUL character, number out of range)."""

    status = 400
    code = "bad_request"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class ServiceUnavailable(DomainError):
    """The database cannot be reached (or timed out); the client should retry after a pause."""

    status = 503
    code = "unavailable"

    @property
    def retry_after(self) -> int:
        from django.conf import settings

        return int(getattr(settings, "DB_RETRY_AFTER_SECONDS", 5))


class DomainErrorMiddleware:
    """Render a DomainError raised by a UI view as a French page with its status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, DomainError):
            return render(request, "error.html", {"error": exc}, status=exc.status)
        return None
