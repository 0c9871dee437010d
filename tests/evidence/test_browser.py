"""Real Chromium: the public evaluation page reads as a person would read it."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault(
    "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
)  # Playwright's sync API runs an event loop

from playwright.sync_api import expect  # noqa: E402

from pacte.evidence import evaluations  # noqa: E402
from tests.evidence.conftest import REFERENCE  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_evaluation_page_in_a_browser(browser, live_server, evaluator, project):
    ref = evaluations.publish_evaluation(
        evaluator,
        evaluations.create_evaluation(
            evaluator, project, title="Essai de référence", counts=REFERENCE
        ),
    )
    pilot = evaluations.publish_evaluation(
        evaluator,
        evaluations.create_evaluation(
            evaluator,
            project,
            title="Pilote",
            counts={
                "n_treatment": 1000,
                "successes_treatment": 221,
                "n_control": 1000,
                "successes_control": 200,
            },
        ),
    )
    page = browser.new_context(locale="fr-FR").new_page()
    page.goto(f"{live_server.url}/evaluations/{ref.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Essai de référence")
    expect(page.locator("#verdict")).to_contain_text("+2,11 points (IC 95 % : +1,75 à +2,47)")
    chart = page.get_by_role("img", name="Effet estimé et intervalle de confiance à 95 %")
    expect(chart).to_be_visible()
    page.get_by_text("Les mêmes chiffres sous forme de tableau").click()
    expect(page.get_by_role("cell", name="concluant", exact=True)).to_be_visible()
    page.goto(f"{live_server.url}/evaluations/{pilot.pk}/")
    expect(page.locator("#verdict")).to_contain_text("non concluant")
    page.goto(f"{live_server.url}/evaluations/")
    page.get_by_role("link", name="Pilote").click()
    expect(page).to_have_url(f"{live_server.url}/evaluations/{pilot.pk}/")
