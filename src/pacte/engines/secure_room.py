"""Secure room (tier 4): restricted aggregate SQL over a dataset, with disclosure control.

Pure modules (sqlglot + DuckDB, no Django): this one checks the query (:func:`restrict`);
:mod:`pacte.engines.secure_room_query` builds the SQL that runs, :mod:`pacte.engines.secure_room_run`
runs it with disclosure control, :mod:`pacte.engines.cell_key` perturbs the published values.

:func:`restrict` first applies the published cost limits (:data:`LIMITS`: text length, then
lexical tokens before parsing, then syntax nodes after), parses the text with sqlglot (DuckDB
dialect) and refuses anything outside a small, allow-listed grammar, raising
:class:`SqlRefused` (a ``ValueError`` whose message is in English and French). Accepted:

* exactly one statement, a ``SELECT`` (no set operations such as ``UNION``, no DDL/DML, no
  ``COPY``, ``ATTACH``, ``PRAGMA``, ``INSTALL``, ``LOAD``, ``SET``, ``CALL``, ``EXPORT`` …);
* ``FROM`` a single source: the dataset view (``allowed_table``), a ``WITH`` CTE or a
  subquery; no joins, no table functions, no file/string table references, no qualified
  names. CTEs and ``FROM`` subqueries must be *row-level* selects (projection and ``WHERE``
  only) over the dataset or an earlier CTE, so that every row the outer query aggregates is
  one dataset row of one person. Subqueries anywhere else are refused;
* only columns in ``allowed_columns`` (or names defined inside the query);
* every output column of the outer ``SELECT`` is an expression over aggregates and ``GROUP
  BY`` keys; ``*`` only inside ``COUNT(*)``; no window functions (``OVER``: row-level values),
  no ``GROUP BY ALL``/``ROLLUP``/``CUBE``/``GROUPING SETS``, no ``SELECT DISTINCT``;
* aggregates ``COUNT``, ``SUM``, ``AVG`` (never ``DISTINCT``: one distinct value can belong
  to a single person), each optionally with
  ``FILTER (WHERE …)``. ``MIN``, ``MAX``, ``MEDIAN``, quantiles (the value of one unit) and
  ``STDDEV``/``VARIANCE`` (no consistent perturbation) are refused by name;
* row-level functions from an allow-list only (``CASE``, ``IF``/``IIF``, ``NULLIF``,
  ``COALESCE``, casts, arithmetic, dates…); ``read_csv``, ``getenv`` and any unknown function
  are refused.

The query that runs is regenerated from the AST (comments dropped), never the user's text.
Every published value is then backed by the persons whose rows actually contribute to it
(see :mod:`pacte.engines.secure_room_query`), whatever the SQL form, and perturbed by the
cell-key method; expressions, ``HAVING``, ``ORDER BY`` and ``LIMIT`` only see perturbed,
suppressed values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from typing import Final

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from pacte.engines.secure_room_profile import (
    ENTERPRISE_BITS_COLUMN,
    ENTERPRISE_ID_COLUMN,
    PERSON_BITS_COLUMN,
    PERSON_ID_COLUMN,
    RECORD_KEY_COLUMN,
    DatasetProfile,
    dataset_profile,
    files_fingerprint,
    integer_ids,
    write_with_record_keys,
)
from pacte.engines.secure_room_query import (
    AGGREGATES,
    DIALECT,
    LIMITS,
    RESERVED_PREFIX,
    Limits,
    RestrictedQuery,
    Slot,
    SqlRefused,
    build,
)
from pacte.engines.secure_room_run import SecureRoomReport, SecureRoomResult, canonical_sha256, run

__all__ = [
    "AGGREGATES",
    "LIMITS",
    "ENTERPRISE_BITS_COLUMN",
    "ENTERPRISE_ID_COLUMN",
    "PERSON_BITS_COLUMN",
    "PERSON_ID_COLUMN",
    "RECORD_KEY_COLUMN",
    "SCALAR_FUNCTIONS",
    "DatasetProfile",
    "Limits",
    "RestrictedQuery",
    "SecureRoomReport",
    "SecureRoomResult",
    "Slot",
    "SqlRefused",
    "canonical_sha256",
    "dataset_profile",
    "files_fingerprint",
    "integer_ids",
    "restrict",
    "run",
    "write_with_record_keys",
]

logging.getLogger("sqlglot").setLevel(logging.ERROR)

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
    exp.Filter,
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


def _refuse(reason: str, english: str, french: str) -> SqlRefused:
    return SqlRefused(reason, english, french)


def _name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).upper()
    if isinstance(node, exp.Func):
        return node.sql_name()
    return node.key.upper()


# --------------------------------------------------------------------------- restrict


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
        if isinstance(
            node, exp.Stddev | exp.StddevSamp | exp.StddevPop | exp.Variance | exp.VariancePop
        ):
            raise _refuse(
                "function",
                f"{_name(node)} is not available: its value cannot be perturbed consistently; "
                "publish SUM(x), SUM(x * x) and COUNT(x) instead.",
                f"{_name(node)} n'est pas disponible : sa valeur ne peut pas être perturbée de "
                "façon cohérente ; publiez SUM(x), SUM(x * x) et COUNT(x) à la place.",
            )
        if isinstance(node, exp.Filter) and not isinstance(node.this, AGGREGATES):
            raise _refuse(
                "filter",
                "FILTER (WHERE …) is only allowed on COUNT, SUM and AVG.",
                "FILTER (WHERE …) n'est autorisé que sur COUNT, SUM et AVG.",
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
        if _is_aggregate(n) or isinstance(n, exp.Filter):
            return
        if isinstance(n, exp.Column):
            out.append(n)
            return
        for child in n.iter_expressions():
            visit(child)

    visit(node)
    return out


def _numeric_literal(node: exp.Expr) -> bool:
    while isinstance(node, exp.Paren | exp.Neg):
        node = node.this
    return isinstance(node, exp.Literal) and not node.is_string and float(node.this) != 0


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
        # CTE/subquery outputs that are not a constant multiple of one granted column
        self.computed: set[str] = set()

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
            if not self.scaled_column(_unalias(projection)):
                self.computed.add(projection.alias_or_name.lower())
            self.allowed.add(projection.alias_or_name.lower())

    def scaled_column(self, node: exp.Expr) -> bool:
        """True for ``col``, ``CAST(col …)``, ``-col``, ``col * k`` or ``col / k`` (k a numeric
        literal), where ``col`` is a granted column or a CTE/subquery output of that shape.

        Only such magnitudes are summed: the cell-key noise of a sum is proportional to the
        largest contribution, so a constant scale scales the noise with the value, while a
        per-row weight (CASE, IF, boolean arithmetic) would change the value and not the
        noise, and two sums over the same persons would subtract to one person."""
        while isinstance(node, exp.Paren | exp.Cast | exp.TryCast | exp.Neg):
            node = node.this
        if isinstance(node, exp.Column):
            return isinstance(node.this, exp.Identifier) and node.name.lower() not in self.computed
        if isinstance(node, exp.Mul):
            left, right = node.this, node.expression
            if _numeric_literal(right):
                return self.scaled_column(left)
            return _numeric_literal(left) and self.scaled_column(right)
        if isinstance(node, exp.Div):
            return _numeric_literal(node.expression) and self.scaled_column(node.this)
        return False

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
            if isinstance(inner, exp.Distinct):
                raise _refuse(
                    "distinct",
                    f"{_name(agg)}(DISTINCT …) is not allowed: one distinct value can belong to "
                    "a single person.",
                    f"{_name(agg)}(DISTINCT …) est interdit : une valeur distincte peut n'appartenir "
                    "qu'à une seule personne.",
                )
            if any(_is_aggregate(n) for n in agg.walk() if n is not agg):
                raise _refuse(
                    "nested",
                    "Nested aggregates are not allowed.",
                    "Les agrégats imbriqués sont interdits.",
                )
        for agg in root.find_all(exp.Sum, exp.Avg):
            if not self.scaled_column(agg.this):
                raise _refuse(
                    "magnitude",
                    f"{_name(agg)} only takes a granted column, possibly multiplied or divided by a "
                    "constant: sums of computed values (CASE, IF, boolean arithmetic…) over the same "
                    "persons would get the same perturbation and subtract to one person's value. "
                    "Put the condition in FILTER (WHERE …) or WHERE, or count with COUNT.",
                    f"{_name(agg)} ne prend qu'une colonne accordée, éventuellement multipliée ou "
                    "divisée par une constante : des sommes de valeurs calculées (CASE, IF, "
                    "arithmétique booléenne…) sur les mêmes personnes recevraient la même "
                    "perturbation et se soustrairaient en la valeur d'une personne. Mettez la "
                    "condition dans FILTER (WHERE …) ou WHERE, ou comptez avec COUNT.",
                )
        for condition in root.find_all(exp.Filter):
            if _contains_aggregate(condition.expression):
                raise _refuse(
                    "nested",
                    "Aggregates are not allowed inside FILTER (WHERE …).",
                    "Les agrégats sont interdits dans FILTER (WHERE …).",
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


_TOKEN: Final = re.compile(r"\w+|[^\w\s]")


def _count_nodes(root: exp.Expr, limit: int) -> None:
    count = 0
    for _ in root.walk():
        count += 1
        if count > limit:
            raise _refuse(
                "too_complex",
                f"The query has more than {limit} syntax nodes (published limit).",
                f"La requête dépasse {limit} nœuds syntaxiques (limite publiée).",
            )


def restrict(
    sql: str, allowed_table: str, allowed_columns: Collection[str], *, limits: Limits = LIMITS
) -> RestrictedQuery:
    """Parse, check and rewrite ``sql``; raise :class:`SqlRefused` if anything is not allowed."""
    if isinstance(allowed_columns, str):
        raise TypeError("allowed_columns must be a collection of names, not a string")
    if isinstance(sql, str) and len(sql) > limits.max_sql_chars:
        raise _refuse(
            "too_long",
            f"The query is {len(sql)} characters long; at most {limits.max_sql_chars} are allowed.",
            f"La requête fait {len(sql)} caractères ; {limits.max_sql_chars} au plus sont "
            "autorisés.",
        )
    if isinstance(sql, str) and len(_TOKEN.findall(sql)) > limits.max_nodes:
        raise _refuse(
            "too_complex",
            f"The query has more than {limits.max_nodes} tokens (published limit).",
            f"La requête dépasse {limits.max_nodes} lexèmes (limite publiée).",
        )
    checker = _Restrictor(allowed_table, allowed_columns)
    try:
        parsed = _parse_one(sql)
        _count_nodes(parsed, limits.max_nodes)
        root = checker.check(parsed)
        source = checker.source_columns(root)
        keys = checker.keys(root, source)
        checker.check_outputs(root, keys)
        columns = tuple(_output_name(p, i) for i, p in enumerate(root.expressions))
        return build(
            root,
            keys,
            table=checker.table,
            allowed_columns=list(allowed_columns),
            columns=columns,
        )
    except SqlRefused:
        raise
    except (SqlglotError, RecursionError, ValueError, TypeError, KeyError, AttributeError) as e:
        raise _refuse("syntax", f"Query not understood: {e}", f"Requête non comprise : {e}") from e
