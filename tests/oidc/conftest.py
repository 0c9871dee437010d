"""A real OpenID Connect provider for the sign-in tests: tests/oidc/provider.js (the certified
`oidc-provider` npm package, installed by scripts/test with `npm ci --prefix tests/oidc`),
started once per session for the live server, stopped at the end."""

from __future__ import annotations

import copy
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pacte.accounts.oidc.configuration import configured_apps, provider_origins

HERE = Path(__file__).resolve().parent
START_TIMEOUT = 60.0  # seconds, on a loaded machine


@pytest.fixture(scope="session")
def oidc_issuer(live_server: Any) -> Any:
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("oidc-provider is not installed: npm ci --prefix tests/oidc")
    process = subprocess.Popen(
        ["node", "provider.js", live_server.url],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the provider prints its issuer once it listens
        if not line:
            pytest.fail(f"the OpenID Connect provider did not start (exit {process.poll()})")
        issuer = json.loads(line)["issuer"]
        discovery = f"{issuer}/.well-known/openid-configuration"
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # poll the discovery document until the provider answers
            try:
                if httpx.get(discovery, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("the OpenID Connect provider never served its discovery document")
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def provider_environment(issuer: str) -> dict[str, str]:
    """The environment a deployment would set (README, docs/accounts.md)."""
    return {
        "PACTE_FRANCECONNECT_ISSUER": issuer,
        "PACTE_FRANCECONNECT_CLIENT_ID": "pacte-franceconnect",
        "PACTE_FRANCECONNECT_CLIENT_SECRET": "pacte-franceconnect-secret",
        "PACTE_PROCONNECT_ISSUER": issuer,
        "PACTE_PROCONNECT_CLIENT_ID": "pacte-proconnect",
        "PACTE_PROCONNECT_CLIENT_SECRET": "pacte-proconnect-secret",
    }


@pytest.fixture
def federations(settings: Any, oidc_issuer: str) -> str:
    """FranceConnect and ProConnect configured against the test provider, as from the
    environment; the Content-Security-Policy lets forms go there."""
    apps = configured_apps(provider_environment(oidc_issuer))
    providers = dict(settings.SOCIALACCOUNT_PROVIDERS)
    providers["openid_connect"] = {**providers["openid_connect"], "APPS": apps}
    settings.SOCIALACCOUNT_PROVIDERS = providers
    csp = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    csp["DIRECTIVES"]["form-action"] = [*csp["DIRECTIVES"]["form-action"], *provider_origins(apps)]
    settings.CONTENT_SECURITY_POLICY = csp
    return oidc_issuer
