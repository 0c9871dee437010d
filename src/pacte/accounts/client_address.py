"""Who is on the other end of a sign-in: the client address and the account name, as
django-axes counts failures (per account and address, see settings).

The address is the TCP peer (REMOTE_ADDR) unless that peer is one of the reverse proxies named
in PACTE_TRUSTED_PROXIES; only then is X-Forwarded-For read, from the right (the entries the
trusted proxies appended), skipping trusted proxies, so that a client cannot choose its own
address by sending the header itself.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in spec)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.9:51234"
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[Network, ...]
) -> bool:
    return any(addr.version == n.version and addr in n for n in networks)


def client_address(request: HttpRequest) -> str:
    """The client's address as a string ("" when none can be told)."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return ""
    networks = _networks(tuple(settings.PACTE_TRUSTED_PROXIES))
    if not networks or not _trusted(peer, networks):
        return str(peer)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([h for h in forwarded.split(",") if h.strip()]):
        addr = _address(hop)
        if addr is None:
            return str(peer)  # a garbled chain: count it against the proxy, never trust it
        if not _trusted(addr, networks):
            return str(addr)
    return str(peer)


def normalised_username(request: HttpRequest, credentials: dict[str, str] | None = None) -> str:
    """Account names are compared case-insensitively, so "Porteur" and "porteur" share a count."""
    source = credentials if credentials is not None else request.POST
    # the admin's form posts "username"; allauth's sign-in posts "login" and authenticates with
    # "username" (and "email"), all carrying what the person typed
    typed = source.get("username") or source.get("login") or source.get("email") or ""
    return str(typed).strip().lower()
