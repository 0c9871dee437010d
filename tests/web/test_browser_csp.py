"""Real Chromium: the Content-Security-Policy blocks nothing on the main pages (no inline script,
handler or style left behind), and Swagger UI still works under it."""

from __future__ import annotations

import os

import pytest

from tests.web.test_browser import sign_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
    e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));
"""


def watch(page):  # type: ignore[no-untyped-def]
    """Collect CSP reports both from the DOM event and from the console."""
    console: list[str] = []
    page.add_init_script(LISTEN)
    page.on(
        "console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None
    )
    return console


def violations(page, console):  # type: ignore[no-untyped-def]
    return list(console) + page.evaluate("window.__cspViolations || []")


def test_no_csp_violation_on_the_main_pages(browser, live_server, world, active):
    from pacte.accounts.services import add_member
    from tests.factories import UserFactory

    ref, slug = active.pact.reference, active.pact.project.slug
    public = browser.new_context(locale="fr-FR").new_page()
    console = watch(public)
    for path in [
        "/",
        "/projets/",
        f"/projets/{slug}/",
        f"/pactes/{ref}/v1/",
        "/journal/",
        "/journal/verifiable/",
        "/catalogue/",
        "/evaluations/",
        "/connexion/",
        "/page-inconnue/",
    ]:
        public.goto(f"{live_server.url}{path}")
        public.wait_for_load_state("load")
        assert violations(public, console) == [], path
        # the stylesheet applied (a blocked stylesheet would leave the skip link visible)
        assert (
            public.evaluate("getComputedStyle(document.querySelector('.skip-link')).position")
            != "static"
        ), path

    # Swagger UI renders its operations under the policy
    public.goto(f"{live_server.url}/api/v1/docs")
    public.locator(".opblock").first.wait_for()
    assert public.locator(".opblock").count() > 10
    assert violations(public, console) == [], "/api/v1/docs"

    # signed in: dashboard, the pact editor, the language switch (a form, no script)
    person = UserFactory()
    add_member(person, world.carrier, ["carrier_admin"])
    page = sign_in(browser, live_server, person.username)
    console = watch(page)
    for path in ["/espace/", f"/espace/projets/{slug}/pacte/", f"/projets/{slug}/"]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        assert violations(page, console) == [], path
    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="Changer de langue").click()
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert violations(page, console) == []

    # control: the detector does see a violation (an inline handler injected into the page)
    page.evaluate(
        """document.body.insertAdjacentHTML('beforeend', '<img src="/static/pacte/pacte.css" onerror="window.ran = 1">')"""
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    assert any("script-src" in v for v in violations(page, console))
    assert page.evaluate("window.ran") is None
