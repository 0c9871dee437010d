"""Issue 15, part 4: integer person and enterprise ids written at ingestion.

The ids are dense (0 … n-1 over the version's distinct ids), one per person / enterprise, stable
for a version and its secret, written next to the record key; the secure room reads them instead
of the text ids, with the same decisions: the Hypothesis test compares, on small random tables,
the answers read through the integer ids with the answers read through the text ids (the path of
the versions ingested before) and with a brute-force pandas oracle of the group rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacte.engines.secure_room import (
    ENTERPRISE_BITS_COLUMN,
    ENTERPRISE_ID_COLUMN,
    PERSON_BITS_COLUMN,
    PERSON_ID_COLUMN,
    RECORD_KEY_COLUMN,
    dataset_profile,
    integer_ids,
    restrict,
    run,
    write_with_record_keys,
)
from pacte.engines.secure_room_profile import IDS_META_KEY, bits_columns

SECRET = 0x1D5EC2E7
RESERVED = [
    RECORD_KEY_COLUMN,
    PERSON_ID_COLUMN,
    ENTERPRISE_ID_COLUMN,
    PERSON_BITS_COLUMN,
    ENTERPRISE_BITS_COLUMN,
]


def _table(rows: list[tuple[Any, ...]]) -> pa.Table:
    person, enterprise, region, salary = zip(*rows, strict=True) if rows else ([], [], [], [])
    return pa.table(
        {
            "person_id": pa.array(person, pa.string()),
            "establishment_id": pa.array(enterprise, pa.string()),
            "region": pa.array(region, pa.string()),
            "salary": pa.array(salary, pa.int64()),
        }
    )


def _write(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


def test_ids_are_dense_one_per_person_and_enterprise_across_files(tmp_path: Path) -> None:
    a = _table([(f"p{i % 7}", f"e{i % 3}" if i % 5 else None, "11", i) for i in range(40)])
    b = _table([(f"p{i % 9}" if i % 4 else None, f"e{i % 4}", "24", i) for i in range(30)])
    sources = [_write(a, tmp_path / "a.parquet"), _write(b, tmp_path / "b.parquet")]
    targets = [tmp_path / "a.keyed.parquet", tmp_path / "b.keyed.parquet"]
    written = write_with_record_keys(
        sources, "person_id", SECRET, targets, enterprise_column="establishment_id"
    )
    stored = pd.concat([pq.read_table(p).to_pandas() for p in written], ignore_index=True)
    for column, unit in (
        (PERSON_ID_COLUMN, "person_id"),
        (ENTERPRISE_ID_COLUMN, "establishment_id"),
    ):
        present = stored[stored[unit].notna()]
        # NULL id exactly where the text id is NULL
        assert stored[column].isna().tolist() == stored[unit].isna().tolist()
        # one id per unit, one unit per id, dense over both files
        assert present.groupby(unit)[column].nunique().eq(1).all()
        assert present.groupby(column)[unit].nunique().eq(1).all()
        assert sorted(present[column].unique().astype(int)) == list(range(present[unit].nunique()))
    # data format 2: the bits of the disclosure bounds, the ids' low bits, NULL where the id is
    for bits, column, mask in (
        (PERSON_BITS_COLUMN, PERSON_ID_COLUMN, 127),
        (ENTERPRISE_BITS_COLUMN, ENTERPRISE_ID_COLUMN, 63),
    ):
        assert stored[bits].isna().tolist() == stored[column].isna().tolist()
        present = stored[stored[column].notna()]
        assert (present[bits].astype(int) == present[column].astype(int) & mask).all()
    assert bits_columns(written) and not bits_columns(sources)
    # rows in the same order, data intact; the files name the columns the ids come from
    for source, path in zip(sources, written, strict=True):
        kept = pq.read_table(path).drop_columns(RESERVED)
        assert kept.to_pylist() == pq.read_table(source).to_pylist()
    assert integer_ids(written) == ("person_id", "establishment_id")
    assert integer_ids(sources) is None
    # stable for a version and its secret; another secret numbers the units otherwise
    again = write_with_record_keys(
        sources,
        "person_id",
        SECRET,
        [tmp_path / "a2.parquet", tmp_path / "b2.parquet"],
        enterprise_column="establishment_id",
    )
    assert [pq.read_table(p) for p in again] == [pq.read_table(p) for p in written]
    other = write_with_record_keys(
        sources,
        "person_id",
        SECRET + 1,
        [tmp_path / "a3.parquet", tmp_path / "b3.parquet"],
        enterprise_column="establishment_id",
    )
    first = pd.concat([pq.read_table(p).to_pandas() for p in other], ignore_index=True)
    assert first[PERSON_ID_COLUMN].tolist() != stored[PERSON_ID_COLUMN].tolist()


def _format_1(keyed: Path, target: Path) -> Path:
    """The same stored file as ingested before data format 2: ids, no bits columns."""
    table = pq.read_table(keyed).drop_columns([PERSON_BITS_COLUMN, ENTERPRISE_BITS_COLUMN])
    meta = dict(table.schema.metadata or {})
    ids = json.loads(meta[IDS_META_KEY.encode()])
    del ids["format"]
    meta[IDS_META_KEY.encode()] = json.dumps(ids, sort_keys=True).encode()
    pq.write_table(table.replace_schema_metadata(meta), target)
    return target


def test_files_ingested_before_the_bits_columns_keep_working(tmp_path: Path) -> None:
    """Data format 1 (ids, no bits columns) runs through the per-query computation of the same
    bits: same rows and report; the bits columns are never read by a query's own SQL."""
    rows = [(f"p{i % 40}", f"e{i % 5}", "11" if i % 3 else "24", (i % 10) - 2) for i in range(400)]
    source = _write(_table(rows), tmp_path / "s.parquet")
    [keyed] = write_with_record_keys(
        [source],
        "person_id",
        SECRET,
        [tmp_path / "k.parquet"],
        enterprise_column="establishment_id",
    )
    old = _format_1(keyed, tmp_path / "old.parquet")
    assert integer_ids([old]) == ("person_id", "establishment_id")
    assert bits_columns([keyed]) and not bits_columns([old])
    assert not bits_columns([keyed, old])  # a version is read one way only
    sql = "SELECT region, COUNT(*) AS n, SUM(salary) AS s FROM d GROUP BY region ORDER BY region"
    restricted = restrict(sql, "d", ["region", "salary"])
    new = run(restricted, [keyed], "person_id", "establishment_id", cell_key_secret=SECRET)
    before = run(restricted, [old], "person_id", "establishment_id", cell_key_secret=SECRET)
    assert new.rows and new.rows == before.rows and new.report == before.report
    with pytest.raises(ValueError, match="reserved"):
        restrict(f"SELECT COUNT({PERSON_BITS_COLUMN}) AS n FROM d", "d", ["region"])


def test_ids_of_other_columns_are_not_used(tmp_path: Path) -> None:
    """Ids computed for one enterprise column never stand for another one."""
    rows = [(f"p{i % 30}", f"e{i % 4}", "11" if i % 2 else "24", (i % 10) + 1) for i in range(300)]
    source = _write(_table(rows), tmp_path / "s.parquet")
    [keyed] = write_with_record_keys([source], "person_id", SECRET, [tmp_path / "k.parquet"])
    assert integer_ids([keyed]) == ("person_id", None)
    sql = "SELECT region, COUNT(*) AS n, SUM(salary) AS s FROM d GROUP BY region ORDER BY region"
    restricted = restrict(sql, "d", ["region", "salary"])
    by_ids = run(restricted, [keyed], "person_id", "establishment_id", cell_key_secret=SECRET)
    by_text = run(restricted, [source], "person_id", "establishment_id", cell_key_secret=SECRET)
    assert by_ids.rows == by_text.rows and by_ids.report == by_text.report


# --------------------------------------------------------------------------- oracle

QUERIES = (
    "SELECT region, COUNT(*) AS n FROM d GROUP BY region ORDER BY region",
    "SELECT region, SUM(salary) AS s, AVG(salary) AS m FROM d GROUP BY region ORDER BY region",
    "SELECT region, COUNT(*) FILTER (WHERE salary > 5) AS n, SUM(salary) FILTER (WHERE salary > 2)"
    " AS s FROM d GROUP BY region ORDER BY region",
    "SELECT COUNT(*) AS n, SUM(salary) AS s FROM d",
)

row = st.tuples(
    st.one_of(st.none(), st.integers(0, 40).map(lambda i: f"p{i}")),
    st.one_of(st.none(), st.integers(0, 5).map(lambda i: f"e{i}")),
    st.sampled_from(["11", "24", "32"]),
    st.one_of(st.none(), st.integers(-3, 12)),
)


def _oracle_groups(frame: pd.DataFrame, grouped: bool) -> dict[str, bool]:
    """Brute force: a group is published iff ≥ 11 persons and ≥ 3 enterprises among its rows."""
    out = {}
    for key, rows in frame.groupby("region") if grouped else [("", frame)]:
        persons = rows["person_id"].dropna().nunique()
        enterprises = rows["establishment_id"].dropna().nunique()
        out[str(key)] = persons >= 11 and enterprises >= 3
    return out


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(row, min_size=1, max_size=160), query=st.sampled_from(QUERIES))
def test_decisions_through_integer_ids_equal_the_text_ids_and_the_oracle(
    rows: list[tuple[Any, ...]], query: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("ids")
    source = _write(_table(rows), folder / "s.parquet")
    [keyed] = write_with_record_keys(
        [source], "person_id", SECRET, [folder / "k.parquet"], enterprise_column="establishment_id"
    )
    old = _format_1(keyed, folder / "old.parquet")
    restricted = restrict(query, "d", ["region", "salary"])
    for enterprise in (None, "establishment_id"):
        for secret in (None, SECRET):
            text = run(restricted, [source], "person_id", enterprise, cell_key_secret=secret)
            ids = run(restricted, [keyed], "person_id", enterprise, cell_key_secret=secret)
            ids_old = run(restricted, [old], "person_id", enterprise, cell_key_secret=secret)
            for path in (keyed, old):
                profile = dataset_profile([path], "person_id", enterprise)
                # with and without the person bits in the main scan (a profile chooses)
                for person_bits in (None, True, False):
                    profiled = run(
                        restricted,
                        [path],
                        "person_id",
                        enterprise,
                        cell_key_secret=secret,
                        profile=profile,
                        person_bits=person_bits,
                    )
                    assert ids.rows == profiled.rows and ids.report == profiled.report
            assert ids.rows == text.rows == ids_old.rows
            assert ids.report == text.report == ids_old.report
    # the group rule, against the brute force (exact values, with enterprises)
    frame = pd.DataFrame(rows, columns=["person_id", "establishment_id", "region", "salary"])
    grouped = "GROUP BY" in query
    expected = _oracle_groups(frame, grouped)
    exact = run(restricted, [keyed], "person_id", "establishment_id")
    published = {str(r[0]) if grouped else "" for r in exact.rows}
    if grouped:
        assert published == {k for k, ok in expected.items() if ok}
    else:  # a global aggregate: its row, or its values, go when the rule fails
        assert (bool(exact.rows) and exact.rows[0][0] is not None) == expected[""]
