"""The identity providers, from environment variables (read by settings; no Django here).

For each of FRANCECONNECT and PROCONNECT:

- ``PACTE_<NAME>_ISSUER``: the issuer URL; its discovery document is read at
  ``<issuer>/.well-known/openid-configuration`` (or give the full discovery URL);
- ``PACTE_<NAME>_CLIENT_ID`` and ``PACTE_<NAME>_CLIENT_SECRET``: the credentials the
  federation gave this service;
- ``PACTE_<NAME>_ACR`` (default ``eidas1``): the ``acr_values`` asked, checked in the ID token;
- ``PACTE_<NAME>_SCOPE`` (optional): the scopes asked, space-separated (defaults below).

A provider is offered only when its issuer and client id are set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Federation:
    key: str  # the provider id in URLs (/compte/oidc/<key>/login/)
    env: str  # environment variable prefix
    name: str  # shown on buttons
    audience: str  # "citizen" or "agent"
    scope: tuple[str, ...]


FRANCECONNECT = Federation(
    key="franceconnect",
    env="PACTE_FRANCECONNECT",
    name="FranceConnect",
    audience="citizen",
    # the "identité pivot" Pacte needs, and the e-mail to reach the person
    scope=("openid", "given_name", "family_name", "email", "birthdate"),
)
PROCONNECT = Federation(
    key="proconnect",
    env="PACTE_PROCONNECT",
    name="ProConnect",
    audience="agent",
    scope=("openid", "email", "given_name", "usual_name", "siret", "uid"),
)
FEDERATIONS = (FRANCECONNECT, PROCONNECT)


def federation(key: str) -> Federation | None:
    return next((f for f in FEDERATIONS if f.key == key), None)


def configured_apps(env: Mapping[str, str]) -> list[dict[str, Any]]:
    """allauth's APPS entries for the openid_connect provider."""
    apps = []
    for fed in FEDERATIONS:
        issuer = env.get(f"{fed.env}_ISSUER", "").strip()
        client_id = env.get(f"{fed.env}_CLIENT_ID", "").strip()
        if not issuer or not client_id:
            continue
        scope = env.get(f"{fed.env}_SCOPE", "").split() or list(fed.scope)
        apps.append(
            {
                "provider_id": fed.key,
                "name": fed.name,
                "client_id": client_id,
                "secret": env.get(f"{fed.env}_CLIENT_SECRET", ""),
                "settings": {
                    "server_url": issuer,
                    "scope": scope,
                    "acr_values": env.get(f"{fed.env}_ACR", "eidas1").strip() or "eidas1",
                    "token_auth_method": "client_secret_post",
                    "oauth_pkce_enabled": True,
                },
            }
        )
    return apps


def provider_origins(apps: list[dict[str, Any]]) -> list[str]:
    """The providers' origins, which the Content-Security-Policy's form-action must allow: the
    sign-in button and the sign-out form post to Pacte, which redirects there."""
    origins = []
    for app in apps:
        parsed = urlsplit(str(app["settings"]["server_url"]))
        if parsed.scheme and parsed.netloc:
            origins.append(f"{parsed.scheme}://{parsed.netloc}")
    return sorted(set(origins))
