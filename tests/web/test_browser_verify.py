"""Checking signatures and the log in the browser itself (static/pacte/verify.js, WebCrypto),
and the API docs served from our own static files — in Debian's Chromium, under the strict
Content-Security-Policy the server sends (``script-src 'self'``, no inline script)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

os.environ.setdefault(
    "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
)  # Playwright's sync API runs an event loop

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VERIFY = "Vérifier dans mon navigateur"


class Page:
    """A French page that only talks to the live server: any request elsewhere is aborted and
    recorded, any CSP violation is recorded, every document must carry the strict CSP."""

    def __init__(self, browser, live_server):  # type: ignore[no-untyped-def]
        self.context = browser.new_context(locale="fr-FR")
        self.page = self.context.new_page()
        self.host = urlsplit(live_server.url).netloc
        self.outside: list[str] = []
        self.csp_violations: list[str] = []
        self.page.on("console", self._console)
        self.page.route("**/*", self._guard)

    def _console(self, msg) -> None:  # type: ignore[no-untyped-def]
        if "Content Security Policy" in msg.text:
            self.csp_violations.append(msg.text)

    def _guard(self, route) -> None:  # type: ignore[no-untyped-def]
        request = route.request
        if urlsplit(request.url).netloc != self.host:
            self.outside.append(request.url)
            route.abort()
            return
        route.fallback()

    def goto(self, url: str):  # type: ignore[no-untyped-def]
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
        return response

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_page(browser, live_server):  # type: ignore[no-untyped-def]
    pages: list[Page] = []

    def make() -> Page:
        pages.append(Page(browser, live_server))
        return pages[-1]

    yield make
    for p in pages:
        p.close()


def _alter_one_byte(route) -> None:  # type: ignore[no-untyped-def]
    response = route.fetch()
    body = bytearray(response.body())
    body[20] ^= 0x01  # one bit of one byte
    route.fulfill(response=response, body=bytes(body))


# ---------------------------------------------------------------- pact signatures


def test_pact_signatures_check_in_the_browser(open_page, live_server, active):
    p = open_page()
    page = p.page
    p.goto(f"{live_server.url}/pactes/{active.pact.reference}/v{active.number}/")
    button = page.get_by_role("button", name=VERIFY)
    button.focus()
    page.keyboard.press("Enter")  # keyboard works
    region = page.locator(f"#verify-pact-{active.pk}")
    expect(region.locator("[data-outcome]")).to_have_attribute("data-outcome", "valide")
    expect(region).to_contain_text("Résultat : les 2 signatures sont valides.")
    checks = region.locator("[data-check=signature]")
    expect(checks).to_have_count(2)
    for i in range(2):
        expect(checks.nth(i)).to_have_attribute("data-result", "valide")
    # the digest the browser computed itself is shown, and it is the one signed
    expect(region).to_contain_text(active.canonical_sha256)
    expect(region).to_have_attribute("aria-live", "polite")
    assert p.csp_violations == [] and p.outside == []


def test_pact_page_reports_a_text_altered_by_one_byte(open_page, live_server, active):
    p = open_page()
    page = p.page
    page.route("**/canonique.json", _alter_one_byte)
    p.goto(f"{live_server.url}/projets/{active.pact.project.slug}/")
    page.get_by_role("button", name=VERIFY).click()
    region = page.locator(f"#verify-pact-{active.pk}")
    expect(region.locator("[data-outcome]")).to_have_attribute("data-outcome", "invalide")
    expect(region).to_contain_text("Résultat : au moins une signature est invalide.")
    checks = region.locator("[data-check=signature]")
    expect(checks).to_have_count(2)
    for i in range(2):
        expect(checks.nth(i)).to_have_attribute("data-result", "invalide")
        expect(checks.nth(i)).to_contain_text("le texte a changé depuis la signature")


def test_pact_page_reports_a_forged_signature(open_page, live_server, active):
    """The canonical text is intact, but one signature shown on the page is not the signer's."""
    p = open_page()
    page = p.page
    p.goto(f"{live_server.url}/pactes/{active.pact.reference}/v{active.number}/")
    first = page.locator("[data-pact-signature]").first
    sig = first.get_attribute("data-signature")
    assert sig
    forged = ("0" if sig[0] != "0" else "1") + sig[1:]
    first.evaluate("(el, s) => { el.dataset.signature = s; }", forged)
    page.get_by_role("button", name=VERIFY).click()
    region = page.locator(f"#verify-pact-{active.pk}")
    expect(region.locator("[data-outcome]")).to_have_attribute("data-outcome", "invalide")
    checks = region.locator("[data-check=signature]")
    expect(checks.nth(0)).to_have_attribute("data-result", "invalide")
    expect(checks.nth(0)).to_contain_text("la signature Ed25519 ne correspond pas")
    expect(checks.nth(1)).to_have_attribute("data-result", "valide")


def test_a_browser_without_ed25519_is_told_so(open_page, live_server, active):
    """Older browsers lack Ed25519 in WebCrypto: the page says so and points to the manual way."""
    p = open_page()
    page = p.page
    page.add_init_script("""(() => {
        const real = crypto.subtle.importKey.bind(crypto.subtle);
        crypto.subtle.importKey = (format, data, alg, ...rest) =>
            (alg && alg.name === "Ed25519") ? Promise.reject(new DOMException("no Ed25519", "NotSupportedError"))
                                            : real(format, data, alg, ...rest);
    })()""")
    p.goto(f"{live_server.url}/pactes/{active.pact.reference}/v{active.number}/")
    page.get_by_role("button", name=VERIFY).click()
    region = page.locator(f"#verify-pact-{active.pk}")
    expect(region.locator("[data-outcome]")).to_have_attribute(
        "data-outcome", "non-verifie"
    )  # not "invalide"
    expect(region).to_contain_text("Votre navigateur ne sait pas vérifier les signatures Ed25519")


def test_a_failed_download_is_not_called_invalid(open_page, live_server, active):
    p = open_page()
    page = p.page
    page.route("**/canonique.json", lambda route: route.fulfill(status=503, body="indisponible"))
    p.goto(f"{live_server.url}/pactes/{active.pact.reference}/v{active.number}/")
    page.get_by_role("button", name=VERIFY).click()
    region = page.locator(f"#verify-pact-{active.pk}")
    expect(region.locator("[data-outcome]")).to_have_attribute("data-outcome", "non-verifie")
    expect(region).to_contain_text("(réponse 503)")


# ------------------------------------------------------------------------- the log


def _signed_entry_index() -> int:
    from pacte.journal.models import Event

    return (
        Event.objects.filter(type="pact.signed")
        .order_by("index")
        .values_list("index", flat=True)
        .first()
    )


def test_log_entry_inclusion_checks_in_the_browser(open_page, live_server, active):
    index = _signed_entry_index()
    p = open_page()
    page = p.page
    p.goto(f"{live_server.url}/journal/entree/{index}/")
    page.get_by_role("button", name=VERIFY).click()
    region = page.locator("#verify-log")
    expect(region.locator("[data-outcome]")).to_have_attribute("data-outcome", "valide")
    expect(region).to_contain_text(
        f"Résultat : valide — l'entrée n° {index} est inscrite dans le journal"
    )
    expect(region).to_contain_text("Signature Ed25519 du point de contrôle")
    expect(region).to_contain_text("identique à la racine signée")
    assert region.locator("[data-result=invalide]").count() == 0
    assert p.csp_violations == [] and p.outside == []


@pytest.mark.parametrize(
    "tamper, step",
    [
        ("entry", "différente de la racine signée"),
        ("checkpoint", "invalide — le point de contrôle a été modifié"),
        ("proof", "différente de la racine signée"),
    ],
)
def test_log_entry_page_reports_tampering(open_page, live_server, active, tamper, step):
    index = _signed_entry_index()
    p = open_page()
    page = p.page

    def altered_entry(route) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        data = response.json()
        data["items"][0]["entry"] = data["items"][0]["entry"].replace(
            '"pact.signed"', '"pact.signee"'
        )
        assert data["items"][0]["entry"] != response.json()["items"][0]["entry"]
        route.fulfill(response=response, json=data)

    def altered_checkpoint(route) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        text = response.text()
        body, _, sigs = text.rpartition("\n\n")
        origin, size, root, *rest = body.split("\n")
        # claim the same tree under the name of another origin: the signature no longer covers it
        route.fulfill(
            response=response, body="\n".join([origin + "-x", size, root, *rest]) + "\n\n" + sigs
        )

    def altered_proof(route) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        data = response.json()
        assert data["proof"], "the tree must have more than one entry for this test"
        h = data["proof"][0]
        data["proof"][0] = ("0" if h[0] != "0" else "1") + h[1:]
        route.fulfill(response=response, json=data)

    if tamper == "entry":
        page.route("**/api/v1/log/entries?*", altered_entry)
    elif tamper == "checkpoint":
        page.route("**/api/v1/log/checkpoint", altered_checkpoint)
    else:
        page.route("**/api/v1/log/proof/inclusion?*", altered_proof)
    p.goto(f"{live_server.url}/journal/entree/{index}/")
    page.get_by_role("button", name=VERIFY).click()
    region = page.locator("#verify-log")
    expect(region.locator("[data-outcome]")).to_have_attribute("data-outcome", "invalide")
    expect(region).to_contain_text("Résultat : invalide")
    expect(region.locator("[data-result=invalide]").first).to_contain_text(step)


# ------------------------------------------------------------------------ API docs


def test_api_docs_render_from_our_own_static_files(open_page, live_server, db):
    p = open_page()
    page = p.page
    p.goto(f"{live_server.url}/api/v1/docs")
    # Swagger UI drew the operations (the first schema build is slow on a loaded machine: a generous bound)
    expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=120_000)
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/log/checkpoint")).to_have_count(
        1
    )
    assert page.locator(".opblock").count() > 10
    assert p.outside == [], f"requests left the server: {p.outside}"
    assert p.csp_violations == []


# ------------------------------------------------------------------- accessibility


def test_verification_results_have_no_axe_violation(browser, live_server, active):
    """The buttons and the results they write pass axe-core (WCAG 2.1 A/AA), in French."""
    from tests.web.test_accessibility import AXE_JS, axe, describe

    if not AXE_JS.exists():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `npm ci --prefix tests/web/axe`")
    context = browser.new_context(
        locale="fr-FR", bypass_csp=True
    )  # axe is injected as an inline script
    page = context.new_page()
    problems = {}
    for url, region in [
        (f"/pactes/{active.pact.reference}/v{active.number}/", f"#verify-pact-{active.pk}"),
        (f"/journal/entree/{_signed_entry_index()}/", "#verify-log"),
    ]:
        page.goto(f"{live_server.url}{url}")
        page.get_by_role("button", name=VERIFY).click()
        expect(page.locator(f"{region} [data-outcome]")).to_have_attribute("data-outcome", "valide")
        found = describe(axe(page))
        if found:
            problems[url] = found
    context.close()
    assert not problems, problems
