"""Tests for the secure room: SQL restriction and disclosure control."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pacte.engines.secure_room import (
    RestrictedQuery,
    SqlRefused,
    canonical_sha256,
    restrict,
    run,
)

COLUMNS = ["region", "sector", "salary", "age", "hire_date"]


def _dataset(path: Path) -> Path:
    rows: dict[str, list[object]] = {k: [] for k in ["person_id", "establishment_id", *COLUMNS]}

    def add(region: str, person: str, enterprise: str, salary: int, age: int = 30) -> None:
        rows["person_id"].append(person)
        rows["establishment_id"].append(enterprise)
        rows["region"].append(region)
        rows["sector"].append("I" if age < 40 else "N")
        rows["salary"].append(salary)
        rows["age"].append(age)
        rows["hire_date"].append(None)

    # A: 50 persons, 10 enterprises, evenly spread -> passes every rule
    for i in range(50):
        add("A", f"a{i}", f"EA{i % 10}", 2000 + i, 20 + i)
    # B: 15 rows but only 5 distinct persons -> persons rule
    for i in range(15):
        add("B", f"b{i % 5}", f"EB{i % 5}", 1800)
    # C: 30 persons, 5 enterprises, one enterprise holds > 85 % of salaries -> dominance
    for i in range(30):
        add("C", f"c{i}", "EC0" if i == 0 else f"EC{1 + i % 4}", 200_000 if i == 0 else 1000)
    # D: 30 persons in only 2 enterprises -> enterprise-count rule
    for i in range(30):
        add("D", f"d{i}", f"ED{i % 2}", 1500)
    table = pa.table(rows)
    out = path / "data.parquet"
    pq.write_table(table, out)
    return out


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _dataset(tmp_path_factory.mktemp("secure_room"))


def _restrict(sql: str) -> RestrictedQuery:
    return restrict(sql, "data", COLUMNS)


def _direct(parquet: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW data AS SELECT * FROM read_parquet('{parquet}')")
    return con.execute(sql).fetchall()


# --------------------------------------------------------------------------- allowed


def test_grouped_aggregate_matches_duckdb(parquet: Path) -> None:
    sql = "SELECT region, COUNT(*) AS n, AVG(salary) AS mean FROM data GROUP BY region ORDER BY region"
    result = run(_restrict(sql), [parquet], "person_id")
    direct = _direct(parquet, sql)
    # B is removed (5 persons); others match DuckDB exactly
    assert result.rows == [r for r in direct if r[0] != "B"]
    assert result.columns == ("region", "n", "mean")
    assert result.report.reasons["persons"] == 1
    assert result.report.rows_suppressed == 1
    assert result.report.cells_suppressed == 3
    assert result.report.groups == 4
    assert result.report.rows_read == 125
    assert result.report.dataset_rows == 125
    assert result.report.output_sha256 == canonical_sha256(result.columns, result.rows)


def test_ungrouped_and_expressions_cte_subquery(parquet: Path) -> None:
    sql = "SELECT COUNT(*) AS n, ROUND(SUM(salary) / COUNT(*), 2) AS m FROM data WHERE age >= 20"
    result = run(_restrict(sql), [parquet], "person_id")
    assert result.rows == _direct(parquet, sql)
    cte = (
        "WITH t AS (SELECT region, salary * 12 AS annual FROM data WHERE region <> 'B') "
        "SELECT region, SUM(annual) AS s FROM t GROUP BY region ORDER BY 1"
    )
    assert run(_restrict(cte), [parquet], "person_id").rows == _direct(parquet, cte)
    sub = (
        "SELECT x.region AS r, COUNT(*) FROM (SELECT * FROM data WHERE age > 10) AS x "
        "GROUP BY 1 ORDER BY 1"
    )
    assert run(_restrict(sub), [parquet], "person_id").rows == [
        r for r in _direct(parquet, sub) if r[0] != "B"
    ]


def test_group_by_alias_expression_and_having(parquet: Path) -> None:
    sql = (
        "SELECT CASE WHEN age < 40 THEN 'young' ELSE 'old' END AS band, COUNT(*) AS n "
        "FROM data WHERE region = 'A' GROUP BY band HAVING COUNT(*) > 0 ORDER BY band"
    )
    result = run(_restrict(sql), [parquet], "person_id")
    assert result.rows == _direct(parquet, sql)
    assert len(result.rows) == 2


def test_dominance_and_enterprise_rules(parquet: Path) -> None:
    sql = (
        "SELECT region, COUNT(*) AS n, SUM(salary) AS total, AVG(salary) AS mean "
        "FROM data GROUP BY region ORDER BY region"
    )
    result = run(_restrict(sql), [parquet], "person_id", "establishment_id")
    by_region = {r[0]: r for r in result.rows}
    assert set(by_region) == {"A", "C"}  # B: persons; D: 2 enterprises
    assert by_region["A"][2] is not None
    assert by_region["C"][1] == 30  # counts are not magnitudes
    assert by_region["C"][2] is None and by_region["C"][3] is None
    assert result.report.reasons == {
        "persons": 1,
        "enterprises": 1,
        "cell_persons": 0,
        "cell_enterprises": 0,
        "dominance": 2,
    }
    assert result.report.cells_suppressed == 4 + 4 + 2


def test_thresholds_are_parameters(parquet: Path) -> None:
    sql = "SELECT region, SUM(salary) FROM data GROUP BY region ORDER BY region"
    restricted = _restrict(sql)
    loose = run(restricted, [parquet], "person_id", "establishment_id", 5, 2, 0.99)
    assert [r[0] for r in loose.rows] == ["A", "B", "C", "D"]
    assert all(r[1] is not None for r in loose.rows)


def test_hash_is_stable_and_output_is_regenerated(parquet: Path) -> None:
    sql = "select   region, count(*) from data /* ; DROP TABLE data */ group by region -- x"
    restricted = _restrict(sql)
    assert "DROP" not in restricted.sql and "--" not in restricted.sql
    first = run(restricted, [parquet], "person_id")
    second = run(restricted, [parquet], "person_id")
    assert first.report.output_sha256 == second.report.output_sha256


def test_view_exposes_only_granted_columns(parquet: Path) -> None:
    # the alias trick cannot reach the non-granted person_id column
    restricted = restrict(
        "WITH t AS (SELECT region AS person_id FROM data) SELECT COUNT(*) FROM data",
        "data",
        ["region"],
    )
    assert run(restricted, [parquet], "person_id").rows == [(125,)]
    with pytest.raises(SqlRefused):
        restrict("SELECT COUNT(person_id) FROM data", "data", ["region"])


# --------------------------------------------------------------------------- refused

REFUSED = [
    "SELECT COUNT(*) FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT COUNT(*) FROM read_parquet('x.parquet')",
    "SELECT SUM(salary) FROM data WHERE region IN (SELECT region FROM read_parquet('x'))",
    "COPY data TO '/tmp/out.csv'",
    "COPY (SELECT COUNT(*) FROM data) TO '/tmp/out.csv'",
    "ATTACH '/tmp/x.db' AS x",
    "DETACH x",
    "PRAGMA database_list",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SELECT COUNT(*) FROM data; DROP TABLE data",
    "SELECT 1; SELECT 2",
    "SELECT region FROM data",
    "SELECT salary, COUNT(*) FROM data GROUP BY region",
    "SELECT * FROM data",
    "SELECT COUNT(*) FROM 'x.parquet'",
    'SELECT COUNT(*) FROM "x.parquet"',
    "SELECT COUNT(*) FROM other",
    "SELECT COUNT(*) FROM main.data",
    "SELECT COUNT(secret) FROM data",
    "SELECT SUM(person_id) FROM data",
    "SELECT COUNT(*) FROM data UNION SELECT COUNT(*) FROM other",
    "SELECT COUNT(*) FROM data UNION ALL SELECT COUNT(*) FROM data",
    "SELECT getenv('HOME'), COUNT(*) FROM data",
    "SELECT current_setting('threads'), COUNT(*) FROM data",
    "SELECT COUNT(*) FROM glob('/etc/*')",
    "SELECT COUNT(*) FROM range(10)",
    "SELECT MIN(salary) FROM data",
    "SELECT MAX(salary) FROM data",
    "SELECT MEDIAN(salary) FROM data",
    "SELECT quantile_cont(salary, 0.5) FROM data",
    "SELECT region, SUM(salary) OVER () FROM data",
    "SELECT COUNT(*) FROM data a JOIN data b ON a.region = b.region",
    "SELECT COUNT(*) FROM data, data AS b",
    "CREATE TABLE x AS SELECT COUNT(*) FROM data",
    "INSERT INTO data VALUES (1)",
    "UPDATE data SET salary = 0",
    "DELETE FROM data",
    "EXPORT DATABASE '/tmp/x'",
    "CALL pragma_version()",
    "SELECT region, COUNT(*) FROM data GROUP BY ALL",
    "SELECT region, COUNT(*) FROM data GROUP BY ROLLUP (region)",
    "SELECT DISTINCT region FROM data",
    "SELECT COUNT(*) FROM data WHERE salary > (SELECT AVG(salary) FROM data)",
    "WITH t AS (SELECT region, COUNT(*) AS n FROM data GROUP BY region) SELECT SUM(n) FROM t",
    "SELECT SUM(DISTINCT salary) FROM data",
    "SELECT COUNT(DISTINCT CASE WHEN age = 20 THEN sector ELSE 'x' END) FROM data",
    "SELECT SUM(salary) FILTER (WHERE SUM(age) > 30) FROM data",
    "SELECT STDDEV(salary) FROM data",
    "SELECT VARIANCE(salary) FROM data",
    "SELECT region, COUNT(*) OVER (PARTITION BY region) FROM data GROUP BY region",
    "SELECT COUNT(__pacte_person) FROM data",
    "SELECT read_text('/etc/passwd'), COUNT(*) FROM data",
    "SELECT COUNT(*) FROM read_json_auto('http://example.com/x.json')",
    "SELECT 1",
    "SELECT COUNT(*)",
    "",
    "   ",
]


@pytest.mark.parametrize("sql", REFUSED)
def test_refused(sql: str) -> None:
    with pytest.raises(SqlRefused) as info:
        _restrict(sql)
    message = str(info.value)
    assert " / " in message  # English / French
    assert info.value.english and info.value.french


@pytest.mark.parametrize(
    "sql",
    [
        "SELEC COUNT(*) FROM data",
        "SELECT (",
        "SELECT COUNT(* FROM data",
        "SELECT 'unterminated",
        "SELECT COUNT(*) FROM data WHERE",
        "))))",
        "SELECT COUNT(*) FROM data GROUP BY 9",
    ],
)
def test_syntax_errors_are_refusals(sql: str) -> None:
    with pytest.raises(SqlRefused):
        _restrict(sql)


def test_refusal_messages_are_specific() -> None:
    with pytest.raises(SqlRefused, match="MIN"):
        _restrict("SELECT MIN(salary) FROM data")
    with pytest.raises(SqlRefused, match="(?i)read_csv"):
        _restrict("SELECT COUNT(*) FROM read_csv('/etc/passwd')")
    with pytest.raises(SqlRefused, match="secret"):
        _restrict("SELECT COUNT(secret) FROM data")
    with pytest.raises(SqlRefused, match="GROUP BY"):
        _restrict("SELECT region FROM data")
    with pytest.raises(SqlRefused) as info:
        _restrict("SELECT COUNT(*) FROM data; DROP TABLE data")
    assert info.value.reason == "statements"
    assert isinstance(info.value, ValueError)


def test_runtime_errors_are_refusals(parquet: Path) -> None:
    restricted = _restrict("SELECT SUM(region) FROM data")  # type error only DuckDB sees
    with pytest.raises(SqlRefused):
        run(restricted, [parquet], "person_id")


def test_external_access_disabled_inside_run(parquet: Path) -> None:
    # even a hand-crafted RestrictedQuery cannot read another file
    restricted = _restrict("SELECT COUNT(*) FROM data")
    evil = RestrictedQuery(
        **{**restricted.__dict__, "main_sql": "SELECT COUNT(*), 1 FROM read_csv('/etc/passwd')"}
    )
    with pytest.raises(SqlRefused, match="(?i)disabled|permission"):
        run(evil, [parquet], "person_id")


# --------------------------------------------------------------------------- profile fast path

import math  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pacte.engines import secure_room_disclosure, secure_room_run  # noqa: E402
from pacte.engines.secure_room import DatasetProfile, dataset_profile  # noqa: E402

PROFILE_QUERIES = [
    "SELECT region, COUNT(*) AS n, SUM(salary) AS s, AVG(salary) AS m FROM data "
    "GROUP BY region ORDER BY region",
    "SELECT region, sector, COUNT(*) AS n, AVG(salary) AS m FROM data GROUP BY region, sector "
    "ORDER BY region, sector",
    "SELECT CASE WHEN age < 40 THEN 'young' ELSE 'old' END AS band, SUM(salary * 12) AS s, "
    "SUM(age) AS a FROM data WHERE salary > 0 GROUP BY band ORDER BY band",
    "SELECT COUNT(*) AS n, SUM(salary) AS s FROM data",
    "WITH t AS (SELECT region, salary AS pay FROM data WHERE age > 25) "
    "SELECT region, SUM(pay) AS s FROM t GROUP BY 1 HAVING COUNT(*) > 2 ORDER BY 1",
    "SELECT region, COUNT(*) AS n FROM data GROUP BY region ORDER BY region LIMIT 3",
]


def _write(path: Path, rows: dict[str, list[Any]]) -> Path:
    schema = pa.schema(
        [
            ("person_id", pa.string()),
            ("establishment_id", pa.string()),
            ("region", pa.string()),
            ("sector", pa.string()),
            ("salary", pa.int64()),
            ("age", pa.int64()),
            ("hire_date", pa.date32()),
        ]
    )
    rows.setdefault("hire_date", [None] * len(rows["region"]))
    pq.write_table(pa.table(rows, schema=schema), path)
    return path


def _edge_dataset(path: Path, seed: int) -> Path:
    """Edge cases around the bounds: heavy persons make the 'sure' threshold large."""
    rng = random.Random(seed)
    rows: dict[str, list[Any]] = {
        k: [] for k in ["person_id", "establishment_id", "region", "sector", "salary", "age"]
    }

    def add(region: str | None, person: str | None, enterprise: str | None, salary: int) -> None:
        rows["person_id"].append(person)
        rows["establishment_id"].append(enterprise)
        rows["region"].append(region)
        rows["sector"].append(rng.choice("IJN"))
        rows["salary"].append(salary)
        rows["age"].append(rng.randint(18, 65))

    # BIG: many persons, many enterprises, passes every bound
    for i in range(3000):
        add("BIG", f"p{i % 900}", f"E{i % 40}", rng.randint(1000, 4000))
    # HEAVY: 10 persons with 60 rows each (600 rows, < 11 persons): the row count alone
    # looks safe with max_rows_per_person = 1, only the profile's top counts see through it
    for i in range(600):
        add("HEAVY", f"h{i % 10}", f"EH{i % 5}", 1500)
    # ELEVEN: exactly 11 persons, some with many rows; TEN: exactly 10
    for i in range(11):
        for _ in range(1 + (i % 4) * 5):
            add("ELEVEN", f"h{i}" if i < 10 else "x11", f"EE{i % 3}", 1200)
    for i in range(10):
        for _ in range(3):
            add("TEN", f"t{i}", f"ET{i % 4}", 1300)
    # SMALL groups
    for i in range(4):
        add("SMALL", f"s{i}", "ES", 1000)
    # DOMINANT: 40 persons, 5 enterprises, one holding ~90 %
    for i in range(40):
        add("DOM", f"d{i}", "ED0" if i < 4 else f"ED{1 + i % 4}", 90_000 if i < 4 else 1000)
    # TWO enterprises only; NULL enterprise and NULL person rows; NULL region
    for i in range(30):
        add("TWO", f"w{i}", f"EW{i % 2}", 1000)
    for i in range(30):
        add("NULLE", f"n{i}", None if i % 3 else f"EN{i % 2}", 1000 + i)
    for i in range(20):
        add("NULLP", None if i % 2 else f"q{i}", f"EQ{i % 5}", 1000)
    for i in range(15):
        add(None, f"z{i}", f"EZ{i % 4}", 1000)
    order = list(range(len(rows["region"])))
    rng.shuffle(order)
    return _write(path, {k: [v[i] for i in order] for k, v in rows.items()})


def _both(
    restricted: RestrictedQuery,
    path: Path,
    profile: DatasetProfile,
    enterprise: str | None,
    *args: Any,
) -> tuple[Any, Any]:
    plain = run(restricted, [path], "person_id", enterprise, *args)
    fast = run(restricted, [path], "person_id", enterprise, *args, profile=profile)
    return plain, fast


def _assert_same(plain: Any, fast: Any) -> None:
    assert fast.columns == plain.columns
    assert _nan_safe(fast.rows) == _nan_safe(plain.rows)
    assert fast.report == plain.report


def _nan_safe(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple("NaN" if isinstance(v, float) and math.isnan(v) else v for v in r) for r in rows]


@pytest.fixture(scope="module")
def edge_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("secure_room_profile")
    return [_edge_dataset(folder / f"edge{seed}.parquet", seed) for seed in range(3)]


@pytest.mark.parametrize("sql", PROFILE_QUERIES)
@pytest.mark.parametrize("enterprise", [None, "establishment_id"])
def test_profile_gives_identical_results(
    edge_paths: list[Path], sql: str, enterprise: str | None
) -> None:
    restricted = restrict(sql, "data", ["region", "sector", "salary", "age"])
    for path in edge_paths:
        profile = dataset_profile([path], "person_id", "establishment_id")
        for thresholds in [(), (11, 3, 0.85), (3, 2, 0.5), (1, 1, 1.0), (12, 4, 0.9)]:
            _assert_same(*_both(restricted, path, profile, enterprise, *thresholds))


@pytest.mark.parametrize("sql", PROFILE_QUERIES)
def test_stored_companion_rows_decide_as_each_companion_alone(
    edge_paths: list[Path], sql: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The undecided groups' rows read once for both companions (issue 15 item 4) give the
    same answer as each companion reading the dataset itself, with and without a profile,
    persons rule alone or with the enterprise rules, at several thresholds."""
    restricted = restrict(sql, "data", ["region", "sector", "salary", "age"])
    for path in edge_paths:
        profile = dataset_profile([path], "person_id", "establishment_id")
        for enterprise in [None, "establishment_id"]:
            for thresholds in [(11, 3, 0.85), (3, 2, 0.5), (12, 4, 0.9)]:
                for with_profile in [None, profile]:
                    monkeypatch.setattr(secure_room_disclosure, "STORED_COMPANION_ROWS", 1_000_000)
                    stored = run(
                        restricted,
                        [path],
                        "person_id",
                        enterprise,
                        *thresholds,
                        profile=with_profile,
                        cell_key_secret=7,
                    )
                    monkeypatch.setattr(secure_room_disclosure, "STORED_COMPANION_ROWS", 0)
                    alone = run(
                        restricted,
                        [path],
                        "person_id",
                        enterprise,
                        *thresholds,
                        profile=with_profile,
                        cell_key_secret=7,
                    )
                    _assert_same(alone, stored)


def test_profile_edge_decisions(edge_paths: list[Path]) -> None:
    sql = "SELECT region, COUNT(*) AS n, SUM(salary) AS s FROM data GROUP BY region ORDER BY 1"
    restricted = restrict(sql, "data", ["region", "salary"])
    path = edge_paths[0]
    profile = dataset_profile([path], "person_id", "establishment_id")
    assert profile.max_rows_per_person == 76  # h0..h9: 60 rows in HEAVY + up to 16 in ELEVEN
    assert profile.person_null_rows == 10 and profile.enterprise_null_rows == 20
    plain, fast = _both(restricted, path, profile, "establishment_id")
    _assert_same(plain, fast)
    released = {r[0]: r for r in fast.rows}
    assert "ELEVEN" in released and "TEN" not in released and "HEAVY" not in released
    assert "SMALL" not in released and "TWO" not in released and "NULLP" not in released
    assert released["DOM"][2] is None  # dominance
    assert released["BIG"][2] is not None
    assert "NULLE" not in released and None in released  # NULLE: 2 enterprises
    assert fast.report.reasons == {
        "persons": 4,
        "enterprises": 2,
        "cell_persons": 0,
        "cell_enterprises": 0,
        "dominance": 1,
    }


def test_profile_runs_companions_only_for_undecided_groups(
    edge_paths: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sql = "SELECT region, COUNT(*) AS n, SUM(salary) AS s FROM data GROUP BY region ORDER BY 1"
    restricted = restrict(sql, "data", ["region", "salary"])
    path = edge_paths[1]
    profile = dataset_profile([path], "person_id", "establishment_id")
    seen: list[str] = []
    execute = secure_room_run._execute

    def spy(
        con: duckdb.DuckDBPyConnection, text: str, timeout: float | None, deadline: float | None
    ) -> Any:
        seen.append(text)
        return execute(con, text, timeout, deadline)

    monkeypatch.setattr(secure_room_run, "_execute", spy)
    fast = run(restricted, [path], "person_id", "establishment_id", profile=profile)
    companions = [s for s in seen if "__pacte_unit" in s]
    assert restricted.main_sql in seen[0]
    # BIG is settled by bounds: the undecided groups' rows are read once, filtered, and both
    # companions aggregate that table (no companion reads the dataset itself)
    reads = [s for s in seen if restricted.companion_rows_sql in s]
    assert len(reads) == 1 and "__pacte_filter" in reads[0]
    assert restricted.persons_rows_sql in companions
    assert restricted.enterprise_rows_sql in companions
    assert restricted.persons_sql not in companions
    assert restricted.persons_filtered_sql not in companions
    assert len(companions) <= 2
    assert fast.report.groups == 10
    # and the same query without stored rows (each companion filtered on its own) decides alike
    monkeypatch.setattr(secure_room_disclosure, "STORED_COMPANION_ROWS", 0)
    seen.clear()
    separate = run(restricted, [path], "person_id", "establishment_id", profile=profile)
    assert restricted.persons_filtered_sql in seen and restricted.companion_rows_sql not in seen
    assert separate.rows == fast.rows and separate.report == fast.report
    # a profile with huge groups only needs one scan
    seen.clear()
    big = restrict("SELECT COUNT(*) AS n FROM data WHERE region = 'BIG'", "data", ["region"])
    run(big, [path], "person_id", profile=profile)
    assert not [s for s in seen if "__pacte_unit" in s]


def test_profile_must_match_files_and_columns(edge_paths: list[Path], tmp_path: Path) -> None:
    restricted = restrict("SELECT COUNT(*) FROM data", "data", ["region"])
    profile = dataset_profile([edge_paths[0]], "person_id", "establishment_id")
    with pytest.raises(ValueError, match="other files"):
        run(restricted, [edge_paths[1]], "person_id", profile=profile)
    with pytest.raises(ValueError, match="columns"):
        run(restricted, [edge_paths[0]], "establishment_id", profile=profile)
    persons_only = dataset_profile([edge_paths[0]], "person_id")
    with pytest.raises(ValueError, match="columns"):
        run(restricted, [edge_paths[0]], "person_id", "establishment_id", profile=persons_only)
    copy = tmp_path / "copy.parquet"
    copy.write_bytes(edge_paths[0].read_bytes())
    with pytest.raises(ValueError, match="other files"):
        run(restricted, [copy], "person_id", profile=profile)  # another path: re-profile


def test_heaviest_bound() -> None:
    top = (9, 5, 2)
    assert DatasetProfile.heaviest(top, 0) == 0
    assert DatasetProfile.heaviest(top, 2) == 14
    assert DatasetProfile.heaviest(top, 5) == 16 + 2 + 2  # beyond the list: the last count
    assert DatasetProfile.heaviest((), 3) == 0


@st.composite
def _small_data(draw: st.DrawFn) -> dict[str, list[Any]]:
    size = draw(st.integers(1, 120))
    persons = draw(st.integers(1, 25))
    enterprises = draw(st.integers(1, 6))

    def column(values: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(values, min_size=size, max_size=size))

    return {
        "person_id": column(st.none() | st.integers(0, persons).map(lambda i: f"p{i}")),
        "establishment_id": column(st.none() | st.integers(0, enterprises).map(lambda i: f"e{i}")),
        "region": column(st.sampled_from(["A", "B", "C", None])),
        "sector": column(st.sampled_from(["I", "J"])),
        "salary": column(st.none() | st.integers(-50, 10_000) | st.sampled_from([0, 1_000_000])),
        "age": column(st.integers(18, 65)),
    }


def _temp_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    data=_small_data(),
    sql=st.sampled_from(PROFILE_QUERIES),
    min_persons=st.integers(1, 12),
    min_enterprises=st.integers(1, 4),
    dominance=st.sampled_from([0.5, 0.85, 1.0]),
)
def test_profile_property_identical(
    data: dict[str, list[Any]], sql: str, min_persons: int, min_enterprises: int, dominance: float
) -> None:
    for folder in _temp_dir():
        path = _write(folder / "d.parquet", data)
        profile = dataset_profile([path], "person_id", "establishment_id")
        restricted = restrict(sql, "data", ["region", "sector", "salary", "age"])
        for enterprise in (None, "establishment_id"):
            _assert_same(
                *_both(
                    restricted, path, profile, enterprise, min_persons, min_enterprises, dominance
                )
            )
