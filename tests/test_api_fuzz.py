"""Generated malformed input on every write route and every list route's query: never a 5xx.

The routes come from the OpenAPI document itself, so a new route is fuzzed without editing this
file. Values mix what broke the API before: NUL characters (PostgreSQL refuses them), lone
surrogates, integers beyond 64 bits, NaN and infinities, very long strings. Run on SQLite and on
PostgreSQL (scripts/test runs both), in autocommit as in production (transactional database).
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacte.accounts.services import create_api_token

NASTY_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "\ud800",
            "x\udfffy",
            "",
            "-1",
            "1e999",
            "NaN",
            "%00",
            "../..",
            "é" * 400,
        ]
    ),
    st.integers(min_value=1_000, max_value=30_000).map(lambda n: "x" * n),
)
NASTY_NUMBER = st.one_of(
    st.integers(),
    st.sampled_from([2**31, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**40, -1, 0]),
    st.floats(),  # NaN and infinities included: json.dumps writes NaN / Infinity
)
LEAF = st.one_of(NASTY_TEXT, NASTY_NUMBER, st.booleans(), st.none())
VALUE = st.recursive(
    LEAF,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(NASTY_TEXT, c, max_size=3),
    max_leaves=8,
)


def _operations(client):  # type: ignore[no-untyped-def]
    doc = client.get("/api/v1/openapi.json").json()
    components = doc.get("components", {}).get("schemas", {})
    writes, lists = [], []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            body_fields: list[str] = []
            for media in (op.get("requestBody") or {}).get("content", {}).values():
                schema = media.get("schema", {})
                if "$ref" in schema:
                    schema = components[schema["$ref"].rsplit("/", 1)[1]]
                body_fields += list(schema.get("properties", {}))
            if method in ("post", "put", "patch", "delete"):
                writes.append((method, path, body_fields))
            query = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            if method == "get" and query:
                lists.append((path, query))
    return writes, lists


@pytest.fixture
def fuzz(transactional_db, client, world, draft):  # type: ignore[no-untyped-def]
    tokens = [
        create_api_token(a.user, a.organisation, "fuzz")[1]
        for a in (world.carrier_admin, world.reviewer, world.signatory, world.auditor)
    ]
    values = {
        "reference": draft.pact.reference,
        "number": "1",
        "slug": draft.pact.project.slug,
        "key": "state-panel",
        "pk": "1",
        "dataset": "emploi",
        "release_id": "x",
    }
    writes, lists = _operations(client)
    assert len(writes) > 20 and len(lists) > 8  # the document lists the routes
    return client, tokens, values, writes, lists


def _fill(path: str, values: dict[str, str], action: str) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1).split(":")[-1]
        return action if name == "action" else values.get(name, "x")

    return re.sub(r"\{([^}]+)\}", one, path)


ACTIONS = st.sampled_from(
    ["submit", "approve", "sign", "withdraw", "request_changes", "renew", "x\x00", "draw"]
)


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_write_route_answers_5xx_to_malformed_json(fuzz, data):  # type: ignore[no-untyped-def]
    client, tokens, values, writes, _ = fuzz
    method, path, fields = data.draw(st.sampled_from(writes), label="route")
    url = _fill(path, values, data.draw(ACTIONS))
    body = data.draw(
        st.one_of(
            st.fixed_dictionaries({}, optional={f: VALUE for f in fields}),
            VALUE,
        ),
        label="body",
    )
    raw = json.dumps(body)  # lone surrogates are written as \\udxxx escapes, as a client would
    token = data.draw(st.sampled_from(tokens))
    r = getattr(client, method)(
        quote(url, safe="/"),
        data=raw,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code < 500, (method, url, r.status_code, r.content[:300])
    assert r["Content-Type"].startswith("application/json") or r.status_code < 400


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_list_route_answers_5xx_to_malformed_query(fuzz, data):  # type: ignore[no-untyped-def]
    client, _, values, _, lists = fuzz
    path, params = data.draw(st.sampled_from(lists), label="route")
    chosen = data.draw(
        st.dictionaries(
            st.sampled_from(params), st.one_of(NASTY_TEXT, NASTY_NUMBER.map(str)), min_size=1
        ),
        label="query",
    )
    query = "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in chosen.items())
    url = f"{quote(_fill(path, values, 'submit'), safe='/')}?{query}"
    r = client.get(url)
    assert r.status_code < 500, (url[:300], r.status_code, r.content[:300])
