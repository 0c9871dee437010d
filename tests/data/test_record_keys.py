"""Issue 8/15: each row's record key (cell-key method) is a reserved column of the version's own
Parquet file, written at ingestion; no schema, catalogue entry, extract, DP answer, secure-room
answer or citizen record ever shows it, and no query may name it."""

from __future__ import annotations

import io

import polars as pl
import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from pacte.data.catalogue import validate_schema
from pacte.data.consent import give_consent
from pacte.data.gateway import secure_room
from pacte.data.ingestion import file_sha256, import_file
from pacte.data.models import Consent, PersonLink
from pacte.engines import secure_room as engine
from pacte.errors import ValidationFailed
from tests.data.conftest import DP_COLUMNS, call, grant_for

KEY = engine.RECORD_KEY_COLUMN
SR = "/api/v1/data/cohorte/secure-room"


def _sql(token: str, sql: str) -> object:
    return call(token, SR, {"sql": sql})


def test_version_files_hold_the_keys_and_the_delivered_file_is_untouched(cohort, parquet_files):
    dv = cohort.current_version
    assert KEY not in pq.read_schema(parquet_files["cohort"]).names  # the file as delivered
    stored = pq.read_table(dv.paths[0])
    delivered = pq.read_table(parquet_files["cohort"])
    # the integer ids and, data format 2, the bits of the disclosure bounds
    ids = [engine.PERSON_ID_COLUMN, engine.PERSON_BITS_COLUMN] + (
        [engine.ENTERPRISE_ID_COLUMN, engine.ENTERPRISE_BITS_COLUMN] if dv.enterprise_column else []
    )
    assert stored.column_names == [*delivered.column_names, KEY, *ids]
    reserved = [KEY, *ids]
    assert stored.drop_columns(reserved).equals(
        delivered.cast(stored.drop_columns(reserved).schema)
    )
    assert dv.sha256 == file_sha256(parquet_files["cohort"])  # describes the delivered data
    # one fixed key per person, from the version's secret (the per-query keyed hash, stored)
    assert stored.group_by("person_id").aggregate([(KEY, "count_distinct")])[
        f"{KEY}_count_distinct"
    ].to_pylist() == [1] * len(set(stored["person_id"].to_pylist()))
    sql = (
        "SELECT departement, COUNT(*) AS n, SUM(disability) AS d FROM donnees GROUP BY 1 ORDER BY 1"
    )
    restricted = engine.restrict(sql, "donnees", ["departement", "disability"])
    secret = secure_room.cell_key_secret(dv)
    from_column = engine.run(restricted, list(dv.paths), "person_id", cell_key_secret=secret)
    hashed = engine.run(restricted, [parquet_files["cohort"]], "person_id", cell_key_secret=secret)
    assert from_column.rows == hashed.rows
    # the DP view drops it, and the integer ids
    assert not {KEY, *ids} & set(pq.read_schema(dv.dp_view["path"]).names)


def test_no_api_surface_shows_the_record_key(world, active, hiring, cohort, client):
    texts = [
        call("", url, method="get").content.decode()
        for url in (
            "/api/v1/datasets",
            "/api/v1/datasets/embauches",
            "/api/v1/datasets/cohorte",
            "/api/v1/catalog.jsonld",
        )
    ]
    texts += [
        client.get(reverse("data:dataset", args=[slug])).content.decode()
        for slug in ("embauches", "cohorte")
    ]
    texts.append(client.get(reverse("data:catalogue")).content.decode())
    assert all(KEY not in t for t in texts)
    assert all(engine.PERSON_ID_COLUMN not in t for t in texts)
    assert all(engine.ENTERPRISE_ID_COLUMN not in t for t in texts)
    # tier 2: every column the grant may hold, CSV and Parquet
    columns = [c["name"] for c in hiring.current_version.columns]
    _, token = grant_for(world, active, hiring, 2, columns)
    csv = call(token, "/api/v1/data/embauches/extract", method="get")
    assert csv.status_code == 200, csv.content
    frame = pl.read_csv(io.BytesIO(b"".join(csv.streaming_content)), infer_schema_length=0)
    assert frame.height > 0 and KEY not in frame.columns and set(frame.columns) <= set(columns)
    assert not {engine.PERSON_ID_COLUMN, engine.ENTERPRISE_ID_COLUMN} & set(frame.columns)
    parquet = call(token, "/api/v1/data/embauches/extract?format=parquet", method="get")
    assert parquet.status_code == 200
    assert KEY not in pl.read_parquet(io.BytesIO(b"".join(parquet.streaming_content))).columns
    # tier 3: neither a group nor a measure, and absent from answers
    _, dp_token = grant_for(world, active, hiring, 3, DP_COLUMNS)
    for body in (
        {"group_by": [KEY]},
        {"aggregates": [{"op": "sum", "column": KEY}]},
        {"filters": [{"column": KEY, "op": "eq", "value": 1}]},
    ):
        r = call(dp_token, "/api/v1/data/embauches/aggregates", {**body, "rho": 0.005})
        assert r.status_code == 400, r.content
    ok = call(
        dp_token,
        "/api/v1/data/embauches/aggregates",
        {"group_by": ["region"], "aggregates": [{"op": "count"}], "rho": 0.005},
    )
    assert ok.status_code == 200 and KEY not in ok.content.decode()


def test_secure_room_refuses_the_record_key_like_person_id(world, active, cohort):
    _, token = grant_for(world, active, cohort, 4)
    for sql in (
        f"SELECT SUM({KEY}) AS s FROM donnees",
        f'SELECT COUNT(*) AS n FROM donnees WHERE "{KEY}" % 2 = 0',
        f"WITH t AS (SELECT *, {KEY} AS k FROM donnees) SELECT COUNT(*) FILTER (WHERE k > 0) AS n FROM t",
        "SELECT COUNT(*) FILTER (WHERE person_id = 'P1') AS n FROM donnees",
    ):
        r = _sql(token, sql)
        assert r.status_code == 400, (sql, r.content)
        assert "Requête refusée" in r.json()["message"]
    r = _sql(token, "SELECT sex, COUNT(*) AS n FROM donnees GROUP BY sex ORDER BY 1")
    assert (
        r.status_code == 200
        and r.json()["columns"] == ["sex", "n"]
        and KEY not in r.content.decode()
    )


def test_citizen_record_never_carries_the_record_key(world, active, cohort, user_factory):
    person = (
        pq.read_table(cohort.current_version.paths[0], columns=["person_id"]).column(0)[0].as_py()
    )
    citizen = user_factory()
    PersonLink.objects.create(user=citizen, dataset=cohort, person_id=person)
    give_consent(citizen, cohort, active.pact.project, "Me faire accompagner dans ma recherche.")
    record = Consent.objects.get(user=citizen).record
    assert record and all(KEY not in row for row in record) and record[0]["person_id"] == person
    assert set(record[0]) == {c["name"] for c in cohort.current_version.columns}


def test_a_schema_or_file_cannot_bring_its_own_reserved_column(
    world, hiring, parquet_files, tmp_path
):
    schema = {
        "columns": [
            *hiring.current_version.columns,
            {"name": KEY, "type": "int", "classification": "measure"},
        ]
    }
    with pytest.raises(ValidationFailed, match="réservés"):
        validate_schema(schema)
    forged = tmp_path / "forged.parquet"
    table = pq.read_table(parquet_files["hiring"])
    pq.write_table(table.append_column(KEY, table.column(0)), forged)
    with pytest.raises(ValidationFailed, match="non déclarées"):
        import_file(forged, hiring.slug, "forged")
