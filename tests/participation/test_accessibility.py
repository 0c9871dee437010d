"""The participation pages pass axe-core (WCAG 2.1 A/AA) in real Chromium, on the full demo, for a
visitor and for a signed-in citizen."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.web.test_accessibility import Audit, browser, full_demo, new_page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _citizen_page(browser, live_server, username):  # type: ignore[no-untyped-def]  # noqa: F811
    from pacte.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    page = new_page(browser)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.context.set_default_timeout(120_000)
    return page


def test_participation_pages_have_no_axe_violation(browser, live_server, full_demo):  # type: ignore[no-untyped-def]  # noqa: F811
    from pacte.accounts.models import User
    from pacte.participation.follows import unsubscribe_token
    from pacte.participation.models import Consultation

    consultation = Consultation.objects.get()
    version = consultation.version
    token = unsubscribe_token(User.objects.get(username="citoyen.demo"))
    public = [
        f"/consultations/{consultation.pk}/",
        f"/pactes/{version.pact.reference}/v{version.number}/",
        "/reutilisations/",
        "/catalogue/declarations-embauche/",
        "/projets/coach-emploi/",
        f"/desabonnement/{token}/",
    ]
    audit = Audit()
    page = new_page(browser)
    page.context.set_default_timeout(120_000)
    for url in public:
        page.goto(f"{live_server.url}{url}")
        audit.check(page, url)
    citizen = _citizen_page(browser, live_server, "citoyenne.demo")
    for url in (
        f"/consultations/{consultation.pk}/",
        "/notifications/",
        "/reutilisations/nouvelle/?dataset=declarations-embauche",
        "/organisations/region-val-de-loire/",
    ):
        citizen.goto(f"{live_server.url}{url}")
        audit.check(citizen, f"{url} (citoyenne)")
    audit.assert_clean()
