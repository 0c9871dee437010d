"""Real Chromium: a citizen comments on a pact in consultation, the carrier answers publicly, the
background worker tells the citizen, who sees the answer as a notification."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.test import Client

os.environ.setdefault(
    "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
)  # Playwright's sync API runs an event loop

from playwright.sync_api import expect  # noqa: E402

from pacte.participation.models import Comment, Notice  # noqa: E402
from tests.queue import run_queue  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _page_as(browser, live_server, user):  # type: ignore[no-untyped-def]
    """A browser signed in as ``user`` through a real session (whatever the sign-in page looks like)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="fr-FR")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    context.set_default_timeout(120_000)  # a shared, loaded machine: patience, not sleeps
    return context.new_page()


def test_a_citizen_comments_the_carrier_answers_the_citizen_is_told(  # type: ignore[no-untyped-def]
    browser, live_server, world, citizens, consultation
):
    url = f"{live_server.url}/consultations/{consultation.pk}/"
    citizen = _page_as(browser, live_server, citizens.alice)
    citizen.goto(url)
    citizen.get_by_label("Partie du pacte commentée").select_option("data")
    citizen.get_by_label("Votre commentaire").fill(
        "Pourquoi le pacte demande-t-il le niveau de diplôme ?"
    )
    citizen.get_by_role("button", name="Publier mon commentaire").click()
    expect(citizen.locator(".msg")).to_contain_text("Commentaire publié")
    comment = Comment.objects.get()
    expect(citizen.locator(f"#commentaire-{comment.pk}")).to_contain_text("niveau de diplôme")

    carrier = _page_as(browser, live_server, world.carrier_member.user)
    carrier.goto(url)
    carrier.locator(f"#answer-{comment.pk}").fill(
        "Pour vérifier que le service aide autant les personnes sans diplôme."
    )
    carrier.get_by_role("button", name="Publier la réponse").click()
    expect(carrier.locator(".msg")).to_contain_text("Réponse publiée")

    run_queue()  # the background worker: the fan-out queued when the answer committed
    assert Notice.objects.filter(
        user=citizens.alice, event_type="consultation.comment_answered"
    ).exists()

    citizen.goto(f"{live_server.url}/")
    notices_link = citizen.get_by_role("link", name="Notifications")
    expect(notices_link).to_contain_text("1")
    notices_link.click()
    expect(citizen.get_by_role("heading", level=1)).to_have_text("Mes notifications")
    citizen.get_by_role("link", name="Réponse publiée à un commentaire").first.click()
    answer = citizen.locator(f"#commentaire-{comment.pk} .answer")
    expect(answer).to_contain_text("sans diplôme")
    expect(answer).to_contain_text("Association Porteuse")
