"""Real Chromium: an agency embeds the channel's directory in a plain HTML page of its own site
(another origin, served from a temporary directory): the iframe and the script-free fragment both
render the listed services. The new channel pages pass axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

import http.server
import os
import threading
import urllib.request
from datetime import date
from functools import partial

import pytest

os.environ.setdefault(
    "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
)  # Playwright's sync API runs an event loop

from playwright.sync_api import expect  # noqa: E402

from pacte.accounts import policy  # noqa: E402
from pacte.channels import listings  # noqa: E402
from tests.channels.conftest import publish_all_evidence  # noqa: E402
from tests.web.test_accessibility import AXE_JS, Audit, new_page  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def agency_site(tmp_path):  # type: ignore[no-untyped-def]
    """A static web server on another port: the agency's own site."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Quiet, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_an_agency_embeds_the_directory_in_its_own_page(
    browser, live_server, agency_site, world, service, channel
) -> None:  # type: ignore[no-untyped-def]
    publish_all_evidence(world, service)
    listings.run_channels(policy.SYSTEM, date.today())
    root, site = agency_site
    # the agency's server includes the fragment (server-side include), and frames the directory page
    with urllib.request.urlopen(
        f"{live_server.url}/canaux/{channel.slug}/fragment.html?territory=Val-de-Loire&need=emploi"
    ) as response:
        fragment = response.read().decode()
    (root / "index.html").write_text(
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Agence</title></head>"
        "<body><main><h1>Nos services partenaires</h1>"
        f"{fragment}"
        f"<iframe id='annuaire' title='Annuaire' src='{live_server.url}/canaux/{channel.slug}/integrer/"
        "?territory=Val-de-Loire' width='800' height='600'></iframe>"
        "</main></body></html>",
        encoding="utf-8",
    )
    page = browser.new_context(locale="fr-FR").new_page()
    page.goto(f"{site}/index.html")
    expect(page.locator("section.pacte-channel")).to_contain_text(service.project.name)
    frame = page.frame_locator("#annuaire")
    expect(frame.get_by_role("heading", level=1)).to_contain_text(channel.name)
    expect(frame.get_by_role("table")).to_contain_text(service.project.name)
    # the search form works inside the frame, without script
    frame.get_by_label("Besoin").fill("logement")
    frame.get_by_role("button", name="Filtrer").click()
    expect(frame.get_by_role("table")).to_contain_text("Aucun service inscrit pour ces critères.")


def test_channel_pages_have_no_axe_violation(browser, live_server, world, service, channel) -> None:  # type: ignore[no-untyped-def]
    if not AXE_JS.exists():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `npm ci --prefix tests/web/axe`")
    listings.run_channels(policy.SYSTEM, date.today())  # nothing listed yet: the carrier sees why
    publish_all_evidence(world, service)
    urls = [
        "/canaux/",
        f"/canaux/{channel.slug}/",
        f"/canaux/{channel.slug}/?territory=Bretagne&need=",
        f"/canaux/{channel.slug}/integrer/",
        f"/projets/{service.project.slug}/",
        "/organisations/agence/",
    ]
    audit = Audit()
    page = new_page(browser)
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        audit.check(page, url)
    listings.run_channels(policy.SYSTEM, date.today())
    page.goto(f"{live_server.url}/canaux/{channel.slug}/")
    audit.check(page, "canal avec services")
    audit.assert_clean()
