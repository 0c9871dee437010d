"""Secure room (tier 4): restricted aggregate SQL over a dataset, with disclosure control.

Pure module (sqlglot + DuckDB, no Django).

Two steps:

1. :func:`restrict` parses the user's text with sqlglot (DuckDB dialect) and refuses anything
   outside a small, allow-listed grammar, raising :class:`SqlRefused` (a ``ValueError`` whose
   message is in English and French). What is accepted:

   * exactly one statement, a ``SELECT`` (no set operations, no DDL/DML, no ``COPY``,
     ``ATTACH``, ``PRAGMA``, ``INSTALL``, ``LOAD``, ``SET``, ``CALL``, ``EXPORT`` …);
   * ``FROM`` a single source: the dataset view (``allowed_table``), a ``WITH`` CTE or a
     subquery; no joins, no table functions, no file/string table references, no qualified
     names. CTEs and ``FROM`` subqueries must be *row-level* selects (projection and
     ``WHERE`` only: no aggregates, ``GROUP BY``, ``DISTINCT``, ``ORDER BY`` or ``LIMIT``)
     over the dataset or an earlier CTE. Subqueries anywhere else are refused;
   * only columns in ``allowed_columns`` (or names defined inside the query);
   * every output column of the outer ``SELECT`` is an aggregate expression or a
     ``GROUP BY`` key; ``*`` only inside ``COUNT(*)``; no window functions, no ``FILTER``,
     no ``GROUP BY ALL``/``ROLLUP``/``CUBE``/``GROUPING SETS``, no ``SELECT DISTINCT``;
   * functions from an allow-list only. Aggregates: ``COUNT``, ``SUM``, ``AVG``, ``STDDEV``,
     ``VARIANCE``. **``MIN``, ``MAX``, ``MEDIAN`` and quantiles are refused**: each returns
     the value of a single unit, which no frequency or dominance rule protects. Everything
     else (``read_csv``, ``read_parquet``, ``glob``, ``getenv``, ``current_setting``, any
     unknown function …) is refused.

   The query that runs is regenerated from the AST (comments dropped), never the user's text.

2. :func:`run` executes it in a fresh in-memory DuckDB connection over a view of the Parquet
   files that exposes only the allowed columns plus two reserved helper columns (person and
   enterprise ids, names starting with ``__pacte``, which user queries cannot name). The
   Parquet paths are whitelisted with ``allowed_paths``; then ``enable_external_access`` is
   switched off, extension autoloading disabled and the configuration locked.

Disclosure control (primary suppression, per output row = per group):

* **persons rule** — a *companion query* over the same source, ``WHERE`` and ``GROUP BY``
  keys counts, per group, the distinct ``hash(person)`` (two-level aggregation). A group
  with fewer than ``min_persons`` distinct persons is suppressed entirely (the row is
  removed, so that not even the existence of the group leaks). Hashing makes the distinct
  count cheap; a 64-bit collision can only lower the count, i.e. make suppression more
  conservative.
* **enterprise rules** (when an enterprise column is declared) — a *companion query* over the
  same source, ``WHERE`` and ``GROUP BY`` keys first sums, per (group, ``hash(enterprise)``;
  ``NULL`` ids form one unit that is not counted as an enterprise), the
  absolute value of the argument of every ``SUM``/``AVG`` in the output, then per group counts
  the enterprises and takes the largest enterprise's share of each total. A group with fewer
  than ``min_enterprises`` enterprises is removed (reason ``enterprises``); a magnitude cell
  (one containing ``SUM`` or ``AVG``) whose largest contributor exceeds ``dominance`` of the
  total is set to ``None`` (reason ``dominance``). A two-level aggregation cannot be folded
  into the user's single ``GROUP BY``, hence the companion query; it is joined in Python on
  the group key values (``NULL`` keys included), which keeps the user's ``ORDER BY``. A
  group the companion cannot be matched to is treated as failing (conservative).

Fast path: :func:`dataset_profile` computes once per dataset version (at ingestion) the row
counts of the heaviest persons and enterprises; ``run(..., profile=...)`` then settles most
groups with bounds computed in the user's own scan and runs the exact companions only for the
undecided groups, with identical decisions (see :func:`run`).

Known limit: only primary suppression is done; secondary (complementary) suppression against
differencing with margins or other queries is left to output checking and query auditing.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import logging
import math
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from pacte.engines.canonical import sha256_hex

__all__ = [
    "AGGREGATES",
    "SCALAR_FUNCTIONS",
    "DatasetProfile",
    "RestrictedQuery",
    "SecureRoomReport",
    "SecureRoomResult",
    "SqlRefused",
    "canonical_sha256",
    "dataset_profile",
    "restrict",
    "run",
]

logging.getLogger("sqlglot").setLevel(logging.ERROR)

DIALECT: Final = "duckdb"
RESERVED_PREFIX: Final = "__pacte"
PERSON: Final = "__pacte_person"
ENTERPRISE: Final = "__pacte_enterprise"
PERSONS: Final = "__pacte_persons"
ROWS: Final = "__pacte_rows"
ENTERPRISES: Final = "__pacte_enterprises"
FILTER: Final = "__pacte_filter"

#: Aggregates allowed in output cells. MIN/MAX/MEDIAN/quantiles are deliberately absent.
AGGREGATES: Final[tuple[type[exp.Expr], ...]] = (
    exp.Count,
    exp.Sum,
    exp.Avg,
    exp.Stddev,
    exp.StddevSamp,
    exp.StddevPop,
    exp.Variance,
    exp.VariancePop,
)
#: Aggregates whose cells are magnitudes (subject to the dominance rule).
MAGNITUDES: Final[tuple[type[exp.Expr], ...]] = (exp.Sum, exp.Avg)

#: Row-level functions allowed anywhere.
SCALAR_FUNCTIONS: Final[tuple[type[exp.Expr], ...]] = (
    exp.Abs,
    exp.Round,
    exp.Floor,
    exp.Ceil,
    exp.Lower,
    exp.Upper,
    exp.Length,
    exp.Substring,
    exp.Coalesce,
    exp.Nullif,
    exp.Cast,
    exp.TryCast,
    exp.Extract,
    exp.Year,
    exp.Month,
    exp.Quarter,
    exp.Day,
    exp.DateTrunc,
    exp.TimestampTrunc,
    exp.Case,
    exp.If,
    exp.Least,
    exp.Greatest,
)

_STRUCTURE: Final[tuple[type[exp.Expr], ...]] = (
    exp.Select,
    exp.From,
    exp.Where,
    exp.Group,
    exp.Having,
    exp.Order,
    exp.Ordered,
    exp.Limit,
    exp.Offset,
    exp.Column,
    exp.Identifier,
    exp.Alias,
    exp.TableAlias,
    exp.Table,
    exp.Subquery,
    exp.With,
    exp.CTE,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Star,
    exp.Paren,
    exp.Distinct,
    exp.DataType,
    exp.DataTypeParam,
    exp.Var,
    exp.Interval,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.IntDiv,
    exp.Mod,
    exp.EQ,
    exp.NEQ,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.And,
    exp.Or,
    exp.Not,
    exp.Neg,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.DPipe,
    exp.Tuple,
)
_ALLOWED: Final = _STRUCTURE + AGGREGATES + SCALAR_FUNCTIONS

_STATEMENT_NAMES: Final[dict[type[exp.Expr], str]] = {
    exp.Copy: "COPY",
    exp.Attach: "ATTACH",
    exp.Detach: "DETACH",
    exp.Pragma: "PRAGMA",
    exp.Install: "INSTALL",
    exp.Set: "SET",
    exp.Create: "CREATE",
    exp.Insert: "INSERT",
    exp.Update: "UPDATE",
    exp.Delete: "DELETE",
    exp.Drop: "DROP",
    exp.Export: "EXPORT",
    exp.Union: "UNION",
    exp.Intersect: "INTERSECT",
    exp.Except: "EXCEPT",
}


class SqlRefused(ValueError):
    """The query is refused; ``str()`` is bilingual (English / French)."""

    def __init__(self, reason: str, english: str, french: str) -> None:
        self.reason = reason
        self.english = english
        self.french = french
        super().__init__(f"{english} / {french}")


def _refuse(reason: str, english: str, french: str) -> SqlRefused:
    return SqlRefused(reason, english, french)


def _name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).upper()
    if isinstance(node, exp.Func):
        return node.sql_name()
    return node.key.upper()


# --------------------------------------------------------------------------- restrict


@dataclass(frozen=True)
class RestrictedQuery:
    """A query accepted by :func:`restrict`, ready for :func:`run`.

    ``sql`` is the canonical user query regenerated from the AST (for the transparency log);
    ``fingerprint`` its SHA-256. ``columns`` are the output names; ``magnitude_args[i]`` lists
    the indices (into ``value_args``) of the ``SUM``/``AVG`` arguments in output column ``i``.
    """

    sql: str
    fingerprint: str
    table: str
    allowed_columns: tuple[str, ...]
    columns: tuple[str, ...]
    main_sql: str
    persons_sql: str
    enterprise_sql: str
    key_count: int
    magnitude_args: tuple[tuple[int, ...], ...]
    value_args: tuple[str, ...]
    #: With a :class:`DatasetProfile`: the main query extended with ``HASH(keys)`` (if grouped)
    #: then ``SUM(ABS(arg)), MAX(ABS(arg))`` per value argument (enterprise variant only), and
    #: the companions restricted to the groups whose key hash is in ``__pacte_filter``.
    profiled_main_sql: str = ""
    profiled_main_enterprise_sql: str = ""
    persons_filtered_sql: str = ""
    enterprise_filtered_sql: str = ""

    def executable_sql(self, *, with_enterprise: bool) -> tuple[str, str, str | None]:
        """The SQL actually run: main query, persons companion, enterprise companion."""
        return self.main_sql, self.persons_sql, self.enterprise_sql if with_enterprise else None


def _parse_one(sql: str) -> exp.Expr:
    if not isinstance(sql, str) or not sql.strip():
        raise _refuse("empty", "Empty query.", "Requête vide.")
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except (SqlglotError, RecursionError, ValueError, TypeError, KeyError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _refuse(
            "syntax",
            f"SQL syntax error: {detail}",
            f"Erreur de syntaxe SQL : {detail}",
        ) from error
    if len(statements) != 1:
        raise _refuse(
            "statements",
            f"Exactly one statement is allowed, got {len(statements)}.",
            f"Une seule instruction est autorisée, {len(statements)} reçues.",
        )
    return statements[0]


def _check_nodes(root: exp.Expr) -> None:
    for node in root.walk():
        if isinstance(node, exp.Window):
            raise _refuse(
                "window",
                "Window functions (OVER) are not allowed: they return row-level values.",
                "Les fonctions de fenêtre (OVER) sont interdites : elles renvoient des "
                "valeurs individuelles.",
            )
        if isinstance(node, exp.Join):
            raise _refuse("join", "Joins are not allowed.", "Les jointures sont interdites.")
        if isinstance(
            node,
            exp.Min
            | exp.Max
            | exp.Median
            | exp.Quantile
            | exp.PercentileCont
            | exp.PercentileDisc
            | exp.ArgMax
            | exp.ArgMin,
        ):
            raise _refuse(
                "function",
                f"{_name(node)} is not allowed: it reveals the value of a single unit.",
                f"{_name(node)} est interdit : il révèle la valeur d'une seule unité.",
            )
        if isinstance(node, exp.Identifier) and str(node.this).lower().startswith(RESERVED_PREFIX):
            raise _refuse(
                "reserved",
                f"Names starting with {RESERVED_PREFIX} are reserved.",
                f"Les noms commençant par {RESERVED_PREFIX} sont réservés.",
            )
        if not isinstance(node, _ALLOWED):
            if isinstance(node, exp.Func):
                name = _name(node)
                raise _refuse(
                    "function",
                    f"Function {name} is not allowed in the secure room.",
                    f"La fonction {name} n'est pas autorisée dans la salle sécurisée.",
                )
            raise _refuse(
                "construct",
                f"SQL construct {_name(node)} is not allowed in the secure room.",
                f"La construction SQL {_name(node)} n'est pas autorisée dans la salle sécurisée.",
            )


def _is_aggregate(node: exp.Expr) -> bool:
    return isinstance(node, AGGREGATES)


def _contains_aggregate(node: exp.Expr) -> bool:
    return any(_is_aggregate(n) for n in node.walk())


def _bare_columns(node: exp.Expr) -> list[exp.Column]:
    """Columns of ``node`` that are not inside an aggregate."""
    out: list[exp.Column] = []

    def visit(n: exp.Expr) -> None:
        if _is_aggregate(n):
            return
        if isinstance(n, exp.Column):
            out.append(n)
            return
        for child in n.iter_expressions():
            visit(child)

    visit(node)
    return out


def _unalias(node: exp.Expr) -> exp.Expr:
    return node.this if isinstance(node, exp.Alias) else node


def _output_name(node: exp.Expr, index: int) -> str:
    name = node.alias_or_name if isinstance(node, exp.Alias | exp.Column) else ""
    return name or node.sql(dialect=DIALECT, comments=False) or f"col{index}"


class _Restrictor:
    def __init__(self, table: str, allowed_columns: Collection[str]) -> None:
        self.table = table.lower()
        self.allowed = {c.lower() for c in allowed_columns}
        self.cte_names: set[str] = set()

    # -- sources ---------------------------------------------------------------------
    def source_columns(self, select: exp.Select) -> set[str] | None:
        """Column names visible from ``select``'s FROM (None = the dataset view)."""
        source = select.args.get("from_")
        if source is None:
            raise _refuse(
                "from",
                f"The query must read FROM {self.table}.",
                f"La requête doit lire FROM {self.table}.",
            )
        if select.args.get("joins"):
            raise _refuse("join", "Joins are not allowed.", "Les jointures sont interdites.")
        item = source.this
        if isinstance(item, exp.Table):
            if not isinstance(item.this, exp.Identifier):
                raise _refuse(
                    "table_function",
                    f"Table functions such as {_name(item.this)} are not allowed.",
                    f"Les fonctions de table comme {_name(item.this)} sont interdites.",
                )
            if item.args.get("db") or item.args.get("catalog"):
                raise _refuse(
                    "table",
                    "Qualified table names are not allowed.",
                    "Les noms de table qualifiés sont interdits.",
                )
            name = str(item.this.this)
            lowered = name.lower()
            if lowered == self.table and lowered not in self.cte_names:
                return None
            if lowered in self.cte_names:
                return set()  # CTE outputs were registered as allowed names
            raise _refuse(
                "table",
                f"Unknown or forbidden table {name!r}: only {self.table!r} can be queried.",
                f"Table {name!r} inconnue ou interdite : seule {self.table!r} peut être "
                "interrogée.",
            )
        if isinstance(item, exp.Subquery):
            inner = item.this
            if not isinstance(inner, exp.Select):
                raise _refuse(
                    "subquery",
                    "Subqueries must be simple SELECTs.",
                    "Les sous-requêtes doivent être de simples SELECT.",
                )
            self.row_level(inner)
            return set()
        raise _refuse(
            "from",
            f"Unsupported FROM clause {_name(item)}.",
            f"Clause FROM non prise en charge : {_name(item)}.",
        )

    def row_level(self, select: exp.Select) -> None:
        """Check a CTE/subquery: a row-level projection + WHERE over an allowed source."""
        for arg in ("group", "having", "order", "limit", "offset", "distinct", "with_"):
            if select.args.get(arg):
                raise _refuse(
                    "subquery",
                    "CTEs and subqueries may only project and filter rows "
                    f"({arg.rstrip('_').upper()} found); aggregate in the outer SELECT.",
                    "Les CTE et sous-requêtes ne peuvent que projeter et filtrer des lignes "
                    f"({arg.rstrip('_').upper()} trouvé) ; agrégez dans le SELECT final.",
                )
        if _contains_aggregate(select):
            raise _refuse(
                "subquery",
                "Aggregates are only allowed in the outer SELECT.",
                "Les agrégats ne sont autorisés que dans le SELECT final.",
            )
        self.source_columns(select)
        for projection in select.expressions:
            if isinstance(projection, exp.Star):
                if any(projection.args.values()):
                    raise _refuse(
                        "star",
                        "Star modifiers are not allowed.",
                        "Les modificateurs de * sont interdits.",
                    )
                continue
            if not projection.alias_or_name:
                raise _refuse(
                    "alias",
                    "Every computed column of a CTE or subquery needs an alias.",
                    "Chaque colonne calculée d'une CTE ou sous-requête doit avoir un alias.",
                )
            self.allowed.add(projection.alias_or_name.lower())

    # -- whole query -----------------------------------------------------------------
    def check(self, root: exp.Expr) -> exp.Select:
        for kind, name in _STATEMENT_NAMES.items():
            if isinstance(root, kind):
                raise _refuse(
                    "statement",
                    f"{name} is not allowed: only a single SELECT is accepted.",
                    f"{name} est interdit : seule une instruction SELECT est acceptée.",
                )
        if not isinstance(root, exp.Select):
            raise _refuse(
                "statement",
                f"{_name(root)} is not allowed: only a single SELECT is accepted.",
                f"{_name(root)} est interdit : seule une instruction SELECT est acceptée.",
            )
        _check_nodes(root)
        with_ = root.args.get("with_")
        if with_ is not None:
            if with_.args.get("recursive"):
                raise _refuse(
                    "cte", "Recursive CTEs are not allowed.", "Les CTE récursives sont interdites."
                )
            for cte in with_.expressions:
                inner = cte.this
                if not isinstance(inner, exp.Select):
                    raise _refuse(
                        "cte",
                        "CTEs must be simple SELECTs.",
                        "Les CTE doivent être de simples SELECT.",
                    )
                self.row_level(inner)
                self.cte_names.add(cte.alias_or_name.lower())
        # subqueries anywhere but FROM are refused
        for sub in root.find_all(exp.Subquery):
            if not isinstance(sub.parent, exp.From):
                raise _refuse(
                    "subquery",
                    "Subqueries are only allowed in FROM or WITH.",
                    "Les sous-requêtes ne sont autorisées que dans FROM ou WITH.",
                )
        for select in root.find_all(exp.Select):
            if select is not root and not isinstance(select.parent, exp.Subquery | exp.CTE):
                raise _refuse(
                    "subquery",
                    "Subqueries are only allowed in FROM or WITH.",
                    "Les sous-requêtes ne sont autorisées que dans FROM ou WITH.",
                )
        self.source_columns(root)
        self.check_outer(root)
        self.check_columns(root)
        return root

    def check_columns(self, root: exp.Select) -> None:
        aliases = {p.alias.lower() for p in root.find_all(exp.Alias) if isinstance(p.alias, str)}
        sources = (
            {self.table} | self.cte_names | {a.name.lower() for a in root.find_all(exp.TableAlias)}
        )
        for column in root.find_all(exp.Column):
            if column.args.get("db") or column.args.get("catalog"):
                raise _refuse(
                    "column",
                    "Qualified column names are not allowed.",
                    "Les noms de colonne qualifiés sont interdits.",
                )
            if column.table and column.table.lower() not in sources:
                raise _refuse(
                    "column",
                    f"Unknown table or alias {column.table!r}.",
                    f"Table ou alias {column.table!r} inconnu.",
                )
            if isinstance(column.this, exp.Star):
                raise _refuse(
                    "star",
                    "SELECT * is not allowed; name the columns.",
                    "SELECT * est interdit ; nommez les colonnes.",
                )
            name = column.name.lower()
            if name not in self.allowed and name not in aliases:
                raise _refuse(
                    "column",
                    f"Column {column.name!r} is unknown or not granted.",
                    f"La colonne {column.name!r} est inconnue ou non accordée.",
                )

    def check_outer(self, root: exp.Select) -> None:
        if root.args.get("distinct"):
            raise _refuse(
                "distinct",
                "SELECT DISTINCT is not allowed; use GROUP BY.",
                "SELECT DISTINCT est interdit ; utilisez GROUP BY.",
            )
        for star in root.find_all(exp.Star):
            parent = star.parent
            if isinstance(parent, exp.Count) and parent.this is star:
                continue
            if isinstance(parent, exp.Select) and parent is not root:
                continue  # SELECT * inside a row-level CTE/subquery
            raise _refuse(
                "star", "* is only allowed inside COUNT(*).", "* n'est autorisé que dans COUNT(*)."
            )
        for agg in root.find_all(*AGGREGATES):
            inner = agg.this
            if isinstance(inner, exp.Distinct) and not isinstance(agg, exp.Count):
                raise _refuse(
                    "distinct",
                    f"{_name(agg)}(DISTINCT …) is not allowed.",
                    f"{_name(agg)}(DISTINCT …) est interdit.",
                )
            if any(_is_aggregate(n) for n in agg.walk() if n is not agg):
                raise _refuse(
                    "nested",
                    "Nested aggregates are not allowed.",
                    "Les agrégats imbriqués sont interdits.",
                )
        where = root.args.get("where")
        if where is not None and _contains_aggregate(where):
            raise _refuse(
                "where",
                "Aggregates are not allowed in WHERE; use HAVING.",
                "Les agrégats sont interdits dans WHERE ; utilisez HAVING.",
            )

    def keys(self, root: exp.Select, source: set[str] | None) -> list[exp.Expr]:
        group = root.args.get("group")
        if group is None:
            return []
        if group.args.get("all") or any(
            group.args.get(k) for k in ("rollup", "cube", "grouping_sets", "totals")
        ):
            raise _refuse(
                "group",
                "GROUP BY ALL, ROLLUP, CUBE and GROUPING SETS are not allowed; list the keys.",
                "GROUP BY ALL, ROLLUP, CUBE et GROUPING SETS sont interdits ; listez les clés.",
            )
        projections = root.expressions
        by_alias = {p.alias.lower(): p.this for p in projections if isinstance(p, exp.Alias)}
        visible = self.allowed if source is None else self.allowed
        keys: list[exp.Expr] = []
        for item in group.expressions:
            if isinstance(item, exp.Literal) and not item.is_string:
                position = int(item.this)
                if not 1 <= position <= len(projections):
                    raise _refuse(
                        "group",
                        f"GROUP BY position {position} is out of range.",
                        f"La position {position} du GROUP BY est hors limites.",
                    )
                keys.append(_unalias(projections[position - 1]).copy())
            elif (
                isinstance(item, exp.Column)
                and not item.table
                and item.name.lower() in by_alias
                and item.name.lower() not in visible
            ):
                keys.append(by_alias[item.name.lower()].copy())
            else:
                keys.append(item.copy())
            if _contains_aggregate(keys[-1]):
                raise _refuse(
                    "group",
                    "Aggregates are not allowed in GROUP BY.",
                    "Les agrégats sont interdits dans GROUP BY.",
                )
        return keys

    def check_outputs(self, root: exp.Select, keys: list[exp.Expr]) -> None:
        key_sql = {k.sql(dialect=DIALECT) for k in keys}
        key_columns = {k.name.lower() for k in keys if isinstance(k, exp.Column)}
        has_aggregate = False
        for projection in root.expressions:
            value = _unalias(projection)
            if value.sql(dialect=DIALECT) in key_sql:
                continue
            if _contains_aggregate(value):
                has_aggregate = True
            for column in _bare_columns(value):
                if column.name.lower() not in key_columns:
                    label = projection.sql(dialect=DIALECT)
                    raise _refuse(
                        "not_aggregated",
                        f"Output column {label} must be an aggregate (COUNT, SUM, AVG…) or "
                        "a GROUP BY key.",
                        f"La colonne de sortie {label} doit être un agrégat (COUNT, SUM, "
                        "AVG…) ou une clé du GROUP BY.",
                    )
        if not has_aggregate and not keys:
            raise _refuse(
                "not_aggregated",
                "The query must aggregate (COUNT, SUM, AVG…), optionally GROUP BY keys.",
                "La requête doit agréger (COUNT, SUM, AVG…), éventuellement par clés de GROUP BY.",
            )


def _inject_helpers(root: exp.Select, helpers: Sequence[str]) -> None:
    """Make the reserved helper columns flow through every row-level CTE/subquery."""
    for select in list(root.find_all(exp.Select)):
        if select is root:
            continue
        if any(isinstance(p, exp.Star) for p in select.expressions):
            continue  # * already carries them
        for helper in helpers:
            select.append("expressions", exp.column(helper))


def restrict(sql: str, allowed_table: str, allowed_columns: Collection[str]) -> RestrictedQuery:
    """Parse, check and rewrite ``sql``; raise :class:`SqlRefused` if anything is not allowed."""
    if isinstance(allowed_columns, str):
        raise TypeError("allowed_columns must be a collection of names, not a string")
    checker = _Restrictor(allowed_table, allowed_columns)
    try:
        root = checker.check(_parse_one(sql))
        source = checker.source_columns(root)
        keys = checker.keys(root, source)
        checker.check_outputs(root, keys)
        canonical = root.sql(dialect=DIALECT, comments=False)
    except SqlRefused:
        raise
    except (SqlglotError, RecursionError, ValueError, TypeError, KeyError, AttributeError) as e:
        raise _refuse("syntax", f"Query not understood: {e}", f"Requête non comprise : {e}") from e

    columns = tuple(_output_name(p, i) for i, p in enumerate(root.expressions))
    value_args: list[str] = []
    magnitude_args: list[tuple[int, ...]] = []
    arg_nodes: list[exp.Expr] = []
    for projection in root.expressions:
        indices: list[int] = []
        for agg in projection.find_all(*MAGNITUDES):
            arg = agg.this
            text = arg.sql(dialect=DIALECT)
            if text not in value_args:
                value_args.append(text)
                arg_nodes.append(arg.copy())
            indices.append(value_args.index(text))
        magnitude_args.append(tuple(sorted(set(indices))))

    key_names = [f"__pacte_k{i}" for i in range(len(keys))]

    def key_hash() -> exp.Expr:
        return exp.Anonymous(this="hash", expressions=[k.copy() for k in keys])

    def two_level(
        helper: str,
        unit: exp.Expr,
        not_null: bool,
        inner_values: list[exp.Expr],
        outer_items: list[exp.Expr],
        filtered: bool = False,
    ) -> str:
        """Aggregate per (group keys, unit), then per group keys: same FROM/WITH/WHERE."""
        source = root.copy()
        _inject_helpers(source, [helper])
        inner = exp.select(
            *[exp.alias_(k.copy(), name) for k, name in zip(keys, key_names, strict=True)],
            exp.alias_(unit, "__pacte_unit"),
            *inner_values,
        )
        inner.set("from_", source.args["from_"].copy())
        condition: exp.Expr | None = None
        if source.args.get("where") is not None:
            condition = exp.Paren(this=source.args["where"].this.copy())
        if not_null:
            present = exp.Not(this=exp.Is(this=exp.column(helper), expression=exp.Null()))
            condition = present if condition is None else exp.and_(condition, present)
        if filtered and keys:
            wanted = exp.In(
                this=key_hash(),
                query=exp.Subquery(this=exp.select("h").from_(FILTER)),
            )
            condition = wanted if condition is None else exp.and_(condition, wanted)
        if condition is not None:
            inner.set("where", exp.Where(this=condition))
        inner.set(
            "group",
            exp.Group(expressions=[exp.column(n) for n in key_names + ["__pacte_unit"]]),
        )
        outer = exp.select(*[exp.column(n) for n in key_names], *outer_items).from_(
            exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("__pacte_u")))
        )
        if keys:
            outer.set("group", exp.Group(expressions=[exp.column(n) for n in key_names]))
        if source.args.get("with_") is not None:
            outer.set("with_", source.args["with_"].copy())
        return outer.sql(dialect=DIALECT, comments=False)

    main = root.copy()
    main.append("expressions", exp.alias_(exp.Count(this=exp.Star()), ROWS))
    for key, name in zip(keys, key_names, strict=True):
        main.append("expressions", exp.alias_(key.copy(), name))
    profiled = main.copy()
    if keys:
        profiled.append("expressions", exp.alias_(key_hash(), "__pacte_h"))
    profiled_enterprise = profiled.copy()
    for j, a in enumerate(arg_nodes):
        profiled_enterprise.append(
            "expressions", exp.alias_(exp.Sum(this=exp.Abs(this=a.copy())), f"__pacte_t{j}")
        )
        profiled_enterprise.append(
            "expressions", exp.alias_(exp.Max(this=exp.Abs(this=a.copy())), f"__pacte_m{j}")
        )

    def persons(filtered: bool) -> str:
        return two_level(
            PERSON,
            exp.Anonymous(this="hash", expressions=[exp.column(PERSON)]),
            True,
            [],
            [exp.alias_(exp.Count(this=exp.Star()), PERSONS)],
            filtered,
        )

    def enterprises(filtered: bool) -> str:
        return two_level(
            ENTERPRISE,
            # hashed like persons (faster to group); NULL stays NULL: not an enterprise
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.Is(this=exp.column(ENTERPRISE), expression=exp.Null()),
                        true=exp.Null(),
                    )
                ],
                default=exp.Anonymous(this="hash", expressions=[exp.column(ENTERPRISE)]),
            ),
            False,
            [
                exp.alias_(exp.Sum(this=exp.Abs(this=a.copy())), f"__pacte_v{j}")
                for j, a in enumerate(arg_nodes)
            ],
            [exp.alias_(exp.Count(this=exp.column("__pacte_unit")), ENTERPRISES)]
            + [
                exp.alias_(
                    exp.Div(
                        this=exp.Max(this=exp.column(f"__pacte_v{j}")),
                        expression=exp.Nullif(
                            this=exp.Sum(this=exp.column(f"__pacte_v{j}")),
                            expression=exp.Literal.number(0),
                        ),
                    ),
                    f"__pacte_share{j}",
                )
                for j in range(len(arg_nodes))
            ],
            filtered,
        )

    persons_sql = persons(False)
    enterprise_sql = enterprises(False)
    return RestrictedQuery(
        sql=canonical,
        fingerprint=hashlib.sha256(canonical.encode()).hexdigest(),
        table=checker.table,
        allowed_columns=tuple(sorted({c.lower() for c in allowed_columns})),
        columns=columns,
        main_sql=main.sql(dialect=DIALECT, comments=False),
        persons_sql=persons_sql,
        enterprise_sql=enterprise_sql,
        key_count=len(keys),
        magnitude_args=tuple(magnitude_args),
        value_args=tuple(value_args),
        profiled_main_sql=profiled.sql(dialect=DIALECT, comments=False),
        profiled_main_enterprise_sql=profiled_enterprise.sql(dialect=DIALECT, comments=False),
        persons_filtered_sql=persons(True),
        enterprise_filtered_sql=enterprises(True),
    )


# --------------------------------------------------------------------------- run


@dataclass(frozen=True)
class SecureRoomReport:
    """What disclosure control did; safe to publish in the transparency log."""

    rows: int  # rows returned
    groups: int  # groups computed before suppression
    rows_suppressed: int
    cells_suppressed: int
    reasons: dict[str, int] = field(
        default_factory=dict
    )  # persons/enterprises: rows; dominance: cells
    rows_read: int = 0  # source rows that fell in the computed groups
    dataset_rows: int = 0
    output_sha256: str = ""
    query_fingerprint: str = ""


@dataclass(frozen=True)
class SecureRoomResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    report: SecureRoomReport


def _canonical(value: Any) -> Any:
    """A result cell for :func:`canonical_sha256`: a non-finite number (which RFC 8785
    refuses) is written as its text (``"nan"``, ``"inf"``); a value of another SQL type as
    its text; the rest follows the one rule of :func:`pacte.engines.canonical.jcs_value`."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, decimal.Decimal) and not value.is_finite():
        return str(value)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, bool | int | str | float | decimal.Decimal | dt.date | dt.time):
        return value
    return str(value)


def canonical_sha256(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """SHA-256 of the RFC 8785 JSON ``{"columns": …, "rows": …}``."""
    return sha256_hex({"columns": list(columns), "rows": [[_canonical(v) for v in r] for r in rows]})


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _connect(
    restricted: RestrictedQuery,
    parquet_paths: Sequence[str | Path],
    person_column: str,
    enterprise_column: str | None,
    threads: int | None,
    memory_limit: str | None,
) -> duckdb.DuckDBPyConnection:
    paths = [str(Path(p).resolve()) for p in parquet_paths]
    if not paths:
        raise ValueError("at least one Parquet file is needed")
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            con.execute(f"SET memory_limit = {_literal(memory_limit)}")
        path_list = "[" + ", ".join(_literal(p) for p in paths) + "]"
        con.execute(f"SET allowed_paths = {path_list}")
        available = {
            str(r[0]).lower(): str(r[0])
            for r in con.execute(
                f"SELECT name FROM parquet_schema({path_list}) WHERE name <> 'schema'"
            ).fetchall()
        }
        projection = []
        for column in restricted.allowed_columns:
            if column in available:
                projection.append(_quote(available[column]))
        projection.append(f"{_quote(person_column)} AS {PERSON}")
        if enterprise_column is not None:
            projection.append(f"{_quote(enterprise_column)} AS {ENTERPRISE}")
        con.execute(
            f"CREATE VIEW {_quote(restricted.table)} AS SELECT {', '.join(projection)} "
            f"FROM read_parquet({path_list})"
        )
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


# --------------------------------------------------------------------------- profile

#: How many of the heaviest persons / enterprises a profile remembers (bounds hold for
#: ``min_persons - 1`` and ``min_enterprises - 1`` up to this number, and beyond it too).
PROFILE_TOP: Final = 128


def files_fingerprint(parquet_paths: Sequence[str | Path]) -> str:
    """SHA-256 over each file's resolved path, size and Parquet footer (microseconds).

    The footer holds the row groups, their byte offsets, sizes and column statistics, so any
    rewrite of a dataset version changes it; a profile is only used on matching files.
    """
    digest = hashlib.sha256()
    for raw in parquet_paths:
        path = Path(raw).resolve()
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            if size < 12:
                raise ValueError(f"{path} is not a Parquet file")
            handle.seek(size - 8)
            tail = handle.read(8)
            length = int.from_bytes(tail[:4], "little")
            if tail[4:] != b"PAR1" or length + 8 > size:
                raise ValueError(f"{path} is not a Parquet file")
            handle.seek(size - 8 - length)
            footer = handle.read(length)
        digest.update(f"{path}\0{size}\0".encode())
        digest.update(hashlib.sha256(footer).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class DatasetProfile:
    """Statistics of one dataset version, computed once at ingestion by :func:`dataset_profile`.

    Only platform-side numbers (never released): the row counts of the heaviest persons
    and enterprises (grouped by ``hash(id)``, exactly as the rules count them), in decreasing
    order, plus the number of
    rows with a ``NULL`` id. They turn the row count of a group, computed in the same scan as
    the user's aggregates, into a *guaranteed* lower bound on its distinct persons and
    enterprises, and bound the dominance share (see :func:`run`).
    """

    fingerprint: str
    rows: int
    person_column: str
    person_null_rows: int
    person_top_rows: tuple[int, ...]
    enterprise_column: str | None = None
    enterprise_null_rows: int = 0
    enterprise_top_rows: tuple[int, ...] = ()

    @property
    def max_rows_per_person(self) -> int:
        return self.person_top_rows[0] if self.person_top_rows else 0

    @property
    def max_rows_per_enterprise(self) -> int:
        return self.enterprise_top_rows[0] if self.enterprise_top_rows else 0

    @staticmethod
    def heaviest(top: tuple[int, ...], units: int) -> int:
        """Most rows ``units`` distinct units can hold together (sum of the top counts)."""
        if units <= 0 or not top:
            return 0
        head = sum(top[:units])
        return head + max(0, units - len(top)) * top[-1]


def dataset_profile(
    parquet_paths: Sequence[str | Path],
    person_column: str,
    enterprise_column: str | None = None,
    *,
    threads: int | None = None,
) -> DatasetProfile:
    """Profile a dataset version (ingestion-time work: one or two full aggregations)."""
    paths = [str(Path(p).resolve()) for p in parquet_paths]
    if not paths:
        raise ValueError("at least one Parquet file is needed")
    fingerprint = files_fingerprint(paths)
    source = "read_parquet([" + ", ".join(_literal(p) for p in paths) + "])"
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")

        def top(column: str, unit: str) -> tuple[int, tuple[int, ...], int]:
            total, nulls = con.execute(
                f"SELECT COUNT(*), COUNT(*) - COUNT({_quote(column)}) FROM {source}"
            ).fetchall()[0]
            counts = con.execute(
                f"SELECT COUNT(*) AS c FROM {source} WHERE {_quote(column)} IS NOT NULL "
                f"GROUP BY {unit} ORDER BY c DESC LIMIT {PROFILE_TOP}"
            ).fetchall()
            return int(total), tuple(int(r[0]) for r in counts), int(nulls)

        rows, person_top, person_nulls = top(person_column, f"hash({_quote(person_column)})")
        enterprise_top: tuple[int, ...] = ()
        enterprise_nulls = 0
        if enterprise_column is not None:
            _, enterprise_top, enterprise_nulls = top(
                enterprise_column, f"hash({_quote(enterprise_column)})"
            )
    finally:
        con.close()
    return DatasetProfile(
        fingerprint=fingerprint,
        rows=rows,
        person_column=person_column,
        person_null_rows=person_nulls,
        person_top_rows=person_top,
        enterprise_column=enterprise_column,
        enterprise_null_rows=enterprise_nulls,
        enterprise_top_rows=enterprise_top,
    )


def _execute(
    con: duckdb.DuckDBPyConnection, sql: str, timeout_s: float | None
) -> list[tuple[Any, ...]]:
    timer = threading.Timer(timeout_s, con.interrupt) if timeout_s else None
    if timer is not None:
        timer.start()
    try:
        return con.execute(sql).fetchall()
    except duckdb.InterruptException as error:
        raise _refuse(
            "timeout",
            f"The query was stopped after {timeout_s} s.",
            f"La requête a été arrêtée après {timeout_s} s.",
        ) from error
    except duckdb.Error as error:
        detail = str(error).splitlines()[0]
        raise _refuse(
            "execution",
            f"The query could not run: {detail}",
            f"La requête n'a pas pu s'exécuter : {detail}",
        ) from error
    finally:
        if timer is not None:
            timer.cancel()


class _NaN:
    """Stands for a NaN group key, so that NaN keys match across queries."""

    def __repr__(self) -> str:
        return "NaN"


_NAN: Final = _NaN()


def _key(values: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_NAN if isinstance(v, float) and math.isnan(v) else v for v in values)


def _check_profile(
    profile: DatasetProfile,
    parquet_paths: Sequence[str | Path],
    person_column: str,
    enterprise_column: str | None,
) -> None:
    if profile.person_column != person_column or (
        enterprise_column is not None and profile.enterprise_column != enterprise_column
    ):
        raise ValueError("the profile was computed for other person/enterprise columns")
    if profile.fingerprint != files_fingerprint(parquet_paths):
        raise ValueError("the profile was computed for other files (stale dataset version?)")


def _dominance_safe(total: Any, largest: Any, unit_rows: int, dominance: float) -> bool:
    """True if no unit can hold more than ``dominance`` of ``total`` (= SUM(ABS(x)))."""
    if total is None or largest is None:
        return True  # no non-NULL value: the exact share is NULL, never suppressed
    total_f = float(total)
    if total_f == 0.0:
        return True  # the exact share is x / NULLIF(0, 0) = NULL
    # a small relative margin absorbs floating-point error in either computation
    return unit_rows * float(largest) <= dominance * total_f * (1.0 - 1e-9)


def run(
    restricted: RestrictedQuery,
    parquet_paths: Sequence[str | Path],
    person_column: str,
    enterprise_column: str | None = None,
    min_persons: int = 11,
    min_enterprises: int = 3,
    dominance: float = 0.85,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    timeout_s: float | None = 60.0,
    max_rows: int = 100_000,
    profile: DatasetProfile | None = None,
) -> SecureRoomResult:
    """Run ``restricted`` over the Parquet files and apply disclosure control.

    Groups failing the persons rule (or, with ``enterprise_column``, the enterprise-count rule)
    are removed; magnitude cells failing the dominance rule are set to ``None``. Errors raised
    by DuckDB while running the user's query become :class:`SqlRefused`.

    With ``profile`` (from :func:`dataset_profile` on the same files and columns, else
    ``ValueError``) the decisions are identical but most groups are settled by bounds taken
    from one scan: the user's query extended with ``COUNT(*)`` (and, for the dominance rule,
    ``SUM(ABS(x))``/``MAX(ABS(x))``) per group. With ``n`` rows in a group:

    * fewer than ``min_persons`` rows ⇒ fewer persons: fails. More than
      ``person_null_rows`` + the rows of the ``min_persons - 1`` heaviest persons ⇒ at least
      ``min_persons`` persons: passes.
    * likewise for enterprises with ``min_enterprises``; and every unit (an enterprise or the
      ``NULL`` one) holds at most ``R = max(max_rows_per_enterprise, enterprise_null_rows)``
      rows of the group, so its share of ``SUM(ABS(x))`` is at most
      ``R · MAX(ABS(x)) / SUM(ABS(x))``: at most ``dominance`` ⇒ the cell passes.

    Only the groups left undecided go through the exact companion queries, restricted to them
    by key hash (a collision can only add groups, whose exact counts are then ignored).
    """
    with_enterprise = enterprise_column is not None
    main_sql, persons_sql, enterprise_sql = restricted.executable_sql(
        with_enterprise=with_enterprise
    )
    if profile is not None:
        _check_profile(profile, parquet_paths, person_column, enterprise_column)
    con = _connect(
        restricted, parquet_paths, person_column, enterprise_column, threads, memory_limit
    )
    n = len(restricted.columns)
    k = restricted.key_count
    n_args = len(restricted.value_args)
    persons_by_key: dict[tuple[Any, ...], int] = {}
    by_key: dict[tuple[Any, ...], tuple[int, tuple[float | None, ...]]] = {}

    def too_many(raw: list[tuple[Any, ...]]) -> None:
        if len(raw) > max_rows:
            raise _refuse(
                "too_many_rows",
                f"The query returns {len(raw)} groups; at most {max_rows} are allowed.",
                f"La requête renvoie {len(raw)} groupes ; {max_rows} au plus sont autorisés.",
            )

    def read_persons(rows: list[tuple[Any, ...]], wanted: set[tuple[Any, ...]] | None) -> None:
        for r in rows:
            key = _key(r[:k])
            if wanted is None or key in wanted:
                persons_by_key[key] = int(r[k])

    def read_enterprises(rows: list[tuple[Any, ...]], wanted: set[tuple[Any, ...]] | None) -> None:
        for r in rows:
            key = _key(r[:k])
            if wanted is None or key in wanted:
                shares = tuple(None if v is None else float(v) for v in r[k + 1 : k + 1 + n_args])
                by_key[key] = (int(r[k]), shares)

    try:
        if profile is None:
            raw = _execute(con, main_sql, timeout_s)
            too_many(raw)
            read_persons(_execute(con, persons_sql, timeout_s), None)
            if enterprise_sql:
                read_enterprises(_execute(con, enterprise_sql, timeout_s), None)
            count = con.execute(f"SELECT COUNT(*) FROM {_quote(restricted.table)}").fetchone()
            dataset_rows = int(count[0]) if count else 0
        else:
            profiled_sql = (
                restricted.profiled_main_enterprise_sql
                if with_enterprise
                else restricted.profiled_main_sql
            )
            raw = _execute(con, profiled_sql, timeout_s)
            too_many(raw)
            dataset_rows = profile.rows
            hash_at = n + 1 + k
            totals_at = hash_at + (1 if k else 0)
            total_rows = sum(int(r[n]) for r in raw)

            def companion(
                undecided: list[tuple[Any, ...]], full_sql: str, filtered_sql: str
            ) -> tuple[list[tuple[Any, ...]], set[tuple[Any, ...]] | None]:
                """Exact companion rows for the undecided groups (all groups if most are)."""
                wanted = {_key(r[n + 1 : n + 1 + k]) for r in undecided}
                if not k or 2 * sum(int(r[n]) for r in undecided) > total_rows:
                    return _execute(con, full_sql, timeout_s), wanted
                con.execute(f"CREATE OR REPLACE TEMP TABLE {FILTER} (h UBIGINT)")
                con.execute(
                    f"INSERT INTO {FILTER} SELECT CAST(UNNEST(?::VARCHAR[]) AS UBIGINT)",
                    [sorted({str(r[hash_at]) for r in undecided})],
                )
                return _execute(con, filtered_sql, timeout_s), wanted

            sure_persons = profile.person_null_rows + DatasetProfile.heaviest(
                profile.person_top_rows, min_persons - 1
            )
            undecided = []
            for row in raw:
                rows_in = int(row[n])
                key = _key(row[n + 1 : n + 1 + k])
                if rows_in < min_persons:
                    persons_by_key[key] = rows_in  # distinct persons <= rows: fails
                elif rows_in > sure_persons:
                    persons_by_key[key] = min_persons  # passes (lower bound)
                else:
                    undecided.append(row)
            if undecided:
                read_persons(*companion(undecided, persons_sql, restricted.persons_filtered_sql))
            if with_enterprise:
                sure_enterprises = profile.enterprise_null_rows + DatasetProfile.heaviest(
                    profile.enterprise_top_rows, min_enterprises - 1
                )
                unit_rows = max(profile.max_rows_per_enterprise, profile.enterprise_null_rows)
                undecided = []
                for row in raw:
                    rows_in = int(row[n])
                    key = _key(row[n + 1 : n + 1 + k])
                    if persons_by_key.get(key, 0) < min_persons:
                        continue  # suppressed by the persons rule anyway
                    if rows_in < min_enterprises:
                        by_key[key] = (rows_in, ())  # distinct enterprises <= rows: fails
                        continue
                    if rows_in > sure_enterprises and all(
                        _dominance_safe(
                            row[totals_at + 2 * j], row[totals_at + 2 * j + 1], unit_rows, dominance
                        )
                        for j in range(n_args)
                    ):
                        by_key[key] = (min_enterprises, (0.0,) * n_args)
                        continue
                    undecided.append(row)
                if undecided:
                    read_enterprises(
                        *companion(
                            undecided, restricted.enterprise_sql, restricted.enterprise_filtered_sql
                        )
                    )
    finally:
        con.close()

    reasons = {"persons": 0, "enterprises": 0, "dominance": 0}
    rows: list[tuple[Any, ...]] = []
    cells_suppressed = 0
    rows_read = 0
    for row in raw:
        group_rows = int(row[n])
        key = _key(row[n + 1 : n + 1 + k])
        rows_read += group_rows
        persons = persons_by_key.get(key, 0)
        if persons < min_persons:
            reasons["persons"] += 1
            cells_suppressed += n
            continue
        cells = list(row[:n])
        if with_enterprise:
            found = by_key.get(key)
            if found is None or found[0] < min_enterprises:
                reasons["enterprises"] += 1
                cells_suppressed += n
                continue
            shares = found[1]
            for i, arg_indices in enumerate(restricted.magnitude_args):
                if not arg_indices or cells[i] is None:
                    continue
                if any((s := shares[j]) is not None and s > dominance for j in arg_indices):
                    cells[i] = None
                    cells_suppressed += 1
                    reasons["dominance"] += 1
        rows.append(tuple(cells))

    report = SecureRoomReport(
        rows=len(rows),
        groups=len(raw),
        rows_suppressed=reasons["persons"] + reasons["enterprises"],
        cells_suppressed=cells_suppressed,
        reasons=reasons,
        rows_read=rows_read,
        dataset_rows=dataset_rows,
        output_sha256=canonical_sha256(restricted.columns, rows),
        query_fingerprint=restricted.fingerprint,
    )
    return SecureRoomResult(columns=restricted.columns, rows=rows, report=report)
