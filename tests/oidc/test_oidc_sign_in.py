"""Sign-in through FranceConnect and ProConnect, end to end in real Chromium against a real
OpenID Connect provider (tests/oidc/provider.js): account created or linked with the person's
confirmation, logout at the provider with id_token_hint, state and nonce tampering refused."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount

from pacte.accounts.models import User
from tests.factories import UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def start(browser, live_server, provider: str = "FranceConnect", path: str = "/connexion/"):  # type: ignore[no-untyped-def]
    page = browser.new_context(locale="fr-FR").new_page()
    page.goto(f"{live_server.url}{path}")
    page.get_by_role("button", name=f"S'identifier avec {provider}").click()
    return page


def sign_in_at_provider(page, account: str):  # type: ignore[no-untyped-def]
    page.get_by_label("Compte de test").fill(account)
    page.get_by_role("button", name="Continuer").click()


def test_franceconnect_creates_a_citizen_account_then_logout_ends_the_provider_session(
    browser, live_server, federations
):
    page = start(browser, live_server)
    # the authorization request, as FranceConnect requires it
    expect(page.get_by_label("Compte de test")).to_be_visible()
    sign_in_at_provider(page, "fc-angela")
    page.wait_for_url(f"{live_server.url}/espace/")
    expect(page.get_by_role("heading", name="Mon espace — Angela DUBOIS")).to_be_visible()
    user = User.objects.get(email="angela.dubois@example.org")
    assert (user.first_name, user.last_name, user.display_name) == (
        "Angela Claire Louise",
        "DUBOIS",
        "Angela DUBOIS",
    )
    assert not user.has_usable_password() and not user.memberships.exists()
    assert EmailAddress.objects.get(user=user).verified  # the provider vouched for it
    account = SocialAccount.objects.get(user=user)
    assert account.provider == "franceconnect" and account.uid == "fc-angela"
    assert account.extra_data["id_token"]["acr"] == "eidas1"
    assert account.extra_data["userinfo"]["birthdate"] == "1962-08-24"

    # signing out of Pacte sends the person to the provider's end_session_endpoint
    with page.expect_request(lambda r: "/session/end" in r.url) as ended:
        page.get_by_role("button", name="Se déconnecter").click()
    query = parse_qs(urlsplit(ended.value.url).query)
    assert query["post_logout_redirect_uri"] == [f"{live_server.url}/"]
    hint = query["id_token_hint"][0]
    assert hint.count(".") == 2 and query["state"][0]
    page.get_by_role("button", name="Yes, sign me out").click()
    # back on Pacte's home page, with the state Pacte sent
    page.wait_for_url(f"{live_server.url}/?state={query['state'][0]}")
    page.goto(f"{live_server.url}/espace/")
    assert "/connexion/" in page.url  # signed out of Pacte too


def test_an_existing_account_is_linked_only_after_the_person_confirms(
    browser, live_server, federations
):
    existing = UserFactory(email="angela.dubois@example.org", display_name="Angela D.")
    EmailAddress.objects.create(user=existing, email=existing.email, verified=True, primary=True)
    # first time: the person declines; nothing is linked, nobody is signed in
    page = start(browser, live_server)
    sign_in_at_provider(page, "fc-angela")
    expect(
        page.get_by_role("heading", name="Relier votre identité FranceConnect ?")
    ).to_be_visible()
    page.get_by_role("button", name="Ne rien relier").click()
    page.wait_for_url(f"{live_server.url}/connexion/")
    assert not SocialAccount.objects.exists()
    assert User.objects.filter(email__iexact="angela.dubois@example.org").count() == 1
    # second time: the person links the identity to the account
    page = start(browser, live_server)
    sign_in_at_provider(page, "fc-angela")
    page.get_by_role("button", name="Relier à mon compte Pacte").click()
    page.wait_for_url(f"{live_server.url}/espace/")
    assert SocialAccount.objects.get(uid="fc-angela").user == existing
    assert User.objects.count() == 1


def test_an_unverified_address_never_links_to_an_account(browser, live_server, federations):
    existing = UserFactory(email="existant@example.org")
    EmailAddress.objects.create(user=existing, email=existing.email, verified=True, primary=True)
    page = start(browser, live_server)
    sign_in_at_provider(page, "fc-unverified")  # the provider does not vouch for the address
    page.wait_for_load_state()
    assert "/compte/relier/" not in page.url
    assert not SocialAccount.objects.filter(user=existing).exists()
    page.goto(f"{live_server.url}/espace/")
    assert "/connexion/" in page.url  # not signed into the existing account


def test_proconnect_agent_gets_no_role_from_the_siret(browser, live_server, federations, world):
    world.institution.siret = "13000548100010"
    world.institution.save()
    page = start(browser, live_server, provider="ProConnect")
    sign_in_at_provider(page, "pc-agent")
    page.wait_for_url(f"{live_server.url}/espace/")
    user = User.objects.get(email="jean.agent@agence.example.gouv.fr")
    assert user.last_name == "AGENT" and not user.memberships.exists()  # offered, not granted
    expect(page.get_by_text(world.institution.name)).to_be_visible()


def _tampered(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query[name] = "falsifie-" + query[name][::-1]
    return urlunsplit(parts._replace(query=urlencode(query)))


def tamper_authorization_request(page, live_server, name: str) -> None:  # type: ignore[no-untyped-def]
    """Change one parameter of the authorization request Pacte sends the browser to (as an
    attacker in the middle would): Pacte's answer to the sign-in button is intercepted and its
    redirect rewritten. (Playwright routes the first request of a redirect chain only.)"""

    def rewrite(route):  # type: ignore[no-untyped-def]
        response = route.fetch(max_redirects=0)
        headers = dict(response.headers)
        headers["location"] = _tampered(headers["location"], name)
        route.fulfill(response=response, headers=headers)

    login = f"{live_server.url}/compte/oidc/franceconnect/login/"
    page.route(lambda url: url.startswith(login) and "callback" not in url, rewrite)


@pytest.mark.parametrize("name", ["nonce", "state"])
def test_a_tampered_nonce_or_state_is_refused(browser, live_server, federations, name):
    page = browser.new_context(locale="fr-FR").new_page()
    tamper_authorization_request(page, live_server, name)
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_role("button", name="S'identifier avec FranceConnect").click()
    sign_in_at_provider(page, "fc-angela")  # the provider signs the tampered value
    expect(page.get_by_role("heading", name="Échec de la connexion")).to_be_visible()
    assert not User.objects.filter(email="angela.dubois@example.org").exists()
    assert not SocialAccount.objects.exists()
    page.goto(f"{live_server.url}/espace/")
    assert "/connexion/" in page.url
