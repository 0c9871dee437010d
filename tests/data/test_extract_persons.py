"""Issue 8: the tier-2 extract's k counts distinct persons per equivalence class, never rows."""

from __future__ import annotations

import dataclasses
import io

import polars as pl

from pacte.data.gateway.extracts import _hierarchy, tier2_view
from pacte.engines import pseudonymise
from tests.data.conftest import call, grant_for

QIS = ["departement", "age", "sex", "hire_date"]
COLUMNS = ["person_id", "establishment_id", "departement", "naf_sector", "age", "sex", "hire_date"]


def test_extract_k_is_counted_in_persons_on_demo_data(world, active, hiring):
    grant, token = grant_for(world, active, hiring, 2, COLUMNS)
    r = call(token, "/api/v1/data/embauches/extract", method="get")
    assert r.status_code == 200
    out = pl.read_csv(io.BytesIO(b"".join(r.streaming_content)), infer_schema_length=0)
    assert out.height > 0
    # independent oracle: pandas, distinct output pseudonyms per class of quasi-identifiers
    persons = out.to_pandas().groupby(QIS)["person_id"].nunique()
    assert persons.min() >= 11
    assert r["X-Pacte-K-Anonymity-Unit"] == "person"
    assert int(r["X-Pacte-K-Anonymity"]) == persons.min()  # the header reports the k achieved
    # the same view counted in rows (the former rule) publishes classes of fewer than 11 persons
    view = tier2_view(grant, COLUMNS)
    by_rows = pseudonymise.pseudonymised_extract(
        list(hiring.current_version.paths),
        dataclasses.replace(_spec_of(grant), person_column=None),
        bytes(grant.pseudonym_key),
        k=11,
    )
    rows_frame = by_rows.frame.collect()
    assert rows_frame.group_by(QIS).len()["len"].min() >= 11
    assert rows_frame.to_pandas().groupby(QIS)["person_id"].nunique().min() < 11
    assert view.report.unit == "person" and view.report.min_class_size == persons.min()


def test_extract_without_the_person_column_still_counts_persons(world, active, hiring):
    grant, token = grant_for(world, active, hiring, 2, ["departement", "age", "sex", "hire_date"])
    r = call(token, "/api/v1/data/embauches/extract", method="get")
    assert r.status_code == 200 and r["X-Pacte-K-Anonymity-Unit"] == "person"
    out = pl.read_csv(io.BytesIO(b"".join(r.streaming_content)), infer_schema_length=0)
    assert "person_id" not in out.columns
    assert int(r["X-Pacte-K-Anonymity"]) >= 11
    assert out.group_by(QIS).len()["len"].min() >= int(r["X-Pacte-K-Anonymity"])


def _spec_of(grant) -> pseudonymise.ExtractSpec:  # type: ignore[no-untyped-def]
    """The ExtractSpec tier2_view builds (rebuilt here to count the same view in rows)."""
    from pacte.data.models import Classification

    dv = grant.dataset_version
    cols = [c for c in dv.columns if c["name"] in set(grant.columns)]
    ids = {dv.person_column, dv.enterprise_column} - {""}
    return pseudonymise.ExtractSpec(
        direct_identifiers=[
            c["name"]
            for c in cols
            if c["classification"] == Classification.DIRECT_IDENTIFIER and c["name"] not in ids
        ],
        pseudonymised=[c["name"] for c in cols if c["name"] in ids],
        quasi_identifiers={
            c["name"]: _hierarchy(c)
            for c in cols
            if c["classification"] == Classification.QUASI_IDENTIFIER
        },
        kept=[
            c["name"]
            for c in cols
            if c["classification"]
            not in (Classification.DIRECT_IDENTIFIER, Classification.QUASI_IDENTIFIER)
        ],
        person_column=dv.person_column,
    )
