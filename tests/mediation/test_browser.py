"""In real Chromium: a mediator records an assisted consent to data sharing, the receipt carries
the code, the person withdraws it without an account; axe-core finds no violation on the pages."""

from __future__ import annotations

import os

import pyarrow.parquet as pq
import pytest

from pacte.accounts.models import Role
from pacte.accounts.services import add_member
from pacte.data.models import Consent
from pacte.mediation.assistance import code_sha256
from pacte.mediation.models import AssistedAction
from tests.factories import UserFactory
from tests.web.test_accessibility import Audit, browser, new_page, sign_in  # noqa: F401

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mediator_user(world, settings):  # type: ignore[no-untyped-def]
    from pacte.demo import DEMO_PASSWORD

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = UserFactory(username="guichet")
    user.set_password(DEMO_PASSWORD)
    user.save()
    add_member(user, world.institution, [Role.MEDIATOR])
    return user


def test_a_mediator_records_an_assisted_consent_the_person_withdraws_it(
    browser,  # noqa: F811
    live_server,
    world,
    active,
    cohort,
    mediator_user,
):
    person = pq.read_table(cohort.current_version.paths[0], columns=["person_id"])
    person_id = person.column(0)[7].as_py()
    audit = Audit()
    page = sign_in(browser, live_server, "guichet", world.institution.slug)
    page.goto(f"{live_server.url}/accompagnement/")
    page.get_by_label("Nom ou pseudonyme de la personne").fill("Mme Girard")
    page.get_by_label("Comment la personne a donné son accord").select_option("oral")
    page.get_by_label("Comment vous avez vérifié son identité").select_option("id_document")
    page.get_by_label("Démarche", exact=True).select_option("data_consent")
    page.get_by_label("Service ou projet concerné").select_option(active.pact.project.slug)
    page.get_by_label("Jeu de données où figure la personne").select_option(cohort.slug)
    page.get_by_label("Identifiant de la personne dans ce jeu").fill("pas-un-identifiant")
    page.get_by_label("Finalité de la transmission").fill(
        "Être accompagnée par le projet dans sa recherche d'emploi."
    )
    page.get_by_label("J'atteste que la personne").check()
    page.get_by_role("button", name="Enregistrer et imprimer le reçu").click()
    page.wait_for_load_state()
    assert page.get_by_text("Identifiant introuvable dans ce jeu de données.").is_visible()
    audit.check(page, "accompagnement (identifiant introuvable)")
    page.get_by_label("Identifiant de la personne dans ce jeu").fill(person_id)
    page.get_by_label("J'atteste que la personne").check()
    page.get_by_role("button", name="Enregistrer et imprimer le reçu").click()
    page.wait_for_url("**/accompagnement/recus/**")
    action = AssistedAction.objects.get(person_label="Mme Girard")
    assert action.consent is not None and action.consent.user is None
    code = page.locator("#claim-code").inner_text().strip()
    assert code_sha256(code) == action.claim_code_sha256
    assert page.locator("#consent-state").inner_text().startswith("Donné")
    audit.check(page, "reçu de consentement")
    # the person, later, at home, without an account
    home = new_page(browser)
    home.goto(f"{live_server.url}/accompagnement/retrait/")
    audit.check(home, "retirer un consentement")
    home.get_by_label("Code du reçu").fill(code)
    home.get_by_role("button", name="Retirer mon consentement").click()
    home.wait_for_load_state()
    assert home.get_by_text("votre consentement").first.is_visible()
    consent = Consent.objects.get(pk=action.consent_id)
    assert consent.state == Consent.State.WITHDRAWN and consent.record == []
    page.reload()
    assert page.locator("#consent-state").inner_text().startswith("Retiré")
    audit.assert_clean()


def test_a_mediator_posts_a_problem_for_a_person_at_the_comptoir(
    browser,  # noqa: F811
    live_server,
    world,
    desk,
    mediator_user,
):
    from pacte.comptoirs.models import Post

    audit = Audit()
    page = sign_in(browser, live_server, "guichet", world.institution.slug)
    page.goto(f"{live_server.url}/accompagnement/")
    page.get_by_role("link", name="Signaler un problème").click()
    page.wait_for_url("**/accompagnement/comptoir/probleme/")
    audit.check(page, "déposer au comptoir pour une personne")
    page.get_by_label("Nom ou pseudonyme de la personne").fill("M. Faure")
    page.get_by_label("Comment la personne a donné son accord").select_option("phone")
    page.get_by_label("Titre").fill("Aucune offre affichée à la mairie")
    page.get_by_label("Thème").select_option("emploi")
    page.locator("#id_territory").fill("Val-de-Loire")
    page.get_by_label("Qui est concerné ?").fill("Habitants sans internet")
    page.get_by_label("Combien de personnes, à peu près ?").fill("300")
    page.get_by_label("Que se passe-t-il aujourd'hui pour elles ?").fill("Ils ne voient rien.")
    page.get_by_label("Ce que vous observez").fill("Les offres ne sont publiées qu'en ligne.")
    page.get_by_role("button", name="Déposer et imprimer le reçu").click()
    page.wait_for_load_state()
    assert page.get_by_text("Cochez l'attestation").first.is_visible()  # refused, 422
    audit.check(page, "déposer au comptoir (erreurs)")
    assert not Post.objects.exists()
    page.get_by_label("J'atteste que la personne").check()
    page.get_by_role("button", name="Déposer et imprimer le reçu").click()
    page.wait_for_url("**/accompagnement/recus/**")
    post = Post.objects.get()
    assert post.with_mediator and post.author is None
    page.locator("#receipt-post").click()
    page.wait_for_url(f"**/comptoir/{post.pk}/")
    assert page.locator("#with-mediator").is_visible()
    audit.check(page, "dépôt accompagné")
    audit.assert_clean()
