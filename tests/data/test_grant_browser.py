"""Issue 14 part 2, in Chromium: the grantee downloads an extract from the workspace, signed in (no
bearer token), with axe-core on every page of the journey at 320 CSS px."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

from pacte.journal.models import Event  # noqa: E402
from tests.data.test_grant_views import open_grant  # noqa: E402, F401  (the fixture)
from tests.evidence.test_step_browser import Journey  # noqa: E402
from tests.web.test_accessibility import AXE_JS  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_grantee_downloads_an_extract(browser, live_server, world, open_grant):  # noqa: F811
    if not AXE_JS.exists():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `npm ci --prefix tests/web/axe`")
    j = Journey(browser, live_server, world.carrier_member.user)
    j.goto("/espace/")
    j.click("link", "Données accordées : télécharger, interroger")
    j.click("link", "Ouvert pour Service citoyen")
    with j.page.expect_download() as download:
        j.page.get_by_role("button", name="Télécharger en CSV").click()
    path = download.value.path()
    lines = open(path, encoding="utf-8").read().splitlines()
    assert lines[0] == "region,naf_sector" and len(lines) == 4001
    assert download.value.suggested_filename.endswith(".csv")
    assert Event.objects.filter(type="data.query", subject_id=open_grant.reference).count() == 1
    assert j.problems == {}
