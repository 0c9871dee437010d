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
