"""Request workflow, permissions and the proportionality rules wired into decisions."""

from __future__ import annotations

import pytest

from pacte.data import selectors
from pacte.data.models import GrantState, RequestStatus
from pacte.data.requests import (
    approve_request,
    create_request,
    refuse_request,
    request_changes,
    submit_request,
    update_request,
)
from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from pacte.pacts.models import Commitment
from tests.data.conftest import REQUEST_FIELDS, approve_all, request_for


def test_too_high_tier_is_refused_citing_the_rule(world, active, hiring):
    # sensitivity 2, strong commitments, low benefit → ceiling = secure room (tier 4)
    req = request_for(world, active, hiring, 2)
    outcome = approve_request(world.reviewer, req, population=500, severity=1)
    req.refresh_from_db()
    assert outcome.grant is None
    assert req.status == RequestStatus.REFUSED
    assert req.decision["rule_id"] == "R-2-strong-low"
    assert "R-2-strong-low" in req.last_reason and "plafond" in req.last_reason
    event = Event.objects.filter(type="request.refused", subject_id=req.reference).get()
    assert '"rule_id":"R-2-strong-low"' in event.entry
    assert req.reviews.get().rule_id == "R-2-strong-low"


def test_sensitive_data_never_gives_an_extract(world, active, cohort):
    req = request_for(world, active, cohort, 1)
    outcome = approve_request(world.reviewer, req, population=3_000_000, severity=3)
    assert outcome.request.status == RequestStatus.REFUSED
    assert outcome.request.decision["rule_id"] == "R-3-strong-high"


def test_committee_path_needs_three_distinct_approvals_then_issues_a_frozen_grant(
    world, active, hiring
):
    req = request_for(world, active, hiring, 3, ["region", "monthly_salary_eur"])
    first = approve_request(world.reviewer, req, population=3_000_000, severity=2)
    assert (first.approvals, first.required, first.grant) == (1, 3, None)
    with pytest.raises(InvalidTransition):
        approve_request(world.reviewer, req, population=3_000_000, severity=2)
    approve_request(world.reviewer2, req, population=3_000_000, severity=2)
    outcome = approve_request(world.data_steward, req, population=3_000_000, severity=2)
    grant = outcome.grant
    assert grant is not None and grant.state == GrantState.ACTIVE
    assert grant.rule_id == "R-2-strong-high" and grant.tier == 3
    assert grant.columns == ["region", "monthly_salary_eur"]
    assert grant.rho_grant == pytest.approx(0.09375) and grant.rho_query == pytest.approx(0.009375)
    assert grant.dataset_version_id == hiring.current_version.pk
    months = grant.decision["max_duration_months"]
    assert 28 * months <= (grant.expires_at - grant.issued_at).days <= 31 * months
    # the institution's commitment to open data access gets its evidence
    c = Commitment.objects.get(version=active, key="state-data-access")
    assert c.status == Commitment.State.MET and grant.reference in c.evidence_note
    assert Event.objects.filter(type="grant.issued", subject_id=grant.reference).exists()


def test_only_an_active_pact_of_the_carrier_can_request(world, draft, hiring):
    with pytest.raises(InvalidTransition):
        create_request(world.carrier_admin, draft.pact, hiring, tier=3, **REQUEST_FIELDS)


def test_permissions(world, active, hiring):
    with pytest.raises(PermissionDenied):
        create_request(world.reviewer, active.pact, hiring, tier=3, **REQUEST_FIELDS)
    req = request_for(world, active, hiring, 3)
    with pytest.raises(PermissionDenied):
        approve_request(world.carrier_admin, req, population=1000, severity=2)
    with pytest.raises(PermissionDenied):
        approve_request(world.outsider_reviewer, req, population=1000, severity=2)
    with pytest.raises(PermissionDenied):
        submit_request(world.reviewer, req)
    with pytest.raises(PermissionDenied):
        selectors.get_request(world.outsider_reviewer, req.reference)


def test_request_validation(world, active, hiring):
    with pytest.raises(ValidationFailed) as e:
        create_request(
            world.carrier_admin,
            active.pact,
            hiring,
            tier=3,
            **(REQUEST_FIELDS | {"retention_months": 48}),
        )
    assert "retention_justification" in e.value.field_errors
    req = create_request(
        world.carrier_admin,
        active.pact,
        hiring,
        tier=3,
        **(
            REQUEST_FIELDS
            | {
                "retention_months": 48,
                "retention_justification": "Suivi de cohorte sur quatre ans exigé par l'évaluation.",
            }
        ),
    )
    assert req.purpose_limitation and req.pact_version_id == active.pk
    with pytest.raises(ValidationFailed):
        create_request(world.carrier_admin, active.pact, hiring, tier=9, **REQUEST_FIELDS)
    with pytest.raises(ValidationFailed):
        create_request(
            world.carrier_admin, active.pact, hiring, tier=3, columns=["nope"], **REQUEST_FIELDS
        )


def test_changes_requested_then_resubmitted_shows_a_diff_and_a_clock(world, active, hiring):
    req = request_for(world, active, hiring, 3)
    with pytest.raises(ValidationFailed):
        request_changes(world.reviewer, req, "court")
    request_changes(world.reviewer, req, "Précisez les colonnes nécessaires à la finalité.")
    req.refresh_from_db()
    assert req.status == RequestStatus.CHANGES_REQUESTED and req.ball == "porteur"
    update_request(
        world.carrier_admin, req, columns=["region", "naf_sector"], volumetry="2 requêtes par mois"
    )
    submit_request(world.carrier_admin, req)
    req.refresh_from_db()
    diff = selectors.submission_diff(req)
    assert any(d.kind == "added" and "region, naf_sector" in d.text for d in diff)
    assert any(d.kind == "removed" and "volumetry" in d.text for d in diff)
    clock = selectors.clock(req)
    assert clock["ball"] == "institution" and clock["days_in_state"] == 0
    items = selectors.request_queue(world.reviewer)
    assert items[0].request == req
    refuse_request(world.reviewer, req, "Finalité sans lien avec la mission du pacte.")
    req.refresh_from_db()
    assert req.status == RequestStatus.REFUSED


def test_an_approval_is_per_submission(world, active, hiring):
    req = request_for(world, active, hiring, 3)
    approve_request(world.reviewer, req, population=3_000_000, severity=2)
    request_changes(world.reviewer2, req, "Justifiez la durée de conservation.")
    submit_request(world.carrier_admin, req)
    outcome = approve_all(world, req)  # the reviewer may approve the new submission again
    assert outcome.grant is not None
