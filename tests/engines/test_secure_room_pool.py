"""Pooled, already-locked secure-room connections (issue 15 item 4): reused only for the very
same configuration, never able to read another configuration's files, closed after errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pacte.engines import secure_room_run
from pacte.engines.secure_room import restrict, run
from pacte.engines.secure_room_pool import POOL
from pacte.engines.secure_room_query import LIMITS, SqlRefused

SQL = "SELECT region, COUNT(*) AS n, AVG(salary) AS m FROM data GROUP BY region ORDER BY region"


def _dataset(path: Path, shift: int) -> Path:
    n = 600
    pq.write_table(
        pa.table(
            {
                "person_id": [f"p{i % 150}" for i in range(n)],
                "establishment_id": [f"e{i % 7}" for i in range(n)],
                "region": ["TINY" if i < 5 else "ABC"[i % 3] for i in range(n)],  # TINY: 5 persons
                "salary": [1000 + shift + (i * 37) % 900 for i in range(n)],
            }
        ),
        path,
    )
    return path


@pytest.fixture
def files(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    POOL.clear()
    yield _dataset(tmp_path / "a.parquet", 0), _dataset(tmp_path / "b.parquet", 5000)
    POOL.clear()


def _key(path: Path, secret: int | None = None) -> tuple[Any, ...]:
    restricted = restrict(SQL, "data", ["region", "salary"])
    key = secure_room_run._pool_key(
        restricted, [path], "person_id", "establishment_id", None, LIMITS.memory_limit, secret
    )
    assert key is not None
    return key


def _connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    connect = secure_room_run._connect

    def counting(*args: Any) -> duckdb.DuckDBPyConnection:
        opened.append(str(args[1][0]))
        return connect(*args)

    monkeypatch.setattr(secure_room_run, "_connect", counting)
    return opened


def test_a_connection_is_reused_for_the_same_configuration_with_the_same_answer(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = files
    restricted = restrict(SQL, "data", ["region", "salary"])
    opened = _connects(monkeypatch)
    alone = run(restricted, [a], "person_id", "establishment_id", cell_key_secret=9, pooled=False)
    assert POOL.idle() == 0 and len(opened) == 1
    first = run(restricted, [a], "person_id", "establishment_id", cell_key_secret=9)
    second = run(restricted, [a], "person_id", "establishment_id", cell_key_secret=9)
    assert len(opened) == 2  # the second pooled run took the first one's connection
    assert POOL.idle() == 1
    assert first.rows == second.rows == alone.rows and first.report == alone.report
    assert first.report.rows_suppressed == second.report.rows_suppressed == 1  # TINY
    # another secret, other threads: another configuration, another connection
    run(restricted, [a], "person_id", "establishment_id", cell_key_secret=10)
    run(restricted, [a], "person_id", "establishment_id", cell_key_secret=9, threads=1)
    assert len(opened) == 4 and POOL.idle() == 3


def test_a_pooled_connection_cannot_read_what_another_configuration_allows(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = files
    restricted = restrict(SQL, "data", ["region", "salary"])
    opened = _connects(monkeypatch)
    on_a = run(restricted, [a], "person_id", "establishment_id")
    on_b = run(restricted, [b], "person_id", "establishment_id")
    assert opened == [str(a), str(b)]  # B's run did not get A's connection
    assert on_a.rows != on_b.rows and POOL.idle() == 2
    con_b = POOL.take(_key(b))
    con_a = POOL.take(_key(a))
    assert con_a is not None and con_b is not None and con_a is not con_b
    try:
        for con, other in [(con_b, a), (con_a, b)]:
            with pytest.raises(duckdb.Error, match="[Pp]ermission"):
                con.execute(f"SELECT COUNT(*) FROM read_parquet('{other.resolve()}')").fetchall()
            with pytest.raises(duckdb.Error):
                con.execute(f"SET allowed_paths = ['{other.resolve()}']")
            # the run's temporary tables are gone: nothing of one query is left for the next
            assert con.execute(
                "SELECT COUNT(*) FROM duckdb_tables() WHERE temporary"
            ).fetchall() == [(0,)]
        assert con_b.execute("SELECT MIN(salary) FROM data").fetchall() == [(6000,)]
        assert con_a.execute("SELECT MIN(salary) FROM data").fetchall() == [(1000,)]
    finally:
        con_a.close()
        con_b.close()


def test_a_refused_run_closes_its_connection(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = files
    restricted = restrict(SQL, "data", ["region", "salary"])
    run(restricted, [a], "person_id", "establishment_id")
    assert POOL.idle() == 1
    with pytest.raises(SqlRefused, match="groups"):
        run(restricted, [a], "person_id", "establishment_id", max_rows=1)  # took the pooled one
    assert POOL.idle() == 0  # ... and closed it
    opened = _connects(monkeypatch)
    run(restricted, [a], "person_id", "establishment_id")
    assert len(opened) == 1 and POOL.idle() == 1


def test_the_pool_keeps_few_idle_connections(files: tuple[Path, Path]) -> None:
    a, _ = files
    restricted = restrict(SQL, "data", ["region", "salary"])
    for secret in range(POOL.size + 3):
        run(restricted, [a], "person_id", "establishment_id", cell_key_secret=secret)
    assert POOL.idle() == POOL.size
    assert POOL.take(_key(a, 0)) is None  # the oldest were closed
    last = POOL.take(_key(a, POOL.size + 2))
    assert last is not None
    last.close()
