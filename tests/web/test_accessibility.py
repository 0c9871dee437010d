"""RGAA 4.1 / WCAG 2.1 AA, measured with axe-core in real Chromium on the demo data.

Every page of the spine (public registry, journal, sign-in, back office) must have NO axe
violation for the WCAG 2.0/2.1 A and AA rules. Pages of other apps, when they exist, are
audited too but their violations are only reported (warnings), never hidden nor failing here.
Keyboard: the skip link comes first, is visible when focused and moves focus to the content;
every focusable element shows a visible focus indicator.

axe-core is pinned in tests/web/axe/package.json; `npm ci --prefix tests/web/axe` installs it
(scripts/test does it when node_modules is missing).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault(
    "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
)  # Playwright's sync API runs an event loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_JS = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
# RGAA also asks for a sound structure (headings 9.1, landmarks 12.6, skip link 12.7, unique ids 8.2):
# axe files these rules under "best-practice", so they are run on top of the WCAG ones.
STRUCTURE_RULES = [
    "heading-order",
    "page-has-heading-one",
    "empty-heading",
    "empty-table-header",
    "landmark-one-main",
    "landmark-unique",
    "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo",
    "landmark-no-duplicate-main",
    "landmark-banner-is-top-level",
    "landmark-contentinfo-is-top-level",
    "landmark-main-is-top-level",
    "region",
    "skip-link",
    "tabindex",
    "duplicate-id",
    "duplicate-id-active",
    "label-title-only",
    "table-duplicate-name",
    "presentation-role-conflict",
]
# Pages served by other apps (journal verifiable log, data catalogue, evaluations…): audited, reported only.
OTHER_APP_PAGES = ["/journal/verifiable/", "/catalogue/", "/donnees/", "/evaluations/", "/preuves/"]
OTHER_APP_NAMESPACES = ("journal", "data", "evidence")


@pytest.fixture
def browser(browser):  # type: ignore[no-untyped-def]
    """The run's Chromium (tests/conftest.py), once axe-core is known to be installed."""
    if not AXE_JS.exists():  # a missing tool must not pass silently: the gate would be empty
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `npm ci --prefix tests/web/axe`")
    return browser


@pytest.fixture
def demo(db, settings, monkeypatch):  # type: ignore[no-untyped-def]
    """The spine's demo only: the spine's gate must not depend on (nor wait for) the other domains' data."""
    from pacte import demo as spine_demo
    from tests import demo_data as demo_copy

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast sign-ins
    monkeypatch.setattr(spine_demo, "DEMO_EXTENSIONS", [])
    demo_copy.load()  # loaded once per run, restored afterwards (tests/demo_data.py)


@pytest.fixture
def full_demo(demo_data):  # type: ignore[no-untyped-def]
    """The demo with every domain's extension, to give the other apps' pages something to show."""


# The rules axe-core runs: the WCAG 2.0/2.1 A and AA tags, plus the structure rules this axe-core
# version knows. Found once per run by the two passes that define them (the tags, then the structure
# rules by id), read from the results (every rule run is listed: passed, violated, incomplete or
# inapplicable); every later page is audited by these same rules in ONE pass (``runOnly`` by rule id),
# about half the time of two passes, the same rules and checks.
_AUDITED_RULES: list[str] = []


def axe(page: Any) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; returns the violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    if not _AUDITED_RULES:
        violations, ran = page.evaluate(
            """async ([options, structure]) => {
            const known = new Set(axe.getRules().map(r => r.ruleId));
            const wcag = await axe.run(document, options);
            const rules = structure.filter(r => known.has(r));
            const more = await axe.run(document, {runOnly: {type: "rule", values: rules}});
            const ran = r => r.passes.concat(r.violations, r.incomplete, r.inapplicable).map(x => x.id);
            return [wcag.violations.concat(more.violations), ran(wcag).concat(ran(more))];
        }""",
            [AXE_OPTIONS, STRUCTURE_RULES],
        )
        assert len(set(ran)) > 50, "axe-core must run the WCAG and structure rules"
        _AUDITED_RULES.extend(sorted(set(ran)))
        return violations  # type: ignore[no-any-return]
    return page.evaluate(  # type: ignore[no-any-return]
        """async (rules) => (await axe.run(document, {runOnly: {type: "rule", values: rules}})).violations""",
        _AUDITED_RULES,
    )


def audited_context(browser: Any, **options: Any) -> Any:
    """A browser context whose pages load axe-core as they open (an init script: sent to Chromium
    once, instead of injecting the 500 kB script into each page audited)."""
    # axe-core runs in the page, where our Content-Security-Policy would refuse it (rightly);
    # the policy itself is tested in test_browser_csp.py.
    context = browser.new_context(bypass_csp=True, **options)
    context.add_init_script(path=str(AXE_JS))
    return context


def describe(violations: list[dict[str, Any]]) -> list[str]:
    out = []
    for v in violations:
        targets = "; ".join(
            " ".join(n["target"]) if isinstance(n["target"][0], str) else str(n["target"])
            for n in v["nodes"][:5]
        )
        out.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nœud(s)): {v['help']} → {targets}")
    return out


class Audit:
    """Collects the violations of several pages, so one run shows everything that is wrong."""

    def __init__(self) -> None:
        self.problems: dict[str, list[str]] = {}

    def check(self, page: Any, name: str) -> None:
        found = describe(axe(page))
        if found:
            self.problems[f"{name} ({page.url})"] = found

    def assert_clean(self) -> None:
        report = "\n".join(
            f"- {page}:\n    " + "\n    ".join(v) for page, v in self.problems.items()
        )
        assert not self.problems, f"axe-core violations (WCAG 2.1 A/AA):\n{report}"


def new_page(browser: Any, locale: str = "fr-FR") -> Any:
    return audited_context(browser, locale=locale).new_page()


def sign_in(browser: Any, live_server: Any, username: str, organisation: str | None = None) -> Any:
    from pacte.demo import DEMO_PASSWORD

    page = new_page(browser)
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/espace/")
    if organisation:
        from pacte.accounts.models import Organisation

        page.locator("#acting-org").select_option(
            str(Organisation.objects.get(slug=organisation).pk)
        )
        page.get_by_role("button", name="Changer", exact=True).click()
        page.wait_for_load_state()
    return page


def _pact(project_slug: str):  # type: ignore[no-untyped-def]
    from pacte.pacts.models import Pact

    return Pact.objects.get(project__slug=project_slug)


# ------------------------------------------------------------------ public pages


def test_public_pages_have_no_axe_violation(browser, live_server, demo):
    audit = Audit()
    page = new_page(browser)
    active = _pact("la-bonne-boite-citoyenne")
    amended = _pact("mes-droits")
    for name, url in [
        ("accueil", "/"),
        ("registre", "/projets/"),
        ("registre filtré", "/projets/?status=active&territory=France"),
        ("registre sans résultat", "/projets/?q=zzzz"),
        ("projet avec pacte en vigueur", "/projets/la-bonne-boite-citoyenne/"),
        ("projet avec pacte rompu", "/projets/trajectoire-jeunes/"),
        ("version", f"/pactes/{active.reference}/v1/"),
        ("différences", f"/pactes/{amended.reference}/diff/1/2/"),
        ("journal", "/journal/"),
        ("journal filtré", "/journal/?type=pact&project=mes-droits"),
        ("organisation", "/organisations/agence-emploi/"),
        ("connexion", "/connexion/"),
        ("page introuvable", "/projets/nexiste-pas/"),
    ]:
        response = page.goto(f"{live_server.url}{url}")
        assert response is not None and response.status < 500, url
        audit.check(page, name)
    # details opened (signature verification, journal entries) must be clean too
    page.goto(f"{live_server.url}/projets/la-bonne-boite-citoyenne/")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    audit.check(page, "projet, détails ouverts")
    audit.assert_clean()


def test_login_errors_are_accessible(browser, live_server, demo):
    audit = Audit()
    page = new_page(browser)
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_role("button", name="Se connecter").click()  # empty: inline field errors
    page.wait_for_load_state()
    assert page.locator(".field.has-error").count() == 2
    assert page.title().startswith("Erreur")
    # each error is announced with its field
    assert page.locator("#id_login").get_attribute("aria-invalid") == "true"
    assert "id_login_error" in (page.locator("#id_login").get_attribute("aria-describedby") or "")
    audit.check(page, "connexion, champs vides")
    page.get_by_label("Identifiant").fill("porteur")
    page.get_by_label("Mot de passe").fill("mauvais mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    assert page.title().startswith("Erreur")  # the title tells there is an error (RGAA 8.6)
    assert (
        page.evaluate("document.activeElement.className") == "error-summary"
    )  # focus on the summary
    audit.check(page, "connexion, identifiants incorrects")
    audit.assert_clean()


# ------------------------------------------------------------------ back office


def test_carrier_back_office_has_no_axe_violation(browser, live_server, demo):
    audit = Audit()
    page = sign_in(browser, live_server, "porteur", organisation="fondation-culture-libre")
    audit.check(page, "espace du porteur")
    pact = _pact("offre-legale-culture")
    draft = pact.versions.order_by("-number").first()
    edit = f"{live_server.url}/espace/pactes/{pact.reference}/v{draft.number}/modifier/"
    page.goto(edit)
    audit.check(page, "formulaire du pacte")
    # rule errors coming back from the services: summary + inline errors
    page.get_by_role("checkbox", name="Continuité du service", exact=True).uncheck()
    page.get_by_role("button", name="Enregistrer et soumettre").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    assert page.locator(".field.has-error").count() >= 1
    audit.check(page, "formulaire du pacte, erreurs des règles")
    # field errors from the form itself
    page.goto(edit)
    page.locator("#id_cure_days").fill("999")
    page.locator("#id_c-0-key").fill("pas une clé !")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_load_state()
    assert page.locator("#id_cure_days").get_attribute("aria-invalid") == "true"
    audit.check(page, "formulaire du pacte, erreurs de saisie")
    for name, url in [
        ("nouveau projet", "/espace/projets/nouveau/"),
        ("nouveau pacte", "/espace/projets/offre-legale-culture/pacte/"),
        ("clore la phase", "/espace/projets/offre-legale-culture/phase/"),
        ("jetons d'API", "/espace/jetons/"),
        ("version du brouillon", f"/pactes/{pact.reference}/v{draft.number}/"),
    ]:
        page.goto(f"{live_server.url}{url}")
        audit.check(page, name)
    page.goto(f"{live_server.url}/espace/projets/nouveau/")
    page.get_by_role("button", name="Créer le projet").click()
    page.wait_for_load_state()
    audit.check(page, "nouveau projet, erreurs")
    audit.assert_clean()


def test_review_queue_has_no_axe_violation(browser, live_server, demo):
    audit = Audit()
    page = sign_in(browser, live_server, "instructeur", organisation="region-val-de-loire")
    assert page.locator("#turn-caption").count() == 1  # the reviewer's queue is not empty
    audit.check(page, "file d'instruction")
    pact = _pact("coach-emploi")
    page.goto(f"{live_server.url}/pactes/{pact.reference}/v1/")
    assert page.get_by_role("button", name="Approuver").count() == 1
    audit.check(page, "version à instruire (actions)")
    page.goto(f"{live_server.url}/projets/la-bonne-boite-citoyenne/")
    audit.check(page, "projet vu par une institution")
    audit.assert_clean()


def test_english_pages_have_no_axe_violation(browser, live_server, demo):
    audit = Audit()
    page = new_page(browser, locale="en-GB")
    for name, url in [
        ("home (en)", "/"),
        ("registry (en)", "/projets/"),
        ("project (en)", "/projets/la-bonne-boite-citoyenne/"),
    ]:
        page.goto(f"{live_server.url}{url}")
        assert page.locator("html").get_attribute("lang") == "en"
        audit.check(page, name)
    audit.assert_clean()


# ------------------------------------------------------------------ keyboard


def test_skip_link_and_visible_focus(browser, live_server, demo):
    page = new_page(browser)
    page.goto(f"{live_server.url}/projets/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0 and box["width"] > 20, (
        "the skip link must show when focused"
    )
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    # the next Tab lands inside the content, not back in the header
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('main')")

    # every element reached by the keyboard shows a focus indicator (outline or ring)
    page.goto(f"{live_server.url}/projets/")
    seen = 0
    for _ in range(40):
        page.keyboard.press("Tab")
        style = page.evaluate("""() => {
            const el = document.activeElement, cs = getComputedStyle(el);
            return {tag: el.tagName, text: (el.textContent || el.name || '').trim().slice(0, 40),
                    outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2,
                    ring: cs.boxShadow !== 'none'};
        }""")
        if style["tag"] == "BODY":
            break
        seen += 1
        assert style["outline"] or style["ring"], f"no visible focus on {style}"
    assert seen >= 10


def test_pages_reflow_at_320_css_pixels(browser, live_server, demo):
    """WCAG 1.4.10: at 320 CSS px (400 % zoom) nothing needs horizontal scrolling, except data tables
    which scroll inside their own focusable region."""
    page = browser.new_context(locale="fr-FR", viewport={"width": 320, "height": 640}).new_page()
    active, amended = _pact("la-bonne-boite-citoyenne"), _pact("mes-droits")
    too_wide = {}
    for url in [
        "/",
        "/projets/",
        "/projets/la-bonne-boite-citoyenne/",
        f"/pactes/{active.reference}/v1/",
        f"/pactes/{amended.reference}/diff/1/2/",
        "/journal/",
        "/connexion/",
    ]:
        page.goto(f"{live_server.url}{url}")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        width = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if width[0] > width[1]:
            too_wide[url] = width
    assert not too_wide, f"horizontal scrolling at 320 px: {too_wide}"


# ------------------------------------------------------------------ other apps: report only


def _other_app_urls() -> list[str]:
    """Parameterless pages of the other apps' URL namespaces, plus the known candidates."""
    from django.urls import URLResolver, get_resolver

    urls = set(OTHER_APP_PAGES)

    def walk(patterns: list[Any], prefix: str, namespace: str | None) -> None:
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + route, p.namespace or namespace)
            elif namespace in OTHER_APP_NAMESPACES and "<" not in route and "(" not in route:
                urls.add("/" + prefix + route)

    walk(get_resolver().url_patterns, "", None)
    return sorted(urls)


def test_other_apps_pages_are_audited_and_reported(browser, live_server, full_demo):
    page = new_page(browser)
    audited, report = [], []
    for url in _other_app_urls():
        response = page.goto(f"{live_server.url}{url}")
        if response is None or response.status == 404:
            continue  # not built yet
        ctype = response.headers.get("content-type", "")
        if "html" not in ctype:
            continue
        audited.append(url)
        if response.status >= 500:
            report.append(f"{url}: HTTP {response.status}")
            continue
        found = describe(axe(page))
        if found:
            report.append(f"{url}:\n    " + "\n    ".join(found))
    print(f"\nother apps: audited {audited}")
    if report:  # not ours to fix: reported to their owners, never hidden
        warnings.warn("Accessibility of other apps' pages:\n" + "\n".join(report), stacklevel=1)
    if not audited:
        pytest.skip("no page of the other apps (journal, data, evidence) exists yet")
