from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from pacte.accounts.models import Membership, Organisation, User

PASSWORD = "correct horse battery staple"
_HASH = None


def _password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = make_password(PASSWORD)  # Argon2, computed once for the whole run
    return _HASH


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    display_name = factory.Faker("name", locale="fr_FR")
    password = factory.LazyFunction(_password_hash)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.CARRIER
    legal_form = Organisation.LegalForm.ASSOCIATION


class InstitutionFactory(OrganisationFactory):
    kind = Organisation.Kind.INSTITUTION
    legal_form = Organisation.LegalForm.OPERATOR


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    roles = factory.LazyFunction(list)
