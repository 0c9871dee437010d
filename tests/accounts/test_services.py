from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import override_settings
from django.utils import timezone

from pacte.accounts.models import ApiToken, Organisation
from pacte.accounts.services import (
    acting_for,
    add_member,
    authenticate_token,
    create_api_token,
    create_organisation,
    sign_in,
)
from pacte.errors import NotAuthenticated, TooManyAttempts, ValidationFailed
from tests.factories import PASSWORD, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _request(ip: str = "192.0.2.10"):  # type: ignore[no-untyped-def]
    from django.test import RequestFactory

    return RequestFactory().post("/connexion/", REMOTE_ADDR=ip)


def test_passwords_are_hashed_with_argon2():
    user = UserFactory()
    assert identify_hasher(user.password).algorithm == "argon2"
    assert sign_in(_request(), user.username, PASSWORD) == user


def test_wrong_password_is_refused():
    user = UserFactory()
    with pytest.raises(NotAuthenticated):
        sign_in(_request(), user.username, "wrong password!")


@override_settings(AXES_FAILURE_LIMIT=3)
def test_login_is_throttled_even_with_the_right_password_afterwards():
    user = UserFactory()
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            sign_in(_request("10.0.0.1"), user.username, "nope nope nope")
    with pytest.raises(TooManyAttempts):  # the third failure locks the pair
        sign_in(_request("10.0.0.1"), user.username, "nope nope nope")
    with pytest.raises(TooManyAttempts) as exc:
        sign_in(_request("10.0.0.1"), user.username, PASSWORD)
    assert exc.value.status == 429 and "Trop de tentatives" in exc.value.message
    assert (
        sign_in(_request("10.0.0.2"), user.username, PASSWORD) == user
    )  # another address is not locked


@override_settings(AXES_FAILURE_LIMIT=2)
def test_throttle_cools_off():
    from axes.models import AccessAttempt

    user = UserFactory()
    for _ in range(2):
        with pytest.raises((NotAuthenticated, TooManyAttempts)):
            sign_in(_request(), user.username, "nope nope nope")
    with pytest.raises(TooManyAttempts):
        sign_in(_request(), user.username, PASSWORD)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(_request(), user.username, PASSWORD) == user


def test_roles_must_fit_the_organisation_kind():
    carrier = OrganisationFactory()
    with pytest.raises(ValidationFailed):
        add_member(UserFactory(), carrier, ["reviewer"])
    m = add_member(UserFactory(), carrier, ["carrier_admin"])
    assert m.roles == ["carrier_admin"]


def test_legal_form_must_fit_kind():
    with pytest.raises(ValidationFailed):
        create_organisation(slug="x", name="X", kind="carrier", legal_form="ministry")
    org = create_organisation(slug="y", name="Y", kind="institution", legal_form="ministry")
    assert org.kind == Organisation.Kind.INSTITUTION


def test_acting_for_requires_membership():
    with pytest.raises(NotAuthenticated):
        acting_for(UserFactory(), OrganisationFactory())


def test_api_token_shown_once_stored_hashed_and_bound_to_organisation():
    org = OrganisationFactory()
    user = UserFactory()
    add_member(user, org, ["carrier_member"])
    token, raw = create_api_token(user, org, "ci")
    assert raw not in (token.token_hash, token.prefix) and raw.startswith(token.prefix)
    acting = authenticate_token(raw)
    assert acting.user == user and acting.organisation == org and acting.has("carrier_member")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(NotAuthenticated):
        authenticate_token(raw)
    token2, raw2 = create_api_token(user, org, "ci2")
    ApiToken.objects.filter(pk=token2.pk).update(revoked_at=timezone.now())
    with pytest.raises(NotAuthenticated):
        authenticate_token(raw2)
    with pytest.raises(NotAuthenticated):
        authenticate_token("pct_forged")
