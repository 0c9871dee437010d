"""The public project page as a reader sees it once its lazy sections have arrived.

The page renders its pacts and first section itself; every other section is a placeholder, a
plain link to the section's own page inside ``<div data-section hx-get="URL">``, that htmx fills
with the body served at that URL (``HX-Request: true``). ``project_page`` does what htmx does:
it fetches each placeholder's URL as a fragment and puts the body in place of the link, so a
test reads each section at its own URL, reached from the page itself.
"""

from __future__ import annotations

import html
import re
from typing import Any

PLACEHOLDER = re.compile(
    r'(<div class="section-body" data-section hx-get="(?P<url>[^"]+)"[^>]*>)\s*<p><a href="[^"]+">.*?</a></p>\s*(</div>)',
    re.S,
)


def section_urls(page: str) -> list[str]:
    """The URLs of the page's lazy sections, in page order."""
    return [html.unescape(m.group("url")) for m in PLACEHOLDER.finditer(page)]


def fragment(client: Any, url: str) -> str:
    """A section's body as htmx asks for it."""
    r = client.get(url, headers={"HX-Request": "true"})
    assert r.status_code == 200, (url, r.status_code)
    body = r.content.decode()
    assert "<html" not in body  # a fragment, not the section's full page
    return body


def project_page(client: Any, slug: str, **params: str) -> str:
    """The project page with each lazy section's body fetched from its URL and put in place."""
    r = client.get(f"/projets/{slug}/", params)
    assert r.status_code == 200, r.status_code
    return PLACEHOLDER.sub(
        lambda m: m.group(1) + fragment(client, html.unescape(m.group("url"))) + m.group(3),
        r.content.decode(),
    )
