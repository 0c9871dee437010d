from __future__ import annotations

from django.db.models import QuerySet

from pacte.accounts.models import Membership, Organisation, User


def institutions() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=Organisation.Kind.INSTITUTION).order_by("name")


def memberships_of(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organisation")


def members_with_role(organisation: Organisation, role: str) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(organisation=organisation).select_related("user")
        if role in m.roles
    ]


def is_member(user: User, organisation_id: int) -> bool:
    return Membership.objects.filter(user=user, organisation_id=organisation_id).exists()


def organisations_of_agent(user: User) -> QuerySet[Organisation]:
    """The organisations whose SIRET a ProConnect sign-in of this person asserted, that they are
    not a member of yet: offered to join (an administrator of the organisation adds them and
    chooses their roles; no role is ever granted from the SIRET alone)."""
    from allauth.socialaccount.models import SocialAccount

    from pacte.accounts.oidc.claims import siret

    sirets = {
        siret(account.extra_data)
        for account in SocialAccount.objects.filter(user=user, provider="proconnect")
    } - {""}
    return (
        Organisation.objects.filter(siret__in=sirets)
        .exclude(memberships__user=user)
        .order_by("name")
    )
