"""Impact evaluation with outcomes from the data gateway: pseudonymous join to the published assignment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pacte.data.catalogue import publish_dataset
from pacte.data.grants import suspend_grant
from pacte.data.ingestion import add_version, file_sha256, normalise_parquet
from pacte.data.models import Grant, GrantState
from pacte.data.ports import GATEWAY
from pacte.engines.pseudonymise import pseudonym
from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.evidence import evaluations, experiments, gateway_evaluations
from pacte.evidence.models import Evaluation
from pacte.journal.models import Event
from pacte.pacts import drafting as pact_drafting
from tests.conftest import activate
from tests.data.conftest import grant_for
from tests.evidence.conftest import bearer, post

pytestmark = pytest.mark.django_db

N_UNITS = 400  # persons p0000…p0399 of the dataset are in the experiment
STRANGERS = 10  # units of the experiment absent from the dataset
EXTRA = 150  # persons of the dataset outside the experiment
SUCCESS_T, SUCCESS_C = 60, 40  # back to work among the first matched units of each arm
MISSING = "p0001"  # a person in the dataset whose outcome is missing
COLUMNS = ["person_id", "age_band", "back_to_work_6m", "employed_flag"]


def _schema() -> dict[str, Any]:
    flag = {"type": "int", "bounds": [0, 1]}
    return {
        "columns": [
            {"name": "person_id", "type": "string", "classification": "direct_identifier"},
            {"name": "nir", "type": "string", "classification": "direct_identifier"},
            {
                "name": "age_band",
                "type": "string",
                "classification": "quasi_identifier",
                "keys": ["16-25", "26-40"],
            },
            {"name": "back_to_work_6m", **flag, "classification": "measure"},
            # same outcome, classified quasi-identifier: the tier-2 view would generalise it
            {
                "name": "employed_flag",
                **flag,
                "classification": "quasi_identifier",
                "hierarchy": "suppress",
            },
        ]
    }


def _experiment(
    world: Any, project: Any, units: list[str], slug: str
) -> tuple[Any, dict[str, str]]:
    exp = experiments.design_experiment(
        world.carrier_admin,
        project,
        slug=slug,
        baseline_rate=0.2,
        mde_points=10,
        hypothesis="Montrer les entreprises qui recrutent aide au retour à l'emploi.",
        outcome="Retour à l'emploi durable à 6 mois",
        window_months=6,
    )
    exp = experiments.preregister(world.carrier_admin, exp)
    allocation = experiments.assign_units(world.carrier_admin, exp, units)
    exp.refresh_from_db()
    return exp, allocation


def _outcomes(allocation: dict[str, str]) -> dict[str, int | None]:
    """Exactly SUCCESS_T treated and SUCCESS_C controls back in work (among units with an outcome)."""
    seen = {"treatment": 0, "control": 0}
    quota = {"treatment": SUCCESS_T, "control": SUCCESS_C}
    y: dict[str, int | None] = {}
    for unit in sorted(u for u in allocation if u.startswith("p")):
        if unit == MISSING:
            y[unit] = None
            continue
        arm = allocation[unit]
        seen[arm] += 1
        y[unit] = 1 if seen[arm] <= quota[arm] else 0
    for i in range(N_UNITS, N_UNITS + EXTRA):
        y[f"p{i:04d}"] = i % 2
    return y


def _dataset(world: Any, path: Path, y: dict[str, int | None], slug: str = "cohorte-eval") -> Any:
    ids = sorted(y)
    pl.DataFrame(
        {
            "person_id": ids,
            "nir": [f"1{i:012d}" for i in range(len(ids))],
            "age_band": ["16-25" if i % 3 else "26-40" for i in range(len(ids))],
            "back_to_work_6m": [y[p] for p in ids],
            "employed_flag": [y[p] for p in ids],
        },
        schema={
            "person_id": pl.Utf8,
            "nir": pl.Utf8,
            "age_band": pl.Utf8,
            "back_to_work_6m": pl.Int64,
            "employed_flag": pl.Int64,
        },
    ).write_parquet(path)
    normalise_parquet(path)
    ds = publish_dataset(
        world.data_steward,
        publisher=world.institution,
        slug=slug,
        title="Cohorte évaluée",
        description="Jeu de test",
        sensitivity=2,
        certified=True,
        keywords=["test"],
    )
    add_version(
        world.data_steward,
        ds,
        version="v1",
        paths=[str(path)],
        schema=_schema(),
        row_count=len(ids),
        person_column="person_id",
        sha256=file_sha256(path),
        byte_size=path.stat().st_size,
        rho_cap=1.0,
    )
    ds.refresh_from_db()
    return ds


@pytest.fixture
def setup(world, active, tmp_path):  # type: ignore[no-untyped-def]
    project = active.pact.project
    units = [f"p{i:04d}" for i in range(N_UNITS)] + [f"inconnu-{i}" for i in range(STRANGERS)]
    exp, allocation = _experiment(world, project, units, "essai-passerelle")
    y = _outcomes(allocation)
    ds = _dataset(world, tmp_path / "cohorte.parquet", y)
    grant, _ = grant_for(world, active, ds, 2, COLUMNS)
    return {
        "exp": exp,
        "allocation": allocation,
        "y": y,
        "ds": ds,
        "grant": grant,
        "project": project,
    }


def _port(grant):  # type: ignore[no-untyped-def]
    """The grant as the evidence domain receives it: through the data domain's port."""
    return GATEWAY.grant(grant.reference)


def _expected(allocation: dict[str, str], y: dict[str, int | None]) -> tuple[int, int, int, int]:
    n = {"treatment": 0, "control": 0}
    for unit, arm in allocation.items():
        if y.get(unit) is not None:
            n[arm] += 1
    return SUCCESS_T, n["treatment"], SUCCESS_C, n["control"]


def _csv_for(allocation: dict[str, str], y: dict[str, int | None]) -> bytes:
    lines = ["unit_id,arm,outcome"] + [
        f"{u},{allocation[u]},{y[u]}" for u in sorted(allocation) if y.get(u) is not None
    ]
    return ("\n".join(lines) + "\n").encode()


def test_happy_path_reproduces_the_known_difference_like_the_csv_path(setup, evaluator):
    exp, grant, allocation, y = setup["exp"], setup["grant"], setup["allocation"], setup["y"]
    ev = gateway_evaluations.evaluate_from_gateway(evaluator, exp, _port(grant), "back_to_work_6m")
    assert (
        ev.status == Evaluation.State.PUBLISHED
        and ev.source == "gateway"
        and ev.method == "proportions"
    )
    s_t, n_t, s_c, n_c = _expected(allocation, y)
    assert (ev.successes_treatment, ev.n_treatment, ev.successes_control, ev.n_control) == (
        s_t,
        n_t,
        s_c,
        n_c,
    )
    assert ev.estimate == pytest.approx(s_t / n_t - s_c / n_c)
    # exactly the CSV path on the same units: same figures, same data hash
    upload = evaluations.create_evaluation(
        evaluator,
        setup["project"],
        title="Même données, par fichier",
        csv_data=_csv_for(allocation, y),
        experiment=exp,
    )
    assert (ev.estimate, ev.ci_low, ev.ci_high, ev.p_value) == pytest.approx(
        (upload.estimate, upload.ci_low, upload.ci_high, upload.p_value)
    )
    assert ev.data_sha256 == upload.data_sha256
    # matched vs unmatched, recorded on the evaluation
    g = ev.details["gateway"]
    assert g["mode"] == "tier2_view" and g["grant"] == grant.reference and g["tier"] == 2
    assert g["assigned"] == N_UNITS + STRANGERS and g["matched"] == N_UNITS - 1
    assert g["unmatched"] == STRANGERS and g["missing_outcome"] == 1
    assert g["matched_via"] == {"person_id": N_UNITS - 1, "pseudonym": 0}
    assert sum(b["assigned"] for b in g["by_arm"].values()) == N_UNITS + STRANGERS
    assert g["rows_read"] == N_UNITS + EXTRA and g["k_report"]["rows_suppressed"] == 0


def test_events_logged_in_order_with_the_query_facts(setup, evaluator):
    ev = gateway_evaluations.evaluate_from_gateway(
        evaluator, setup["exp"], _port(setup["grant"]), "back_to_work_6m"
    )
    query = Event.objects.get(type="data.query", subject_id=setup["grant"].reference)
    published = Event.objects.get(type="evaluation.published", subject_id=str(ev.pk))
    assert query.index < published.index
    entry = json.loads(query.entry)["data"]
    assert (
        entry["tier"] == 2
        and entry["rows_read"] == N_UNITS + EXTRA
        and entry["outcome"] == "served"
    )
    assert entry["output_sha256"] == ev.data_sha256 and len(entry["fingerprint"]) == 64
    assert entry["matched"] == N_UNITS - 1 and entry["unmatched"] == STRANGERS
    assert entry["columns"] == ["person_id", "back_to_work_6m"]  # only the join key and the outcome
    assert json.loads(published.entry)["data"]["data_sha256"] == ev.data_sha256
    # no raw person id in the log
    assert "p0002" not in query.entry and "p0002" not in published.entry


def test_published_gateway_evaluation_is_final(setup, evaluator):
    ev = gateway_evaluations.evaluate_from_gateway(
        evaluator, setup["exp"], _port(setup["grant"]), "back_to_work_6m"
    )
    with pytest.raises(InvalidTransition):
        evaluations.delete_evaluation(evaluator, ev)
    with pytest.raises(InvalidTransition):
        evaluations.publish_evaluation(evaluator, ev)


def test_draft_mode_logs_the_query_but_does_not_publish(setup, evaluator):
    ev = gateway_evaluations.evaluate_from_gateway(
        evaluator, setup["exp"], _port(setup["grant"]), "back_to_work_6m", publish=False
    )
    assert ev.status == Evaluation.State.DRAFT
    assert Event.objects.filter(type="data.query", subject_id=setup["grant"].reference).count() == 1
    assert not Event.objects.filter(type="evaluation.published").exists()


def test_carrier_cannot_evaluate_its_own_service(setup, world, client):
    with pytest.raises(PermissionDenied):
        gateway_evaluations.evaluate_from_gateway(
            world.carrier_admin, setup["exp"], _port(setup["grant"]), "back_to_work_6m"
        )
    r = post(
        client,
        f"/api/v1/experiments/{setup['exp'].slug}/evaluations/from-gateway",
        {"grant": setup["grant"].reference, "outcome_column": "back_to_work_6m"},
        bearer(world.carrier_admin),
    )
    assert r.status_code == 403
    assert not Evaluation.objects.exists() and not Event.objects.filter(type="data.query").exists()


def test_api_publishes_and_reports_counts(setup, evaluator, client):
    r = post(
        client,
        f"/api/v1/experiments/{setup['exp'].slug}/evaluations/from-gateway",
        {
            "grant": setup["grant"].reference,
            "outcome_column": "back_to_work_6m",
            "window_months": 6,
        },
        bearer(evaluator),
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["source"] == "gateway" and body["status"] == "published"
    assert body["gateway"]["matched"] == N_UNITS - 1 and body["gateway"]["unmatched"] == STRANGERS
    listed = client.get("/api/v1/evaluations").json()["items"]
    assert (
        listed[0]["id"] == body["id"]
        and listed[0]["n_treatment"] + listed[0]["n_control"] == N_UNITS - 1
    )


def test_suspended_grant_is_refused(setup, evaluator, world, client):
    grant = setup["grant"]
    suspend_grant(world.reviewer, grant, "Manquement au pacte constaté.")
    grant.refresh_from_db()
    assert grant.state == GrantState.SUSPENDED
    r = post(
        client,
        f"/api/v1/experiments/{setup['exp'].slug}/evaluations/from-gateway",
        {"grant": grant.reference, "outcome_column": "back_to_work_6m"},
        bearer(evaluator),
    )
    assert r.status_code == 403 and "suspendu" in r.json()["message"]
    assert not Evaluation.objects.exists()
    assert not Event.objects.filter(type="data.query", subject_id=grant.reference).exists()


def test_refusals_are_clear(setup, evaluator, world, active, content, client):
    exp, grant = setup["exp"], setup["grant"]
    url = f"/api/v1/experiments/{exp.slug}/evaluations/from-gateway"
    r = post(
        client, url, {"grant": grant.reference, "outcome_column": "inexistante"}, bearer(evaluator)
    )
    assert r.status_code == 422 and "inconnue" in r.json()["message"]
    r = post(client, url, {"grant": grant.reference, "outcome_column": "nir"}, bearer(evaluator))
    assert r.status_code == 422  # not covered by the grant
    r = post(
        client,
        url,
        {"grant": "ACC-0000-9999", "outcome_column": "back_to_work_6m"},
        bearer(evaluator),
    )
    assert r.status_code == 404
    # expired → refused (403, not 401: the evaluator is signed in)
    from datetime import timedelta

    from django.utils import timezone

    Grant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(days=1))
    r = post(
        client,
        url,
        {"grant": grant.reference, "outcome_column": "back_to_work_6m"},
        bearer(evaluator),
    )
    assert r.status_code == 403 and "expiré" in r.json()["message"]
    Grant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() + timedelta(days=100))
    # not tier 2
    Grant.objects.filter(pk=grant.pk).update(tier=3)
    r = post(
        client,
        url,
        {"grant": grant.reference, "outcome_column": "back_to_work_6m"},
        bearer(evaluator),
    )
    assert r.status_code == 422 and "niveau 2" in r.json()["message"]
    Grant.objects.filter(pk=grant.pk).update(tier=2)
    # another project's grant on the same dataset
    other_project = world.project(name="Autre service", slug="autre-service")
    other = activate(
        world,
        pact_drafting.create_pact(world.carrier_admin, other_project, world.institution, content),
    )
    other_grant, _ = grant_for(world, other, setup["ds"], 2, COLUMNS)
    r = post(
        client,
        url,
        {"grant": other_grant.reference, "outcome_column": "back_to_work_6m"},
        bearer(evaluator),
    )
    assert r.status_code == 403 and "autre projet" in r.json()["message"]
    assert not Evaluation.objects.exists() and not Event.objects.filter(type="data.query").exists()


def test_too_few_matched_units_reports_the_counts(setup, evaluator, world):
    units = [f"p{i:04d}" for i in range(N_UNITS, N_UNITS + 12)] + [
        f"absent-{i}" for i in range(100)
    ]
    exp, _ = _experiment(world, setup["project"], units, "essai-mal-apparie")
    with pytest.raises(ValidationFailed) as err:
        gateway_evaluations.evaluate_from_gateway(
            evaluator, exp, _port(setup["grant"]), "back_to_work_6m"
        )
    message = err.value.message
    assert "Trop peu" in message and "12 appariée(s), 100 non appariée(s)" in message
    assert not Evaluation.objects.filter(experiment=exp).exists()


def test_units_already_pseudonymised_with_the_grant_key_are_matched(setup, evaluator, world):
    grant = setup["grant"]
    key = bytes(Grant.objects.get(pk=grant.pk).pseudonym_key)
    persons = [f"p{i:04d}" for i in range(N_UNITS, N_UNITS + EXTRA)]
    exp, allocation = _experiment(
        world, setup["project"], [pseudonym(key, p) for p in persons], "essai-pseudo"
    )
    ev = gateway_evaluations.evaluate_from_gateway(
        evaluator, exp, _port(grant), "back_to_work_6m", publish=False
    )
    g = ev.details["gateway"]
    assert g["matched_via"] == {"person_id": 0, "pseudonym": EXTRA} and g["unmatched"] == 0
    y_by_pseudo = {pseudonym(key, p): setup["y"][p] for p in persons}
    upload = evaluations.create_evaluation(
        evaluator,
        setup["project"],
        title="Par fichier",
        csv_data=_csv_for(allocation, y_by_pseudo),
        experiment=exp,
    )
    assert (ev.estimate, ev.ci_low, ev.ci_high) == pytest.approx(
        (upload.estimate, upload.ci_low, upload.ci_high)
    )


def test_outcome_classified_quasi_identifier_is_read_in_platform_exactly(setup, evaluator):
    ev = gateway_evaluations.evaluate_from_gateway(
        evaluator, setup["exp"], _port(setup["grant"]), "employed_flag", publish=False
    )
    g = ev.details["gateway"]
    assert g["mode"] == "in_platform" and g["matched"] == N_UNITS - 1
    assert (ev.successes_treatment, ev.successes_control) == (SUCCESS_T, SUCCESS_C)


def test_evaluator_form_computes_a_gateway_draft(setup, evaluator, client):
    client.force_login(evaluator.user)
    r = client.post(
        "/espace/evaluations/nouvelle/",
        {
            "project": setup["project"].slug,
            "title": "Depuis la passerelle",
            "window_months": "6",
            "experiment": setup["exp"].slug,
            "grant": setup["grant"].reference,
            "outcome_column": "back_to_work_6m",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    ev = Evaluation.objects.get()
    assert ev.source == "gateway" and ev.status == Evaluation.State.DRAFT and ev.window == "6 mois"
    r = client.post(
        "/espace/evaluations/nouvelle/",
        {
            "project": setup["project"].slug,
            "title": "Colonne absente",
            "experiment": setup["exp"].slug,
            "grant": setup["grant"].reference,
            "outcome_column": "absente",
        },
    )
    assert r.status_code == 422 and "inconnue" in r.content.decode()
