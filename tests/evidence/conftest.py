from __future__ import annotations

import json
from typing import Any

import pytest

from pacte.accounts.models import Role
from pacte.accounts.services import Acting, create_api_token
from tests.conftest import _acting


@pytest.fixture
def evaluator(world) -> Acting:  # type: ignore[no-untyped-def]
    return _acting(world.evaluator_org, [Role.EVALUATOR])


@pytest.fixture
def project(active):  # type: ignore[no-untyped-def]
    return active.pact.project


def bearer(acting: Acting) -> dict[str, str]:
    _, raw = create_api_token(acting.user, acting.organisation, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client, url: str, body: dict[str, Any], headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        url, data=json.dumps(body), content_type="application/json", **(headers or {})
    )


REFERENCE = {
    "n_treatment": 100_000,
    "successes_treatment": 22_100,
    "n_control": 100_000,
    "successes_control": 19_990,
}


def outcomes_csv(n_t: int, s_t: int, n_c: int, s_c: int, prefix: str = "u") -> bytes:
    lines = ["unit_id,arm,outcome"]
    for i in range(n_t):
        lines.append(f"{prefix}t{i},treatment,{1 if i < s_t else 0}")
    for i in range(n_c):
        lines.append(f"{prefix}c{i},control,{1 if i < s_c else 0}")
    return ("\n".join(lines) + "\n").encode()
