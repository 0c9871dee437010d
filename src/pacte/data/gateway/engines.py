"""The gateway's query engines behind one interface (issue 15, part 5).

* ``duckdb`` (default): embedded, one in-memory database per process and one cursor per thread,
  reading the version's Parquet files where they are;
* ``spark``: Apache Spark through PySpark, ``PACTE_SPARK_MASTER`` (default ``local[2]``) or a
  Spark Connect server ``PACTE_SPARK_REMOTE`` (``sc://host:15002``; needs ``pyspark[connect]``),
  reading the same Parquet files (on a cluster: a path every executor sees, see
  docs/donnees-cluster.md).

``PACTE_GATEWAY_ENGINE=duckdb|spark`` chooses. Both take the same DuckDB-dialect SQL over named
tables; Spark's is transpiled by sqlglot. What an engine computes is exact; the noise of a DP
release is added afterwards by :mod:`pacte.engines.privacy.exact`, the same code for both.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import duckdb
import sqlglot
from django.utils.translation import gettext as _

from pacte.errors import ValidationFailed

EngineName = Literal["duckdb", "spark"]
ENGINES: Final[tuple[EngineName, ...]] = ("duckdb", "spark")
DEFAULT_SPARK_MASTER: Final = "local[2]"


class QueryEngine(Protocol):
    """Runs one read-only DuckDB-dialect ``SELECT`` over ``tables`` (name → Parquet paths)."""

    name: EngineName

    def query(self, sql: str, tables: Mapping[str, Sequence[str]]) -> list[tuple[Any, ...]]: ...


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBEngine:
    """One in-memory DuckDB database per process, one cursor (connection) per thread.

    Opening a DuckDB connection costs 0.05–0.15 s of CPU, as much as a grouped count over the
    truncated view of 10 M rows: the database is opened once per process (again after a fork)
    and each thread keeps its own cursor; the tables of a statement are temporary views of that
    cursor, dropped afterwards. ``threads`` asks for a dedicated connection with that many
    threads (a setting of the whole database in DuckDB).
    """

    name: EngineName = "duckdb"
    _lock = threading.Lock()
    _database: Any = None
    _pid: int = 0
    _local = threading.local()

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    @classmethod
    def _cursor(cls) -> duckdb.DuckDBPyConnection:
        pid = os.getpid()
        local = cls._local
        if getattr(local, "pid", None) == pid and local.cursor is not None:
            cursor: duckdb.DuckDBPyConnection = local.cursor
            return cursor
        with cls._lock:
            if cls._database is None or cls._pid != pid:
                database = duckdb.connect(":memory:")
                database.execute("SET enable_progress_bar = false")
                cls._database, cls._pid = database, pid
            cursor = cls._database.cursor()
            local.cursor, local.pid = cursor, pid
        return cursor

    def query(self, sql: str, tables: Mapping[str, Sequence[str]]) -> list[tuple[Any, ...]]:
        if self.threads is not None:
            return self._query_alone(sql, tables)
        con = self._cursor()
        try:
            for name, paths in tables.items():
                con.execute(f"CREATE OR REPLACE TEMP VIEW {_quote(name)} AS {_read(paths)}")
            return con.execute(sql).fetchall()
        finally:
            for name in tables:
                con.execute(f"DROP VIEW IF EXISTS {_quote(name)}")

    def _query_alone(self, sql: str, tables: Mapping[str, Sequence[str]]) -> list[tuple[Any, ...]]:
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET enable_progress_bar = false")
            con.execute(f"SET threads = {int(self.threads or 1)}")
            for name, paths in tables.items():
                con.execute(f"CREATE VIEW {_quote(name)} AS {_read(paths)}")
            return con.execute(sql).fetchall()
        finally:
            con.close()


def _read(paths: Sequence[str]) -> str:
    files = "[" + ", ".join(_literal(str(Path(p).resolve())) for p in paths) + "]"
    return f"SELECT * FROM read_parquet({files})"


class SparkEngine:
    """One SparkSession per process (created on first use, shared by the threads of a worker)."""

    name: EngineName = "spark"
    _lock = threading.Lock()
    _session: Any = None

    def __init__(self, master: str | None = None, remote: str | None = None) -> None:
        self.master = master or os.environ.get("PACTE_SPARK_MASTER") or DEFAULT_SPARK_MASTER
        self.remote = remote if remote is not None else os.environ.get("PACTE_SPARK_REMOTE", "")

    def session(self) -> Any:
        with SparkEngine._lock:
            if SparkEngine._session is None:
                SparkEngine._session = self._build()
            return SparkEngine._session

    def _build(self) -> Any:
        from pyspark.sql import SparkSession

        builder: Any = SparkSession.builder.appName("pacte-gateway")
        if self.remote:
            return builder.remote(self.remote).getOrCreate()
        shuffle = os.environ.get("PACTE_SPARK_SHUFFLE_PARTITIONS", "8")
        if self.master.startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
            # Python on the executors (the extracts' HMAC runs there, with pyarrow): in local
            # mode, this very interpreter (PySpark reads the variable when the context starts);
            # on a cluster, PYSPARK_PYTHON names the nodes' one
            os.environ["PYSPARK_PYTHON"] = sys.executable
        return (
            builder.master(self.master)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", shuffle)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "false")
            .getOrCreate()
        )

    @staticmethod
    def transpile(sql: str) -> str:
        return str(sqlglot.transpile(sql, read="duckdb", write="spark")[0])

    def query(self, sql: str, tables: Mapping[str, Sequence[str]]) -> list[tuple[Any, ...]]:
        spark = self.session()
        for name, paths in tables.items():
            spark.read.parquet(*[str(Path(p).resolve()) for p in paths]).createOrReplaceTempView(
                name
            )
        return [tuple(row) for row in spark.sql(self.transpile(sql)).collect()]

    @classmethod
    def stop(cls) -> None:
        with cls._lock:
            if cls._session is not None:
                cls._session.stop()
                cls._session = None


def selected_name() -> EngineName:
    raw = (os.environ.get("PACTE_GATEWAY_ENGINE") or "duckdb").strip().lower()
    if raw not in ENGINES:
        raise ValidationFailed(
            _("PACTE_GATEWAY_ENGINE : « %(engine)s » inconnu (duckdb ou spark).") % {"engine": raw}
        )
    return "spark" if raw == "spark" else "duckdb"


def engine(name: EngineName | None = None) -> QueryEngine:
    """The engine ``name``, else the one ``PACTE_GATEWAY_ENGINE`` selects."""
    chosen = name or selected_name()
    return SparkEngine() if chosen == "spark" else DuckDBEngine()
