"""The gateway: tokens, tiers, DP aggregates and the budget ledger, extracts, secure room."""

from __future__ import annotations

import io
from datetime import timedelta

import polars as pl
import pytest
from django.core import mail
from django.utils import timezone

from pacte.data.catalogue import publish_dataset
from pacte.data.gateway import aggregates
from pacte.data.gateway.secure_room import secure_room_profile
from pacte.data.grants import issue_token, refresh_grants, renew_grant
from pacte.data.ingestion import add_version
from pacte.data.models import Grant, GrantState, Release, Reservation
from pacte.engines import cell_key, privacy
from pacte.journal.models import Event
from pacte.pacts import drafting as pact_drafting
from pacte.pacts import sanctions as pact_sanctions
from pacte.pacts.models import Status
from tests.conftest import activate
from tests.data.conftest import call, grant_for
from tests.queue import run_queue

AGG = "/api/v1/data/embauches/aggregates"
QUERY = {
    "group_by": ["region"],
    "aggregates": [{"op": "count"}, {"op": "mean", "column": "monthly_salary_eur"}],
    "rho": 0.005,
}


def test_dp_aggregates_answer_and_cache(dp_grant):
    grant, token = dp_grant
    r = call(token, AGG, QUERY)
    assert r.status_code == 200, r.content
    body = r.json()
    assert len(body["cells"]) == 18 and {"region", "count", "mean_monthly_salary_eur"} <= set(
        body["cells"][0]
    )
    assert body["noise_scale"]["count"] > 0 and body["margin_95"]["count"] > 0
    assert body["rho_spent"] == pytest.approx(0.005)
    assert body["rho_remaining"] == pytest.approx(grant.rho_grant - 0.005)
    again = call(token, AGG, QUERY).json()
    assert (
        again["cached"] is True
        and again["rho_spent"] == 0
        and again["release_id"] == body["release_id"]
    )
    assert again["cells"] == body["cells"]
    grant.refresh_from_db()
    assert grant.rho_spent == pytest.approx(0.005)
    events = Event.objects.filter(type="data.query", subject_id=grant.reference)
    assert events.count() == 2
    assert all(
        '"fingerprint":' in e.entry and '"output_sha256":' in e.entry and '"tier":3' in e.entry
        for e in events
    )
    # every release is public
    public = call("", f"/api/v1/releases/{body['release_id']}", method="get")
    assert public.status_code == 200 and public.json()["cells"] == body["cells"]


@pytest.mark.parametrize(
    "body, fragment",
    [
        ("{not json", "JSON invalide"),
        ([1, 2], "objet JSON"),
        (
            {
                "group_by": ["region"],
                "aggregates": [{"op": "median", "column": "monthly_salary_eur"}],
            },
            "opération inconnue",
        ),
        ({"group_by": ["person_id"]}, "pas couverte"),
        ({"group_by": ["monthly_salary_eur"]}, "jeu de clés"),
        ({"aggregates": [{"op": "sum", "column": "region"}]}, "mesure"),
        ({"filters": [{"column": "region", "op": "eq", "value": "99"}]}, "absente"),
        ({"group_by": ["region"], "rho": 0.5}, "rho"),
        ({"group_by": ["region"], "rho": 0.05}, "plafond par requête"),
        ({"group_by": ["region"], "rho": -1}, "rho"),
        ({"unknown": 1}, "inconnu"),
    ],
)
def test_malformed_queries_are_clear_4xx(dp_grant, body, fragment):
    grant, token = dp_grant
    r = call(token, AGG, body)
    assert 400 <= r.status_code < 500, r.content
    assert fragment in r.json()["message"]
    grant.refresh_from_db()
    assert grant.rho_spent == 0


def test_budget_exhausted_says_why(dp_grant):
    grant, token = dp_grant
    n = 0
    while True:
        r = call(token, AGG, {"group_by": ["naf_sector"], "rho": grant.rho_query - n * 1e-6})
        if r.status_code != 200:
            break
        n += 1
    assert r.status_code == 429
    assert "épuisé" in r.json()["message"] and r.json()["error"] == "budget_exhausted"
    grant.refresh_from_db()
    assert grant.rho_spent <= grant.rho_grant + 1e-12
    assert n == int(grant.rho_grant / grant.rho_query + 1e-9)
    assert Event.objects.filter(type="data.query", entry__contains='"outcome":"refused"').exists()


def test_global_cap_per_dataset_version(dp_grant, hiring):
    grant, token = dp_grant
    dv = hiring.current_version
    dv.rho_cap = 0.006
    dv.save()
    assert call(token, AGG, QUERY).status_code == 200
    r = call(token, AGG, {"group_by": ["naf_sector"], "rho": 0.005})
    assert r.status_code == 429 and "global" in r.json()["message"]


def test_failed_computation_gives_the_reservation_back(dp_grant, hiring, monkeypatch):
    grant, token = dp_grant

    def boom(*a, **k):
        raise RuntimeError("OpenDP a échoué")

    monkeypatch.setattr(aggregates, "compute_release", boom)  # the gateway's computation
    r = call(token, AGG, QUERY)
    assert r.status_code == 503 and "rendu" in r.json()["message"]
    grant.refresh_from_db()
    hiring.current_version.refresh_from_db()
    assert grant.rho_spent == 0 and hiring.current_version.rho_spent == 0
    res = Reservation.objects.get(grant=grant)
    assert res.state == Reservation.State.RELEASED and "OpenDP a échoué" in res.reason
    assert not Release.objects.exists()


def test_tokens_expired_suspended_revoked_wrong_tier(world, active, dp_grant):
    grant, token = dp_grant
    assert call("pgr_inconnu", AGG, QUERY).status_code == 401
    assert call(token, "/api/v1/data/autre/aggregates", QUERY).status_code == 403
    r = call(token, "/api/v1/data/embauches/secure-room", {"sql": "SELECT COUNT(*) FROM donnees"})
    assert r.status_code == 403 and "niveau 3" in r.json()["message"]
    r = call(token, "/api/v1/data/embauches/extract", method="get")
    assert r.status_code == 403
    # the pact is suspended → the grant is suspended; reinstated → active again
    pact_sanctions.notify_breach(world.reviewer, active, "Audit de biais non publié à l'échéance.")
    pact_sanctions.suspend(world.reviewer, active, "Délai de remédiation écoulé sans audit.")
    grant.refresh_from_db()
    assert grant.state == GrantState.SUSPENDED
    r = call(token, AGG, QUERY)
    assert r.status_code == 403 and "suspendu" in r.json()["message"]
    pact_sanctions.reinstate(world.reviewer, active, "Audit publié.")
    grant.refresh_from_db()
    assert grant.state == GrantState.ACTIVE
    assert call(token, AGG, QUERY).status_code == 200
    # expired
    Grant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(days=1))
    r = call(token, AGG, QUERY)
    assert r.status_code == 401 and "expiré" in r.json()["message"]
    Grant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() + timedelta(days=100))
    # broken pact → revoked
    active.refresh_from_db()
    pact_sanctions.notify_breach(world.reviewer, active, "Nouveau manquement constaté.")
    pact_sanctions.suspend(world.reviewer, active, "Délai de remédiation écoulé.")
    pact_sanctions.break_pact(world.reviewer, active, "Aucune remédiation : rupture du pacte.")
    grant.refresh_from_db()
    assert grant.state == GrantState.REVOKED
    r = call(token, AGG, QUERY)
    assert r.status_code == 403 and "révoqué" in r.json()["message"]


def test_renewal_due_and_expiry_with_reminder(world, dp_grant, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    grant, token = dp_grant
    now = timezone.now()
    assert refresh_grants(grant.expires_at - timedelta(days=40)) == {"renewal_due": 0, "expired": 0}
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        counts = refresh_grants(grant.expires_at - timedelta(days=10))
    assert counts == {"renewal_due": 1, "expired": 0}
    assert run_queue() == 1  # the reminder is delivered by the worker
    grant.refresh_from_db()
    assert grant.state == GrantState.RENEWAL_DUE and len(mail.outbox) == 1
    assert call(token, AGG, QUERY).status_code == 200  # still usable while renewal is due
    assert refresh_grants(grant.expires_at + timedelta(minutes=1))["expired"] == 1
    grant.refresh_from_db()
    assert grant.state == GrantState.EXPIRED
    renew_grant(world.reviewer, grant, "Renouvellement accordé.")
    grant.refresh_from_db()
    assert grant.state == GrantState.ACTIVE and grant.expires_at > now and grant.renewals == 1


def test_token_is_shown_once_and_replaced(world, dp_grant):
    grant, token = dp_grant
    grant.refresh_from_db()
    assert token not in grant.token_hash and grant.token_prefix == token[:12]
    new = issue_token(world.carrier_admin, grant)
    assert call(token, AGG, QUERY).status_code == 401
    assert call(new, AGG, QUERY).status_code == 200


# ---------------------------------------------------------------- extracts


def _csv(response) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(b"".join(response.streaming_content)), infer_schema_length=0)


PSEUDO_COLUMNS = [
    "person_id",
    "establishment_id",
    "departement",
    "naf_sector",
    "age",
    "sex",
    "hire_date",
]


def test_pseudonyms_are_unlinkable_between_grants_and_k_anonymity_holds(
    world, active, hiring, content
):
    g1, t1 = grant_for(world, active, hiring, 2, PSEUDO_COLUMNS)
    other_project = world.project(name="Autre service", slug="autre-service")
    other = activate(
        world,
        pact_drafting.create_pact(world.carrier_admin, other_project, world.institution, content),
    )
    assert other.status == Status.ACTIVE
    g2, t2 = grant_for(world, other, hiring, 2, PSEUDO_COLUMNS)
    r1 = call(t1, "/api/v1/data/embauches/extract", method="get")
    r2 = call(t2, "/api/v1/data/embauches/extract", method="get")
    assert r1.status_code == r2.status_code == 200
    assert int(r1["X-Pacte-K-Anonymity"]) >= 11
    a, b = _csv(r1), _csv(r2)
    assert a.height > 0 and b.height > 0
    # direct identifiers: person and enterprise pseudonymised, raw values never leave
    raw = pl.read_parquet(hiring.current_version.paths[0])
    assert not set(a["person_id"]) & set(raw["person_id"])
    assert not set(a["establishment_id"]) & set(raw["establishment_id"])
    # unlinkable: the two grants' extracts share no pseudonym
    assert not set(a["person_id"]) & set(b["person_id"])
    assert not set(a["establishment_id"]) & set(b["establishment_id"])
    # k-anonymity gate: every combination of quasi-identifiers appears at least 11 times
    qis = ["departement", "age", "sex", "hire_date"]
    assert a.group_by(qis).len()["len"].min() >= 11
    assert "monthly_salary_eur" not in a.columns  # not granted
    ev = Event.objects.filter(type="data.query", subject_id=g1.reference).get()
    assert r1["X-Pacte-Output-SHA256"] in ev.entry


def test_open_extract_streams_csv_and_parquet(world, active, parquet_files):
    ds = publish_dataset(
        world.data_steward,
        publisher=world.institution,
        slug="ouvert",
        title="Ouvert",
        sensitivity=0,
    )
    from pacte.data.demo import hiring_schema

    add_version(
        world.data_steward,
        ds,
        version="v1",
        paths=[str(parquet_files["hiring"])],
        schema=hiring_schema(),
        row_count=4000,
        person_column="person_id",
    )
    grant, token = grant_for(world, active, ds, 1, ["region", "naf_sector"])
    r = call(token, "/api/v1/data/ouvert/extract", method="get")
    assert r.status_code == 200 and r.streaming
    frame = _csv(r)
    assert frame.columns == ["region", "naf_sector"] and frame.height == 4000
    r = call(token, "/api/v1/data/ouvert/extract?format=parquet", method="get")
    assert pl.read_parquet(io.BytesIO(b"".join(r.streaming_content))).height == 4000
    assert call(token, "/api/v1/data/ouvert/extract?format=xls", method="get").status_code == 400


# ---------------------------------------------------------------- secure room


@pytest.fixture
def room(world, active, cohort):
    return grant_for(world, active, cohort, 4)


SR = "/api/v1/data/cohorte/secure-room"


def test_secure_room_runs_and_reports_suppression(room):
    grant, token = room
    r = call(
        token,
        SR,
        {
            "sql": "SELECT departement, AVG(back_to_work_6m) AS taux, COUNT(*) AS n "
            "FROM donnees GROUP BY departement"
        },
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert (
        body["suppression"]["rows_suppressed"] > 0
    )  # 4 000 rows over 101 départements: small cells go
    assert all(row[2] >= 11 - cell_key.MAX_PERTURBATION for row in body["rows"])  # perturbed counts
    assert body["perturbation"]["max_perturbation"] == cell_key.MAX_PERTURBATION
    assert body["limits"]["max_sql_chars"] == 10_000
    ev = Event.objects.filter(type="data.query", subject_id=grant.reference).get()
    assert body["output_sha256"] in ev.entry and '"tier":4' in ev.entry


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT COUNT(*) FROM read_parquet('/tmp/*.parquet')",
        "COPY donnees TO '/tmp/out.csv'",
        "ATTACH '/tmp/x.db' AS x",
        "PRAGMA database_list",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SELECT COUNT(*) FROM donnees; DROP TABLE donnees",
        "SELECT COUNT(*) FROM donnees WHERE region = '11' OR 1=1 UNION SELECT getenv('HOME')",
        "SELECT person_id FROM donnees",
        "SELECT region, MAX(back_to_work_6m) FROM donnees GROUP BY region",
        "SELECT COUNT(*) FROM 'https://example.org/x.parquet'",
        "",
    ],
)
def test_secure_room_refuses_injection_and_forbidden_functions(room, sql):
    grant, token = room
    r = call(token, SR, {"sql": sql})
    assert r.status_code == 400, (sql, r.content)
    assert r.json()["error"] == "query_refused" and r.json()["message"]
    assert Event.objects.filter(
        type="data.query", subject_id=grant.reference, entry__contains='"outcome":"refused"'
    ).exists()


def test_secure_room_needs_sql_text(room):
    _, token = room
    assert call(token, SR, {"query": 1}).status_code == 400
    assert call(token, SR, "{oops").status_code == 400


def test_dp_release_protects_a_person_with_k_rows(dp_grant, hiring):
    """Privacy unit = one person: the version carries a view truncated to k rows per person,
    the scale is the closed form for k, and the release says what it protects."""
    from tests.data.conftest import HIRING_K

    grant, token = dp_grant
    dv = hiring.current_version
    assert dv.max_contributions == HIRING_K and dv.dp_view["k"] == HIRING_K
    raw = pl.read_parquet(dv.paths[0])
    assert raw.group_by("person_id").len()["len"].max() > HIRING_K  # some persons have many rows
    view = pl.read_parquet(dv.dp_view["path"])
    assert "person_id" not in view.columns and "establishment_id" not in view.columns
    kept = raw.filter(privacy.person_rank("person_id", raw.columns) <= HIRING_K)
    assert view.height == kept.height == dv.dp_view["rows_out"] < raw.height
    body = call(
        token, AGG, {"group_by": ["region"], "aggregates": [{"op": "count"}], "rho": 0.005}
    ).json()
    assert body["noise_scale"]["count"] == pytest.approx(HIRING_K / (2 * 0.005) ** 0.5, rel=1e-6)
    unit = body["privacy_unit"]
    assert (
        unit["unit"] == "person"
        and unit["rows_per_unit"] == HIRING_K
        and unit["person_column"] == "person_id"
    )
    rel = Release.objects.get(release_id=body["release_id"])
    assert rel.privacy_unit["unit"] == "person"
    from django.test import Client
    from django.urls import reverse

    page = Client().get(reverse("data:release", args=[rel.release_id]))
    assert page.status_code == 200 and "une personne" in page.content.decode()
    catalogue = Client().get(reverse("data:dataset", args=["embauches"]))
    assert f"au plus {HIRING_K} ligne(s) retenue(s) par personne" in catalogue.content.decode()
    public = call(token, f"/api/v1/releases/{rel.release_id}", method="get").json()
    assert public["privacy_unit"]["rows_per_unit"] == HIRING_K
    ds = call(token, "/api/v1/datasets/embauches", method="get").json()
    assert (
        ds["versions"][0]["rows_per_person"] == HIRING_K
        and "personne" in ds["versions"][0]["privacy_unit"]
    )


def test_secure_room_profile_is_stored_and_rebuilt(hiring):
    from pacte.engines import secure_room

    dv = hiring.current_version
    stored = secure_room_profile(dv)
    assert stored == secure_room.dataset_profile(dv.paths, "person_id", "establishment_id")
