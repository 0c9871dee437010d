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
    assert result.report.reasons == {"persons": 1, "enterprises": 1, "dominance": 2}
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
    "SELECT SUM(salary) FILTER (WHERE age > 30) FROM data",
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
