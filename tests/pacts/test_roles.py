"""Roles at the edges: one person signs for one side only; the auditor reads every version."""

from __future__ import annotations

import json

import pytest

from pacte.accounts.services import acting_for, add_member, create_api_token
from pacte.errors import PermissionDenied
from pacte.pacts import drafting as pact_drafting
from pacte.pacts import review as pact_review
from pacte.pacts import signing as pact_signing
from pacte.pacts.models import Signature, Status
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def approved(world, version):  # type: ignore[no-untyped-def]
    pact_drafting.submit(world.carrier_admin, version)
    pact_review.approve(world.reviewer, version)
    version.refresh_from_db()
    if version.status == Status.SUBMITTED:
        pact_review.approve(world.reviewer2, version)
    version.refresh_from_db()
    return version


def test_carrier_admin_who_is_also_the_institution_signatory_cannot_sign_both_sides(world, draft):
    version = approved(world, draft)
    person = UserFactory()
    add_member(person, world.carrier, ["carrier_admin"])
    add_member(person, world.institution, ["signatory"])
    as_carrier, as_institution = (
        acting_for(person, world.carrier),
        acting_for(person, world.institution),
    )
    pact_signing.sign(as_carrier, version)
    with pytest.raises(PermissionDenied, match="organisation porteuse"):
        pact_signing.sign(as_institution, version)
    version.refresh_from_db()
    assert version.status == Status.SIGNING
    assert list(version.signatures.values_list("side", flat=True)) == [Signature.Side.CARRIER]
    pact_signing.sign(world.signatory, version)  # someone else signs for the institution
    version.refresh_from_db()
    assert version.status == Status.ACTIVE


def test_a_carrier_member_cannot_sign_for_the_institution_even_first(world, draft):
    version = approved(world, draft)
    person = UserFactory()
    add_member(person, world.carrier, ["carrier_member"])
    add_member(person, world.institution, ["signatory"])
    with pytest.raises(PermissionDenied, match="organisation porteuse"):
        pact_signing.sign(acting_for(person, world.institution), version)
    assert not version.signatures.exists()


def test_a_person_signs_one_side_of_a_pact_across_its_versions(world, active):
    """A former carrier admin who became the institution's signatory signed v1 for the carrier:
    they cannot sign v2 for the institution."""
    from pacte.accounts.models import Membership

    signer = active.signatures.get(side=Signature.Side.CARRIER).signer
    Membership.objects.filter(user=signer, organisation=world.carrier).delete()
    add_member(signer, world.institution, ["signatory"])
    v2 = pact_drafting.new_version(
        world.carrier_admin, active.pact, reason="Avenant de test pour la signature"
    )
    v2 = approved(world, v2)
    with pytest.raises(PermissionDenied, match="autre partie"):
        pact_signing.sign(acting_for(signer, world.institution), v2)


def test_sign_refusal_through_the_api_is_a_json_403(client, world, draft):
    version = approved(world, draft)
    person = UserFactory()
    add_member(person, world.carrier, ["carrier_admin"])
    add_member(person, world.institution, ["signatory"])
    _, raw = create_api_token(person, world.institution, "t")
    r = client.post(
        f"/api/v1/pacts/{version.pact.reference}/versions/1/transitions/sign",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


# ------------------------------------------------------------------ the auditor reads everything


def token(acting):  # type: ignore[no-untyped-def]
    _, raw = create_api_token(acting.user, acting.organisation, "t")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_auditor_reads_draft_versions_through_the_api(client, world, draft):
    ref = draft.pact.reference
    auditor = token(world.auditor)
    for url in [
        f"/api/v1/pacts/{ref}",
        f"/api/v1/pacts/{ref}/versions/1",
        f"/api/v1/pacts/{ref}/versions/1/commitments",
    ]:
        assert client.get(url).status_code == 404, url  # the public does not see a draft
        r = client.get(url, **auditor)
        assert r.status_code == 200, (url, r.content)
    assert client.get(f"/api/v1/pacts/{ref}/versions/1", **auditor).json()["status"] == Status.DRAFT
    assert [v["number"] for v in client.get(f"/api/v1/pacts/{ref}/versions", **auditor).json()] == [
        1
    ]
    assert client.get(f"/api/v1/pacts/{ref}/versions").json() == []
    assert (
        client.get(f"/api/v1/projects/{draft.pact.project.slug}", **auditor).json()["pacts"][0][
            "status"
        ]
        == "draft"
    )


def test_other_readers_with_a_token(client, world, draft):
    ref = draft.pact.reference
    assert (
        client.get(f"/api/v1/pacts/{ref}/versions/1", **token(world.carrier_admin)).status_code
        == 200
    )  # a party
    assert (
        client.get(f"/api/v1/pacts/{ref}/versions/1", **token(world.outsider_reviewer)).status_code
        == 404
    )
    r = client.get(f"/api/v1/pacts/{ref}/versions/1", HTTP_AUTHORIZATION="Bearer pct_not-a-token")
    assert r.status_code == 401 and r.json()["error"] == "not_authenticated"


def test_auditor_writes_nothing(client, world, draft):
    r = client.put(
        f"/api/v1/pacts/{draft.pact.reference}/versions/1",
        data=json.dumps({"content": draft.content}),
        content_type="application/json",
        **token(world.auditor),
    )
    assert r.status_code == 403


def test_auditor_reads_draft_pages(client, world, draft):
    client.force_login(world.auditor.user)
    r = client.get(f"/pactes/{draft.pact.reference}/v1/")
    assert r.status_code == 200
    assert (
        draft.pact.reference in client.get(f"/projets/{draft.pact.project.slug}/").content.decode()
    )


def test_auditor_reads_draft_evaluations_and_sheets(client, world, active):
    from pacte.evidence import selectors
    from pacte.evidence.models import AlgorithmSheet

    sheet = AlgorithmSheet.objects.create(
        project=active.pact.project,
        title="Fiche brouillon",
        purpose="Orienter",
        contribution_degree="partial",
        contribution_mode="Aide",
        operations="Tri",
        human_oversight="Un agent",
        risks="Biais",
        objection_contact="contact@example.org",
    )
    assert sheet.status == AlgorithmSheet.State.DRAFT
    assert client.get(f"/api/v1/algorithm-sheets/{sheet.pk}").status_code == 404
    r = client.get(f"/api/v1/algorithm-sheets/{sheet.pk}", **token(world.auditor))
    assert r.status_code == 200, r.content
    assert sheet in selectors.sheets(world.auditor)
