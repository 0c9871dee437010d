"""Public pages (French, accessible charts with a table alternative) and the forms."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pacte.evidence import audits, evaluations, experiments, panels, sheets
from pacte.evidence.demo import _audit_csv
from pacte.evidence.models import Evaluation, Volunteer
from tests.evidence.conftest import REFERENCE, outcomes_csv
from tests.evidence.test_audits_sheets import SHEET
from tests.factories import UserFactory
from tests.project_page import project_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(evaluator, project):  # type: ignore[no-untyped-def]
    return evaluations.publish_evaluation(
        evaluator,
        evaluations.create_evaluation(evaluator, project, title="Essai public", counts=REFERENCE),
    )


def test_evaluation_page_shows_figures_chart_and_table(client, published):
    r = client.get(f"/evaluations/{published.pk}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "+2,11 points" in html and "+1,75 à +2,47" in html and "concluant" in html
    assert 'role="img"' in html and "<table" in html and "intention de traiter" in html
    assert "100000 dans le groupe traité" in html
    assert "Évaluation d'impact publiée" in html.replace("&#x27;", "'")  # the event, as a sentence
    assert client.get("/evaluations/").status_code == 200


def test_draft_evaluation_is_not_public(client, evaluator, project):
    ev = evaluations.create_evaluation(evaluator, project, title="Brouillon", counts=REFERENCE)
    assert client.get(f"/evaluations/{ev.pk}/").status_code == 404
    client.force_login(evaluator.user)
    assert client.get(f"/evaluations/{ev.pk}/").status_code == 200
    r = client.post(f"/evaluations/{ev.pk}/publier/")  # publishing is final: a confirmation first
    assert r.status_code == 200 and "ne peut pas être annulée" in r.content.decode()
    assert Evaluation.objects.get(pk=ev.pk).status == "draft"
    r = client.post(f"/evaluations/{ev.pk}/publier/", {"confirm": "1"})
    assert r.status_code == 302 and Evaluation.objects.get(pk=ev.pk).status == "published"


def test_evaluator_form_bad_file_shows_french_errors_and_saves_nothing(client, evaluator, project):
    client.force_login(evaluator.user)
    bad = SimpleUploadedFile("r.csv", b"unit_id,arm,outcome\nx,placebo,1\n")
    r = client.post(
        "/espace/evaluations/nouvelle/", {"project": project.slug, "title": "Essai", "file": bad}
    )
    assert r.status_code == 422 and "Ligne 2 : bras" in r.content.decode()
    assert Evaluation.objects.count() == 0
    good = SimpleUploadedFile("r.csv", outcomes_csv(100, 30, 100, 20))
    r = client.post(
        "/espace/evaluations/nouvelle/", {"project": project.slug, "title": "Essai", "file": good}
    )
    assert r.status_code == 302 and Evaluation.objects.get().status == "draft"


def test_carrier_form_submission_is_refused(client, world, project):
    client.force_login(world.carrier_admin.user)
    r = client.post(
        "/espace/evaluations/nouvelle/",
        {
            "project": project.slug,
            "title": "Auto",
            "n_treatment": 10,
            "successes_treatment": 5,
            "n_control": 10,
            "successes_control": 4,
        },
    )
    assert r.status_code == 403 and Evaluation.objects.count() == 0


def test_project_page_section_audit_panel_sheet_pages(client, world, evaluator, project, published):
    audit = audits.publish_audit(
        evaluator, project, title="Audit public", decision="Mise en avant", csv_data=_audit_csv()
    )
    for _ in range(6):
        panels.volunteer(UserFactory(), consent=True, age_band="26-40")
    call = panels.open_panel_call(
        world.reviewer, project, title="Panel public", target_size=6, targets={"26-40": 6}
    )
    panels.draw_panel(world.reviewer, call)
    sheet = sheets.publish_sheet(
        world.carrier_admin, sheets.create_sheet(world.carrier_admin, project, SHEET)
    )
    html = project_page(client, project.slug)
    for text in ("Essai public", "Audit public", "Panel public", SHEET["title"], "+2,11 points"):
        assert text in html, text
    html = client.get(f"/audits/{audit.pk}/").content.decode()
    assert "Couverture des personnes dans le besoin" in html and "données insuffisantes" in html
    assert "<svg" in html and "engagement de correction" in html
    html = client.get(f"/panels/{call.pk}/").content.decode()
    assert "<svg" in html and "Graine révélée" in html
    html = client.get(
        f"/fiches-algorithmes/{sheet.pk}/?explain=1&embauches=10&distance_km=20"
    ).content.decode()
    assert "score : 3,00" in html or "score : 3.00" in html
    assert (
        client.get(f"/fiches-algorithmes/{sheet.pk}/atrs.json").json()["tier_1"]["name"]
        == SHEET["title"]
    )


def test_experiment_page(client, world, project):
    exp = experiments.design_experiment(
        world.carrier_admin,
        project,
        hypothesis="Une hypothèse claire et testable.",
        outcome="Retour à l'emploi",
        baseline_rate=0.2,
        mde_points=3,
    )
    exp = experiments.preregister(world.carrier_admin, exp)
    html = client.get(f"/experimentations/{exp.slug}/").content.decode()
    assert (
        exp.plan_hash in html and "Graine révélée" not in html and "pacte evidence replay" in html
    )


def test_volunteer_join_and_leave_through_the_page(client, db):
    user = UserFactory()
    client.force_login(user)
    assert (
        client.post("/panels/volontaire/", {"age_band": "16-25"}).status_code == 422
    )  # no consent
    r = client.post(
        "/panels/volontaire/", {"consent": "on", "age_band": "16-25", "contact_preference": "email"}
    )
    assert r.status_code == 302 and Volunteer.objects.get(user=user).age_band == "16-25"
    client.post("/panels/volontaire/", {"action": "leave"})
    assert (
        not Volunteer.objects.filter(user=user).exists()
        and Volunteer.objects.filter(left_at__isnull=False).count() == 1
    )


def test_feedback_page(client, world, project):
    user = UserFactory()
    client.force_login(user)
    assert client.post(f"/avis/{project.slug}/", {"body": "Service très utile"}).status_code == 302
    client.force_login(world.carrier_admin.user)
    f = project.feedback.get()
    client.post(f"/avis/commentaire/{f.pk}/repondre/", {"text": "Merci beaucoup !"})
    html = client.get(f"/avis/{project.slug}/").content.decode()
    assert "Service très utile" in html and "Merci beaucoup !" in html


def test_state_breaches_are_shown_as_prominently_as_the_carriers(client, project, active):
    from datetime import timedelta

    from pacte.evidence.compliance import run_compliance

    state = active.commitments.get(key="state-panel")
    run_compliance(state.due_date + timedelta(days=20), project=project)
    html = project_page(client, project.slug)
    assert "Manquements de l'institution (État)" in html and "Manquements du porteur" in html
    assert state.text in html.split("Manquements du porteur")[0]
