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
import math
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

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
    "number_text",
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

    When the value holds no float and no key beyond U+FFFF, the standard library's C encoder
    writes them: there it writes the very same bytes (JCS escapes strings exactly as ``json``
    does with ``ensure_ascii=False``, integers alike, and code-point order equals UTF-16 order
    within the BMP); a lone surrogate, which JCS refuses, fails the UTF-8 encoding. A ``dict``
    made only of plain JSON values (floats included) is written by :func:`canonical_json_plain`
    without the conversion pass; with floats, it also writes the converted value (numbers by :func:`number_text`, ECMAScript's
    Number-to-String), several times faster than the pure-Python ``rfc8785``, which still
    writes whatever the plain writer declines (a key beyond U+FFFF, a ``str`` subclass).
    tests/engines/test_canonical.py checks that every path writes ``rfc8785``'s bytes, on every
    code point, on generated values and on generated doubles of every exponent.
    """
    plain = [True]
    if type(value) is dict:  # most hashed payloads are plain: no conversion pass at all
        text = canonical_json_plain(value)
        if text is not None:
            try:
                return text.encode("utf-8")
            except UnicodeEncodeError:
                pass  # a lone surrogate: refused below with the same error as before
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
        text = canonical_json_plain(converted)
        if text is not None:
            return text.encode("utf-8")
        return rfc8785.dumps(converted)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError) as exc:  # e.g. a lone surrogate
        raise CanonicalError(f"JSON canonique impossible : {exc}") from exc


def canonical_json(value: object) -> str:
    """RFC 8785 text of ``value`` (what :func:`canonical_bytes` encodes in UTF-8)."""
    return canonical_bytes(value).decode("utf-8")


_encode_str = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes
_isfinite = math.isfinite


def number_text(x: float) -> str:
    """The JSON number RFC 8785 writes for the finite double ``x`` (§3.2.2.3): ECMAScript's
    Number::toString (ECMA-262, Number.prototype.toString with radix 10).

    The digits are the shortest that read back as ``x`` (the closest such when several
    are): exactly what Python's ``repr`` gives (David Gay's shortest round-trip mode, the
    digits ``rfc8785`` also starts from). Only the layout differs, and is ECMAScript's: with
    ``digits`` the k significant digits and n the decimal exponent (``x`` = 0.digits × 10ⁿ),
    ``digits`` followed by n - k zeros when k ≤ n ≤ 21, a decimal point inside the digits when
    0 < n ≤ 21, ``0.`` and -n zeros before them when -6 < n ≤ 0, else exponential notation
    with an explicit sign (``1e+21``, ``1.5e-7``); ``-0.0`` is ``0``. NaN and infinities
    have no JSON number: :class:`CanonicalError`."""
    if not _isfinite(x):
        raise CanonicalError(f"nombre non fini ({x!r}) refusé en JSON canonique")
    r = repr(x)
    if "e" not in r:  # repr is positional only for 1e-4 <= |x| < 1e16: ES's positional too
        if r.endswith(".0"):
            return "0" if x == 0 else r[:-2]  # "-0.0": JCS writes 0
        return r
    sign = ""
    if r[0] == "-":
        sign, r = "-", r[1:]
    mantissa, _, exponent = r.partition("e")
    whole, _, fraction = mantissa.partition(".")  # repr: one nonzero digit before the point
    digits = (whole + fraction).rstrip("0")
    k = len(digits)
    n = int(exponent) + 1
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        text = (digits[0] + "." + digits[1:] if k > 1 else digits) + (
            f"e+{e}" if e >= 0 else f"e-{-e}"
        )
    return sign + text


def canonical_json_plain(value: object) -> str | None:
    """:func:`canonical_json` of a value built only of ``dict`` (``str`` keys within the BMP),
    ``list``, ``tuple``, ``str``, ``int``, finite ``float``, ``bool`` and ``None`` (exact types,
    no subclass), written directly, without the conversion pass (about 4× faster for the small
    dicts a log event carries, and several times faster than ``rfc8785`` for values holding
    floats); ``None`` for anything else (NaN or infinity, Decimal, datetime, a key beyond
    U+FFFF, a subclass…): the caller then uses :func:`canonical_json`, which converts or
    refuses it with its usual error.

    Same bytes: keys within the BMP sort the same by code point and by UTF-16 code unit,
    strings are escaped by the encoder :func:`canonical_bytes` uses, integers beyond
    ``2**53 - 1`` become their decimal digits as a string (:func:`jcs_value`), floats are
    written by :func:`number_text`. A lone surrogate is NOT refused here: it fails the UTF-8
    encoding of the text, as in :func:`canonical_bytes`. tests/engines/test_canonical.py checks
    both functions agree on generated values."""
    write = _PLAIN_WRITERS.get(type(value))
    return None if write is None else write(value)


# The plain writer, by exact type (a subclass is declined: its JSON form may differ).


def _plain_dict(value: dict[str, object]) -> str | None:
    for k in value:
        if type(k) is not str or (not k.isascii() and max(k) > "\uffff"):
            return None
    parts = []
    for k in sorted(value):
        v = value[k]
        write = _PLAIN_WRITERS.get(type(v))
        text = None if write is None else write(v)
        if text is None:
            return None
        parts.append(_encode_str(k) + ":" + text)
    return "{" + ",".join(parts) + "}"


def _plain_list(value: list[object] | tuple[object, ...]) -> str | None:
    items = []
    for v in value:
        write = _PLAIN_WRITERS.get(type(v))
        text = None if write is None else write(v)
        if text is None:
            return None
        items.append(text)
    return "[" + ",".join(items) + "]"


def _plain_int(value: int) -> str:
    return str(value) if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else _encode_str(str(value))


def _plain_float(value: float) -> str | None:
    return number_text(value) if _isfinite(value) else None


_PLAIN_WRITERS: dict[type, Callable[[Any], str | None]] = {
    str: _encode_str,
    dict: _plain_dict,
    list: _plain_list,
    tuple: _plain_list,
    int: _plain_int,
    float: _plain_float,
    bool: lambda v: "true" if v else "false",
    type(None): lambda _v: "null",
}


def sha256_hex(value: object) -> str:
    """SHA-256 (hex) of the RFC 8785 bytes of ``value``."""
    return hashlib.sha256(canonical_bytes(value)).hexdigest()
