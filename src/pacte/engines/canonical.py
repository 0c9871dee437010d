"""Canonical JSON of everything Pacte hashes or signs: RFC 8785 (JCS), in one place.

Pure module, no Django. The bytes are written by the maintained ``rfc8785`` package, so a
verifier in any language with a JCS implementation (JavaScript ``canonicalize``, Go, Java…)
reproduces them: keys sorted by their UTF-16 code units, no insignificant whitespace,
UTF-8, strings escaped as ECMAScript ``JSON.stringify`` does, and numbers written as
ECMAScript writes a double (``2.0`` → ``2``, ``1e-07`` → ``1e-7``, ``1e21`` → ``1e+21``,
``-0.0`` → ``0``).

JCS only represents I-JSON values. Anything else is first converted by ONE rule,
:func:`jcs_value`, applied the same way to pact documents, log entries, release and
query fingerprints, assignment and plan hashes, evidence sheets and exports:

========================================  ===============================================
Python value                              canonical JSON value
========================================  ===============================================
``None``, ``bool``, ``str``               unchanged (a lone surrogate is refused)
``int`` with ``|n| <= 2**53 - 1``         the number
``int`` beyond ``2**53 - 1``              its decimal digits, as a string
finite ``float``                          the number (shortest round-trip form)
NaN, ±infinity (``float`` or Decimal)     refused: :class:`CanonicalError`
finite ``decimal.Decimal``                its positional text, as a string
                                          (``Decimal("1500.50")`` → ``"1500.50"``,
                                          ``Decimal("1E+3")`` → ``"1000"``)
aware ``datetime``                        ISO 8601 in UTC with ``Z``, as a string
                                          (``2026-03-01T09:30:00.250000Z``)
naive ``datetime``, ``date``, ``time``    ISO 8601 (``isoformat()``), as a string
``uuid.UUID``                             its canonical hyphenated text, as a string
``list``, ``tuple``                       array
``dict`` / mapping with ``str`` keys      object (a non-string key is refused)
anything else (bytes, set, objects…)      refused: :class:`CanonicalError`
========================================  ===============================================

Signed objects carry a ``format`` member naming the version of their layout and of this
rule (:data:`PACT_FORMAT`, :data:`LOG_ENTRY_FORMAT`), so that a later change can be told
apart from the current one by any verifier.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import TypeAlias

import rfc8785

__all__ = [
    "LOG_ENTRY_FORMAT",
    "MAX_SAFE_INTEGER",
    "PACT_FORMAT",
    "CanonicalError",
    "JsonValue",
    "canonical_bytes",
    "canonical_json",
    "canonical_json_plain",
    "jcs_value",
    "sha256_hex",
]

# Version 1 was Python's json.dumps(sort_keys=True) (not RFC 8785); version 2 is JCS.
PACT_FORMAT = "pacte-pact/2"
LOG_ENTRY_FORMAT = "pacte-log-entry/2"

MAX_SAFE_INTEGER = 2**53 - 1  # RFC 7493 (I-JSON) §2.2; JavaScript's Number.MAX_SAFE_INTEGER

JsonValue: TypeAlias = "None | bool | int | float | str | list[JsonValue] | dict[str, JsonValue]"


class CanonicalError(ValueError):
    """A value that canonical JSON cannot represent; the message names where it is."""


def jcs_value(value: object, path: str = "$") -> JsonValue:
    """Convert ``value`` into plain JSON values by the rule of the module docstring."""
    return _convert(value, path, [True])


def _convert(value: object, path: str, plain: list[bool]) -> JsonValue:
    """:func:`jcs_value`; ``plain[0]`` becomes False when the value holds a float or a key with
    a character beyond U+FFFF (where JCS and the standard library's encoder may differ)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value) if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else str(int(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise CanonicalError(f"{path} : nombre non fini ({value!r}) refusé en JSON canonique")
        plain[0] = False
        return value
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise CanonicalError(
                f"{path} : nombre décimal non fini ({value}) refusé en JSON canonique"
            )
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.utcoffset() is None:
            return value.isoformat()
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat() + "Z"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_convert(v, f"{path}[{i}]", plain) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out: dict[str, JsonValue] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise CanonicalError(
                    f"{path} : clé {k!r} refusée en JSON canonique (une chaîne est attendue)"
                )
            if plain[0] and not k.isascii() and max(k) > "\uffff":
                plain[0] = False
            out[k] = _convert(v, f"{path}.{k}", plain)
        return out
    raise CanonicalError(
        f"{path} : type {type(value).__name__} non représentable en JSON canonique"
    )


def canonical_bytes(value: object) -> bytes:
    """RFC 8785 bytes of ``value`` (after :func:`jcs_value`).

    ``rfc8785`` writes them. When the value holds no float and no key beyond U+FFFF, the
    standard library's C encoder is used instead, several times faster: there it writes the
    very same bytes (JCS escapes strings exactly as ``json`` does with ``ensure_ascii=False``,
    integers alike, and code-point order equals UTF-16 order within the BMP); a lone
    surrogate, which JCS refuses, fails the UTF-8 encoding. tests/engines/test_canonical.py
    checks that both paths agree on every code point and on generated values.
    """
    plain = [True]
    converted = _convert(value, "$", plain)
    try:
        if plain[0]:
            return json.dumps(
                converted,
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
                allow_nan=False,
            ).encode("utf-8")
        return rfc8785.dumps(converted)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError) as exc:  # e.g. a lone surrogate
        raise CanonicalError(f"JSON canonique impossible : {exc}") from exc


def canonical_json(value: object) -> str:
    """RFC 8785 text of ``value`` (what :func:`canonical_bytes` encodes in UTF-8)."""
    return canonical_bytes(value).decode("utf-8")


_encode_str = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes


def canonical_json_plain(value: object) -> str | None:
    """:func:`canonical_json` of a value built only of ``dict`` (ASCII ``str`` keys), ``list``,
    ``tuple``, ``str``, ``int``, ``bool`` and ``None`` (exact types, no subclass), written
    directly, without the conversion pass (about 4× faster for the small dicts a log event
    carries); ``None`` for anything else (float, Decimal, datetime, a non-ASCII key, a
    subclass…): the caller then uses :func:`canonical_json`.

    Same bytes: ASCII keys sort the same by code point and by UTF-16 code unit, strings are
    escaped by the encoder :func:`canonical_bytes` uses, integers beyond ``2**53 - 1`` become
    their decimal digits as a string (:func:`jcs_value`). A lone surrogate is NOT refused
    here: it fails the UTF-8 encoding of the text, as in :func:`canonical_bytes`.
    tests/engines/test_canonical.py checks both functions agree on generated values."""
    t = type(value)
    if t is str:
        return _encode_str(value)  # type: ignore[arg-type]
    if isinstance(value, dict) and t is dict:
        keys = list(value)
        for k in keys:
            if type(k) is not str or not k.isascii():
                return None
        parts = []
        for k in sorted(keys):
            v = canonical_json_plain(value[k])
            if v is None:
                return None
            parts.append(f"{_encode_str(k)}:{v}")
        return "{" + ",".join(parts) + "}"
    if isinstance(value, int) and t is int:
        return (
            str(value)
            if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
            else _encode_str(str(value))
        )
    if value is None:
        return "null"
    if t is bool:
        return "true" if value else "false"
    if isinstance(value, list | tuple) and (t is list or t is tuple):
        items = []
        for item in value:
            v = canonical_json_plain(item)
            if v is None:
                return None
            items.append(v)
        return "[" + ",".join(items) + "]"
    return None


def sha256_hex(value: object) -> str:
    """SHA-256 (hex) of the RFC 8785 bytes of ``value``."""
    return hashlib.sha256(canonical_bytes(value)).hexdigest()
