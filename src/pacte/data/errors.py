"""The data domain's own errors (each carries its HTTP status)."""

from __future__ import annotations

from pacte.errors import DomainError


class BudgetExhausted(DomainError):
    status = 429
    code = "budget_exhausted"


class QueryRefused(DomainError):
    status = 400
    code = "query_refused"


class GrantForbidden(DomainError):
    status = 403
    code = "grant_unusable"


class ComputationFailed(DomainError):
    status = 503
    code = "computation_failed"


class QueryTooCostly(DomainError):
    """The query hit a published cost limit of the secure room (time, memory, output size)."""

    status = 422
    code = "query_too_costly"
