"""Pseudonymised extracts (tier 2) on Apache Spark: the same rows as :mod:`pacte.engines.pseudonymise`.

Pure module (PySpark and Polars, no Django). The heavy steps run on Spark, the small ones in
the calling process, with the very code of the Polars path:

1. **frequencies** (Spark): one ``GROUP BY`` of the quasi-identifiers (typed, as stored) and the
   person id, with the row count; collected (Arrow), then turned into the level-0 texts by the
   hierarchies' own Polars expressions and re-aggregated, so the frequency table is the one
   :func:`pacte.engines.pseudonymise.pseudonymised_extract` builds (persons counted by their id
   instead of a 64-bit hash of it: a hash collision could only merge two persons there);
2. **generalisation** (in process, small): :func:`pacte.engines.pseudonymise._generalise`,
   unchanged; then, per quasi-identifier, the table from each distinct stored value to its
   published text (by the hierarchy's Polars expression) and the classes to suppress;
3. **the rows** (Spark): each quasi-identifier replaced through its table (broadcast join,
   ``NULL`` matched null-safely), the small classes removed (broadcast anti-join), the identifier
   columns replaced by ``HMAC-SHA256(grant key, value)`` in Arrow batches on the executors
   (``mapInArrow``: Spark SQL has no HMAC), rows in the files' order (file, then
   ``_metadata.row_index``), collected as Arrow.

The result is an :class:`pacte.engines.pseudonymise.ExtractResult`: a Polars frame over the
collected rows and the same report, so the gateway writes the same file bytes (same
fingerprint) whichever engine computed it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import polars as pl
import pyarrow as pa

from pacte.engines.pseudonymise import (
    ExtractResult,
    ExtractSpec,
    _decide,
    _kept_columns,
    _pseudonyms,
)

__all__ = ["spark_pseudonymised_extract"]

_ORDER_FILE = "__pacte_file"
_ORDER_ROW = "__pacte_row"


def _name(column: str) -> str:
    return "`" + column.replace("`", "``") + "`"


def _hmac_batches(key: bytes, columns: Sequence[str]) -> Any:
    """A ``mapInArrow`` function: ``columns`` replaced by their pseudonyms (text), others kept."""
    wanted = set(columns)

    def apply(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            arrays = []
            for name, array in zip(batch.schema.names, batch.columns, strict=True):
                if name in wanted:
                    values = array.cast(pa.string()).to_pylist()
                    array = pa.array(_pseudonyms(key, values), type=pa.string())
                arrays.append(array)
            yield pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)

    return apply


def spark_pseudonymised_extract(
    session: Any,
    paths: Sequence[str | Path],
    spec: ExtractSpec,
    key: bytes,
    k: int = 11,
    *,
    max_suppression: float = 0.05,
) -> ExtractResult:
    """:func:`pacte.engines.pseudonymise.pseudonymised_extract` of the Parquet ``paths`` with its
    scans on the Spark ``session``: same rows, same order, same report."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    if len(key) < 16:
        raise ValueError("the grant key must be at least 16 bytes")
    if k < 1:
        raise ValueError("k must be >= 1")
    files = [str(Path(p).resolve()) for p in paths]
    if not files:
        raise ValueError("at least one Parquet file is needed")
    schema = pl.scan_parquet(files).collect_schema()
    kept = _kept_columns(spec, schema)
    qis = list(spec.quasi_identifiers)
    hierarchies = spec.quasi_identifiers
    person = spec.person_column
    frame = session.read.parquet(*files)

    # 1. frequencies on Spark, level-0 texts by the hierarchies' own expressions
    units = [F.col(_name(person)).alias("__p")] if person is not None else []
    grouped = frame.groupBy(*[F.col(_name(q)).alias(q) for q in qis], *units).agg(
        F.count(F.lit(1)).cast("long").alias("__n")
    )
    typed = pl.from_arrow(grouped.toArrow())
    assert isinstance(typed, pl.DataFrame)
    keys = [*qis, "__p"] if person is not None else qis
    if keys:
        freq = (
            typed.lazy()
            .with_columns([hierarchies[q].expr(q, 0) for q in qis])
            .group_by(keys)
            .agg(pl.col("__n").sum().cast(pl.Int64))
            .collect()
        )
    else:
        freq = typed.select(pl.col("__n").sum().cast(pl.Int64))

    # 2. generalisation in process (small), exactly as the Polars path
    levels, small, report = _decide(freq, spec, k, max_suppression)
    suppressed = report.rows_suppressed

    # 3. the rows on Spark: published texts, suppression, pseudonyms, files' order
    uris: dict[str, int] = {}
    for i, f in enumerate(files):  # Spark names a file by its URI (``file:/…``, quoted)
        for uri in (f"file:{f}", f"file:{quote(f)}", Path(f).as_uri()):
            uris.setdefault(uri, i)
    order_of = F.create_map(*[x for uri, i in uris.items() for x in (F.lit(uri), F.lit(i))])
    out = frame.withColumn(_ORDER_FILE, order_of[F.col("_metadata.file_path")]).withColumn(
        _ORDER_ROW, F.col("_metadata.row_index")
    )
    for q in qis:
        values = typed.select(pl.col(q)).unique()
        mapping = values.with_columns(hierarchies[q].expr(q, levels[q]).alias("__v"))
        table = session.createDataFrame(
            _rows(mapping, q),
            StructType(
                [
                    StructField("__k", frame.schema[q].dataType, True),
                    StructField("__v", StringType(), False),
                ]
            ),
        )
        out = (
            out.join(F.broadcast(table), out[_name(q)].eqNullSafe(table["__k"]), "left")
            .drop(q, "__k")
            .withColumnRenamed("__v", q)
        )
    if suppressed:
        if qis:
            gone = session.createDataFrame(
                [tuple(r) for r in small.select(qis).iter_rows()],
                StructType([StructField(q, StringType(), False) for q in qis]),
            )
            out = out.join(F.broadcast(gone), qis, "left_anti")
        else:
            out = out.limit(0)
    order = [c for c in schema.names() if c in set(spec.pseudonymised) | set(qis) | set(kept)]
    out = out.select(*[_name(c) for c in order], _ORDER_FILE, _ORDER_ROW)
    if spec.pseudonymised:
        out = out.withColumns({c: F.col(_name(c)).cast("string") for c in spec.pseudonymised})
        out = out.mapInArrow(_hmac_batches(key, spec.pseudonymised), out.schema)
    collected = pl.from_arrow(
        out.orderBy(_ORDER_FILE, _ORDER_ROW).drop(_ORDER_FILE, _ORDER_ROW).toArrow()
    )
    assert isinstance(collected, pl.DataFrame)
    # the stored types of the kept columns (Spark has no unsigned or 16-bit dates, etc.)
    collected = collected.with_columns(
        [pl.col(c).cast(schema[c]) for c in kept if collected.schema[c] != schema[c]]
        + [pl.col(c).cast(pl.Utf8) for c in [*qis, *spec.pseudonymised]]
    )
    return ExtractResult(frame=collected.lazy(), report=report)


def _rows(mapping: pl.DataFrame, column: str) -> list[tuple[Any, Any]]:
    """The (stored value, published text) pairs of one quasi-identifier, as Python values."""
    return list(zip(mapping[column].to_list(), mapping["__v"].to_list(), strict=True))
