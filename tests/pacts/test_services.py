from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import transaction

from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from pacte.pacts import commitments as pact_commitments
from pacte.pacts import documents as pact_documents
from pacte.pacts import drafting as pact_drafting
from pacte.pacts import ports
from pacte.pacts import review as pact_review
from pacte.pacts import sanctions as pact_sanctions
from pacte.pacts import signing as pact_signing
from pacte.pacts.models import Commitment, PactVersion, Signature, Status
from pacte.pacts.ports import listen_to_sanctions
from tests.conftest import activate
from tests.queue import run_queue

pytestmark = pytest.mark.django_db


def events(version, prefix=""):  # type: ignore[no-untyped-def]
    return list(
        Event.objects.filter(
            subject_id=version.pact.reference, type__startswith=prefix
        ).values_list("type", flat=True)
    )


def test_full_life_cycle_happy_path(world, draft):
    assert draft.status == Status.DRAFT
    pact_drafting.submit(world.carrier_admin, draft)
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED and len(draft.canonical_sha256) == 64
    assert draft.commitments.count() == len(draft.content["commitments"])
    pact_review.approve(world.reviewer, draft)
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED
    pact_signing.sign(world.carrier_admin, draft)
    draft.refresh_from_db()
    assert draft.status == Status.SIGNING
    pact_signing.sign(world.signatory, draft)
    draft.refresh_from_db()
    assert draft.status == Status.ACTIVE and draft.is_current
    assert events(draft) == [
        "pact.drafted",
        "pact.submitted",
        "pact.approved",
        "pact.signed",
        "pact.signed",
        "pact.activated",
    ]


def test_submitted_version_is_immutable(world, draft, content):
    pact_drafting.submit(world.carrier_admin, draft)
    content["title"] = "Autre titre"
    with pytest.raises(InvalidTransition):
        pact_drafting.update_draft(world.carrier_admin, draft, content)
    draft.refresh_from_db()
    assert draft.content["title"] == "Pacte de test"


def test_incomplete_pact_cannot_be_submitted_and_nothing_changes(world, draft, content):
    content["principles"] = ["continuity"]
    pact_drafting.update_draft(world.carrier_admin, draft, content)
    before = Event.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        pact_drafting.submit(world.carrier_admin, draft)
    assert "principles" in exc.value.field_errors
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.commitments.count() == 0
    assert Event.objects.count() == before


def test_changes_requested_then_revision_as_new_version_with_diff(world, draft, content):
    from pacte.pacts.selectors import diff_versions

    pact_drafting.submit(world.carrier_admin, draft)
    with pytest.raises(ValidationFailed):
        pact_review.request_changes(world.reviewer, draft, "court")
    pact_review.request_changes(world.reviewer, draft, "Précisez le critère de classement.")
    v2 = pact_drafting.new_version(world.carrier_admin, draft.pact)
    assert v2.number == 2 and v2.parent_id == draft.pk and v2.status == Status.DRAFT
    content["mission"]["territory"] = "Centre"
    pact_drafting.update_draft(world.carrier_admin, v2, content)
    v2.refresh_from_db()
    lines = diff_versions(draft, v2)
    assert [(line.kind, line.text) for line in lines] == [
        ("removed", "mission.territory: Val-de-Loire"),
        ("added", "mission.territory: Centre"),
    ]
    pact_drafting.submit(world.carrier_admin, v2)
    draft.refresh_from_db()
    assert draft.status == Status.CHANGES_REQUESTED and not draft.is_current


@pytest.mark.parametrize("change", ["restricted_data", "big_money"])
def test_second_reviewer_required(world, draft, content, change):
    if change == "restricted_data":
        content["state"]["data"] = [
            {"dataset": "dpae", "tier": 3, "sensitivity": 2, "purpose": "x"}
        ]
    else:
        content["state"]["seed_funding_eur"] = 200_000
        content["state"]["outcome_contract"] = {
            "price_per_outcome_eur": 1000,
            "base_fee_eur": 0,
            "cap_eur": 300_001,
        }
    pact_drafting.update_draft(world.carrier_admin, draft, content)
    pact_drafting.submit(world.carrier_admin, draft)
    pact_review.approve(world.reviewer, draft)
    draft.refresh_from_db()
    assert draft.requires_second_review and draft.status == Status.SUBMITTED
    with pytest.raises(InvalidTransition):
        pact_review.approve(world.reviewer, draft)  # the same person twice does not count
    pact_review.approve(world.reviewer2, draft)
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED


def test_exactly_500k_needs_one_reviewer(world, draft, content):
    content["state"]["seed_funding_eur"] = 500_000
    pact_drafting.update_draft(world.carrier_admin, draft, content)
    pact_drafting.submit(world.carrier_admin, draft)
    draft.refresh_from_db()
    assert not draft.requires_second_review


def test_reviewer_member_of_the_carrier_is_recused(world, draft):
    from pacte.accounts.services import add_member

    add_member(world.reviewer.user, world.carrier, ["carrier_member"])
    pact_drafting.submit(world.carrier_admin, draft)
    with pytest.raises(PermissionDenied, match="déporter"):
        pact_review.approve(world.reviewer, draft)


def test_signatures_are_ed25519_over_the_canonical_text(world, active):
    sigs = list(active.signatures.all())
    assert {s.side for s in sigs} == {"carrier", "institution"}
    assert all(pact_documents.verify_signature(s) for s in sigs)
    # anyone can redo it from the canonical JSON
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from pacte.engines.canonical import canonical_bytes

    digest = hashlib.sha256(canonical_bytes(pact_documents.canonical_document(active))).digest()
    for s in sigs:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(s.public_key)).verify(
            bytes.fromhex(s.signature), digest
        )
    # tampering with the stored text breaks verification
    PactVersion.objects.filter(pk=active.pk).update(content={**active.content, "title": "falsifié"})
    tampered = Signature.objects.select_related("version").get(pk=sigs[0].pk)
    assert not pact_documents.verify_signature(tampered)


def test_amendment_supersedes_and_carries_commitment_status(world, active, content):
    c = active.commitments.get(key="continuity-1")
    pact_commitments.record_evidence(
        world.carrier_admin, c, progress=60, note="Disponibilité 99,5 % en mars"
    )
    v2 = pact_drafting.new_version(world.carrier_admin, active.pact)
    assert not v2.is_current  # the active version stays the public one while amending
    content["state"]["panel_size"] = 500
    pact_drafting.update_draft(world.carrier_admin, v2, content)
    v2 = activate(world, v2)
    active.refresh_from_db()
    assert active.status == Status.SUPERSEDED and not active.is_current
    assert v2.status == Status.ACTIVE and v2.is_current
    assert v2.commitments.get(key="continuity-1").progress == 60


def test_breach_suspension_and_break_carry_reasons_and_sanctions(world, active):
    with pytest.raises(ValidationFailed):
        pact_sanctions.notify_breach(world.reviewer, active, "")
    pact_sanctions.notify_breach(world.reviewer, active, "Audit de biais non publié.")
    active.refresh_from_db()
    assert active.status == Status.BREACH_NOTIFIED
    assert active.cure_deadline == date.today() + timedelta(days=30)
    pact_sanctions.suspend(world.reviewer, active, "Délai écoulé sans remédiation.")
    pact_sanctions.break_pact(world.reviewer, active, "Aucune remédiation après suspension.")
    active.refresh_from_db()
    assert active.status == Status.BROKEN and active.last_reason.startswith("Aucune")
    types = events(active)
    assert types[-5:] == [
        "pact.breach_notified",
        "pact.suspended",
        "sanction.applied",
        "pact.broken",
        "sanction.applied",
    ]
    entry = json.loads(Event.objects.filter(type="pact.broken").get().entry)
    assert entry["data"]["reason"] == "Aucune remédiation après suspension."
    with pytest.raises(InvalidTransition):
        pact_sanctions.reinstate(world.reviewer, active)  # broken is terminal


def test_cure_and_reinstate(world, active):
    pact_sanctions.notify_breach(world.reviewer, active, "Retard de publication.")
    pact_sanctions.cure(world.reviewer, active, "Publié.")
    active.refresh_from_db()
    assert active.status == Status.ACTIVE and active.cure_deadline is None
    pact_sanctions.notify_breach(world.reviewer, active, "Retard de publication.")
    pact_sanctions.suspend(world.reviewer, active, "Toujours pas publié.")
    pact_sanctions.reinstate(world.reviewer, active, "Publié enfin.")
    active.refresh_from_db()
    assert active.status == Status.ACTIVE


def test_sanction_hooks_are_called(world, active):
    calls = []
    listen_to_sanctions("test", lambda v, action: calls.append((v.pk, action)))
    try:
        pact_sanctions.notify_breach(world.reviewer, active, "Retard de publication.")
        pact_sanctions.suspend(world.reviewer, active, "Toujours pas publié.")
    finally:
        ports._listeners.pop("test")
    assert calls == [(active.pk, "suspend")]


def test_withdraw_requires_reason(world, draft):
    with pytest.raises(ValidationFailed):
        pact_drafting.withdraw(world.carrier_admin, draft, "")
    pact_drafting.withdraw(world.carrier_admin, draft, "Le projet change de partenaire.")
    draft.refresh_from_db()
    assert draft.status == Status.WITHDRAWN


def test_complete_when_term_reached(world, active):
    pact_sanctions.complete(world.reviewer, active, "Terme atteint.")
    active.refresh_from_db()
    assert active.status == Status.COMPLETED


def test_due_date_engine(world, active):
    c = active.commitments.get(key="state-data-access")
    c.due_date = date.today() + timedelta(days=5)
    c.save()
    late = active.commitments.get(key="state-panel")
    late.due_date = date.today() - timedelta(days=1)
    late.save()
    counts = pact_commitments.refresh_commitment_statuses()
    assert counts["due_soon"] >= 1 and counts["missed"] == 1
    c.refresh_from_db()
    late.refresh_from_db()
    assert c.status == Commitment.State.DUE_SOON and late.status == Commitment.State.MISSED
    assert Event.objects.filter(type="commitment.missed").count() == 1
    assert pact_commitments.refresh_commitment_statuses()["missed"] == 0  # idempotent


def test_evidence_only_by_the_owning_side(world, active):
    c = active.commitments.get(key="state-panel")
    with pytest.raises(PermissionDenied):
        pact_commitments.record_evidence(
            world.carrier_admin, c, progress=50, note="Ce n'est pas à moi"
        )
    pact_commitments.record_evidence(world.reviewer, c, progress=100, note="Panel ouvert", met=True)
    c.refresh_from_db()
    assert c.status == Commitment.State.MET and c.progress == 100


def test_notifications_are_sent_after_commit(world, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pact_drafting.submit(world.carrier_admin, draft)
    assert run_queue() == 1  # delivered by the worker, through the outbox
    assert len(mail.outbox) == 1
    assert world.reviewer.user.email in mail.outbox[0].to
    assert draft.pact.reference in mail.outbox[0].subject


def test_a_failed_transition_writes_no_event(world, draft):
    before = (Event.objects.count(), PactVersion.objects.get(pk=draft.pk).status)
    with pytest.raises(PermissionDenied):
        pact_drafting.submit(world.reviewer, draft)
    assert (Event.objects.count(), PactVersion.objects.get(pk=draft.pk).status) == before


def test_event_and_change_share_one_transaction(world, draft):
    """If anything fails after the journal append, the change and the event both roll back."""
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            pact_drafting.submit(world.carrier_admin, draft)
            raise RuntimeError("boom")
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert "pact.submitted" not in events(draft)
