"""What the platform accepts as input, in one place: text lengths, integer range, characters.

Every text field of an API input schema uses one of the annotated types below, so its maximum
length appears in the OpenAPI document; the web forms use the same constants. Free-form JSON
(a pact's content, a gateway query) is checked as a whole by `check_json_tree`: no NUL character
(PostgreSQL refuses it in text), no lone surrogate (not encodable in UTF-8), no string longer than
`DOCUMENT`, no integer outside a signed 64-bit column.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import AfterValidator, Field, WithJsonSchema

from pacte.errors import BadInput

# Standard maximum lengths, in characters.
IDENTIFIER = 120  # slugs, references, keys, column names, actions
LABEL = 120  # short labels: estimand, unit, territory, reference group
TITLE = 200  # titles, names, contacts, one-line decisions
SENTENCE = 300  # one sentence: outcome, legal basis, pitch
PARAGRAPH = 5_000  # reasons, notes, descriptions
DOCUMENT = 20_000  # long texts: purposes, operations, risks, any string inside free-form JSON
URL = 2_000

# Integers stored in a signed 64-bit column at most; pagination bounds.
INT64_MAX = 2**63 - 1
MAX_OFFSET = 1_000_000
MAX_LIST_ITEMS = 1_000  # items of a list field (columns, unit identifiers are separate)


def refuse_bad_characters(value: str) -> str:
    """NUL and lone surrogates are refused with a sentence a person understands."""
    if "\x00" in value:
        raise ValueError(_("Le texte contient un caractère nul (U+0000), refusé."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            _("Le texte contient un caractère invalide (demi-paire UTF-16 isolée).")
        ) from None
    return value


# What `refuse_bad_characters` refuses, said in the OpenAPI document (no NUL character).
NO_NUL_PATTERN = "^[^\\u0000]*$"


def _text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str,
        Field(
            min_length=min_length,
            max_length=max_length,
            json_schema_extra={"pattern": NO_NUL_PATTERN},
        ),
        AfterValidator(refuse_bad_characters),
    ]


Identifier = _text(IDENTIFIER)
Label = _text(LABEL)
Title = _text(TITLE)
Sentence = _text(SENTENCE)
Paragraph = _text(PARAGRAPH)
Document = _text(DOCUMENT)
Url = _text(URL)
# Required fields of a multipart form: an empty value counts as missing there, so the schema says so.
FilledIdentifier = _text(IDENTIFIER, 1)
FilledTitle = _text(TITLE, 1)
# Free-form JSON (a pact's content, an algorithm's parameters) as the parser accepts it
# (`check_json_tree`): the recursive schema `JsonValue` is added to the OpenAPI document by
# pacte.api_contract.complete_openapi.
JSON_VALUE_REF = {"$ref": "#/components/schemas/JsonValue"}
JSON_VALUE_MARK = {"x-pacte-json-value": True}  # pydantic resolves "$ref": replaced afterwards


def _json_object(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": value,
        "propertyNames": {"pattern": NO_NUL_PATTERN},
    }


JSON_VALUE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "maxLength": DOCUMENT, "pattern": NO_NUL_PATTERN},
        {"type": "number", "minimum": -INT64_MAX, "maximum": INT64_MAX},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": JSON_VALUE_REF},
        _json_object(JSON_VALUE_REF),
    ]
}
JsonObject = Annotated[dict[str, Any], WithJsonSchema(_json_object(JSON_VALUE_MARK))]
ShortText = _text(80)

SmallInt = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
BigInt = Annotated[int, Field(ge=-INT64_MAX, le=INT64_MAX)]


def text_problem(value: str) -> str | None:
    """Why a string cannot be accepted, or None."""
    try:
        refuse_bad_characters(value)
    except ValueError as e:
        return str(e)
    return None


def check_json_tree(value: Any, where: str = "") -> None:
    """Raise BadInput naming the first unacceptable value of a parsed JSON document."""
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        label = path or _("corps")
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                raise BadInput(f"{label} : {problem}", field_errors={label: [problem]})
            if len(item) > DOCUMENT:
                msg = _("texte trop long (%(n)d caractères au plus).") % {"n": DOCUMENT}
                raise BadInput(f"{label} : {msg}", field_errors={label: [msg]})
        elif isinstance(item, bool):
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                msg = _("nombre non fini (NaN ou infini) refusé.")
                raise BadInput(f"{label} : {msg}", field_errors={label: [msg]})
        elif isinstance(item, int):
            if not -INT64_MAX <= item <= INT64_MAX:
                msg = _("nombre entier hors limites (±2⁶³).")
                raise BadInput(f"{label} : {msg}", field_errors={label: [msg]})
        elif isinstance(item, dict):
            for k, v in item.items():
                problem = text_problem(k)
                if problem:
                    raise BadInput(f"{label} : {problem}", field_errors={label: [problem]})
                stack.append((f"{path}.{k}" if path else str(k), v))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(item))


def _no_constant(name: str) -> Any:
    raise ValueError(_("%(name)s n'est pas un nombre JSON valide.") % {"name": name})


def parse_json(raw: bytes | str) -> Any:
    """Parse a JSON request body and check it as a whole (see `check_json_tree`)."""
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, bad UTF-8, 4,300+ digit integers
        raise BadInput(
            _("Corps de requête illisible : JSON invalide (%(e)s).") % {"e": e}
        ) from None
    check_json_tree(value)
    return value


def french_message(error: dict[str, Any]) -> str:
    """A pydantic validation error said in French (the field is named by the caller)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "string_too_long":
        return _("texte trop long (%(n)s caractères au plus).") % {"n": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("texte trop court (%(n)s caractères au moins).") % {"n": ctx.get("min_length")}
    if kind in ("too_long", "too_short"):
        return _("nombre d'éléments hors limites.")
    if kind == "less_than_equal":
        return _("doit être inférieur ou égal à %(v)s.") % {"v": ctx.get("le")}
    if kind == "greater_than_equal":
        return _("doit être supérieur ou égal à %(v)s.") % {"v": ctx.get("ge")}
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("nombre entier attendu.")
    if kind in ("float_parsing", "float_type", "finite_number"):
        return _("nombre attendu.")
    if kind in ("bool_parsing", "bool_type"):
        return _("vrai ou faux attendu.")
    if kind in ("string_type", "string_unicode"):
        return _("texte attendu.")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("objet JSON attendu.")
    if kind == "list_type":
        return _("liste attendue.")
    if kind == "missing":
        return _("champ obligatoire.")
    if kind in ("literal_error", "enum"):
        return _("valeur non permise ; valeurs possibles : %(values)s.") % {
            "values": str(ctx.get("expected", "")).replace(" or ", " ou ")
        }
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")
    return str(error.get("msg", _("valeur invalide.")))


def check_page(limit: int, offset: int, max_limit: int = 100) -> None:
    """Pagination bounds of every list endpoint (huge offsets would overflow the SQL OFFSET)."""
    if not 1 <= limit <= max_limit or not 0 <= offset <= MAX_OFFSET:
        raise BadInput(
            _("limit doit être entre 1 et %(max)d et offset entre 0 et %(off)d.")
            % {"max": max_limit, "off": MAX_OFFSET},
            field_errors={
                "limit" if not 1 <= limit <= max_limit else "offset": [_("hors limites.")]
            },
        )
