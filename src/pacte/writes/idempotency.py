"""Every API write in one transaction, retried on deadlock; ``Idempotency-Key`` on POSTs.

Installed once on the NinjaAPI (``api.add_decorator(transactional_writes, mode="view")``):

* Every POST/PUT/PATCH/DELETE operation runs its view (after authentication, which stays
  outside: the token's ``last_used_at`` update must not hold a row lock for the whole
  request) inside ONE outermost transaction. A domain error (4xx, or a deliberate 503)
  keeps what the use case chose to commit (e.g. a logged refusal); any other exception
  rolls everything back. A deadlock or serialization failure re-runs the whole view, a
  bounded number of times (:mod:`pacte.writes.retry`): nothing of the failed attempt is left.
* A POST carrying ``Idempotency-Key`` (as in Stripe's API) from an authenticated principal
  stores its response (status, body) in :class:`~pacte.writes.models.IdempotentRequest`
  IN THE SAME TRANSACTION as the change. A retry with the same key — e.g. after a response
  lost in transit — gets the first response back (header ``Idempotent-Replayed: true``),
  never a second object; the same key with another body → 422. Two simultaneous requests
  with the same key: the second waits for the first (unique index) and gets its response,
  or 409 when the first is still running elsewhere. Keys are per principal (token's user
  and organisation, or data-access grant) and expire after 24 h
  (:func:`purge_expired`, task ``purge_idempotency_keys_task``).
  Responses that carry a secret shown once (a grant's token) are never stored: such a
  route is marked :func:`not_idempotent`.
* Routes marked :func:`own_transactions` (the data gateway, which computes between its
  transactions) run as written when no key is given; with a key they run in the one
  transaction that also stores the response.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError

from pacte.errors import Conflict, DomainError
from pacte.writes.models import IdempotentRequest
from pacte.writes.retry import ATTEMPTS, backoff, is_retryable

logger = logging.getLogger("pacte.writes")

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
TTL = timedelta(hours=24)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOT_STORED = frozenset({408, 409, 423, 429})  # transient answers: a retry must run again

OPENAPI_HEADER: dict[str, Any] = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": KEY_MAX_LENGTH,
        "pattern": "^[\\x20-\\x7e]+$",
    },
    "description": (
        "Clé d'idempotence choisie par le client (par exemple un UUID v4). Une nouvelle tentative "
        "avec la même clé (même jeton) renvoie la première réponse (en-tête Idempotent-Replayed: true) "
        "au lieu de créer un second objet ; la même clé avec un autre corps est refusée (422). "
        "Clés conservées 24 h."
    ),
}


class IdempotencyKeyInvalid(DomainError):
    status = 400
    code = "bad_idempotency_key"


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"


class RequestInProgress(Conflict):
    code = "request_in_progress"


def not_idempotent(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a POST route whose response must not be stored (it shows a secret once)."""
    func._pacte_not_idempotent = True  # type: ignore[attr-defined]
    return func


def own_transactions(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a write route that manages its transactions itself because it computes between
    them (the data gateway: reserve the budget, compute outside any lock, publish). Without
    an Idempotency-Key it runs as written, not inside one request-wide transaction (which
    would hold the grant's row locks, and SQLite's write lock, during the computation)."""
    func._pacte_own_transactions = True  # type: ignore[attr-defined]
    return func


# ------------------------------------------------------------------ the ninja hook


def _operation_of(run: Any) -> Any:
    while run is not None:
        owner = getattr(run, "__self__", None)
        if owner is not None and hasattr(owner, "view_func") and hasattr(owner, "methods"):
            return owner
        run = getattr(run, "__wrapped__", None)
    return None


def transactional_writes(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A NinjaAPI "view" decorator: receives each operation's ``run`` at binding time and
    wraps the operation's view function (see the module docstring); ``run`` is unchanged."""
    op = _operation_of(run)
    if op is None or not WRITE_METHODS & set(op.methods) or getattr(op, "_pacte_writes", False):
        return run
    creating = "POST" in op.methods and not getattr(op.view_func, "_pacte_not_idempotent", False)
    if creating:
        extra = dict(op.openapi_extra or {})
        extra["parameters"] = [*extra.get("parameters", []), OPENAPI_HEADER]
        op.openapi_extra = extra
    op.view_func = _transactional(
        op, op.view_func, creating, own=getattr(op.view_func, "_pacte_own_transactions", False)
    )
    op._pacte_writes = True
    return run


def _transactional(
    op: Any, view: Callable[..., Any], creating: bool, own: bool
) -> Callable[..., Any]:
    @functools.wraps(view)
    def run_view(request: HttpRequest, **values: Any) -> HttpResponseBase:
        nested = transaction.get_connection().in_atomic_block
        claim: tuple[str, str, str] | None = None
        if creating and HEADER in request.headers:
            try:
                claim = _claim_of(request)
            except DomainError as exc:
                return op.api.on_exception(request, exc)  # type: ignore[no-any-return]
        if own and claim is None:
            return view(request, **values)  # type: ignore[no-any-return]
        for attempt in range(ATTEMPTS):
            _rewind_files(request)
            try:
                with transaction.atomic():
                    return _once(op, view, request, values, claim)
            except DatabaseError as exc:
                if nested or attempt == ATTEMPTS - 1 or not is_retryable(exc):
                    raise
                logger.warning(
                    "%s %s: transaction aborted (%s), attempt %d",
                    request.method,
                    request.path,
                    exc,
                    attempt + 2,
                )
                backoff(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    return run_view


def _once(
    op: Any,
    view: Callable[..., Any],
    request: HttpRequest,
    values: dict[str, Any],
    claim: tuple[str, str, str] | None,
) -> HttpResponseBase:
    record: IdempotentRequest | None = None
    try:
        if claim is not None:
            found = _reserve(*claim)
            if isinstance(found, HttpResponse):
                return found
            record = found
        result = view(request, **values)
        response = op._result_to_response(request, result, op.api.create_temporal_response(request))
    except (DomainError, HttpError) as exc:
        response = op.api.on_exception(request, exc)
    if record is not None:
        status = response.status_code
        if status < 500 and status not in NOT_STORED and not response.streaming:
            record.status = status
            record.content_type = response.get("Content-Type", "")
            record.body = bytes(response.content)
            record.save(update_fields=["status", "content_type", "body"])
        else:
            record.delete()
    return response  # type: ignore[no-any-return]


# ------------------------------------------------------------------ keys


def principal_of(auth: Any) -> str | None:
    """Who the key belongs to: the token's person and organisation, or the grant."""
    user, org = getattr(auth, "user", None), getattr(auth, "organisation", None)
    if user is not None and org is not None:
        return f"user:{user.pk}:org:{org.pk}"
    pk = getattr(auth, "pk", None)
    meta = getattr(auth, "_meta", None)
    if pk is not None and meta is not None:
        return f"{meta.label_lower}:{pk}"
    return None


def _claim_of(request: HttpRequest) -> tuple[str, str, str] | None:
    key = request.headers.get(HEADER, "")
    if not (0 < len(key) <= KEY_MAX_LENGTH and key.isascii() and key.isprintable()):
        raise IdempotencyKeyInvalid(
            _(
                "En-tête %(header)s invalide : de 1 à %(n)s caractères ASCII imprimables (par exemple un UUID)."
            )
            % {"header": HEADER, "n": KEY_MAX_LENGTH}
        )
    principal = principal_of(getattr(request, "auth", None))
    if principal is None:
        return None  # an anonymous write (e.g. a witness cosignature): nothing to scope the key to
    return principal, key, fingerprint(request)


def fingerprint(request: HttpRequest) -> str:
    """SHA-256 of the method, the path with its query and the body (for a multipart form,
    its fields and the contents of its files)."""
    h = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    try:
        h.update(request.body)
    except RawPostDataException:  # multipart: the stream was parsed into POST and FILES
        for name in sorted(request.POST):
            for value in request.POST.getlist(name):
                h.update(f"{name}={value}\n".encode())
        for name in sorted(request.FILES):
            for f in request.FILES.getlist(name):
                h.update(f"{name}:{f.name}:{f.size}\n".encode())
                f.seek(0)
                for chunk in f.chunks():
                    h.update(chunk)
                f.seek(0)
    return h.hexdigest()


def _rewind_files(request: HttpRequest) -> None:
    files = getattr(request, "_files", None)
    if files:
        for name in files:
            for f in files.getlist(name):
                f.seek(0)


def _reserve(principal: str, key: str, fp: str) -> IdempotentRequest | HttpResponse:
    """The stored response to replay, or a new (uncommitted) record for this request."""
    now = timezone.now()
    rows = IdempotentRequest.objects.filter(principal=principal, key=key)
    rows.filter(created_at__lt=now - TTL).delete()
    existing = rows.first()
    if existing is None:
        try:
            with transaction.atomic():  # PostgreSQL: waits here for a same-key request in flight
                return IdempotentRequest.objects.create(
                    principal=principal, key=key, fingerprint=fp, created_at=now
                )
        except IntegrityError:
            existing = rows.first()
            if existing is None:
                raise RequestInProgress(
                    _(
                        "Une requête avec cette clé %(header)s est en cours : réessayez dans un instant."
                    )
                    % {"header": HEADER}
                ) from None
    if existing.fingerprint != fp:
        raise IdempotencyKeyReused(
            _(
                "Cette clé %(header)s a déjà servi pour une autre requête (autre chemin ou autre corps) : "
                "choisissez une nouvelle clé pour une nouvelle opération."
            )
            % {"header": HEADER}
        )
    response = HttpResponse(
        bytes(existing.body),
        status=existing.status,
        content_type=existing.content_type or "application/json",
    )
    response["Idempotent-Replayed"] = "true"
    return response


def purge_expired(now: Any = None) -> int:
    """Delete stored results older than 24 h; returns how many."""
    limit = (now or timezone.now()) - TTL
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=limit).delete()
    return int(deleted)
