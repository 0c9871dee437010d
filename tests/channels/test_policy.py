"""Permissions of the channels domain, action × role × state, on real objects: declaring and
editing a channel, listing a pending service (never one's own), declaring a service's coverage,
confirming a takeover (only the named institution's signatory, never a carrier member)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from pacte.accounts import policy
from pacte.accounts.models import Role
from pacte.accounts.policy import Action
from pacte.accounts.services import acting_for
from pacte.channels import declarations, listings, takeovers
from pacte.channels.models import ChannelListing
from pacte.errors import InvalidTransition, PermissionDenied
from tests.channels.conftest import channel_in, publish_all_evidence
from tests.factories import InstitutionFactory, MembershipFactory


@pytest.fixture
def principals(world) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    def acting(org, roles):  # type: ignore[no-untyped-def]
        return acting_for(MembershipFactory(organisation=org, roles=roles).user, org)

    conflicted = acting(world.institution, [Role.SIGNATORY])
    MembershipFactory(user=conflicted.user, organisation=world.carrier, roles=[Role.CARRIER_MEMBER])
    return {
        "carrier_admin": world.carrier_admin,
        "carrier_member": world.carrier_member,
        "reviewer": world.reviewer,
        "signatory": world.signatory,
        "data_steward": world.data_steward,
        "platform_admin": acting(world.institution, [Role.PLATFORM_ADMIN]),
        "other_signatory": acting(world.other_institution, [Role.SIGNATORY]),
        "outsider_signatory": acting(InstitutionFactory(), [Role.SIGNATORY]),
        "conflicted": conflicted,
        "SYSTEM": policy.SYSTEM,
    }


def allowed(principals: dict[str, Any], action: Action, obj: Any) -> set[str]:
    out = set()
    for name, principal in principals.items():
        if policy.may(principal, action, obj):
            out.add(name)
        else:
            with pytest.raises(PermissionDenied) as refused:
                policy.require(principal, action, obj)
            assert len(refused.value.message) > 20
    return out


def test_channel_management(world, principals, channel, service) -> None:  # type: ignore[no-untyped-def]
    managers = {"signatory", "platform_admin", "conflicted", "SYSTEM"}
    assert allowed(principals, Action.CHANNEL_MANAGE, world.institution) == managers
    assert allowed(principals, Action.CHANNEL_MANAGE, channel) == managers
    assert allowed(principals, Action.CHANNEL_MANAGE, world.carrier) == {"SYSTEM"}
    # listing a service: a carrier member never lists its own service
    publish_all_evidence(world, service)
    declarations.edit_channel(world.signatory, channel, channel_in(listing_delay_days=5))
    listings.run_channels(policy.SYSTEM, date.today())
    listing = ChannelListing.objects.get()
    assert allowed(principals, Action.CHANNEL_MANAGE, listing) == managers - {"conflicted"}
    # the state: only a pending listing can be listed
    listings.list_service(world.signatory, listing)
    with pytest.raises(InvalidTransition):
        listings.list_service(principals["platform_admin"], listing)
    # and through the use cases, a refusal changes nothing
    with pytest.raises(PermissionDenied):
        declarations.edit_channel(principals["other_signatory"], channel, channel_in(name="Pirate"))
    channel.refresh_from_db()
    assert channel.name == "Annuaire de l'emploi"


def test_coverage_is_the_carriers(world, principals, service) -> None:  # type: ignore[no-untyped-def]
    assert allowed(principals, Action.PROJECT_EDIT, service.project) == {
        "carrier_admin",
        "carrier_member",
    }
    with pytest.raises(PermissionDenied):
        declarations.declare_coverage(world.signatory, service.project, ["Bretagne"], ["emploi"])


def test_takeover_confirmation(world, principals) -> None:  # type: ignore[no-untyped-def]
    unnamed = world.project(name="Sans repreneur")
    assert allowed(principals, Action.TAKEOVER_CONFIRM, unnamed) == set()
    named = world.project(name="Avec repreneur")
    named.takeover_institution = world.institution
    named.save()
    assert allowed(principals, Action.TAKEOVER_CONFIRM, named) == {"signatory"}
    with pytest.raises(PermissionDenied):
        takeovers.confirm_takeover(world.reviewer, named, date.today() + timedelta(days=90))
    takeover = takeovers.confirm_takeover(world.signatory, named, date.today() + timedelta(days=90))
    # confirmed: the same signatory may confirm a new date (state does not close the action)
    assert allowed(principals, Action.TAKEOVER_CONFIRM, takeover) == {"signatory"}
