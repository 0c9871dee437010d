"""The comptoir, expert and challenge pages pass axe-core (WCAG 2.1 A/AA) in real Chromium, on
the full demo, for the public and for the people who act on them."""

from __future__ import annotations

import pytest

from tests.web.test_accessibility import Audit, browser, full_demo, new_page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_MS = 120_000  # a loaded machine: generous waits bound a hang, they assert no timing


def patient_page(browser):  # type: ignore[no-untyped-def]  # noqa: F811
    page = new_page(browser)
    page.set_default_timeout(WAIT_MS)
    return page


def sign_in(browser, live_server, username, organisation=""):  # type: ignore[no-untyped-def]  # noqa: F811
    from pacte.demo import DEMO_PASSWORD

    page = patient_page(browser)
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/espace/")
    if organisation:  # act for this organisation (the session's choice, as the header's form does)
        from pacte.accounts.models import Organisation

        org = Organisation.objects.get(slug=organisation)
        page.locator("#acting-org").select_option(str(org.pk))
        page.get_by_role("button", name="Changer", exact=True).click()
        page.wait_for_load_state()
    return page


def test_comptoirs_pages_have_no_axe_violation(browser, live_server, full_demo):  # type: ignore[no-untyped-def]  # noqa: F811
    from pacte.comptoirs.models import Challenge, Expert, ExpertRequest, Post

    urls = [
        "/comptoir/",
        "/comptoir/?q=emploi&nature=probleme",
        "/comptoir/routage/",
        "/experts/",
        "/defis/",
    ]
    urls += [f"/comptoir/{p.pk}/" for p in Post.objects.all()]
    urls += [f"/experts/{e.pk}/" for e in Expert.objects.all()]
    urls += [f"/experts/demandes/{r.pk}/" for r in ExpertRequest.objects.all()]
    urls += [f"/defis/{c.slug}/" for c in Challenge.objects.all()]
    audit = Audit()
    page = patient_page(browser)
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        audit.check(page, url)
    citizen = sign_in(browser, live_server, "citoyenne")
    for url in (
        "/comptoir/deposer/",
        "/comptoir/deposer/probleme/",
        "/comptoir/deposer/contribution/",
    ):
        citizen.goto(f"{live_server.url}{url}")
        audit.check(citizen, f"{url} (citoyenne)")
    citizen.goto(f"{live_server.url}/comptoir/deposer/probleme/")
    citizen.get_by_role("button", name="Envoyer").click()  # the form with its errors
    audit.check(citizen, "dépôt refusé (erreurs)")
    desk = sign_in(browser, live_server, "instructeur", "agence-emploi")
    received = Post.objects.filter(status="received", organisation__slug="agence-emploi").first()
    pending = ExpertRequest.objects.filter(status="requested").first()
    open_challenge = Challenge.objects.get(status="open")
    for url in (
        f"/comptoir/{received.pk}/",  # type: ignore[union-attr]
        f"/experts/demandes/{pending.pk}/",  # type: ignore[union-attr]
        f"/defis/{open_challenge.slug}/",
        "/experts/nouveau/",
        "/defis/nouveau/",
    ):
        desk.goto(f"{live_server.url}{url}")
        audit.check(desk, f"{url} (instructeur)")
    audit.assert_clean()
