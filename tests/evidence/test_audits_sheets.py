"""Bias audits (band from the pact, insufficient data, remediation) and algorithm sheets
(legal fields, publication, ATRS export, per-case explanation)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from pacte.errors import PermissionDenied, ValidationFailed
from pacte.evidence import audits, sheets
from pacte.evidence.compliance import run_compliance
from pacte.evidence.demo import _audit_csv
from pacte.journal.models import Event
from pacte.pacts.models import Commitment
from tests.evidence.conftest import bearer, post

pytestmark = pytest.mark.django_db


def clean_csv() -> bytes:
    lines = ["group,y_true,y_pred,in_need"]
    for g, n in (("Diplômés", 600), ("Sans diplôme", 400)):
        lines += [
            f"{g},{i % 2},{1 if i % 10 < 3 else 0},{1 if i % 5 == 0 else 0}" for i in range(n)
        ]
    return ("\n".join(lines) + "\n").encode()


def test_coverage_gap_opens_a_remediation_commitment(evaluator, project, active):
    a = audits.publish_audit(
        evaluator,
        project,
        title="Audit du classement",
        decision="Mise en avant",
        csv_data=_audit_csv(),
    )
    rows = {(r["group"], r["metric"]): r for r in a.rows}
    assert rows[("Sans diplôme", "selection_rate")]["status"] == "ok"  # passes the 80 % rule…
    assert (
        rows[("Sans diplôme", "coverage_in_need")]["status"] == "breach"
    )  # …and misses people in need
    assert rows[("Sans diplôme", "coverage_in_need")]["ratio"] == pytest.approx(0.5)
    assert rows[("Outre-mer", "selection_rate")]["status"] == "insufficient_data"
    assert (a.band_low, a.band_high) == (0.8, 1.25)
    c = Commitment.objects.get(version=active, key=a.remediation_key)
    assert c.owner == "carrier" and c.due_date == timezone.localdate() + timedelta(days=90)
    assert c.evidence_kind == "audit"
    opened = json.loads(Event.objects.get(type="remediation.opened").entry)["data"]
    assert opened["commitment"] == c.key and opened["audit"] == a.pk
    # a later clean audit meets the remediation
    audits.publish_audit(
        evaluator,
        project,
        title="Audit de contrôle",
        decision="Mise en avant",
        csv_data=clean_csv(),
    )
    assert Commitment.objects.get(pk=c.pk).status == "met"


def test_remediation_missed_breaches_the_pact(evaluator, project, active):
    a = audits.publish_audit(
        evaluator, project, title="Audit", decision="Mise en avant", csv_data=_audit_csv()
    )
    c = Commitment.objects.get(key=a.remediation_key)
    run_compliance(c.due_date + timedelta(days=16), project=project)
    assert Commitment.objects.get(pk=c.pk).status == "breached"
    active.refresh_from_db()
    assert active.status == "breach_notified" and a.remediation_key in active.last_reason


def test_pact_threshold_applies_when_stricter(world, evaluator, content):
    from pacte.pacts.drafting import create_pact
    from tests.conftest import activate

    content["bias_risks"][0]["tolerated_ratio"] = 0.9
    v = activate(
        world, create_pact(world.carrier_admin, world.project(), world.institution, content)
    )
    a = audits.publish_audit(
        evaluator,
        v.pact.project,
        title="Audit strict",
        decision="Mise en avant",
        csv_data=clean_csv(),
    )
    assert (
        a.band_low == 0.9
        and a.band_high == pytest.approx(1 / 0.9)
        and "seuil du pacte" in a.band_source
    )


def test_audit_permissions_and_bad_file(world, evaluator, project):
    with pytest.raises(PermissionDenied):
        audits.publish_audit(
            world.carrier_admin, project, title="Auto-audit", decision="x" * 5, csv_data=clean_csv()
        )
    with pytest.raises(ValidationFailed) as exc:
        audits.publish_audit(
            evaluator,
            project,
            title="Audit",
            decision="Mise en avant",
            csv_data=b"group,y_true,y_pred\nA,1,2\n",
        )
    assert "Ligne 2 : y_pred doit valoir 0 ou 1." in exc.value.field_errors["fichier"]


def test_audit_api_upload(client, evaluator, project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    f = SimpleUploadedFile("audit.csv", clean_csv(), content_type="text/csv")
    r = client.post(
        "/api/v1/audits",
        {"project": project.slug, "title": "Audit API", "decision": "Mise en avant", "file": f},
        **bearer(evaluator),
    )
    assert r.status_code == 201, r.content
    assert client.get("/api/v1/audits").json()["items"][0]["breach_count"] == 0


SHEET = {
    "title": "Classement des entreprises",
    "purpose": "Proposer une liste d'entreprises à qui candidater.",
    "contribution_degree": "support",
    "contribution_mode": "Le score ordonne une liste ; la personne choisit.",
    "data_sources": [{"name": "Embauches", "source": "Agence", "description": "3 ans"}],
    "parameters": [
        {"key": "embauches", "label": "Embauches", "weight": 0.5},
        {"key": "distance_km", "label": "Distance", "weight": -0.1},
    ],
    "operations": "Somme pondérée, tri décroissant.",
    "human_oversight": "Le conseiller valide la liste.",
    "risks": "Biais territorial.",
    "objection_contact": "contestation@example.org",
}


def test_sheet_legal_fields_are_required(world, project):
    with pytest.raises(ValidationFailed) as exc:
        sheets.create_sheet(
            world.carrier_admin, project, {**SHEET, "operations": "", "parameters": []}
        )
    assert {"operations", "parameters"} <= set(exc.value.field_errors)


def test_sheet_publish_explain_and_atrs(client, world, project):
    sheet = sheets.create_sheet(world.carrier_admin, project, SHEET)
    assert client.get(f"/api/v1/algorithm-sheets/{sheet.pk}").status_code == 404  # draft
    r = post(
        client, f"/api/v1/algorithm-sheets/{sheet.pk}/publish", {}, bearer(world.carrier_admin)
    )
    assert r.status_code == 200
    assert Event.objects.filter(type="algorithm_sheet.published").exists()
    r = post(
        client,
        f"/api/v1/algorithm-sheets/{sheet.pk}/explain",
        {"situation": {"embauches": 12, "distance_km": 30}},
    )
    assert r.status_code == 200
    data = r.json()
    assert data["score"] == pytest.approx(12 * 0.5 - 30 * 0.1)
    assert {p["key"]: p["contribution"] for p in data["parameters"]} == pytest.approx(
        {"embauches": 6.0, "distance_km": -3.0}
    )
    r = post(
        client,
        f"/api/v1/algorithm-sheets/{sheet.pk}/explain",
        {"situation": {"embauches": 1, "age": 3}},
    )
    assert r.status_code == 422 and {"distance_km", "age"} <= set(r.json()["fields"])
    atrs = client.get(f"/api/v1/algorithm-sheets/{sheet.pk}/atrs").json()
    assert atrs["tier_1"]["name"] == SHEET["title"] and atrs["tier_1"]["contact_email"]
    assert {
        "owner_and_responsibility",
        "description_and_rationale",
        "decision_making_process",
        "tool_specification",
        "data_specification",
        "risks_mitigations_and_impact_assessments",
    } <= set(atrs["tier_2"])
    assert (
        atrs["tier_2"]["decision_making_process"]["human_decisions_and_review"]
        == SHEET["human_oversight"]
    )


def test_transparency_commitment_met_by_published_sheet(world, project, active):
    sheet = sheets.create_sheet(world.carrier_admin, project, SHEET)
    sheets.publish_sheet(world.carrier_admin, sheet)
    assert (
        active.commitments.get(key="transparency-1").status == "met"
    )  # "Fiche algorithme et budget publiés"
