"""The OpenAPI document is the API's contract: errors, pagination and bodies said once, for every route.

Schemathesis (tests/test_openapi_conformance.py) checks that the server keeps this contract;
these tests check the contract itself, and the fixes found by Schemathesis one by one.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pacte.engines import note


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    from pacte.api import api

    return json.loads(json.dumps(api.get_openapi_schema()))  # as served: string status codes


def _operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in openapi["paths"].items()
        for method, op in ops.items()
    ]


def test_every_route_documents_its_errors_with_the_one_error_body(openapi):
    operations = _operations(openapi)
    assert len(operations) >= 60
    for method, path, op in operations:
        codes = op["responses"]
        assert {"400", "503"} <= set(codes), (method, path)
        assert any(c.startswith("2") for c in codes), (method, path)
        for code, answer in codes.items():
            if code.startswith(("4", "5")):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, code)
        assert "Retry-After" in codes["503"]["headers"], (method, path)
        if op.get("security"):
            assert {"401", "403"} <= set(codes), (method, path)


def test_every_success_has_a_body_schema_or_a_documented_content_type(openapi):
    for method, path, op in _operations(openapi):
        for code, answer in op["responses"].items():
            if code.startswith("2") and code != "204":
                content = answer.get("content")
                assert content, (method, path, code)
                assert all(media.get("schema") for media in content.values()), (method, path)
    extract = openapi["paths"]["/api/v1/data/{dataset}/extract"]["get"]["responses"]["200"][
        "content"
    ]
    assert set(extract) == {"text/csv", "application/vnd.apache.parquet"}


def test_every_list_uses_the_one_bounded_pagination(openapi):
    lists = 0
    for _, path, op in _operations(openapi):
        params = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}
        if "limit" not in params:
            continue
        lists += 1
        limit, offset = params["limit"]["schema"], params["offset"]["schema"]
        assert limit["minimum"] == 1 and limit["maximum"] in (100, 500), path
        assert offset["minimum"] == 0 and offset["maximum"] == 1_000_000, path
        page = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit(
            "/", 1
        )[1]
        assert set(openapi["components"]["schemas"][page]["required"]) == {"count", "items"}, path
    # 13 + funding: programmes, contracts, payments, ledger + channels: channels, services, listings
    # + participation: comments, reuses
    # + comptoirs: posts, experts, expert requests, challenges
    assert lists == 26


def test_text_inputs_say_that_nul_is_refused(openapi):
    title = openapi["components"]["schemas"]["EvaluationIn"]["properties"]["title"]
    assert re.fullmatch(title["pattern"].replace("\\u0000", "\x00"), "ok") is not None
    assert re.search(title["pattern"], "a\x00b") is None


def test_required_multipart_fields_and_files_cannot_be_empty(openapi):
    """Found by Schemathesis: an empty form value or file counts as missing (Django drops it), so
    the schema now says minLength 1 (the server answered 400 to a schema-valid request)."""
    form = openapi["paths"]["/api/v1/audits"]["post"]["requestBody"]["content"][
        "multipart/form-data"
    ]["schema"]
    for field in ("file", "project", "title", "decision"):
        assert form["properties"][field]["minLength"] == 1, field
    # found by Schemathesis too: an optional form field is omitted, never sent as "null"
    assert (
        form["properties"]["min_group_size"]["type"] == "integer"
        and "anyOf" not in form["properties"]["min_group_size"]
    )


def test_idempotency_key_pattern_is_printable_ascii(openapi):
    header = next(
        p
        for p in openapi["paths"]["/api/v1/pacts"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    pattern = header["schema"]["pattern"].replace("\\x20", "\x20").replace("\\x7e", "\x7e")
    assert re.fullmatch(pattern, "7c0e-uuid") and not re.fullmatch(pattern, "clé")


def _cosigned_body() -> tuple[str, str]:
    log = note.generate_signer("log.example/api/v1/log")
    witness = note.CosignatureSigner("temoin.example/w", Ed25519PrivateKey.generate())
    text = note.checkpoint("log.example/api/v1/log", 5, bytes(32))
    signed = log.sign(text)
    line = witness.cosign(text, 100)
    return note.append_signatures(signed, [line]), line


def test_witness_body_pattern_matches_both_accepted_bodies():
    from pacte.journal.api import WITNESS_PATTERN

    cosigned, line = _cosigned_body()
    assert re.search(WITNESS_PATTERN, cosigned)
    assert re.search(WITNESS_PATTERN, line if line.endswith("\n") else line + "\n")
    assert not re.search(WITNESS_PATTERN, "bonjour\n")


@pytest.mark.django_db
def test_witness_lines_with_trailing_blank_lines_are_read_as_lines(client):
    """A body the documented pattern allows may end with blank lines ("$" matches before a final
    newline): it was read as a checkpoint (it contains a blank line) and refused as malformed
    (400); trailing blank lines now carry nothing (403 here: the witness is not registered)."""
    _, line = _cosigned_body()
    r = client.post(
        "/api/v1/log/witness", data=line.rstrip("\n") + "\n\n\n", content_type="text/plain"
    )
    assert r.status_code == 403 and "temoin.example/w" in r.json()["message"]


def test_closed_vocabularies_of_the_api_are_the_models_choices():
    """Schema-valid means accepted: the API's closed lists are exactly the models' choices."""
    from typing import get_args

    from pacte.comptoirs.api import ContributionIn, PostKind, ProblemIn, ProposalIn, ThemeCode
    from pacte.comptoirs.models import Post, Theme
    from pacte.participation.api import FollowTarget, ReuseKind
    from pacte.participation.models import Follow, Reuse

    assert set(get_args(PostKind)) == set(Post.Kind.values)
    kinds = {
        get_args(m.model_fields["kind"].annotation)[0]
        for m in (ProblemIn, ProposalIn, ContributionIn)
    }
    assert kinds == set(Post.Kind.values)
    assert set(get_args(ThemeCode)) == set(Theme.values)
    assert set(get_args(ReuseKind)) == set(Reuse.Kind.values)
    assert set(get_args(FollowTarget)) == set(Follow.Target.values)


def test_the_document_is_built_once_and_each_caller_gets_its_own_copy(monkeypatch):
    """The document is cached per prefix and language: a caller changing its copy changes nothing
    for the next one, and the cached document is not rebuilt."""
    from ninja import NinjaAPI

    from pacte.api import api

    first = api.get_openapi_schema()
    builds: list[str] = []
    build = NinjaAPI.get_openapi_schema

    def counted(self: NinjaAPI, **kwargs: Any) -> Any:
        builds.append(kwargs["path_prefix"])
        return build(self, **kwargs)

    monkeypatch.setattr(NinjaAPI, "get_openapi_schema", counted)
    first["paths"].clear()
    second = api.get_openapi_schema()
    assert builds == []
    assert len(second["paths"]) >= 60
    assert second == api.get_openapi_schema() and second is not api.get_openapi_schema()
    elsewhere = api.get_openapi_schema(path_prefix="/ailleurs/")
    assert builds == ["/ailleurs/"]
    assert all(path.startswith("/ailleurs/") for path in elsewhere["paths"])
