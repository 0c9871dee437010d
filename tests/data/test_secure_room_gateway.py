"""The secure room through the API (issue 8): one-person aggregates, perturbation, limits."""

from __future__ import annotations

import pandas as pd
import pytest
from django.test import Client

from pacte.data.gateway import secure_room
from pacte.data.models import DatasetVersion
from pacte.engines import cell_key
from pacte.engines.secure_room import Limits
from pacte.journal.models import Event
from tests.data.conftest import call, grant_for

SR = "/api/v1/data/cohorte/secure-room"


@pytest.fixture
def room(world, active, cohort):
    return grant_for(world, active, cohort, 4)


def _one_person(cohort) -> str:
    frame = pd.read_parquet(cohort.current_version.paths[0])
    cols = ["departement", "age_band", "sex", "education_level"]
    sizes = frame.groupby(cols).size()
    combo = sizes[sizes == 1].index[0]
    return " AND ".join(f"{c} = '{v}'" for c, v in zip(cols, combo, strict=True))


def test_conditional_aggregate_of_one_person_is_suppressed(room, cohort):
    grant, token = room
    c = _one_person(cohort)
    weighted = call(
        token, SR, {"sql": f"SELECT SUM(CASE WHEN {c} THEN 1 ELSE 0 END) AS n FROM donnees"}
    )
    assert weighted.status_code == 400 and "FILTER" in weighted.json()["message"]  # refused by name
    r = call(
        token,
        SR,
        {
            "sql": f"SELECT COUNT(*) FILTER (WHERE {c}) AS n, "
            f"SUM(disability) FILTER (WHERE {c}) AS d, COUNT(*) AS total "
            "FROM donnees"
        },
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["rows"][0][0] is None and body["rows"][0][1] is None
    assert body["suppression"]["cells_suppressed"] == 2
    assert body["suppression"]["reasons"]["cell_persons"] == 2
    assert body["perturbation"]["method"].startswith("cell-key")
    assert body["perturbation"]["table"]["≥3"] == {"-2": 21, "-1": 43, "0": 128, "1": 43, "2": 21}


def test_answers_are_perturbed_consistently_with_a_secret_per_version(room, cohort):
    _, token = room
    sql = {"sql": "SELECT departement, COUNT(*) AS n FROM donnees GROUP BY departement ORDER BY 1"}
    first = call(token, SR, sql).json()
    assert call(token, SR, sql).json()["rows"] == first["rows"]  # same cell, same value
    frame = pd.read_parquet(cohort.current_version.paths[0])
    exact = frame.groupby("departement").size()
    deltas = [n - int(exact[d]) for d, n in first["rows"]]
    assert max(abs(x) for x in deltas) <= cell_key.MAX_PERTURBATION and any(deltas)
    dv = DatasetVersion.objects.get(pk=cohort.current_version.pk)
    assert isinstance(dv.profile[secure_room.CELL_KEY_FIELD], int)  # drawn at ingestion
    assert str(dv.profile[secure_room.CELL_KEY_FIELD]) not in str(first)
    assert (
        secure_room.CELL_KEY_FIELD
        not in call("", "/api/v1/datasets/cohorte", method="get").content.decode()
    )


def test_version_without_secret_gets_one_once(room, cohort):
    _, token = room
    dv = cohort.current_version
    dv.profile = {k: v for k, v in dv.profile.items() if k != secure_room.CELL_KEY_FIELD}
    dv.save()
    sql = {"sql": "SELECT sex, COUNT(*) AS n FROM donnees GROUP BY sex ORDER BY 1"}
    first = call(token, SR, sql).json()["rows"]
    dv.refresh_from_db()
    secret = dv.profile[secure_room.CELL_KEY_FIELD]
    assert call(token, SR, sql).json()["rows"] == first
    dv.refresh_from_db()
    assert dv.profile[secure_room.CELL_KEY_FIELD] == secret


@pytest.mark.parametrize(
    "limits, fragment",
    [
        (Limits(timeout_s=1e-6), "arrêtée"),
        (Limits(max_cells=3), "cellules"),
        (Limits(max_sql_chars=40), "caractères"),
    ],
)
def test_cost_limits_give_a_clean_4xx_and_are_logged(room, monkeypatch, limits, fragment):
    grant, token = room
    monkeypatch.setattr(secure_room, "LIMITS", limits)
    r = call(
        token, SR, {"sql": "SELECT departement, COUNT(*) AS n FROM donnees GROUP BY departement"}
    )
    assert r.status_code == 422, r.content
    assert r.json()["error"] == "query_too_costly" and fragment in r.json()["message"]
    assert Event.objects.filter(
        type="data.query", subject_id=grant.reference, entry__contains='"outcome":"refused"'
    ).exists()
    monkeypatch.setattr(secure_room, "LIMITS", Limits())
    assert call(token, SR, {"sql": "SELECT COUNT(*) AS n FROM donnees"}).status_code == 200


def test_rules_page_publishes_the_table_and_the_limits(db):
    from django.urls import reverse

    page = Client().get(reverse("data:rules"))
    assert page.status_code == 200
    text = page.content.decode()
    assert (
        "salle-securisee" in text
        and "128" in text
        and "10000" in text.replace("\u202f", "").replace(" ", "")
    )
    assert "Perturbation maximale" in text
