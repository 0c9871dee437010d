"""Impact evaluations: reference values, CSV checks, independence, immutability, API listing."""

from __future__ import annotations

import pytest

from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.evidence import evaluations
from pacte.evidence.models import Evaluation
from pacte.journal.models import Event
from tests.evidence.conftest import REFERENCE, bearer, outcomes_csv, post

pytestmark = pytest.mark.django_db


def test_reference_case_through_the_service(evaluator, project):
    ev = evaluations.create_evaluation(evaluator, project, title="Essai 2025", counts=REFERENCE)
    ev = evaluations.publish_evaluation(evaluator, ev)
    est, low, high = ev.displayed()
    assert round(est, 2) == 2.11
    assert low == pytest.approx(1.75, abs=0.01) and high == pytest.approx(2.47, abs=0.01)
    assert ev.conclusive and "concluant" in ev.sentence and "non concluant" not in ev.sentence
    assert ev.p_value < 1e-6 and ev.n_treatment == ev.n_control == 100_000
    assert ev.details["risk_ratio"]["estimate"] == pytest.approx(22_100 / 19_990)
    assert ev.power is not None and ev.power > 0.99  # 2-point MDE from the pact's impact plan
    assert ev.outcome == "Retour à l'emploi durable à 6 mois" and ev.window == "6 mois"
    event = Event.objects.get(type="evaluation.published")
    assert '"estimate":' in event.entry and event.subject_id == str(ev.pk)


def test_inconclusive_with_1000_per_arm_says_so(evaluator, project):
    ev = evaluations.create_evaluation(
        evaluator,
        project,
        title="Pilote",
        counts={
            "n_treatment": 1000,
            "successes_treatment": 221,
            "n_control": 1000,
            "successes_control": 200,
        },
    )
    est, low, high = ev.displayed()
    assert low < 0 < high
    assert low == pytest.approx(-1.5, abs=0.3) and high == pytest.approx(5.6, abs=0.3)
    assert not ev.conclusive and "non concluant" in ev.sentence


def test_negative_result_is_published_like_the_others(evaluator, project):
    ev = evaluations.create_evaluation(
        evaluator,
        project,
        title="Effet négatif",
        counts={
            "n_treatment": 5000,
            "successes_treatment": 900,
            "n_control": 5000,
            "successes_control": 1100,
        },
    )
    ev = evaluations.publish_evaluation(evaluator, ev)
    assert ev.status == "published" and ev.estimate < 0 and "négatif" in ev.sentence


def test_csv_upload_reproduces_the_counts(evaluator, project):
    data = outcomes_csv(2000, 442, 2000, 400)
    ev = evaluations.create_evaluation(evaluator, project, title="Fichier", csv_data=data)
    assert ev.method == "proportions" and ev.source == "upload" and len(ev.data_sha256) == 64
    direct = evaluations.create_evaluation(
        evaluator,
        project,
        title="Agrégé",
        counts={
            "n_treatment": 2000,
            "successes_treatment": 442,
            "n_control": 2000,
            "successes_control": 400,
        },
    )
    assert (ev.estimate, ev.ci_low, ev.ci_high) == pytest.approx(
        (direct.estimate, direct.ci_low, direct.ci_high)
    )


def test_continuous_outcome_uses_welch(evaluator, project):
    rows = (
        ["unit_id,arm,outcome"]
        + [f"t{i},treatment,{100 + i % 7}" for i in range(50)]
        + [f"c{i},control,{98 + i % 5}" for i in range(50)]
    )
    ev = evaluations.create_evaluation(
        evaluator, project, title="Revenu", csv_data="\n".join(rows).encode()
    )
    assert ev.method == "means" and "Welch" in ev.details["method_text"]


def test_comparison_cohort_uses_difference_in_differences(evaluator, project):
    rows = ["unit_id,arm,outcome,period"]
    import random

    rng = random.Random(7)
    pre, post_ = {}, {}
    for i in range(400):
        arm = "treatment" if i < 200 else "control"
        pre[i] = int(rng.random() < 0.3)
        post_[i] = int(rng.random() < (0.5 if arm == "treatment" else 0.35))
        rows.append(f"u{i},{arm},{pre[i]},pre")
        rows.append(f"u{i},{arm},{post_[i]},post")
    expected = (
        sum(post_[i] - pre[i] for i in range(200)) - sum(post_[i] - pre[i] for i in range(200, 400))
    ) / 200
    ev = evaluations.create_evaluation(
        evaluator, project, title="Cohortes", csv_data="\n".join(rows).encode()
    )
    assert ev.method == "did" and ev.estimate == pytest.approx(expected) and ev.unit == "points"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "vide"),
        (b"id,arm,outcome\nx,treatment,1\n", "colonne(s) manquante(s) : unit_id"),
        (b"unit_id,arm,outcome\nx,placebo,1\ny,control,0\n", "Ligne 2 : bras"),
        (b"unit_id,arm,outcome\nx,treatment,oui\ny,control,0\n", "Ligne 2 : résultat"),
        (b"unit_id,arm,outcome\nx,treatment,1\nx,control,0\n", "Ligne 3 : unité « x » en double"),
        (b"unit_id,arm,outcome\nx,treatment,1\n", "bras témoin"),
        ("unit_id,arm,outcome\nx,treatment,1\n".encode("utf-16"), "UTF-8"),
    ],
)
def test_bad_files_get_clear_french_errors_and_nothing_is_saved(evaluator, project, data, message):
    with pytest.raises(ValidationFailed) as exc:
        evaluations.create_evaluation(evaluator, project, title="Mauvais fichier", csv_data=data)
    text = exc.value.message + " ".join(exc.value.field_errors.get("fichier", []))
    assert message in text
    assert Evaluation.objects.count() == 0


def test_carrier_cannot_create_or_publish_the_evaluators_result(world, evaluator, project):
    with pytest.raises(PermissionDenied):
        evaluations.create_evaluation(
            world.carrier_admin, project, title="Auto-évaluation", counts=REFERENCE
        )
    ev = evaluations.create_evaluation(evaluator, project, title="Essai", counts=REFERENCE)
    with pytest.raises(PermissionDenied):
        evaluations.publish_evaluation(world.carrier_admin, ev)
    with pytest.raises(PermissionDenied):
        evaluations.publish_evaluation(world.auditor, ev)  # auditors read, never write
    assert Evaluation.objects.get(pk=ev.pk).status == "draft"


def test_evaluator_who_belongs_to_the_carrier_is_not_independent(world, evaluator, project):
    from pacte.accounts.services import add_member

    add_member(evaluator.user, world.carrier, ["carrier_member"])
    with pytest.raises(PermissionDenied, match="indépendance"):
        evaluations.create_evaluation(evaluator, project, title="Conflit", counts=REFERENCE)


def test_published_evaluation_can_be_neither_edited_nor_deleted(evaluator, project, client):
    ev = evaluations.publish_evaluation(
        evaluator,
        evaluations.create_evaluation(evaluator, project, title="Essai", counts=REFERENCE),
    )
    ev.estimate = 0.5
    with pytest.raises(InvalidTransition):
        ev.save()
    with pytest.raises(InvalidTransition):
        Evaluation.objects.get(pk=ev.pk).delete()
    with pytest.raises(InvalidTransition):
        evaluations.delete_evaluation(evaluator, ev)
    with pytest.raises(InvalidTransition):
        evaluations.publish_evaluation(evaluator, ev)
    h = bearer(evaluator)
    assert client.delete(f"/api/v1/evaluations/{ev.pk}", **h).status_code == 409
    r = client.put(
        f"/api/v1/evaluations/{ev.pk}", data='{"counts": {}}', content_type="application/json", **h
    )
    assert r.status_code == 409
    assert Evaluation.objects.get(pk=ev.pk).estimate == pytest.approx(0.0211)


def test_audience_outcome_is_refused(evaluator, project):
    with pytest.raises(ValidationFailed, match="audience"):
        evaluations.create_evaluation(
            evaluator, project, title="Clics", outcome="Nombre de visites", counts=REFERENCE
        )


def test_api_lists_published_evaluations_and_reference_case(client, world, evaluator, project):
    h = bearer(evaluator)
    r = post(
        client,
        "/api/v1/evaluations",
        {"project": project.slug, "title": "Essai", "counts": REFERENCE},
        h,
    )
    assert r.status_code == 201, r.content
    draft_id = r.json()["id"]
    assert client.get("/api/v1/evaluations").json()["count"] == 0  # drafts are not public
    assert (
        post(
            client, f"/api/v1/evaluations/{draft_id}/publish", {}, bearer(world.carrier_admin)
        ).status_code
        == 403
    )
    assert post(client, f"/api/v1/evaluations/{draft_id}/publish", {}, h).status_code == 200
    data = client.get("/api/v1/evaluations").json()
    assert data["count"] == 1
    item = data["items"][0]
    for k in (
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "n_treatment",
        "n_control",
        "outcome",
        "window",
    ):
        assert k in item
    assert round(item["estimate"] * 100, 2) == 2.11
    assert item["ci_low"] * 100 == pytest.approx(1.75, abs=0.01)
    assert item["ci_high"] * 100 == pytest.approx(2.47, abs=0.01)
    assert item["n_treatment"] == 100_000 and item["window"] == "6 mois"


def test_api_csv_upload_errors_are_422(client, evaluator, project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile(
        "r.csv", b"unit_id,arm,outcome\nx,treatment,abc\n", content_type="text/csv"
    )
    r = client.post(
        "/api/v1/evaluations/upload",
        {"project": project.slug, "title": "Fichier", "file": bad},
        **bearer(evaluator),
    )
    assert r.status_code == 422 and "Ligne 2" in str(r.json())
    good = SimpleUploadedFile("r.csv", outcomes_csv(300, 80, 300, 60), content_type="text/csv")
    r = client.post(
        "/api/v1/evaluations/upload",
        {"project": project.slug, "title": "Fichier", "file": good},
        **bearer(evaluator),
    )
    assert r.status_code == 201 and r.json()["n_treatment"] == 300
