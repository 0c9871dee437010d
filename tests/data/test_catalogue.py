"""Catalogue: import validation (bad files refused, catalogue unchanged), DCAT-AP, pages, consent."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import rdflib
from django.test import Client

from pacte.data.catalogue import publish_dataset
from pacte.data.consent import give_consent
from pacte.data.ingestion import datasets_dir, import_file
from pacte.data.models import Consent, DatasetVersion, PersonLink
from pacte.errors import PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from tests.data.conftest import call
from tests.project_page import project_page


def _state(hiring) -> tuple[int, list[str]]:
    folder = datasets_dir() / hiring.slug
    files = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    return DatasetVersion.objects.filter(dataset=hiring).count(), files


def test_import_adds_a_version(hiring, parquet_files, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    seen = []
    dv = import_file(
        parquet_files["hiring"], hiring.slug, "v2", progress=lambda d, t: seen.append((d, t))
    )
    assert dv.row_count == 4000 and dv.is_current and Path(dv.paths[0]).exists()
    assert seen and seen[-1][0] == seen[-1][1]
    assert Event.objects.filter(
        type="dataset.version_added", entry__contains='"version":"v2"'
    ).exists()


def _write(tmp_path: Path, frame: pl.DataFrame, name: str) -> Path:
    path = tmp_path / name
    if name.endswith(".csv"):
        frame.write_csv(path)
    else:
        frame.write_parquet(path)
    return path


@pytest.mark.parametrize(
    "mutation, message",
    [
        (lambda f: f.drop("region"), "colonnes manquantes : region"),
        (lambda f: f.with_columns(extra=pl.lit(1)), "non déclarées : extra"),
        (
            lambda f: f.with_columns(
                pl.when(pl.int_range(pl.len()) == 3000)
                .then(pl.lit("ZZ"))
                .otherwise(pl.col("region"))
                .alias("region")
            ),
            "nomenclature",
        ),
        (lambda f: f.with_columns(pl.col("monthly_salary_eur").cast(pl.Utf8)), "type"),
        (lambda f: f.with_columns(pl.lit(None, dtype=pl.Utf8).alias("person_id")), "manquantes"),
        (lambda f: f.head(0), "aucune ligne"),
    ],
)
def test_bad_files_are_refused_and_the_catalogue_is_unchanged(
    hiring, parquet_files, mutation, message, settings, tmp_path
):
    settings.VAR_DIR = tmp_path / "var"
    before = _state(hiring)
    bad = _write(tmp_path, mutation(pl.read_parquet(parquet_files["hiring"])), "bad.parquet")
    with pytest.raises(ValidationFailed) as e:
        import_file(bad, hiring.slug, "v2")
    assert message in e.value.message
    assert _state(hiring) == before


def test_unreadable_and_csv_files(hiring, parquet_files, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not a parquet file")
    with pytest.raises(ValidationFailed):
        import_file(junk, hiring.slug, "v2")
    with pytest.raises(ValidationFailed):
        import_file(tmp_path / "x.xlsx", hiring.slug, "v2")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("a,b\n1,2\n")
    with pytest.raises(ValidationFailed):
        import_file(bad_csv, hiring.slug, "v2")
    assert DatasetVersion.objects.filter(dataset=hiring).count() == 1
    good = _write(tmp_path, pl.read_parquet(parquet_files["hiring"]), "good.csv")
    dv = import_file(good, hiring.slug, "csv")
    assert dv.row_count == 4000


def test_import_cli_refuses_with_a_clear_message(hiring, tmp_path, capsys, settings):
    from pacte.cli import main

    settings.VAR_DIR = tmp_path / "var"
    bad = tmp_path / "bad.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(bad)
    assert main(["data", "import", str(bad), "--dataset", hiring.slug]) == 2
    err = capsys.readouterr().err
    assert "Fichier refusé" in err and "catalogue n'a pas été modifié" in err


def test_only_the_publisher_steward_publishes(world):
    with pytest.raises(PermissionDenied):
        publish_dataset(world.reviewer, publisher=world.institution, slug="x", title="X")


def test_dcat_ap_is_valid_rdf(hiring, cohort):
    r = Client().get("/api/v1/catalog.jsonld")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/ld+json")
    g = rdflib.Graph().parse(data=r.content.decode(), format="json-ld")
    rows = list(
        g.query("""
        PREFIX dcat: <http://www.w3.org/ns/dcat#>
        PREFIX dct: <http://purl.org/dc/terms/>
        SELECT ?title ?dist ?publisher WHERE {
          ?cat a dcat:Catalog ; dcat:dataset ?ds .
          ?ds a dcat:Dataset ; dct:title ?title ; dct:publisher ?publisher ; dcat:distribution ?dist .
          ?dist a dcat:Distribution ; dcat:accessURL ?url .
        }""")
    )
    assert {str(t) for t, _, _ in rows} == {hiring.title, cohort.title}


def test_public_pages(client, dp_grant, active):
    grant, token = dp_grant
    release = call(token, "/api/v1/data/embauches/aggregates", {"group_by": ["region"]}).json()
    for url in (
        "/catalogue/",
        "/catalogue/embauches/",
        "/regles-de-proportionnalite/",
        f"/donnees/acces/{grant.reference}/",
        f"/donnees/publications/{release['release_id']}/",
        f"/projets/{grant.project.slug}/",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
    page = project_page(client, grant.project.slug)  # the data section arrives from its own URL
    assert grant.reference in page and "Accès aux données" in page
    rules = client.get("/regles-de-proportionnalite/").content.decode()
    assert "R-3-weak-low" in rules
    api = client.get("/api/v1/proportionality").json()
    assert api["rules_version"] and len(api["rows"]) == 36
    detail = client.get(f"/api/v1/grants/{grant.reference}").json()
    assert detail["rho_spent"] > 0 and len(detail["release_list"]) == 1
    assert (
        client.get("/api/v1/datasets/embauches").json()["grants"][0]["reference"] == grant.reference
    )


def test_request_workflow_through_the_api(world, active, hiring):
    from pacte.accounts.services import create_api_token

    _, carrier = create_api_token(world.carrier_admin.user, world.carrier, "t")
    tokens = [
        create_api_token(a.user, world.institution, "t")[1]
        for a in (world.reviewer, world.reviewer2, world.data_steward)
    ]
    c = Client()

    def post(tok, path, body):
        return c.post(
            path,
            data=json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {tok}",
        )

    r = post(
        carrier,
        "/api/v1/data-requests",
        {
            "pact": active.pact.reference,
            "dataset": "embauches",
            "tier": 3,
            "columns": ["region"],
            "purpose": "Compter les embauches par région pour la mission du pacte.",
            "legal_basis": "Intérêt public",
            "recipients": "Équipe",
            "dpo_contact": "dpo@example.org",
        },
    )
    assert r.status_code == 201, r.content
    ref = r.json()["reference"]
    assert post(carrier, f"/api/v1/data-requests/{ref}/submit", {}).status_code == 200
    assert (
        post(
            carrier, f"/api/v1/data-requests/{ref}/approve", {"population": 1, "severity": 1}
        ).status_code
        == 403
    )
    r = post(tokens[0], f"/api/v1/data-requests/{ref}/approve", {})
    assert r.status_code == 400 and {"population", "severity"} <= set(
        r.json()["fields"]
    )  # the schema says so
    for tok in tokens:
        r = post(
            tok, f"/api/v1/data-requests/{ref}/approve", {"population": 3_000_000, "severity": 2}
        )
        assert r.status_code == 200
    body = r.json()
    assert (
        body["status"] == "approved"
        and body["decision"]["rule_id"] == "R-2-strong-high"
        and body["grant"]
    )
    r = post(carrier, f"/api/v1/grants/{body['grant']}/token", {})
    token = r.json()["token"]
    assert (
        call(token, "/api/v1/data/embauches/aggregates", {"group_by": ["region"]}).status_code
        == 200
    )
    assert post(tokens[0], f"/api/v1/grants/{body['grant']}/token", {}).status_code == 403


def test_citizen_consent_and_withdrawal(world, active, cohort, client, user_factory):
    import pyarrow.parquet as pq

    person = (
        pq.read_table(cohort.current_version.paths[0], columns=["person_id"]).column(0)[3].as_py()
    )
    citizen = user_factory()
    client.force_login(citizen)
    assert client.get("/donnees/consentement/").status_code == 200
    with pytest.raises(PermissionDenied):
        give_consent(
            citizen, cohort, active.pact.project, "Me faire accompagner dans ma recherche."
        )
    PersonLink.objects.create(user=citizen, dataset=cohort, person_id=person)
    r = client.post(
        "/donnees/consentement/",
        {
            "dataset": cohort.slug,
            "project": active.pact.project.slug,
            "purpose": "Me faire accompagner dans ma recherche d'emploi.",
        },
    )
    assert r.status_code == 302
    consent = Consent.objects.get(user=citizen)
    assert consent.record and consent.record[0]["person_id"] == person
    receipt = client.get(f"/donnees/consentements/{consent.receipt_id}/recu.json").json()
    assert receipt["state"] == "given" and receipt["project"] == active.pact.project.slug
    event = Event.objects.get(type="consent.given")
    assert person not in event.entry and "recherche" not in event.entry
    other = Client()
    other.force_login(user_factory())
    assert other.get(f"/donnees/consentements/{consent.receipt_id}/recu.json").status_code == 404
    client.post(f"/donnees/consentements/{consent.receipt_id}/retrait/")
    consent.refresh_from_db()
    assert consent.state == "withdrawn" and consent.record == []
    assert Event.objects.filter(type="consent.withdrawn").exists()
