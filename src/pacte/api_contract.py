"""What every API route promises in the OpenAPI document: its error body, its statuses, its pages.

- `ErrorOut` is the one body of every 4xx and 5xx answer (rendered by pacte.api and
  pacte.request_faults); `responses(...)` builds a route's `response=` with the statuses it can
  return, so that the document lists each route's 4xx.
- `paginate(...)` is the one pagination of every list: `limit`/`offset` bounded in the query
  schema (`Limit`, `Offset`), a stable order, `count` of the whole list and the page's `items`;
  the lists that grow without bound (projects, events) also page by keyset: `next` is the cursor
  of the following page, given back as `after` (`Cursor`), whatever the depth one indexed seek.
- `binary_response(...)` documents a route that answers a file (CSV, Parquet, text).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from django.db.models import Count, F, Q, QuerySet, Window
from django.utils.translation import gettext as _
from ninja import Field, Schema

from pacte.errors import NotFound
from pacte.input_limits import (
    JSON_VALUE_MARK,
    JSON_VALUE_REF,
    JSON_VALUE_SCHEMA,
    MAX_OFFSET,
    NO_NUL_PATTERN,
    check_page,
)

T = TypeVar("T")


class ErrorOut(Schema):
    """Body of every error answer: a stable code, a French sentence, and the faulty fields."""

    error: str = Field(description="Code stable de l'erreur (bad_request, not_found, forbidden…).")
    message: str = Field(description="Explication en français, à montrer telle quelle.")
    fields: dict[str, list[str]] | None = Field(
        default=None, description="Champs refusés et pourquoi, quand la requête est invalide."
    )


# Statuses any route can answer: the request was malformed (400: bad characters in the address,
# a field off its schema), or the database is unavailable for a moment (503, with Retry-After).
ALWAYS = (400, 503)
READ = (*ALWAYS, 404)
# A public read that widens with an optional bearer token (accounts.viewer): a bad token is refused.
VIEWER = (*READ, 401)
# A route behind a token: missing or invalid token (401), not allowed (403).
AUTHENTICATED = (*ALWAYS, 401, 403, 404)
# A write: also a state that forbids it (409), a refused value or a reused Idempotency-Key (422),
# a body too large (413).
WRITE = (*AUTHENTICATED, 409, 413, 422)

RETRY_AFTER = {
    "description": "Secondes à attendre avant de réessayer.",
    "schema": {"type": "string"},
}


def responses(success: dict[int, Any], errors: Sequence[int] = READ) -> dict[int, Any]:
    """`response=` of a route: its success bodies and `ErrorOut` for each error it can return."""
    return success | {status: ErrorOut for status in sorted(set(errors))}


def binary_response(
    media_types: dict[str, str],
    headers: dict[str, str] | None = None,
    schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`openapi_extra` of a route answering a file or text: its content types and headers
    (`schema` for a JSON dialect such as JSON-LD, else a binary string)."""
    content = {
        media: {
            "schema": (schema or {"type": "string", "format": "binary"})
            | {"description": description}
        }
        for media, description in media_types.items()
    }
    ok: dict[str, Any] = {"description": "OK", "content": content}
    if headers:
        ok["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return {"responses": {200: ok}}


def complete_openapi(openapi: dict[str, Any]) -> dict[str, Any]:
    """What ninja cannot say per route: every documented 503 carries Retry-After (see
    pacte.request_faults); a multipart field is omitted rather than null, and an uploaded file
    is never empty (Django drops an empty part); free-form JSON and ignored fields of a JSON
    body are checked as a whole by the parser (`JsonValue`)."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    _replace_marks(openapi)
    schemas["JsonValue"] = JSON_VALUE_SCHEMA
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            _ignored_fields_are_json(body.get("schema", {}), schemas, set())
            unavailable = operation.get("responses", {}).get(503)
            if unavailable is not None:
                unavailable.setdefault("headers", {})["Retry-After"] = RETRY_AFTER
            form = (
                operation.get("requestBody", {}).get("content", {}).get("multipart/form-data", {})
            )
            properties = form.get("schema", {}).get("properties", {})
            for name, field in list(properties.items()):
                options = [o for o in field.get("anyOf", []) if o.get("type") != "null"]
                if len(options) == 1:  # a form field is omitted, never null
                    field = properties[name] = {
                        k: v for k, v in field.items() if k != "anyOf"
                    } | options[0]
                if field.get("format") == "binary":
                    field["minLength"] = 1
    return openapi


def _replace_marks(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if value == JSON_VALUE_MARK:
                node[key] = JSON_VALUE_REF
            else:
                _replace_marks(value)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if value == JSON_VALUE_MARK:
                node[i] = JSON_VALUE_REF
            else:
                _replace_marks(value)


def _ignored_fields_are_json(
    schema: dict[str, Any], schemas: dict[str, Any], seen: set[str]
) -> None:
    """Unknown fields of a JSON body are ignored, but the body is checked as a whole (no NUL,
    integers within ±2⁶³: input_limits.check_json_tree): say so on each input object."""
    ref = schema.get("$ref", "")
    if ref:
        name = ref.rsplit("/", 1)[1]
        if name in seen or name not in schemas:
            return
        seen.add(name)
        schema = schemas[name]
    if schema.get("type") == "object" and "properties" in schema:
        schema.setdefault("additionalProperties", JSON_VALUE_REF)
        schema.setdefault("propertyNames", {"pattern": NO_NUL_PATTERN})
        for field in schema["properties"].values():
            for option in (field, *field.get("anyOf", [])):
                _ignored_fields_are_json(option, schemas, seen)
    elif schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        _ignored_fields_are_json(schema["items"], schemas, seen)


# ------------------------------------------------------------------ pagination

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


MAX_LONG_LIMIT = 500  # lists of small rows (log events, releases, grants)

Limit = Annotated[
    int, Field(ge=1, le=MAX_LIMIT, description="Nombre d'éléments par page (1 à 100).")
]
LongLimit = Annotated[
    int, Field(ge=1, le=MAX_LONG_LIMIT, description="Nombre d'éléments par page (1 à 500).")
]
Offset = Annotated[
    int, Field(ge=0, le=MAX_OFFSET, description="Rang du premier élément (0 au début).")
]


Cursor = Annotated[
    str,
    Field(
        max_length=400,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="Curseur de la page suivante : le champ next de la page précédente "
        "(remplace offset ; pages stables même si la liste grandit).",
    ),
]


class Page(Schema):
    count: int


@dataclass(frozen=True)
class Keyset:
    """Keyset pagination of a list: its order (field names, ``-`` for descending, the last one
    unique), the type of each field's value (``str`` or ``int``) and how to read those values
    from a row of the page. ``nullable`` names the fields that may be NULL: the list puts their
    NULLs last (in either direction, on PostgreSQL and SQLite alike) and a cursor may carry a
    null for them."""

    order: tuple[str, ...]
    types: tuple[type, ...]
    key: Callable[[Any], Sequence[Any]]
    nullable: frozenset[str] = frozenset()

    def order_by(self) -> list[Any]:
        """The ``order_by`` arguments: the names, or NULLS LAST expressions for nullable fields."""
        out: list[Any] = []
        for field in self.order:
            name = field.lstrip("-")
            if name not in self.nullable:
                out.append(field)
            elif field.startswith("-"):
                out.append(F(name).desc(nulls_last=True))
            else:
                out.append(F(name).asc(nulls_last=True))
        return out


def keyset_of(items: QuerySet[Any]) -> Keyset:
    """The keyset of a list of model instances from its own order (``order_by``, else the model's
    ``Meta.ordering``), ``id`` appended when the order does not end with it: every field must be
    a column of the model itself (integers, or text, dates and instants carried as ISO 8601
    text); a nullable one sorts its NULLs last."""
    model = items.model
    order = [str(f) for f in (items.query.order_by or model._meta.ordering or ())]
    if not order or order[-1].lstrip("-") not in ("id", "pk"):
        order.append(f"{'-' if order and order[-1].startswith('-') else ''}id")
    types: list[type] = []
    names: list[str] = []
    nullable: set[str] = set()
    for field in order:
        name = "id" if field.lstrip("-") == "pk" else field.lstrip("-")
        column = model._meta.get_field(name)  # a lookup across a relation: FieldDoesNotExist
        internal = column.get_internal_type()
        types.append(int if "Integer" in internal or "AutoField" in internal else str)
        names.append(name)
        if column.null:
            nullable.add(name)

    def key(row: Any) -> list[Any]:
        out = []
        for name in names:
            value = getattr(row, name)
            out.append(value.isoformat() if hasattr(value, "isoformat") else value)
        return out

    return Keyset(
        order=tuple(
            f"{'-' if f.startswith('-') else ''}{n}" for f, n in zip(order, names, strict=True)
        ),
        types=tuple(types),
        key=key,
        nullable=frozenset(nullable),
    )


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, types: Sequence[type], nullable: Sequence[bool] = ()) -> list[Any]:
    """The values a cursor carries (one of each type, or null where ``nullable``). A cursor this
    API did not write names no page of the list: 404 (its form is valid by the schema, so it is
    not a malformed request)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != len(types)
        or not all(
            (v is None and i < len(nullable) and nullable[i])
            or (type(v) is t and (not isinstance(v, int) or -(2**63) < v < 2**63))
            for i, (v, t) in enumerate(zip(values, types, strict=False))
        )
    ):
        raise NotFound(
            _("Curseur de page invalide : reprenez la valeur « next » d'une page de cette liste.")
        )
    return values


def _after(
    order: Sequence[str], values: Sequence[Any], nullable: frozenset[str] = frozenset()
) -> Q:
    """Rows strictly after ``values`` in ``order``: (a > x) OR (a = x AND b > y) …; a nullable
    field sorts its NULLs last: after a value come the greater values, then the NULLs; nothing
    comes after a NULL but the next fields' order among the NULLs."""

    def equal(name: str, value: Any) -> Q:
        return Q(**{f"{name}__isnull": True}) if value is None else Q(**{name: value})

    q = Q(pk__in=[])  # nothing, when no term applies
    for i, field in enumerate(order):
        name = field.lstrip("-")
        if values[i] is None:
            continue  # NULLs last: no row of this field is strictly after a NULL
        cond = Q(**{f"{name}__{'lt' if field.startswith('-') else 'gt'}": values[i]})
        if name in nullable:
            cond |= Q(**{f"{name}__isnull": True})
        for previous, value in zip(order[:i], values[:i], strict=True):
            cond &= equal(previous.lstrip("-"), value)
        q |= cond
    return q


def paginate(
    items: QuerySet[Any] | Sequence[T],
    limit: int,
    offset: int,
    render: Callable[[list[Any]], list[Any]] | None = None,
    *,
    max_limit: int = MAX_LIMIT,
    order: Sequence[str] = ("pk",),
    keyset: Keyset | None = None,
    after: str = "",
    count: int | None = None,
    by_keyset: bool = False,
    count_in_page: bool = False,
) -> dict[str, Any]:
    """The page [offset, offset + limit) of `items` and the count of all of them.

    A queryset without an order gets `order` so that pages never overlap; `render` turns the
    page's rows into output (one call per page, so it can fetch related rows in bulk).
    With a `keyset`, the queryset is ordered by it, the page also carries `next` (the cursor of
    the following page, None on the last one), and `after` (a cursor) starts the page right
    after the row it names instead of at `offset`. `count`, when the caller knows it cheaply
    (the log's size), spares the COUNT(*). ``by_keyset``: the keyset of the queryset's own
    order (`keyset_of`). ``count_in_page`` (a keyset list of ``values_list`` rows): the first
    page reads the count with its rows (``COUNT(*) OVER ()``, one query instead of two); a page
    after a cursor, an empty page and a ``distinct`` list still count apart.
    """
    check_page(limit, offset, max_limit=max_limit)  # also guards callers outside ninja's validation
    if by_keyset and keyset is None and isinstance(items, QuerySet):
        keyset = keyset_of(items)
    if keyset is not None:
        if not isinstance(items, QuerySet):
            raise TypeError("keyset pagination needs a queryset")
        items = items.order_by(*keyset.order_by())
        total = count
        if after:
            nullable = [f.lstrip("-") in keyset.nullable for f in keyset.order]
            values = decode_cursor(after, keyset.types, nullable)
            total = items.count() if total is None else total  # the whole list, not after
            items, offset = items.filter(_after(keyset.order, values, keyset.nullable)), 0
        if total is None and count_in_page and not items.query.distinct:
            rows = list(items.annotate(_page_total=Window(Count("*")))[offset : offset + limit + 1])
            total = rows[0][-1] if rows else items.count()  # past the end: count apart
            rows = [row[:-1] for row in rows]
        else:
            total = items.count() if total is None else total
            rows = list(items[offset : offset + limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "count": total,
            "items": render(rows) if render is not None else rows,
            "next": encode_cursor(keyset.key(rows[-1])) if more else None,
        }
    if isinstance(items, QuerySet):
        if not items.ordered:
            items = items.order_by(*order)
        total = items.count() if count is None else count
    else:
        total = len(items)
    rows = list(items[offset : offset + limit])
    return {"count": total, "items": render(rows) if render is not None else rows}
