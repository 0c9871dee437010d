"""Pseudonymised extracts (tier 2): HMAC pseudonyms and k-anonymity by generalisation.

Pure module (Polars, no Django).

* Direct identifiers are dropped.
* Identifier columns to keep for linking *within* an extract are replaced by
  ``HMAC-SHA256(grant_key, value)``, hex, truncated to 32 hex characters (128 bits: collisions
  are negligible below ~10^18 values, and truncation does not weaken the keyed hash). Each
  grant has its own key, so two projects' extracts cannot be joined on pseudonyms.
* Quasi-identifiers (QI) are generalised with *full-domain* generalisation over a hierarchy
  per column (level 0 = exact value as text, last level = ``'*'``), Datafly-style: while the
  rows in equivalence classes smaller than ``k`` exceed the suppression cap
  (``max_suppression`` × rows), raise by one level the QI that currently has the most distinct
  values. Then the rows of the remaining small classes are suppressed. At the top level every
  QI is ``'*'``: one class holding every row, so the loop always ends (and if there are fewer
  than ``k`` rows in total, everything is suppressed).
* k counts **persons**, never rows, when ``ExtractSpec.person_column`` is set: an
  equivalence class is kept only if at least ``k`` distinct persons have a row in it (a person
  with 4 rows in one class counts once). Rows with no person id count together as one person
  (conservative). Without a person column every row is its own unit.
* The search works on the frequency table of (exact QI combination, person) pairs (one lazy
  ``group_by`` over the QI columns and a 64-bit hash of the person id; a hash collision can
  only merge two persons, i.e. under-count them: conservative), never on the rows; the rows
  are transformed once, lazily, at the end (streamable to CSV or Parquet). Suppression removes
  whole classes, so every class left keeps its ≥ k persons.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import polars as pl

__all__ = [
    "ExtractReport",
    "ExtractResult",
    "ExtractSpec",
    "Hierarchy",
    "age_hierarchy",
    "date_hierarchy",
    "iter_csv_chunks",
    "mapping_hierarchy",
    "numeric_hierarchy",
    "pseudonym",
    "pseudonymised_extract",
    "suppress_only",
    "write_extract",
]

PSEUDONYM_HEX: Final = 32
PERSON_HASH_SEED: Final = 0x9E3779B9
TOP: Final = "*"
MISSING: Final = "∅"

Level = Callable[[pl.Expr], pl.Expr]


def pseudonym(key: bytes, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``key``, hex, truncated to 32 characters (128 bits)."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def _pseudonyms(key: bytes, values: Sequence[str | None]) -> list[str | None]:
    base = hmac.new(key, digestmod=hashlib.sha256)
    out: list[str | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        h = base.copy()
        h.update(value.encode("utf-8"))
        out.append(h.hexdigest()[:PSEUDONYM_HEX])
    return out


# --------------------------------------------------------------------------- hierarchies


@dataclass(frozen=True)
class Hierarchy:
    """Generalisation ladder: ``levels[0]`` is the exact value, the last level is ``'*'``.

    Each level maps a column expression to a text expression; nulls become ``'∅'``.
    """

    names: tuple[str, ...]
    levels: tuple[Level, ...]

    def __post_init__(self) -> None:
        if len(self.names) != len(self.levels) or len(self.levels) < 2:
            raise ValueError("a hierarchy needs matching names and at least two levels")

    def expr(self, column: str, level: int) -> pl.Expr:
        return self.levels[level](pl.col(column)).cast(pl.Utf8).fill_null(MISSING).alias(column)

    @property
    def top(self) -> int:
        return len(self.levels) - 1


def _exact(e: pl.Expr) -> pl.Expr:
    return e.cast(pl.Utf8)


def _star(e: pl.Expr) -> pl.Expr:
    # keeps the column's length even in a ``select`` (a bare literal would broadcast to 1 row)
    return pl.when(e.is_null()).then(pl.lit(TOP)).otherwise(pl.lit(TOP))


def suppress_only() -> Hierarchy:
    """Exact value, then ``'*'`` (e.g. sex)."""
    return Hierarchy(("exact", "*"), (_exact, _star))


def _band(width: int, lower: int | None) -> Level:
    def level(e: pl.Expr) -> pl.Expr:
        x = e.cast(pl.Int64)
        start = (x // width) * width
        text = pl.format("{}-{}", start, start + width - 1)
        if lower is not None:
            return pl.when(x < lower).then(pl.lit(f"<{lower}")).otherwise(text)
        return text

    return level


def numeric_hierarchy(widths: Sequence[int], *, lower: int | None = None) -> Hierarchy:
    """Exact, then bands of each width (e.g. ``[5, 10]`` → ``'20-24'``, ``'20-29'``), then ``*``."""
    names = ("exact", *(f"band{w}" for w in widths), "*")
    levels: tuple[Level, ...] = (_exact, *(_band(w, lower) for w in widths), _star)
    return Hierarchy(names, levels)


def age_hierarchy() -> Hierarchy:
    """Age → 5-year band → 10-year band → ``*``."""
    return numeric_hierarchy([5, 10])


def mapping_hierarchy(names: Sequence[str], mappings: Sequence[Mapping[str, str]]) -> Hierarchy:
    """Exact code, then successive public mappings (e.g. département → region), then ``*``.

    ``mappings[i]`` maps the *exact* code to the level ``i + 1`` label; unknown codes map to
    ``'∅'`` (so they merge instead of staying unique).
    """
    if len(names) != len(mappings):
        raise ValueError("one name per mapping")

    def mapped(mapping: Mapping[str, str]) -> Level:
        return lambda e: e.cast(pl.Utf8).replace_strict(
            dict(mapping), default=MISSING, return_dtype=pl.Utf8
        )

    return Hierarchy(("exact", *names, "*"), (_exact, *(mapped(m) for m in mappings), _star))


def date_hierarchy() -> Hierarchy:
    """Date → month (``2024-07``) → quarter (``2024-Q3``) → year → ``*``."""
    return Hierarchy(
        ("day", "month", "quarter", "year", "*"),
        (
            lambda e: e.cast(pl.Date).dt.strftime("%Y-%m-%d"),
            lambda e: e.cast(pl.Date).dt.strftime("%Y-%m"),
            lambda e: pl.format("{}-Q{}", e.cast(pl.Date).dt.year(), e.cast(pl.Date).dt.quarter()),
            lambda e: e.cast(pl.Date).dt.year().cast(pl.Utf8),
            _star,
        ),
    )


# --------------------------------------------------------------------------- extract


@dataclass(frozen=True)
class ExtractSpec:
    """Column roles. ``kept=None`` keeps every column not otherwise listed."""

    direct_identifiers: Sequence[str] = ()
    pseudonymised: Sequence[str] = ()
    quasi_identifiers: Mapping[str, Hierarchy] = field(default_factory=dict)
    kept: Sequence[str] | None = None
    person_column: str | None = None
    """Identifies a person: k counts distinct persons per class. Read for counting only; it
    appears in the output only if also listed in ``pseudonymised`` (as a pseudonym)."""


@dataclass(frozen=True)
class ExtractReport:
    k: int
    rows_in: int
    rows_out: int
    rows_suppressed: int
    suppression_rate: float
    min_class_size: int  # k achieved: fewest persons (rows without a person column) in an output class; 0 if empty
    classes: int
    levels: dict[str, str]  # QI → chosen level name
    steps: list[str]  # QI generalised at each step, in order
    max_suppression: float
    unit: Literal["person", "row"] = "row"  # what k and min_class_size count
    min_class_rows: int = 0  # fewest rows in an output class (≥ min_class_size)


@dataclass(frozen=True)
class ExtractResult:
    frame: pl.LazyFrame
    report: ExtractReport


def _source(data: pl.LazyFrame | pl.DataFrame | str | Path | Sequence[str | Path]) -> pl.LazyFrame:
    if isinstance(data, pl.LazyFrame):
        return data
    if isinstance(data, pl.DataFrame):
        return data.lazy()
    if isinstance(data, str | Path):
        return pl.scan_parquet(data)
    return pl.scan_parquet([str(p) for p in data])


def _classes(
    freq: pl.DataFrame,
    qis: Sequence[str],
    spec: Mapping[str, Hierarchy],
    levels: Mapping[str, int],
    by_person: bool,
) -> pl.DataFrame:
    """Equivalence classes at ``levels``: rows (``__n``) and distinct persons (``__persons``;
    the rows themselves without a person column)."""
    persons = pl.col("__p").n_unique() if by_person else pl.col("__n").sum()
    agg = [pl.col("__n").sum(), persons.cast(pl.Int64).alias("__persons")]
    if not qis:
        return freq.lazy().select(agg).collect()
    return (
        freq.lazy()
        .with_columns([spec[q].expr(q, levels[q]) for q in qis])
        .group_by(list(qis))
        .agg(agg)
        .collect()
    )


def _kept_columns(spec: ExtractSpec, schema: pl.Schema) -> list[str]:
    """Check every column's role against the file; the columns passed through unchanged."""
    qis = list(spec.quasi_identifiers)
    roles = [*spec.direct_identifiers, *spec.pseudonymised, *qis]
    for column in roles:
        if column not in schema:
            raise ValueError(f"unknown column {column!r}")
    if len(set(roles)) != len(roles):
        raise ValueError("a column has several roles")
    person = spec.person_column
    if person is not None and person not in schema:
        raise ValueError(f"unknown person column {person!r}")
    if person is not None and person in qis:
        raise ValueError("the person column cannot be a quasi-identifier")
    if spec.kept is None:
        return [c for c in schema.names() if c not in roles and c != person]
    kept = [c for c in spec.kept if c not in roles]
    for column in kept:
        if column not in schema:
            raise ValueError(f"unknown column {column!r}")
    return kept


def _frequencies(lf: pl.LazyFrame, spec: ExtractSpec) -> pl.DataFrame:
    """Frequency table of (exact QI combination, person): QI columns as text, person as a hash;
    without a person column, of exact QI combinations (each row is its own unit)."""
    qis = list(spec.quasi_identifiers)
    person = spec.person_column
    units = [pl.col(person).hash(seed=PERSON_HASH_SEED).alias("__p")] if person is not None else []
    keys = [*qis, "__p"] if person is not None else qis
    counted = lf.select([*(spec.quasi_identifiers[q].expr(q, 0) for q in qis), *units])
    if not keys:
        return lf.select(pl.len().cast(pl.Int64).alias("__n")).collect()
    return counted.group_by(keys).agg(pl.len().cast(pl.Int64).alias("__n")).collect()


def _generalise(
    freq: pl.DataFrame,
    spec: ExtractSpec,
    k: int,
    cap: int,
) -> tuple[pl.DataFrame, dict[str, int], list[str]]:
    """Greedy generalisation: raise one QI's level at a time (the one with the most distinct
    values) until the rows of classes under k persons fit in the suppression cap, or nothing
    is left to generalise. Returns the classes, the levels and the steps taken."""
    qis = list(spec.quasi_identifiers)
    hierarchies = spec.quasi_identifiers
    levels = {q: 0 for q in qis}
    steps: list[str] = []
    while True:
        classes = _classes(freq, qis, hierarchies, levels, spec.person_column is not None)
        violating = int(classes.filter(pl.col("__persons") < k)["__n"].sum())
        if violating <= cap:
            break
        candidates = [q for q in qis if levels[q] < hierarchies[q].top]
        if not candidates:
            break
        distinct = {q: classes[q].n_unique() for q in candidates}
        chosen = max(candidates, key=lambda q: (distinct[q], -qis.index(q)))
        levels[chosen] += 1
        steps.append(chosen)
    return classes, levels, steps


def _decide(
    freq: pl.DataFrame, spec: ExtractSpec, k: int, max_suppression: float
) -> tuple[dict[str, int], pl.DataFrame, ExtractReport]:
    """From the frequencies (whichever engine counted them): the level of each
    quasi-identifier, the classes to suppress and the extract's report — one place for every
    engine, so their reports cannot drift apart."""
    hierarchies = spec.quasi_identifiers
    rows_in = int(freq["__n"].sum()) if freq.height else 0
    classes, levels, steps = _generalise(freq, spec, k, int(max_suppression * rows_in))
    small = classes.filter(pl.col("__persons") < k)
    suppressed = int(small["__n"].sum())
    kept_classes = classes.filter((pl.col("__persons") >= k) & (pl.col("__n") > 0))
    report = ExtractReport(
        k=k,
        rows_in=rows_in,
        rows_out=rows_in - suppressed,
        rows_suppressed=suppressed,
        suppression_rate=suppressed / rows_in if rows_in else 0.0,
        min_class_size=int(kept_classes["__persons"].min()) if kept_classes.height else 0,  # type: ignore[arg-type]
        classes=kept_classes.height,
        levels={q: hierarchies[q].names[levels[q]] for q in hierarchies},
        steps=steps,
        max_suppression=max_suppression,
        unit="person" if spec.person_column is not None else "row",
        min_class_rows=int(kept_classes["__n"].min()) if kept_classes.height else 0,  # type: ignore[arg-type]
    )
    return levels, small, report


def pseudonymised_extract(
    data: pl.LazyFrame | pl.DataFrame | str | Path | Sequence[str | Path],
    spec: ExtractSpec,
    key: bytes,
    k: int = 11,
    *,
    max_suppression: float = 0.05,
) -> ExtractResult:
    """Build a k-anonymous pseudonymised extract (lazy frame) and its report."""
    if len(key) < 16:
        raise ValueError("the grant key must be at least 16 bytes")
    if k < 1:
        raise ValueError("k must be >= 1")
    lf = _source(data)
    schema = lf.collect_schema()
    kept = _kept_columns(spec, schema)
    qis = list(spec.quasi_identifiers)
    hierarchies = spec.quasi_identifiers
    levels, small, report = _decide(_frequencies(lf, spec), spec, k, max_suppression)
    suppressed = report.rows_suppressed

    out = lf.with_columns([hierarchies[q].expr(q, levels[q]) for q in qis])
    if suppressed:
        if qis:
            out = out.join(small.select(qis).lazy(), on=qis, how="anti", maintain_order="left")
        else:
            out = out.head(0)
    if spec.pseudonymised:
        out = out.with_columns(
            [
                pl.col(c).cast(pl.Utf8).map_batches(_hmac_batch(key), return_dtype=pl.Utf8).alias(c)
                for c in spec.pseudonymised
            ]
        )
    order = [c for c in schema.names() if c in set(spec.pseudonymised) | set(qis) | set(kept)]
    out = out.select(order)
    return ExtractResult(frame=out, report=report)


def _hmac_batch(key: bytes) -> Callable[[pl.Series], pl.Series]:
    def apply(series: pl.Series) -> pl.Series:
        # hash each distinct value once, then map back (ids repeat across rows)
        uniques = series.unique()
        mapping = pl.DataFrame(
            {
                "v": uniques,
                "p": pl.Series(_pseudonyms(key, uniques.to_list()), dtype=pl.Utf8),
            }
        )
        frame = series.to_frame("v").join(mapping, on="v", how="left", maintain_order="left")
        return frame["p"].alias(series.name)

    return apply


# --------------------------------------------------------------------------- output


def write_extract(
    result: ExtractResult, out: str | Path, format: Literal["csv", "parquet"] = "csv"
) -> Path:
    """Write the extract to ``out`` (streaming where Polars can)."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "csv":
        result.frame.sink_csv(path)
    elif format == "parquet":
        result.frame.sink_parquet(path, compression="zstd")
    else:
        raise ValueError(f"unknown format {format!r}")
    return path


def iter_csv_chunks(result: ExtractResult, chunk_rows: int = 100_000) -> Iterator[bytes]:
    """CSV bytes in chunks (header first), for a streaming HTTP response."""
    frame = result.frame
    offset = 0
    header = True
    while True:
        chunk = frame.slice(offset, chunk_rows).collect()
        if chunk.height == 0 and not header:
            return
        buffer = io.BytesIO()
        chunk.write_csv(buffer, include_header=header)
        header = False
        data = buffer.getvalue()
        if data:
            yield data
        if chunk.height < chunk_rows:
            return
        offset += chunk_rows
