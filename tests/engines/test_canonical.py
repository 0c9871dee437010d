"""RFC 8785 (JCS) canonical JSON: the RFC's own vectors, and the one conversion rule."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import struct
import uuid

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from pacte.engines.canonical import (
    LOG_ENTRY_FORMAT,
    MAX_SAFE_INTEGER,
    PACT_FORMAT,
    CanonicalError,
    canonical_bytes,
    canonical_json,
    canonical_json_plain,
    jcs_value,
    number_text,
    sha256_hex,
)

# RFC 8785 Appendix B: IEEE 754 binary64 (hex) → the JSON number JCS writes.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),  # minus zero
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def _double(hex_bits: str) -> float:
    return float(struct.unpack(">d", bytes.fromhex(hex_bits))[0])


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_rfc8785_appendix_b_numbers(bits: str, expected: str) -> None:
    assert canonical_json(_double(bits)) == expected
    assert canonical_json([_double(bits)]) == f"[{expected}]"


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_rfc8785_appendix_b_nan_and_infinity_are_refused(bits: str) -> None:
    with pytest.raises(CanonicalError, match="non fini"):
        canonical_json({"x": _double(bits)})


def test_numbers_python_writes_differently() -> None:
    # what json.dumps wrote before (2.0, 1e-07, 1e+21 is the same, -0.0) against JCS
    assert json.dumps([2.0, 1e-07, -0.0, 4.50, 1e30]) == "[2.0, 1e-07, -0.0, 4.5, 1e+30]"
    assert (
        canonical_json([2.0, 1e-7, 1e21, -0.0, 4.50, 1e30, 2e-3])
        == "[2,1e-7,1e+21,0,4.5,1e+30,0.002]"
    )


def test_rfc8785_section_3_2_2_example() -> None:
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(json.loads(text)) == expected
    assert canonical_bytes(json.loads(text)) == expected.encode("utf-8")


def test_rfc8785_section_3_2_3_keys_sorted_by_utf16_code_units() -> None:
    doc = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = list(json.loads(canonical_json(doc)).values())
    assert order == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]
    # Python's own key order (code points) would put U+FB33 before U+1F600
    assert list(json.loads(json.dumps(doc, sort_keys=True)).values())[-1] == "Emoji: Grinning Face"


def test_strings_every_code_point_as_the_journal_fast_path_writes_them() -> None:
    # journal.services assembles entries with the C JSON string encoder: it must agree with
    # JCS for every code point JCS accepts (all but the surrogates).
    encode = json.encoder.encode_basestring  # type: ignore[attr-defined]
    for start in range(0, 0x110000, 0x800):
        chars = [chr(c) for c in range(start, start + 0x800) if not 0xD800 <= c <= 0xDFFF]
        text = "".join(chars)
        assert canonical_json(text) == encode(text) == rfc8785.dumps(text).decode(), hex(start)
        keys = {c: 0 for c in chars[::7]}  # keys of the BMP take the fast path; sorted alike
        assert canonical_bytes(keys) == rfc8785.dumps(keys), hex(start)
    with pytest.raises(CanonicalError):
        canonical_json("\ud800")


def test_the_one_conversion_rule() -> None:
    when = dt.datetime(2026, 3, 1, 10, 30, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    value = {
        "big": 2**60,
        "neg_big": -(2**53),
        "safe": MAX_SAFE_INTEGER,
        "money": decimal.Decimal("1500.50"),
        "exp": decimal.Decimal("1E+3"),
        "aware": when,
        "naive": dt.datetime(2026, 3, 1, 9, 30),
        "day": dt.date(2026, 3, 1),
        "at": dt.time(9, 30),
        "id": uuid.UUID(int=1),
        "tuple": (1, 2.0),
    }
    assert jcs_value(value) == {
        "big": "1152921504606846976",
        "neg_big": "-9007199254740992",
        "safe": 9007199254740991,
        "money": "1500.50",
        "exp": "1000",
        "aware": "2026-03-01T09:30:00.250000Z",
        "naive": "2026-03-01T09:30:00",
        "day": "2026-03-01",
        "at": "09:30:00",
        "id": "00000000-0000-0000-0000-000000000001",
        "tuple": [1, 2.0],
    }
    assert (
        canonical_json({"tuple": (1, 2.0), "safe": MAX_SAFE_INTEGER})
        == '{"safe":9007199254740991,"tuple":[1,2]}'
    )


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"a": {"b": [1, float("nan")]}}, "$.a.b[1]"),
        ({"a": decimal.Decimal("NaN")}, "$.a"),
        ({"a": {1: "x"}}, "$.a"),
        ({"a": b"bytes"}, "$.a"),
        ({"a": {1, 2}}, "$.a"),
        ({"a": object()}, "$.a"),
    ],
)
def test_unrepresentable_values_are_refused_with_their_place(value: object, where: str) -> None:
    with pytest.raises(CanonicalError) as caught:
        canonical_bytes(value)
    assert str(caught.value).startswith(where)
    assert isinstance(caught.value, ValueError)


def test_digest_and_format_versions() -> None:
    assert sha256_hex({"b": 2.0, "a": 1}) == hashlib.sha256(b'{"a":1,"b":2}').hexdigest()
    assert PACT_FORMAT == "pacte-pact/2" and LOG_ENTRY_FORMAT == "pacte-log-entry/2"


_text = st.text(
    st.characters(exclude_categories=("Cs",)), max_size=8
)  # no lone surrogates (JCS refuses them)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_both_encoders_write_the_rfc8785_bytes(value: object) -> None:
    # canonical_bytes takes the standard library's encoder when it may (no float, no key
    # beyond U+FFFF); whichever path it takes, the bytes are rfc8785's
    assert canonical_bytes(value) == rfc8785.dumps(jcs_value(value))


_plain_text = st.text(max_size=8)  # every code point, lone surrogates included
_plain_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _plain_text,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_plain_text, inner, max_size=4)
    ),
    max_leaves=20,
)


def _canonical_or_error(value: object) -> str | None:
    try:
        return canonical_json(value)
    except CanonicalError:
        return None


@settings(max_examples=500, deadline=None)
@given(_plain_json)
def test_the_plain_writer_writes_canonical_json_or_declines(value: object) -> None:
    # the log's fast writer: the same text as canonical_json, or None (then canonical_json)
    text = canonical_json_plain(value)
    if text is None:
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: canonical_json refuses the value too
        assert _canonical_or_error(value) is None
        return
    assert text == canonical_json(value)


def test_the_plain_writer_declines_what_needs_the_conversion_rule() -> None:
    assert canonical_json_plain({"a": [1, "b", None, True, False, {"c": -(2**60)}]}) == (
        canonical_json({"a": [1, "b", None, True, False, {"c": -(2**60)}]})
    )
    assert canonical_json_plain({"n": 2**53}) == '{"n":"9007199254740992"}'
    assert canonical_json_plain({"x": 1.5, "é": 2.0}) == '{"x":1.5,"é":2}'  # floats, BMP keys
    for declined in (
        {"d": decimal.Decimal("1.0")},
        {"t": dt.date(2026, 1, 1)},
        {"\U0001f600": 1},  # beyond U+FFFF: UTF-16 order differs from code points
        {"x": float("nan")},
        {"x": [float("inf")]},
        {1: "int key"},
        {"u": uuid.uuid4()},
        {"b": b"bytes"},
    ):
        assert canonical_json_plain(declined) is None


# --------------------------------------------------------------- floats: the fast writer (dp3)

_FINITE_BITS = (
    st.integers(min_value=0, max_value=2**64 - 1)
    .map(lambda b: struct.unpack(">d", b.to_bytes(8, "big"))[0])
    .filter(math.isfinite)
)  # every finite double, uniformly by bit pattern: subnormals, both zeros


def _around(x: float, steps: int = 3) -> list[float]:
    out = [x]
    lo = hi = x
    for _ in range(steps):
        lo, hi = math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf)
        out += [lo, hi]
    return [v for v in out + [-v for v in out] if math.isfinite(v)]


BOUNDARIES = [
    v
    for x in (
        0.0,
        5e-324,
        2.2250738585072014e-308,
        2.225073858507201e-308,  # subnormal / normal
        1e-7,
        1e-6,
        1e-5,
        1e-4,
        1.0,
        1e15,
        1e16,
        1e17,
        1e20,
        1e21,
        1e22,
        1e23,
        2.0**53,
        2.0**63,
        2.0**64,
        1.7976931348623157e308,
        0.1,
        0.5,
    )
    for v in _around(x)
]


@pytest.mark.parametrize("x", BOUNDARIES)
def test_number_text_at_the_layout_boundaries_is_rfc8785s(x: float) -> None:
    # ES switches to exponents at 1e21 and below 1e-6; repr at 1e16 and below 1e-4
    assert number_text(x) == rfc8785.dumps(x).decode()
    assert canonical_json({"x": [x]}) == '{"x":[' + rfc8785.dumps(x).decode() + "]}"


@settings(max_examples=3000, deadline=None)
@given(_FINITE_BITS)
def test_number_text_of_every_finite_double_is_rfc8785s(x: float) -> None:
    text = number_text(x)
    assert text == rfc8785.dumps(x).decode()
    assert float(text) == x  # and it reads back as the same double (-0.0 as 0)


@settings(max_examples=1000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True))
def test_number_text_of_generated_floats_is_rfc8785s(x: float) -> None:
    assert number_text(x) == rfc8785.dumps(x).decode()


_float_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | _FINITE_BITS
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_text, inner, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=500, deadline=None)
@given(_float_json)
def test_nested_payloads_with_floats_are_rfc8785s_bytes(value: object) -> None:
    expected = rfc8785.dumps(jcs_value(value))
    assert canonical_bytes(value) == expected
    plain = canonical_json_plain(value)
    if plain is not None:  # declined only for a key beyond U+FFFF
        assert plain.encode("utf-8") == expected


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_floats_are_still_refused_with_their_place(bad: float) -> None:
    payload = {"cells": [{"count": 1.5}, {"count": bad}]}
    assert canonical_json_plain(payload) is None  # the caller falls back to canonical_json
    with pytest.raises(CanonicalError, match=r"^\$\.cells\[1\]\.count : nombre non fini"):
        canonical_bytes(payload)
    with pytest.raises(CanonicalError, match="non fini"):
        number_text(bad)


def test_a_release_shaped_payload_takes_the_fast_writer_with_the_same_bytes() -> None:
    cells = [
        {"region": f"{r:02d}", "naf": chr(65 + s), "count": r * 1000 + s, "scale": 12.5 / (s + 1)}
        for r in range(13)
        for s in range(21)
    ]
    payload = {
        "cells": cells,
        "aggregates": [
            {"name": "count", "noise_scale": 141.42135623730951, "margin_95": 277.1859, "rho": 1e-7}
        ],
    }
    text = canonical_json_plain(payload)
    assert text is not None and "1e-7" in text and '"scale":12.5' in text
    assert canonical_bytes(payload) == text.encode() == rfc8785.dumps(payload)
