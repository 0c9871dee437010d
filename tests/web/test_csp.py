"""A strict Content-Security-Policy on every response (django-csp)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    header = response["Content-Security-Policy"]
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_strict_policy_on_every_kind_of_page(client, world, active):
    ref, slug = active.pact.reference, active.pact.project.slug
    urls = [
        "/",
        "/projets/",
        f"/projets/{slug}/",
        f"/pactes/{ref}/v1/",
        "/journal/",
        "/connexion/",
        "/api/v1/docs",
        "/api/v1/projects",
        "/page-qui-n-existe-pas/",
    ]
    for url in urls:
        r = client.get(url)
        assert r.status_code in (200, 404), url
        d = directives(r)
        assert d["default-src"] == ["'self'"], url
        assert d["script-src"][0] == "'self'" and all(
            v == "'self'" or v.startswith("'nonce-") for v in d["script-src"]
        ), (url, d["script-src"])
        assert d["object-src"] == ["'none'"] and d["base-uri"] == ["'none'"], url
        assert d["frame-ancestors"] == ["'none'"] and d["form-action"] == ["'self'"], url
        assert "'unsafe-inline'" not in r["Content-Security-Policy"], url
        assert "'unsafe-eval'" not in r["Content-Security-Policy"], url


def test_pages_carry_no_inline_script_nor_handler(client, world, active):
    import re

    client.force_login(world.carrier_admin.user)
    for url in [
        "/",
        "/projets/",
        f"/projets/{active.pact.project.slug}/",
        f"/pactes/{active.pact.reference}/v1/",
        "/journal/",
        "/espace/",
        "/api/v1/docs",
    ]:
        html = client.get(url).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
        assert not re.search(r"\son[a-z]+\s*=", html), url
        assert not re.search(r"\sstyle\s*=", html), url
        assert "javascript:" not in html, url


def test_swagger_ui_is_served_from_our_own_static_files(client, db):
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn.jsdelivr.net" not in html


def test_a_nonce_is_fresh_for_each_response(rf):
    """Templates that need an inline script use request.csp_nonce; the header then carries it."""
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse
    from django.template import engines

    template = engines["django"].from_string('<script nonce="{{ request.csp_nonce }}">1</script>')

    def view(request):  # type: ignore[no-untyped-def]
        return HttpResponse(template.render({}, request))

    nonces = []
    for _ in range(2):
        request = rf.get("/")
        response = CSPMiddleware(view)(request)
        nonce = str(request.csp_nonce)
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
        assert f'nonce="{nonce}"' in response.content.decode()
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
