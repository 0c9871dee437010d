"""Issue 14, one browser journey per role, from sign-in to the public result (Chromium, Playwright):
a reviewer of two institutions, a data steward deciding a request, an evaluator publishing, an
auditor reading a draft. (The carrier writing a pact in one sitting is in test_browser.py.)"""

from __future__ import annotations

import os

import pytest

from pacte.accounts.models import Role
from pacte.accounts.services import acting_for, add_member
from tests.data.conftest import hiring, parquet_files, request_for  # noqa: F401 (fixtures)
from tests.factories import PASSWORD, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(browser, live_server, username, password=PASSWORD):  # type: ignore[no-untyped-def]
    page = browser.new_context(locale="fr-FR").new_page()
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/espace/")
    return page


@pytest.fixture
def spine_demo(transactional_db, settings, monkeypatch):  # type: ignore[no-untyped-def]
    from pacte import demo
    from tests import demo_data as demo_copy

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr(demo, "DEMO_EXTENSIONS", [])
    demo_copy.load()  # loaded once per run, restored afterwards (tests/demo_data.py)
    return demo


def test_reviewer_of_two_institutions_approves_from_the_queue(browser, live_server, spine_demo):
    from pacte.pacts import review
    from pacte.pacts.models import PactVersion

    coach = PactVersion.objects.get(pact__project__slug="coach-emploi")
    review.approve(spine_demo._as("instructeur", "region-val-de-loire"), coach, "Conforme.")
    page = sign_in(browser, live_server, "instructeur2", spine_demo.DEMO_PASSWORD)
    turn = page.locator("table.queue").first
    # work of two institutions in one queue, the acting one being the Agence
    expect(turn).to_contain_text("Région Val-de-Loire (fictive)")
    expect(turn).to_contain_text("Direction du numérique")
    expect(turn).to_contain_text("1/2 approbation(s)")
    page.get_by_role("button", name=f"{coach.pact.reference} v1").click()  # switch and open
    page.wait_for_url(f"**/pactes/{coach.pact.reference}/v1/")
    expect(page.locator("#acting-org option:checked")).to_have_text("Région Val-de-Loire (fictive)")
    page.get_by_role("button", name="Approuver").click()
    expect(page.get_by_text("Pacte approuvé. Prochaine étape : la signature")).to_be_visible()
    expect(page.get_by_role("button", name="Approuver")).to_have_count(0)
    public = browser.new_context(locale="fr-FR").new_page()
    public.goto(f"{live_server.url}/pactes/{coach.pact.reference}/v1/")
    expect(public.get_by_text("Approuvé, en attente de signature").first).to_be_visible()


def test_data_steward_decides_a_request(browser, live_server, world, active, hiring):  # noqa: F811
    req = request_for(world, active, hiring, tier=2, columns=["region"])
    steward = UserFactory()
    add_member(steward, world.institution, [Role.DATA_STEWARD])
    page = sign_in(browser, live_server, steward.username)
    expect(page.get_by_text("Rien n'attend de décision")).to_have_count(0)
    page.get_by_role("link", name=req.reference).click()
    page.wait_for_url(f"**/donnees/demandes/{req.reference}/")
    expect(page.get_by_text("la main est à l'institution")).to_be_visible()
    page.get_by_label("Population concernée (personnes)").fill("3000000")
    page.get_by_role("button", name="Avis favorable (les règles décident du plafond)").click()
    page.wait_for_load_state()
    expect(page.locator(".msg-success")).to_be_visible()
    from pacte.data.models import RequestReview

    assert RequestReview.objects.filter(request=req, reviewer=steward).count() == 1
    public = browser.new_context(locale="fr-FR").new_page()
    public.goto(f"{live_server.url}/journal/?type=request")
    expect(public.get_by_text("Avis enregistré sur une demande de données").first).to_be_visible()


def test_evaluator_publishes_from_the_workspace(browser, live_server, world, active):
    from pacte.evidence import evaluations
    from pacte.evidence.models import Evaluation
    from tests.evidence.conftest import REFERENCE

    user = UserFactory()
    add_member(user, world.evaluator_org, [Role.EVALUATOR])
    ev = evaluations.create_evaluation(
        acting_for(user, world.evaluator_org),
        active.pact.project,
        title="Retour à l'emploi à 6 mois",
        counts=REFERENCE,
    )
    page = sign_in(browser, live_server, user.username)
    page.get_by_role("link", name="Retour à l'emploi à 6 mois").click()
    page.get_by_role("button", name="Publier ce résultat (définitif)").click()
    expect(page.get_by_text("Cette action ne peut pas être annulée.")).to_be_visible()
    assert Evaluation.objects.get(pk=ev.pk).status == "draft"  # not before the confirmation
    page.get_by_role("button", name="Oui, publier").click()
    expect(page.get_by_text("Évaluation publiée : elle est désormais publique")).to_be_visible()
    public = browser.new_context(locale="fr-FR").new_page()
    public.goto(f"{live_server.url}/evaluations/")
    expect(public.get_by_text("Retour à l'emploi à 6 mois").first).to_be_visible()


def test_auditor_reads_a_draft(browser, live_server, spine_demo):
    from pacte.pacts.models import PactVersion, Status

    draft = PactVersion.objects.get(pact__project__slug="offre-legale-culture", status=Status.DRAFT)
    url = f"/pactes/{draft.pact.reference}/v{draft.number}/"
    page = sign_in(browser, live_server, "auditeur", spine_demo.DEMO_PASSWORD)
    page.get_by_role("link", name="Offre Légale Culture").first.click()
    page.get_by_role("link", name=f"Version {draft.number}").first.click()
    page.wait_for_url(f"**{url}")
    expect(page.get_by_text("Brouillon").first).to_be_visible()
    expect(page.locator("[data-action]")).to_have_count(0)  # the auditor reads, never decides
    anonymous = browser.new_context(locale="fr-FR").new_page()
    assert anonymous.goto(f"{live_server.url}{url}").status == 404  # drafts are not public
