"""Issue 14: the evidence steps as pages (pacte.evidence.step_views) — forms with inline French
errors, permissions through the policy, a confirmation before irreversible acts, the journal
written with each step, the public list of algorithm sheets."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pacte.evidence import panels, sheets
from pacte.evidence.demo import _audit_csv
from pacte.evidence.models import AlgorithmSheet, Audit, Experiment, PanelCall
from pacte.journal.models import Event
from tests.evidence.test_audits_sheets import SHEET
from tests.factories import UserFactory
from tests.project_page import project_page

pytestmark = pytest.mark.django_db


def _html(r) -> str:  # type: ignore[no-untyped-def]
    return r.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def _sheet_post(project_slug: str, **changes: str) -> dict[str, str]:
    data = {
        "project": project_slug,
        "title": SHEET["title"],
        "purpose": SHEET["purpose"],
        "contribution_degree": "support",
        "contribution_mode": SHEET["contribution_mode"],
        "operations": SHEET["operations"],
        "human_oversight": SHEET["human_oversight"],
        "risks": SHEET["risks"],
        "objection_contact": SHEET["objection_contact"],
        "source_1_name": "Embauches",
        "source_1_source": "Agence",
        "param_1_label": "Embauches récentes",
        "param_1_weight": "0.5",
        "param_2_label": "Distance (km)",
        "param_2_weight": "-0.1",
    }
    data.update(changes)
    return data


# ------------------------------------------------------------------ the hub and the ways in


def test_hub_is_two_clicks_from_the_workspace_and_the_project_page(client, world, project):
    assert client.get("/espace/preuves/").status_code == 302  # sign in first
    client.force_login(world.carrier_admin.user)
    assert 'href="/espace/preuves/"' in _html(client.get("/espace/"))
    # the page's evidence section (loaded with the page by htmx; a link without JavaScript)
    assert f'href="/espace/preuves/?projet={project.slug}"' in project_page(
        client, project.slug
    ).replace("&#x27;", "'")
    html = _html(client.get(f"/espace/preuves/?projet={project.slug}"))
    # the carrier writes sheets, opens panels, designs experiments; an audit is not theirs to file
    assert "/espace/fiches-algorithmes/nouvelle/" in html and "/espace/panels/nouveau/" in html
    assert "/espace/experimentations/nouvelle/" in html and "/espace/audits/nouveau/" not in html


def test_hub_offers_the_evaluator_the_audit_and_the_outsider_nothing(
    client, world, evaluator, project
):
    client.force_login(evaluator.user)
    html = _html(client.get("/espace/preuves/"))
    assert "/espace/audits/nouveau/" in html and "/espace/fiches-algorithmes/nouvelle/" not in html
    client.force_login(world.outsider_reviewer.user)
    html = _html(client.get("/espace/preuves/"))
    assert "ne peut faire aucune de ces étapes" in html


# ------------------------------------------------------------------ bias audits


def test_evaluator_files_a_bias_audit_from_the_page(client, world, evaluator, project):
    client.force_login(evaluator.user)
    r = client.get(f"/espace/audits/nouveau/?projet={project.slug}")
    assert r.status_code == 200 and f'value="{project.slug}" selected' in _html(r)
    bad = SimpleUploadedFile("a.csv", b"group,y_true\nA,1\n")
    r = client.post(
        "/espace/audits/nouveau/",
        {
            "project": project.slug,
            "title": "Audit",
            "decision": "Orientation",
            "file": bad,
            "min_group_size": "30",
        },
    )
    assert r.status_code == 422 and "error-summary" in _html(r) and Audit.objects.count() == 0
    r = client.post(
        "/espace/audits/nouveau/",
        {"project": project.slug, "title": "", "decision": "Orientation", "min_group_size": "3"},
    )
    html = _html(r)
    assert r.status_code == 422 and "Ce champ est obligatoire." in html
    assert "supérieure ou égale à 5" in html and Audit.objects.count() == 0
    good = SimpleUploadedFile("a.csv", _audit_csv())
    r = client.post(
        "/espace/audits/nouveau/",
        {
            "project": project.slug,
            "title": "Audit de l'orientation",
            "decision": "Orientation",
            "file": good,
            "min_group_size": "30",
        },
        follow=True,
    )
    audit = Audit.objects.get()
    assert r.redirect_chain[-1][0] == f"/audits/{audit.pk}/"
    assert "Audit publié" in _html(r)
    assert Event.objects.filter(type="audit.published", subject_id=str(audit.pk)).exists()


def test_the_carrier_cannot_file_an_audit_of_its_own_service(client, world, project):
    client.force_login(world.carrier_admin.user)
    r = client.get("/espace/audits/nouveau/")
    assert "Seul un évaluateur indépendant" in _html(r)
    r = client.post(
        "/espace/audits/nouveau/",
        {
            "project": project.slug,
            "title": "Auto",
            "decision": "x",
            "min_group_size": "30",
            "file": SimpleUploadedFile("a.csv", _audit_csv()),
        },
    )
    assert r.status_code == 422 and Audit.objects.count() == 0


# ------------------------------------------------------------------ algorithm sheets


def test_carrier_writes_then_publishes_a_sheet_with_a_confirmation(client, world, project):
    client.force_login(world.carrier_admin.user)
    r = client.post(
        "/espace/fiches-algorithmes/nouvelle/",
        _sheet_post(project.slug, operations="", param_1_weight="beaucoup", param_2_label=""),
    )
    html = _html(r)
    assert r.status_code == 422 and AlgorithmSheet.objects.count() == 0
    assert "Ce champ est obligatoire." in html and "Saisissez un nombre." in html
    assert "Nommez ce paramètre." in html
    r = client.post("/espace/fiches-algorithmes/nouvelle/", _sheet_post(project.slug))
    sheet = AlgorithmSheet.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/fiches-algorithmes/{sheet.pk}/"
    assert sheet.status == "draft"
    assert [p["key"] for p in sheet.parameters] == ["embauches_recentes", "distance_km"]
    html = _html(client.get(f"/fiches-algorithmes/{sheet.pk}/"))
    assert "Brouillon" in html and f"/fiches-algorithmes/{sheet.pk}/publier/" in html
    r = client.post(f"/fiches-algorithmes/{sheet.pk}/publier/")
    assert r.status_code == 200 and "ne peut pas être annulée" in _html(r)
    assert AlgorithmSheet.objects.get().status == "draft"
    r = client.post(f"/fiches-algorithmes/{sheet.pk}/publier/", {"confirm": "1"}, follow=True)
    assert "Fiche publiée" in _html(r) and AlgorithmSheet.objects.get().status == "published"
    assert Event.objects.filter(type="algorithm_sheet.published").count() == 1
    client.logout()
    listing = _html(client.get("/fiches-algorithmes/"))
    assert SHEET["title"] in listing and f"/fiches-algorithmes/{sheet.pk}/" in listing


def test_drafts_stay_out_of_the_public_list_and_others_cannot_publish(client, world, project):
    sheet = sheets.create_sheet(world.carrier_admin, project, SHEET)
    assert SHEET["title"] not in _html(client.get("/fiches-algorithmes/"))
    assert client.get(f"/fiches-algorithmes/{sheet.pk}/").status_code == 404
    client.force_login(world.reviewer.user)  # the partner institution: not the sheet's author
    r = client.post(f"/fiches-algorithmes/{sheet.pk}/publier/", {"confirm": "1"})
    assert r.status_code == 404 and AlgorithmSheet.objects.get().status == "draft"
    client.force_login(world.auditor.user)  # reads the draft, may not publish it
    r = client.get(f"/fiches-algorithmes/{sheet.pk}/")
    assert r.status_code == 200 and "/publier/" not in _html(r)
    r = client.post(f"/fiches-algorithmes/{sheet.pk}/publier/", {"confirm": "1"})
    assert r.status_code == 403 and AlgorithmSheet.objects.get().status == "draft"


# ------------------------------------------------------------------ panels


def _volunteers(n: int) -> None:
    bands = ["16-25", "26-40", "41-60", "60+"]
    for i in range(n):
        panels.volunteer(UserFactory(), consent=True, age_band=bands[i % 4])


def test_partner_opens_a_panel_call_and_runs_the_draw(client, world, project):
    _volunteers(12)
    client.force_login(world.reviewer.user)
    r = client.post(
        "/espace/panels/nouveau/",
        {
            "project": project.slug,
            "title": "Testeurs",
            "target_size": "8",
            "stratify_by": "age_band",
        },
    )
    assert r.status_code == 422 and "Indiquez le profil cible" in _html(r)
    r = client.post(
        "/espace/panels/nouveau/",
        {
            "project": project.slug,
            "title": "Testeurs",
            "target_size": "8",
            "stratify_by": "age_band",
            "share_age_band_0": "50",
            "share_age_band_1": "50",
        },
    )
    call = PanelCall.objects.get()
    assert r.status_code == 302 and call.targets == {"16-25": 4, "26-40": 4}
    html = _html(client.get(f"/panels/{call.pk}/"))
    assert "stratifiées par tranche d'âge" in html and "12 volontaire(s) actif(s)" in html
    assert f"/panels/{call.pk}/tirage/" in html
    r = client.post(f"/panels/{call.pk}/tirage/")
    assert r.status_code == 200 and "ne peut pas être annulée" in _html(r)
    assert PanelCall.objects.get().status == "open"
    r = client.post(f"/panels/{call.pk}/tirage/", {"confirm": "1"}, follow=True)
    html = _html(r)
    call.refresh_from_db()
    assert call.status == "drawn" and "Tirage effectué" in html and call.seed_hex in html
    assert call.members.count() == 6  # 3 volunteers per band, 4 seats each: a shortfall
    assert Event.objects.filter(type="panel.drawn", subject_id=str(call.pk)).exists()


def test_only_the_opener_draws(client, world, project):
    call = panels.open_panel_call(
        world.reviewer, project, title="Testeurs", target_size=2, shares={"16-25": 1.0}
    )
    client.force_login(world.carrier_admin.user)
    assert f"/panels/{call.pk}/tirage/" not in _html(client.get(f"/panels/{call.pk}/"))
    r = client.post(f"/panels/{call.pk}/tirage/", {"confirm": "1"})
    assert r.status_code == 403 and "Seule l'organisation qui a ouvert l'appel" in _html(r)
    assert PanelCall.objects.get().status == "open"


# ------------------------------------------------------------------ experiments


def test_carrier_designs_preregisters_and_assigns_an_experiment(client, world, project):
    client.force_login(world.carrier_admin.user)
    form = {
        "project": project.slug,
        "hypothesis": "Le service augmente l'accès à l'emploi durable.",
        "outcome": "Emploi durable à 6 mois",
        "baseline_rate": "20",
        "mde_points": "5",
        "power": "80",
        "alpha": "0,05",
        "design": "individual",
        "window_months": "6",
        "unit": "personne",
    }
    r = client.post("/espace/experimentations/nouvelle/", {**form, "power": "150"})
    assert r.status_code == 422 and "inférieure ou égale à 99" in _html(r)
    r = client.post("/espace/experimentations/nouvelle/", {**form, "mde_points": "90"})
    assert r.status_code == 422 and "Paramètres de puissance invalides" in _html(r)
    assert Experiment.objects.count() == 0
    r = client.post("/espace/experimentations/nouvelle/", form, follow=True)
    exp = Experiment.objects.get()
    assert exp.baseline_rate == 0.2 and exp.power == 0.8 and exp.required_per_arm > 0
    assert "Conception enregistrée" in _html(r)
    assert client.get(f"/experimentations/{exp.slug}/affecter/").status_code == 200
    r = client.post(f"/experimentations/{exp.slug}/pre-enregistrer/")
    assert r.status_code == 200 and "ne peut pas être annulée" in _html(r)
    r = client.post(f"/experimentations/{exp.slug}/pre-enregistrer/", {"confirm": "1"}, follow=True)
    exp.refresh_from_db()
    assert exp.status == "preregistered" and exp.plan_hash in _html(r)
    client.logout()
    assert exp.plan_hash in _html(client.get(f"/experimentations/{exp.slug}/"))  # public
    client.force_login(world.carrier_admin.user)
    r = client.post(f"/experimentations/{exp.slug}/affecter/", {"unit_ids": "a\nb\na\n"})
    assert r.status_code == 422 and "une seule fois" in _html(r)
    units = "\n".join(f"u{i}" for i in range(10))
    r = client.post(f"/experimentations/{exp.slug}/affecter/", {"unit_ids": units}, follow=True)
    exp.refresh_from_db()
    html = _html(r)
    assert exp.status == "assigned" and "10 unités affectées" in html
    assert "groupe témoin" in html and exp.assignments.count() == 10
    assert Event.objects.filter(type="experiment.assigned", subject_id=exp.slug).exists()


def test_others_cannot_run_an_experiment(client, world, evaluator, project):
    client.force_login(world.carrier_admin.user)
    exp_page = client.post(
        "/espace/experimentations/nouvelle/",
        {
            "project": project.slug,
            "hypothesis": "Le service augmente l'emploi durable.",
            "outcome": "Emploi durable",
            "baseline_rate": "20",
            "mde_points": "5",
            "power": "80",
            "alpha": "0.05",
            "design": "individual",
            "window_months": "6",
        },
    )
    assert exp_page.status_code == 302
    exp = Experiment.objects.get()
    client.force_login(world.reviewer.user)
    assert "/pre-enregistrer/" not in _html(client.get(f"/experimentations/{exp.slug}/"))
    r = client.post(f"/experimentations/{exp.slug}/pre-enregistrer/", {"confirm": "1"})
    assert r.status_code == 403 and Experiment.objects.get().status == "draft"
    assert client.get(f"/experimentations/{exp.slug}/affecter/").status_code == 403
