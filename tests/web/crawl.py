"""Find every page a person reaches from the home page and the workspace, by following links
(never a hand-written list), and read what a page shows to a person.

Pages are grouped by their URL pattern (Django's route): at most ``per_pattern`` URLs of each pattern
are kept (two project pages say what every project page says), which keeps the crawl short.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from django.urls import Resolver404, resolve

SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/media/", "/i18n/", "/langue/", "/deconnexion/")
SKIP_SUFFIXES = (".json", ".csv", ".parquet", ".txt", ".xml", ".pdf", ".zip")
# Technical content shown as such: raw entries, hashes, keys, identifiers (experts read them as code).
TECHNICAL_TAGS = {"pre", "code", "script", "style", "kbd", "samp"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if tag in TECHNICAL_TAGS or "technical" in (a.get("class") or "").split():
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in TECHNICAL_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def read(html: str) -> tuple[list[str], str]:
    """(links, visible text without technical blocks) of a page."""
    p = _Page()
    p.feed(html)
    return p.links, re.sub(r"\s+", " ", " ".join(p.text))


def pattern_of(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return f"{match.namespace}:{match.route}"


@dataclass
class Crawl:
    pages: dict[str, str] = field(default_factory=dict)  # url → visible text
    statuses: dict[str, int] = field(default_factory=dict)
    found_on: dict[str, str] = field(default_factory=dict)  # url → the page that links to it
    patterns: dict[str, list[str]] = field(default_factory=dict)


def crawl(client: Any, starts: list[str], per_pattern: int = 2, limit: int = 400) -> Crawl:
    """Breadth-first over same-site links, GET only, HTML pages only."""
    out = Crawl()
    queue: deque[str] = deque(starts)
    seen = set(starts)
    while queue and len(out.statuses) < limit:
        url = queue.popleft()
        response = client.get(url)
        out.statuses[url] = response.status_code
        if response.status_code in (301, 302):
            continue
        if "html" not in response.get("Content-Type", ""):
            continue
        links, visible = read(response.content.decode())
        out.pages[url] = visible
        for href in links:
            target = _internal(url, href)
            if target is None or target in seen:
                continue
            pattern = pattern_of(urlsplit(target).path)
            if pattern is None:
                seen.add(target)
                out.statuses[target] = 404
                out.found_on[target] = url
                continue
            kept = out.patterns.setdefault(pattern, [])
            if len(kept) >= per_pattern:
                continue
            kept.append(target)
            seen.add(target)
            out.found_on[target] = url
            queue.append(target)
    return out


def _internal(base: str, href: str) -> str | None:
    href = urldefrag(href)[0]
    if not href or href.startswith(("mailto:", "tel:", "javascript:")):
        return None
    absolute = urljoin("http://testserver" + base, href)
    parts = urlsplit(absolute)
    if parts.netloc != "testserver":
        return None
    path = parts.path
    if path.startswith(SKIP_PREFIXES) or path.endswith(SKIP_SUFFIXES):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def raw_codes_in(text: str, codes: set[str]) -> list[str]:
    """The codes that appear as whole words in a page's visible text."""
    found = []
    for code in codes:
        if code in text and re.search(rf"(?<![\w.@/-]){re.escape(code)}(?![\w@/-]|\.\w)", text):
            found.append(code)
    return sorted(found)
