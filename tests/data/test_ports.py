"""The typed gateway port other domains use (pacte.data.ports.GATEWAY): what it shows of a grant,
the purpose/state/tier checks, and the pseudonymous read, against the real tier-2 machinery."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import polars as pl
import pytest
from django.utils import timezone

from pacte.data.errors import GrantForbidden
from pacte.data.grants import suspend_grant
from pacte.data.models import Grant
from pacte.data.ports import GATEWAY, GatewayColumn, GatewayGrant
from pacte.engines.pseudonymise import pseudonym
from pacte.errors import NotFound, PermissionDenied, ValidationFailed
from tests.data.conftest import grant_for

COLUMNS = ["person_id", "contract_days", "age"]


@pytest.fixture
def tier2(world, active, hiring):  # type: ignore[no-untyped-def]
    return grant_for(world, active, hiring, 2, COLUMNS)[0]


def test_a_grant_is_shown_without_its_secrets(tier2, hiring):  # type: ignore[no-untyped-def]
    view = GATEWAY.grant(tier2.reference)
    assert isinstance(view, GatewayGrant)
    assert (view.reference, view.project_id, view.tier) == (tier2.reference, tier2.project_id, 2)
    assert view.granted == tuple(COLUMNS) and view.person_column == "person_id"
    assert view.dataset_label == str(hiring.current_version) == f"embauches@{view.dataset_version}"
    assert view.column("age") == GatewayColumn("age", "int", "quasi_identifier")
    assert view.column("nope") is None
    assert [c.name for c in view.columns] == [c["name"] for c in hiring.current_version.columns]
    assert not any(
        isinstance(v, bytes | memoryview) for v in dataclasses.astuple(view)
    )  # no key, no token
    assert tier2.token_prefix not in repr(view)
    with pytest.raises(NotFound):
        GATEWAY.grant("ACC-1999-0001")


def test_purpose_tier_and_state_are_checked_now(world, tier2):  # type: ignore[no-untyped-def]
    view = GATEWAY.grant(tier2.reference)
    GATEWAY.require_usable_for(view, tier2.project_id, 2)
    with pytest.raises(PermissionDenied):
        GATEWAY.require_usable_for(view, tier2.project_id + 1000, 2)
    with pytest.raises(ValidationFailed) as wrong_tier:
        GATEWAY.require_usable_for(view, tier2.project_id, 3)
    assert "grant" in wrong_tier.value.field_errors
    # expiry is a 403 here (a signed-in person, not a bearer token): same check as the gateway's
    Grant.objects.filter(pk=tier2.pk).update(expires_at=timezone.now() - timedelta(days=1))
    with pytest.raises(GrantForbidden):
        GATEWAY.require_usable_for(view, tier2.project_id, 2)
    Grant.objects.filter(pk=tier2.pk).update(expires_at=timezone.now() + timedelta(days=90))
    GATEWAY.require_usable_for(view, tier2.project_id, 2)
    suspend_grant(world.reviewer, tier2, "Manquement au pacte constaté.")
    with pytest.raises(
        GrantForbidden
    ):  # the snapshot taken before is not trusted: the row is read again
        GATEWAY.require_usable_for(view, tier2.project_id, 2)


def test_outcomes_are_read_under_the_grants_pseudonyms(tier2, hiring):  # type: ignore[no-untyped-def]
    view = GATEWAY.grant(tier2.reference)
    source = pl.read_parquet(
        hiring.current_version.paths[0], columns=["person_id", "contract_days", "age"]
    )
    read = GATEWAY.read_outcomes(view, "person_id", view.column("contract_days"))
    assert read.mode == "tier2_view" and read.frame.columns == ["pseudonym", "y"]
    assert read.frame["y"].dtype == pl.Float64
    assert read.report.rows_in == source.height and read.frame.height == read.report.rows_out
    assert read.report.as_dict() == {
        "k": 11,
        "rows_in": read.report.rows_in,
        "rows_out": read.report.rows_out,
        "rows_suppressed": read.report.rows_suppressed,
        "levels": read.report.levels,
    }
    persons = source["person_id"].unique().sort().head(20).to_list()
    hashed = GATEWAY.pseudonyms(view, persons)
    assert hashed == [pseudonym(bytes(tier2.pseudonym_key), p) for p in persons]
    assert set(hashed) <= set(read.frame["pseudonym"].to_list())
    assert not set(persons) & set(read.frame["pseudonym"].to_list())  # never a person id in clear
    # a quasi-identifier outcome is read in the platform, kept exact (the tier-2 view would generalise it)
    exact = GATEWAY.read_outcomes(view, "person_id", view.column("age"))
    assert exact.mode == "in_platform"
    assert sorted(exact.frame["y"].to_list()) == sorted(float(a) for a in source["age"].to_list())
