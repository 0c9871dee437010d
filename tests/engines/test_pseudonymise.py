"""Tests for pseudonymised extracts: HMAC pseudonyms and k-anonymity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacte.engines.pseudonymise import (
    ExtractSpec,
    age_hierarchy,
    date_hierarchy,
    iter_csv_chunks,
    mapping_hierarchy,
    numeric_hierarchy,
    pseudonym,
    pseudonymised_extract,
    suppress_only,
    write_extract,
)

KEY_A = b"a" * 32
KEY_B = b"b" * 32
DEPT_REGION = {"75": "11", "92": "11", "13": "93", "06": "93", "69": "84", "48": "76"}
QIS = ["age", "departement", "hire_date", "sex"]


def _frame(rows: int, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    start = dt.date(2024, 1, 1)
    return pl.DataFrame(
        {
            "name": [f"Person {i}" for i in range(rows)],
            "person_id": [f"P{i % (rows // 2 + 1):08d}" for i in range(rows)],
            "age": rng.integers(16, 71, rows),
            "departement": rng.choice(list(DEPT_REGION), rows, p=[0.3, 0.2, 0.2, 0.1, 0.15, 0.05]),
            "hire_date": [start + dt.timedelta(days=int(d)) for d in rng.integers(0, 366, rows)],
            "sex": rng.choice(["F", "M"], rows),
            "salary": rng.integers(1000, 5000, rows),
        }
    )


def _spec() -> ExtractSpec:
    return ExtractSpec(
        direct_identifiers=["name"],
        pseudonymised=["person_id"],
        quasi_identifiers={
            "age": age_hierarchy(),
            "departement": mapping_hierarchy(["region"], [DEPT_REGION]),
            "hire_date": date_hierarchy(),
            "sex": suppress_only(),
        },
    )


def _min_class(frame: pl.DataFrame, qis: list[str]) -> int:
    return int(frame.group_by(qis).len()["len"].min())  # type: ignore[arg-type]


def test_pseudonym_is_hmac_truncated_and_stable() -> None:
    p = pseudonym(KEY_A, "P1")
    assert len(p) == 32 and int(p, 16) >= 0
    assert p == pseudonym(KEY_A, "P1")
    assert p != pseudonym(KEY_B, "P1")
    assert p != pseudonym(KEY_A, "P2")


def test_k_anonymity_and_direct_identifiers() -> None:
    df = _frame(20_000)
    result = pseudonymised_extract(df, _spec(), KEY_A, k=11)
    out = result.frame.collect()
    assert "name" not in out.columns
    assert _min_class(out, QIS) >= 11
    report = result.report
    assert report.min_class_size >= 11
    assert report.rows_out == out.height == report.rows_in - report.rows_suppressed
    assert report.suppression_rate <= 0.05
    assert set(report.levels) == set(QIS)
    assert not set(out["person_id"].to_list()) & set(df["person_id"].to_list())
    assert out["salary"].dtype == pl.Int64


def test_unlinkability_and_stability() -> None:
    df = _frame(5_000)
    a1 = pseudonymised_extract(df, _spec(), KEY_A).frame.collect()["person_id"]
    a2 = pseudonymised_extract(df, _spec(), KEY_A).frame.collect()["person_id"]
    b = pseudonymised_extract(df, _spec(), KEY_B).frame.collect()["person_id"]
    assert a1.to_list() == a2.to_list()
    assert not set(a1.to_list()) & set(b.to_list())
    # the same person keeps the same pseudonym within an extract
    assert a1.n_unique() <= df["person_id"].n_unique()


def test_small_dataset_is_fully_suppressed() -> None:
    df = _frame(6)
    result = pseudonymised_extract(df, _spec(), KEY_A, k=11)
    assert result.frame.collect().height == 0
    assert result.report.rows_suppressed == 6
    assert result.report.min_class_size == 0


def test_numeric_hierarchy_labels() -> None:
    h = numeric_hierarchy([5, 10])
    df = pl.DataFrame({"x": [21, 29, None]})
    assert df.select(h.expr("x", 1))["x"].to_list() == ["20-24", "25-29", "∅"]
    assert df.select(h.expr("x", 2))["x"].to_list() == ["20-29", "20-29", "∅"]
    assert df.select(h.expr("x", 3))["x"].to_list() == ["*", "*", "*"]


def test_parquet_input_write_and_stream(tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    _frame(3_000).write_parquet(source)
    result = pseudonymised_extract(source, _spec(), KEY_A)
    csv_path = write_extract(result, tmp_path / "out.csv", "csv")
    pq_path = write_extract(result, tmp_path / "out.parquet", "parquet")
    from_csv = pl.read_csv(csv_path, infer_schema=False)
    from_pq = pl.read_parquet(pq_path)
    assert from_csv.height == from_pq.height == result.report.rows_out
    chunks = list(iter_csv_chunks(result, chunk_rows=700))
    assert len(chunks) >= 2
    streamed = pl.read_csv(b"".join(chunks), infer_schema=False)
    assert streamed.equals(from_csv)


def test_unknown_column_and_short_key() -> None:
    with pytest.raises(ValueError):
        pseudonymised_extract(_frame(10), ExtractSpec(direct_identifiers=["nope"]), KEY_A)
    with pytest.raises(ValueError):
        pseudonymised_extract(_frame(10), _spec(), b"short")


def test_million_rows_is_fast_enough() -> None:
    rng = np.random.default_rng(0)
    n = 1_000_000
    df = pl.DataFrame(
        {
            "person_id": pl.Series(rng.integers(0, 300_000, n)).cast(pl.Utf8),
            "age": rng.integers(16, 71, n),
            "departement": rng.choice(list(DEPT_REGION), n),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    spec = ExtractSpec(
        pseudonymised=["person_id"],
        quasi_identifiers={
            "age": age_hierarchy(),
            "departement": mapping_hierarchy(["region"], [DEPT_REGION]),
            "sex": suppress_only(),
        },
    )
    out = pseudonymised_extract(df, spec, KEY_A).frame.collect()
    assert _min_class(out, ["age", "departement", "sex"]) >= 11


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(16, 70), st.sampled_from(list(DEPT_REGION)), st.sampled_from("FM")),
        min_size=0,
        max_size=120,
    ),
    k=st.integers(2, 15),
)
def test_k_holds_or_rows_are_suppressed(rows: list[tuple[int, str, str]], k: int) -> None:
    df = pl.DataFrame(
        {
            "person_id": [str(i) for i in range(len(rows))],
            "age": [r[0] for r in rows],
            "departement": [r[1] for r in rows],
            "sex": [r[2] for r in rows],
        },
        schema={"person_id": pl.Utf8, "age": pl.Int64, "departement": pl.Utf8, "sex": pl.Utf8},
    )
    spec = ExtractSpec(
        pseudonymised=["person_id"],
        quasi_identifiers={
            "age": age_hierarchy(),
            "departement": mapping_hierarchy(["region"], [DEPT_REGION]),
            "sex": suppress_only(),
        },
    )
    result = pseudonymised_extract(df, spec, KEY_A, k=k)
    out = result.frame.collect()
    assert out.height + result.report.rows_suppressed == len(rows)
    if out.height:
        assert _min_class(out, ["age", "departement", "sex"]) >= k
    assert result.report.rows_suppressed <= max(int(0.05 * len(rows)), 0) or all(
        result.report.levels[q] == "*" for q in ["age", "departement", "sex"]
    )


# --------------------------------------------------------------------------- k in persons (issue 8)

QI3 = ["age", "departement", "sex"]


def _spec3(person: str | None = "person_id") -> ExtractSpec:
    return ExtractSpec(
        pseudonymised=["person_id"],
        quasi_identifiers={
            "age": age_hierarchy(),
            "departement": mapping_hierarchy(["region"], [DEPT_REGION]),
            "sex": suppress_only(),
        },
        person_column=person,
    )


def _persons_per_class(out: pl.DataFrame, qis: list[str]) -> Any:
    """Independent oracle: pandas, distinct output pseudonyms per equivalence class."""
    return out.to_pandas().groupby(qis)["person_id"].nunique()


def test_eleven_rows_of_eight_persons_is_not_a_class_of_eleven() -> None:
    """Issue 8: a class of 11 rows held only 8 distinct persons and was announced as k = 11."""
    rows = [(f"P{i}", 67, "75", "F") for i in range(8)] + [
        ("P0", 66, "75", "F"),
        ("P1", 68, "75", "F"),
        ("P2", 69, "75", "F"),
    ]
    filler = [(f"Q{i}", 30 + i % 5, "13", "M") for i in range(60)]
    df = pl.DataFrame(
        rows + filler, schema=["person_id", "age", "departement", "sex"], orient="row"
    )
    by_rows = pseudonymised_extract(df, _spec3(None), KEY_A, k=11)
    by_persons = pseudonymised_extract(df, _spec3(), KEY_A, k=11)
    assert by_rows.report.unit == "row" and by_persons.report.unit == "person"
    # counted in rows, the class (65-69, 75, F) of 11 rows / 8 persons is published as "k = 11"
    rows_out = by_rows.frame.collect()
    assert ((rows_out["age"] == "65-69") & (rows_out["sex"] == "F")).sum() == 11
    assert by_rows.report.min_class_size == 11
    assert _persons_per_class(rows_out, QI3).min() == 8
    # counted in persons, it is generalised further (or suppressed) until ≥ 11 persons
    out = by_persons.frame.collect()
    counts = _persons_per_class(out, QI3)
    assert (counts >= 11).all()
    assert by_persons.report.min_class_size == int(counts.min()) >= 11
    assert by_persons.report.min_class_rows >= by_persons.report.min_class_size
    assert by_persons.report.steps != by_rows.report.steps
    # the raw person id never leaks, even though it is only read to count persons
    assert not set(out["person_id"].to_list()) & set(df["person_id"].to_list())


def test_person_column_is_read_but_not_output_unless_pseudonymised() -> None:
    df = _frame(3_000)
    spec = ExtractSpec(
        direct_identifiers=["name"],
        quasi_identifiers={"sex": suppress_only()},
        person_column="person_id",
    )
    out = pseudonymised_extract(df, spec, KEY_A).frame.collect()
    assert "person_id" not in out.columns and "name" not in out.columns
    with pytest.raises(ValueError, match="person"):
        pseudonymised_extract(df, ExtractSpec(person_column="ghost"), KEY_A)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(
                0, 25
            ),  # person: few persons, several rows each, possibly in several classes
            st.integers(16, 70),
            st.sampled_from(list(DEPT_REGION)),
            st.sampled_from("FM"),
        ),
        min_size=0,
        max_size=150,
    ),
    k=st.integers(2, 12),
)
def test_k_counts_distinct_persons_in_every_output_class(
    rows: list[tuple[int, int, str, str]], k: int
) -> None:
    df = pl.DataFrame(
        {
            "person_id": [f"P{r[0]}" for r in rows],
            "age": [r[1] for r in rows],
            "departement": [r[2] for r in rows],
            "sex": [r[3] for r in rows],
        },
        schema={"person_id": pl.Utf8, "age": pl.Int64, "departement": pl.Utf8, "sex": pl.Utf8},
    )
    result = pseudonymised_extract(df, _spec3(), KEY_A, k=k)
    out = result.frame.collect()
    report = result.report
    assert out.height + report.rows_suppressed == len(rows)
    if out.height:
        counts = _persons_per_class(out, QI3)
        assert (counts >= k).all(), counts[counts < k]
        assert report.min_class_size == int(counts.min())  # the header reports what is achieved
        assert report.min_class_size >= k
    else:
        assert report.min_class_size == 0
