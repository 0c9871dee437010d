"""Secure room on Apache Spark (issue 15, part 5): the scans run on Spark, the rest in DuckDB.

Pure module (PySpark and DuckDB, no Django). :func:`pacte.engines.secure_room_run.run` with
``scan=SparkScan(session)`` runs the two statements that read the dataset, the main query and
the exact companions (:mod:`pacte.engines.secure_room_query`, DuckDB dialect, transpiled to
Spark SQL by sqlglot), on Spark; their results (one row per group) are brought back as Arrow
and everything after them (bounds and decisions, cell-key perturbation, the user's outer
expressions, ``HAVING``, ``ORDER BY``, ``LIMIT``) runs in a local in-memory DuckDB, exactly as
on the embedded engine. Same rows, same decisions, same perturbations: the integer person and
enterprise ids and the record keys are read from the dataset's own files (written at ingestion,
:func:`pacte.engines.secure_room_profile.write_with_record_keys`), never recomputed with an
engine's own hash function. A version ingested before those columns existed stays on DuckDB
(:class:`SparkUnavailable`).

Spark's SQL has no unsigned integers: the person and enterprise bits are signed ``BIGINT``
(bit 63 is the sign), which :func:`pacte.engines.secure_room_disclosure` reads modulo 2⁶⁴.
Each query gets its own Spark session (``newSession()``: same cluster, own temporary views),
so that concurrent queries on different datasets never see each other's views; the published
time limit cancels the query's Spark jobs (a job group per query).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot

from pacte.engines.secure_room_profile import (
    ENTERPRISE_ID_COLUMN,
    PERSON_ID_COLUMN,
    RECORD_KEY_COLUMN,
    integer_ids,
)
from pacte.engines.secure_room_query import (
    DOMINANCE_BUCKETS,
    ENTERPRISE,
    ENTERPRISE_BIT,
    ENTERPRISE_BUCKET,
    PERSON,
    PERSON_BIT,
    PERSON_WORD,
    RECORD_KEY,
    RESERVED_PREFIX,
    RestrictedQuery,
    SqlRefused,
)

__all__ = ["SparkScan", "SparkUnavailable", "to_spark"]

_FILES: Final = "__pacte_files"


class SparkUnavailable(ValueError):
    """These files cannot be queried on Spark (no integer ids or record keys written at
    ingestion); the caller runs the query on DuckDB."""


def to_spark(sql: str) -> str:
    """The DuckDB-dialect statement in Spark SQL."""
    return str(sqlglot.transpile(sql, read="duckdb", write="spark")[0])


def _name(text: str) -> str:
    return "`" + text.replace("`", "``") + "`"


class SparkScan:
    """Runs the secure room's scans of one query on Spark (see the module docstring)."""

    #: ``run`` may filter the companions to the undecided groups (DuckDB only: a temp table)
    filtered_companions: Final = False

    def __init__(self, session: Any) -> None:
        self.session = session.newSession()
        self.group = f"pacte-secure-room-{uuid.uuid4().hex}"
        self._timer: threading.Timer | None = None

    def prepare(
        self,
        restricted: RestrictedQuery,
        parquet_paths: Sequence[str | Path],
        person_column: str,
        enterprise_column: str | None,
        cell_key_secret: int | None,
    ) -> None:
        """Register the view ``restricted.table``: the allowed columns and the helpers."""
        paths = [str(Path(p).resolve()) for p in parquet_paths]
        if not paths:
            raise ValueError("at least one Parquet file is needed")
        ids = integer_ids(paths)
        if ids is None or ids[0] != person_column:
            raise SparkUnavailable("no integer person ids in these files")
        with_eid = enterprise_column is not None and ids[1] == enterprise_column
        if enterprise_column is not None and not with_eid:
            raise SparkUnavailable("no integer enterprise ids in these files")
        names = [str(n) for n in pq.read_schema(paths[0]).names]
        if cell_key_secret is not None and not all(
            RECORD_KEY_COLUMN in pq.read_schema(p).names for p in paths
        ):
            raise SparkUnavailable("no record keys in these files")
        available = {n.lower(): n for n in names}
        projection = [
            _name(available[c])
            for c in restricted.allowed_columns
            if c in available and not c.startswith(RESERVED_PREFIX)
        ]
        pid = _name(PERSON_ID_COLUMN)
        projection.append(f"{pid} AS {PERSON}")
        if enterprise_column is not None:
            eid = _name(ENTERPRISE_ID_COLUMN)
            projection.append(f"{eid} AS {ENTERPRISE}")
            # NULL with the id (no CASE needed); signed BIGINT, see the module docstring
            projection.append(f"SHIFTLEFT(CAST(1 AS BIGINT), {eid} & 63) AS {ENTERPRISE_BIT}")
            projection.append(f"CAST({eid} AS BIGINT) % {DOMINANCE_BUCKETS} AS {ENTERPRISE_BUCKET}")
        else:
            projection.append(f"CAST(NULL AS STRING) AS {ENTERPRISE}")
            projection.append(f"CAST(NULL AS BIGINT) AS {ENTERPRISE_BIT}")
            projection.append(f"CAST(NULL AS BIGINT) AS {ENTERPRISE_BUCKET}")
        key = (
            "CAST(0 AS BIGINT)"
            if cell_key_secret is None
            else f"CAST({_name(RECORD_KEY_COLUMN)} AS BIGINT)"
        )
        projection.append(f"{key} AS {RECORD_KEY}")
        projection.append(f"SHIFTRIGHT(CAST({pid} AS BIGINT), 6) & 1 AS {PERSON_WORD}")
        projection.append(f"SHIFTLEFT(CAST(1 AS BIGINT), {pid} & 63) AS {PERSON_BIT}")
        self.session.read.parquet(*paths).createOrReplaceTempView(_FILES)
        self.session.sql(
            f"CREATE OR REPLACE TEMP VIEW {_name(restricted.table)} AS "
            f"SELECT {', '.join(projection)} FROM {_FILES}"
        )

    def _frame(self, sql: str) -> Any:
        try:
            return self.session.sql(to_spark(sql))
        except Exception as error:  # AnalysisException, ParseException, sqlglot errors
            detail = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise SqlRefused(
                "execution",
                f"The query could not run on Spark: {detail}",
                f"La requête n'a pas pu s'exécuter sur Spark : {detail}",
            ) from error

    def _run(self, action: Any, timeout_s: float | None) -> Any:
        context = self.session.sparkContext
        context.setJobGroup(self.group, "Pacte secure room", interruptOnCancel=True)
        cancelled = threading.Event()

        def cancel() -> None:
            cancelled.set()
            context.cancelJobGroup(self.group)

        timer = threading.Timer(timeout_s, cancel) if timeout_s else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            return action()
        except Exception as error:
            if cancelled.is_set():
                raise SqlRefused(
                    "timeout",
                    f"The query was stopped after {timeout_s} s (the secure room's time limit).",
                    f"La requête a été arrêtée après {timeout_s} s (limite de temps de la salle "
                    "sécurisée).",
                ) from error
            detail = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise SqlRefused(
                "execution",
                f"The query could not run on Spark: {detail}",
                f"La requête n'a pas pu s'exécuter sur Spark : {detail}",
            ) from error
        finally:
            if timer is not None:
                timer.cancel()
            context.setLocalProperty("spark.jobGroup.id", None)

    def arrow(self, sql: str, timeout_s: float | None) -> pa.Table:
        """The statement's result as an Arrow table (one row per group: small)."""
        frame = self._frame(sql)
        table: pa.Table = self._run(frame.toArrow, timeout_s)
        return table

    def rows(self, sql: str, timeout_s: float | None) -> list[tuple[Any, ...]]:
        frame = self._frame(sql)
        return [tuple(r) for r in self._run(frame.collect, timeout_s)]

    def close(self) -> None:
        for view in self.session.catalog.listTables():
            if view.isTemporary:
                self.session.catalog.dropTempView(view.name)
