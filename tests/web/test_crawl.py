"""Issue 14: every page reachable from the home page and the workspace, for anonymous and for each
demo role — found by following links, never listed by hand — answers without error, shows no raw code
(the list comes from the models' choices and the labels registry, pacte.web.labels), has no axe-core
violation (WCAG 2.1 A/AA and the structure rules) and does not scroll sideways at 320 CSS px.

One Chromium, one page per role. The crawl keeps at most two URLs per URL pattern, and every page it
keeps is fetched and read (status, raw codes); in Chromium each URL pattern is audited once, on the
first of its pages reached (same route: same view and template), and a person's own pages once per
role and pattern. The figures (pages crawled, audited, time) are printed.
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.web.crawl import crawl, pattern_of, raw_codes_in
from tests.web.test_accessibility import AXE_JS, audited_context, axe, describe

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["porteur", "instructeur", "signataire", "donnees", "evaluateur", "auditeur"]
ENGLISH_KINDS = ("recurrence", "strength", "benefit", "method", "review_mode")


def detectable_codes() -> set[str]:
    """Codes that cannot be mistaken for French words: with '_' or '.', or English-only values, and
    every event type in the log; a code that its own French label contains (``publication``,
    ``encouragement``) is left out."""
    from pacte.web import labels

    tables = labels.kinds()
    french = {code for t in tables.values() for code, lab in t.items() if code in str(lab).lower()}
    codes = {c for c in labels.all_codes() if ("_" in c or "." in c) and len(c) > 3}
    for kind in ENGLISH_KINDS:
        codes |= set(tables.get(kind, {}))
    from pacte.journal.models import Event

    codes |= set(Event.objects.values_list("type", flat=True))  # every event the log holds
    return codes - french - {"none"} | {"semiannual"}


def _client_for(username: str | None) -> Client:
    from pacte.accounts.models import User

    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    if username:
        client.force_login(User.objects.get(username=username))
    return client


def test_every_reachable_page_for_every_role(browser, live_server, demo_data):
    started = time.monotonic()
    loaded = time.monotonic()
    codes = detectable_codes()
    crawls: dict[str, Any] = {}
    errors, raw = [], []
    for role in [None, *ROLES]:
        result = crawl(_client_for(role), ["/"] if role is None else ["/", "/espace/"])
        crawls[role or "anonyme"] = result
        for url, status in result.statuses.items():
            if status >= 400:
                errors.append(
                    f"{role or 'anonyme'}: {url} → {status} (lien sur {result.found_on.get(url)})"
                )
        for url, visible in result.pages.items():
            found = raw_codes_in(visible, codes)
            if found:
                raw.append(f"{role or 'anonyme'}: {url}: {', '.join(found)}")
    crawled = time.monotonic()
    axe_problems, too_wide, audited = _audit_in_chromium(browser, live_server, crawls)
    finished = time.monotonic()
    pages = sum(len(c.pages) for c in crawls.values())
    print(
        f"\ncrawl: {pages} pages crawled for {len(crawls)} roles, {len(audited)} audited in Chromium; "
        f"demo {loaded - started:.0f} s, crawl {crawled - loaded:.0f} s, "
        f"axe + 320 px {finished - crawled:.0f} s"
    )
    assert pages > 60, "the crawl must reach the platform's pages"
    assert not errors, "broken links or failing pages:\n" + "\n".join(errors)
    assert not raw, "raw codes on French pages:\n" + "\n".join(raw)
    assert not axe_problems, "axe-core violations:\n" + "\n".join(axe_problems)
    assert not too_wide, f"horizontal scrolling at 320 px: {too_wide}"


def _audit_in_chromium(
    browser: Any, live_server: Any, crawls: dict[str, Any]
) -> tuple[list[str], dict[str, list[int]], set[str]]:
    from pacte.demo import DEMO_PASSWORD

    if not AXE_JS.exists():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `npm ci --prefix tests/web/axe`")
    problems: list[str] = []
    too_wide: dict[str, list[int]] = {}
    audited: set[str] = set()
    for role, result in crawls.items():
        context = audited_context(browser, locale="fr-FR", viewport={"width": 320, "height": 800})
        page = context.new_page()
        if role != "anonyme":
            page.goto(f"{live_server.url}/connexion/")
            page.get_by_label("Identifiant").fill(role)
            page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_url(f"{live_server.url}/espace/")
        for url in result.pages:
            # a person's own pages differ per role (workspace, requests, grants): audited per
            # role; the public pages once
            own = url.startswith(("/espace/", "/donnees/demandes/", "/donnees/acces/"))
            pattern = pattern_of(urlsplit(url).path) or url
            key = f"{role} {pattern}" if own else pattern
            if key in audited:
                continue
            audited.add(key)
            page.goto(f"{live_server.url}{url}")
            width = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            if width[0] > width[1]:
                too_wide[f"{role} {url}"] = width
            found = describe(axe(page))
            if found:
                problems.append(f"{role} {url}:\n    " + "\n    ".join(found))
        context.close()
    return problems, too_wide, audited
