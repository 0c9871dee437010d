"""The API answers as its OpenAPI document says: Schemathesis, in process, every check.

Schemathesis reads /api/v1/openapi.json from the WSGI application and generates valid and
invalid requests for every operation (examples and fuzzing phases, derandomized, a few
examples per operation; see COVERAGE for the longer run). The database holds demo-like data
built by the factories: two organisations and their members, an active pact, a published
dataset and a DP grant. Each case is sent twice: anonymously, then authenticated, with the
grant's token on the gateway routes (/data/…) and with an organisation member's API token
(carrier administrator) everywhere else. Every built-in check is on (none is excluded),
among them not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance, response_headers_conformance, positive_data_acceptance and
negative_data_rejection: a route that answers a 5xx or an undocumented status, a body or a
header off its schema, refuses a request its schema allows or accepts one it forbids fails.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from pacte.accounts.services import create_api_token
from pacte.writes.idempotency import HEADER, KEY_MAX_LENGTH
from tests.data.conftest import DP_COLUMNS, grant_for, hiring, parquet_files  # noqa: F401 (fixtures)

CHECKS_REQUIRED = {
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
}

# Examples and fuzzing phases, valid and invalid data, a few derandomized examples per operation.
# PACTE_SCHEMATHESIS_COVERAGE=1 adds the coverage phase (boundary values of every parameter,
# missing parameters, other HTTP methods): about 1,000 more requests, minutes instead of seconds.
COVERAGE = os.environ.get("PACTE_SCHEMATHESIS_COVERAGE", "") == "1"
CONFIG = {
    "generation": {"deterministic": True, "max-examples": 5, "database": "none"},
    "phases": {"coverage": {"enabled": COVERAGE}, "stateful": {"enabled": False}},
}


@pytest.fixture
def keep_test_connection():  # type: ignore[no-untyped-def]
    """In-process WSGI requests must not close the test's database connection (like django.test.Client)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(world, active, hiring) -> dict[str, str]:  # type: ignore[no-untyped-def]  # noqa: F811
    """Demo-like data: an active pact, a published dataset with a DP grant."""
    _, grant_token = grant_for(world, active, hiring, 3, DP_COLUMNS)
    return {
        "member": create_api_token(
            world.carrier_admin.user, world.carrier_admin.organisation, "conformité"
        )[1],
        "grantee": grant_token,
    }


@pytest.fixture
def api_schema(db, keep_test_connection, tokens):  # type: ignore[no-untyped-def]
    from pacte.wsgi import application

    config = schemathesis.config.SchemathesisConfig.from_dict(CONFIG)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):  # type: ignore[no-untyped-def]
    """Schemathesis 4.32 names each operation's subtest through `node._nodeid`, which pytest 9
    no longer sets (it keeps `_id`); give it the attribute it reads."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def _uses_grant(case: Any) -> bool:
    security = case.operation.definition.raw.get("security") or []
    return any("GrantAuth" in s for s in security)


def _fresh_idempotency_key(case: Any) -> None:
    """A client uses a new Idempotency-Key for a new operation (the same key with another body
    is refused, 422, as the IETF draft says); the schema cannot say "unique", so a valid
    generated key gets a unique suffix. An invalid one is sent as generated."""
    key = (case.headers or {}).get(HEADER)
    if (
        isinstance(key, str)
        and 0 < len(key) <= KEY_MAX_LENGTH
        and key.isascii()
        and key.isprintable()
    ):
        case.headers[HEADER] = f"{key[: KEY_MAX_LENGTH - 33]}-{uuid.uuid4().hex}"


@pytest.mark.conformance
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, tokens):  # type: ignore[no-untyped-def]
    _fresh_idempotency_key(case)
    case.call_and_validate()  # anonymous
    token = tokens["grantee"] if _uses_grant(case) else tokens["member"]
    _fresh_idempotency_key(case)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})


def test_every_required_check_is_on(api_schema):  # type: ignore[no-untyped-def]
    from schemathesis.checks import load_all_checks

    load_all_checks()
    config = api_schema.config.checks_config_for(operation=None, phase=None)
    enabled = {name for name in CHECKS_REQUIRED if getattr(config, name).enabled}
    assert enabled == CHECKS_REQUIRED
