"""Secure room: the SQL that actually runs for an accepted query (pure, sqlglot only).

:func:`pacte.engines.secure_room.restrict` checks the user's ``SELECT``; :func:`build` then
turns it into:

* the **main query**: the user's ``FROM``/``WITH``/``WHERE``/``GROUP BY`` with, per group, the
  group keys, every aggregate of the outer query (from the projections, ``HAVING`` and
  ``ORDER BY``) as a *slot*, and for each slot, **in the same scan**, the statistics of the
  rows that actually *contribute* to it:

  ===============================  =========================================================
  aggregate                        a row contributes when
  ===============================  =========================================================
  ``COUNT(*)``                     always
  ``COUNT(x)``, ``COUNT(DISTINCT   ``x IS NOT NULL``
  x)``
  ``SUM(x)``, ``AVG(x)``           ``x IS NOT NULL AND CAST(x AS DOUBLE) <> 0`` (a zero does
                                   not change a sum; for a mean it only moves the
                                   denominator, which the other rows protect)
  ``… FILTER (WHERE f)``           and ``f``
  ===============================  =========================================================

  Whatever the form of ``x`` (``CASE``, ``IF``/``IIF``, boolean arithmetic, ``NULLIF``,
  ``COALESCE``, division…), DuckDB itself evaluates the condition on each row, so the set of
  contributors is exact and no syntactic analysis of ``x`` is trusted. Per slot the main query
  returns the contributing rows, the sum of their record keys (cell key), and for magnitudes
  ``MAX``/``SUM`` of ``ABS(x)`` (largest contribution, dominance bound) and ``COUNT(x)``;
* two **companions** (two-level aggregations per group and person, per group and enterprise)
  that count the distinct contributing persons and enterprises of every slot and the
  largest enterprise's share of each magnitude; with a dataset profile they only run for the
  groups that bounds from the main scan leave undecided;
* the **post query**, evaluated on the perturbed, suppressed slots: the user's outer
  expressions (``ROUND(AVG(x), 1)``, ``SUM(a) / COUNT(*)``…), ``HAVING``, ``ORDER BY``,
  ``LIMIT`` and ``OFFSET``. Nothing the user sees is computed from an unperturbed aggregate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlglot import exp

DIALECT: Final = "duckdb"
RESERVED_PREFIX: Final = "__pacte"
PERSON: Final = "__pacte_person"
ENTERPRISE: Final = "__pacte_enterprise"
RECORD_KEY: Final = "__pacte_key"
ROWS: Final = "__pacte_rows"
PERSONS: Final = "__pacte_persons"
ENTERPRISES: Final = "__pacte_enterprises"
HASH: Final = "__pacte_h"
FILTER: Final = "__pacte_filter"
MAIN: Final = "__pacte_main"
CELLS: Final = "__pacte_cells"
RID: Final = "__pacte_rid"
KEEP: Final = "__pacte_keep"

#: Aggregates allowed in output cells. MIN/MAX/MEDIAN/quantiles/STDDEV/VARIANCE are absent.
AGGREGATES: Final[tuple[type[exp.Expr], ...]] = (exp.Count, exp.Sum, exp.Avg)


class SqlRefused(ValueError):
    """The query is refused; ``str()`` is bilingual (English / French)."""

    def __init__(self, reason: str, english: str, french: str) -> None:
        self.reason = reason
        self.english = english
        self.french = french
        super().__init__(f"{english} / {french}")


@dataclass(frozen=True)
class Slot:
    """One aggregate of the outer query. ``kind``: ``count``, ``sum`` or ``mean``;
    ``condition``: index of its contributor condition (shared by identical conditions)."""

    sql: str
    kind: str
    condition: int


@dataclass(frozen=True)
class RestrictedQuery:
    """A query accepted by ``restrict``, ready for ``run``.

    ``sql`` is the canonical user query regenerated from the AST (for the transparency log);
    ``fingerprint`` its SHA-256; ``columns`` the output names; ``output_slots[c]`` the slots
    output column ``c`` is computed from (``()`` for a group key).
    """

    sql: str
    fingerprint: str
    table: str
    allowed_columns: tuple[str, ...]
    columns: tuple[str, ...]
    key_count: int
    slots: tuple[Slot, ...]
    conditions: int
    output_slots: tuple[tuple[int, ...], ...]
    main_sql: str
    persons_sql: str
    persons_filtered_sql: str
    enterprise_sql: str
    enterprise_filtered_sql: str
    post_sql: str


def key_name(j: int) -> str:
    return f"__pacte_k{j}"


def slot_name(i: int) -> str:
    """The perturbed value of slot ``i`` (cells table)."""
    return f"__pacte_a{i}"


def raw_name(i: int) -> str:
    """The exact value of slot ``i`` (main table; never published as such)."""
    return f"__pacte_x{i}"


def _aggregate_of(node: exp.Expr) -> exp.Expr | None:
    """The aggregate a node stands for (itself, or the one a FILTER wraps), else None."""
    if isinstance(node, exp.Filter) and isinstance(node.this, AGGREGATES):
        return node.this
    if isinstance(node, AGGREGATES) and not isinstance(node.parent, exp.Filter):
        return node
    return None


def _is_zero_free(arg: exp.Expr) -> exp.Expr:
    """``arg IS NOT NULL AND CAST(arg AS DOUBLE) <> 0``."""
    present = exp.Not(this=exp.Is(this=arg.copy(), expression=exp.Null()))
    nonzero = exp.NEQ(
        this=exp.Cast(this=exp.Paren(this=arg.copy()), to=exp.DataType.build("DOUBLE")),
        expression=exp.Literal.number(0),
    )
    return exp.and_(present, nonzero)


def _condition(node: exp.Expr, agg: exp.Expr) -> tuple[str, exp.Expr]:
    """(kind, contributor condition) of an aggregate slot."""
    arg = agg.this
    if isinstance(arg, exp.Distinct):
        arg = arg.expressions[0]
    if isinstance(agg, exp.Count):
        kind = "count"
        base: exp.Expr = (
            exp.true()
            if isinstance(arg, exp.Star)
            else exp.Not(this=exp.Is(this=arg.copy(), expression=exp.Null()))
        )
    else:
        kind = "sum" if isinstance(agg, exp.Sum) else "mean"
        base = _is_zero_free(arg)
    if isinstance(node, exp.Filter):
        user = node.expression.this.copy()
        base = exp.and_(exp.Paren(this=user), base)
    return kind, base


def _filtered(agg: exp.Expr, condition: exp.Expr) -> exp.Expr:
    return exp.Filter(this=agg, expression=exp.Where(this=condition.copy()))


def _helpers(root: exp.Select, helpers: Sequence[str]) -> None:
    """Make the reserved helper columns flow through every row-level CTE/subquery."""
    for select in list(root.find_all(exp.Select)):
        if select is root:
            continue
        if any(isinstance(p, exp.Star) for p in select.expressions):
            continue  # * already carries them
        for helper in helpers:
            select.append("expressions", exp.column(helper))


def _abs_double(arg: exp.Expr) -> exp.Expr:
    return exp.Abs(this=exp.Cast(this=exp.Paren(this=arg.copy()), to=exp.DataType.build("DOUBLE")))


def build(
    root: exp.Select,
    keys: list[exp.Expr],
    *,
    table: str,
    allowed_columns: Sequence[str],
    columns: tuple[str, ...],
) -> RestrictedQuery:
    """Rewrite an accepted outer ``SELECT`` (see the module docstring)."""
    canonical = root.sql(dialect=DIALECT, comments=False)
    slots: list[Slot] = []
    slot_nodes: list[exp.Expr] = []
    slot_args: list[exp.Expr | None] = []
    slot_filters: list[exp.Expr | None] = []
    conditions: list[str] = []
    condition_nodes: list[exp.Expr] = []
    by_sql: dict[str, int] = {}

    def slot_of(node: exp.Expr, agg: exp.Expr) -> int:
        text = node.sql(dialect=DIALECT)
        if text in by_sql:
            return by_sql[text]
        kind, condition = _condition(node, agg)
        condition_sql = condition.sql(dialect=DIALECT)
        if condition_sql not in conditions:
            conditions.append(condition_sql)
            condition_nodes.append(condition)
        slots.append(Slot(sql=text, kind=kind, condition=conditions.index(condition_sql)))
        slot_nodes.append(node.copy())
        arg = agg.this
        slot_args.append(None if kind == "count" else arg.copy())
        slot_filters.append(
            node.expression.this.copy() if isinstance(node, exp.Filter) else None
        )
        by_sql[text] = len(slots) - 1
        return by_sql[text]

    key_sql = {k.sql(dialect=DIALECT): j for j, k in enumerate(keys)}
    key_types = tuple({type(k) for k in keys})
    key_columns = {k.name.lower(): j for j, k in enumerate(keys) if isinstance(k, exp.Column)}

    def rewrite(tree: exp.Expr) -> tuple[exp.Expr, set[int]]:
        used: set[int] = set()

        def visit(node: exp.Expr) -> exp.Expr:
            agg = _aggregate_of(node)
            if agg is not None:
                i = slot_of(node, agg)
                used.add(i)
                return exp.column(slot_name(i))
            if key_types and isinstance(node, key_types) and not isinstance(node, exp.Literal):
                text = node.sql(dialect=DIALECT)
                if text in key_sql:
                    return exp.column(key_name(key_sql[text]))
            if isinstance(node, exp.Column) and node.name.lower() in key_columns:
                return exp.column(key_name(key_columns[node.name.lower()]))
            return node

        return tree.copy().transform(visit), used

    post_items: list[exp.Expr] = []
    output_slots: list[tuple[int, ...]] = []
    for c, projection in enumerate(root.expressions):
        value = projection.this if isinstance(projection, exp.Alias) else projection
        new, used = rewrite(value)
        output_slots.append(tuple(sorted(used)))
        if used:
            new = exp.Case(ifs=[exp.If(this=exp.column(f"__pacte_ok{c}"), true=new)])
        post_items.append(exp.alias_(new, columns[c], quoted=True))
    post = exp.select(*post_items).from_(
        exp.Table(this=exp.to_identifier(MAIN), alias=exp.TableAlias(this=exp.to_identifier("m")))
    )
    post = post.join(
        exp.Table(this=exp.to_identifier(CELLS), alias=exp.TableAlias(this=exp.to_identifier("p"))),
        on=exp.EQ(this=exp.column("rowid", table="m"), expression=exp.column(RID, table="p")),
    )
    condition_post: exp.Expr = exp.column(KEEP)
    having = root.args.get("having")
    if having is not None:
        new_having, _ = rewrite(having.this)
        condition_post = exp.and_(condition_post, exp.Paren(this=new_having))
    post.set("where", exp.Where(this=condition_post))
    order = root.args.get("order")
    if order is not None:
        post.set("order", rewrite(order)[0])
    for arg in ("limit", "offset"):
        if root.args.get(arg) is not None:
            post.set(arg, root.args[arg].copy())
    post_sql = post.sql(dialect=DIALECT, comments=False)

    # ---------------------------------------------------------------- main query
    def base(helpers: Sequence[str]) -> exp.Select:
        source = root.copy()
        _helpers(source, helpers)
        return source

    source = base([PERSON, ENTERPRISE, RECORD_KEY])
    key_items = [exp.alias_(k.copy(), key_name(j)) for j, k in enumerate(keys)]

    def key_hash() -> exp.Expr:
        return exp.Anonymous(this="hash", expressions=[k.copy() for k in keys])

    items: list[exp.Expr] = [*key_items, exp.alias_(exp.Count(this=exp.Star()), ROWS)]
    if keys:
        items.append(exp.alias_(key_hash(), HASH))
    for i, node in enumerate(slot_nodes):
        items.append(exp.alias_(node.copy(), raw_name(i)))
    for q, condition in enumerate(condition_nodes):
        items.append(
            exp.alias_(_filtered(exp.Count(this=exp.Star()), condition), f"__pacte_c{q}")
        )
        items.append(
            exp.alias_(_filtered(exp.Sum(this=exp.column(RECORD_KEY)), condition), f"__pacte_ck{q}")
        )
    for i, slot in enumerate(slots):
        arg = slot_args[i]
        if arg is None:
            continue
        condition = condition_nodes[slot.condition]
        items.append(exp.alias_(_filtered(exp.Max(this=_abs_double(arg)), condition), f"__pacte_m{i}"))
        items.append(exp.alias_(_filtered(exp.Sum(this=_abs_double(arg)), condition), f"__pacte_t{i}"))
        count: exp.Expr = exp.Count(this=arg.copy())
        user_filter = slot_filters[i]
        if user_filter is not None:
            count = _filtered(count, user_filter)
        items.append(exp.alias_(count, f"__pacte_n{i}"))
    main = exp.select(*items)
    main.set("from_", source.args["from_"].copy())
    if source.args.get("where") is not None:
        main.set("where", source.args["where"].copy())
    if source.args.get("with_") is not None:
        main.set("with_", source.args["with_"].copy())
    if keys:
        main.set("group", exp.Group(expressions=[k.copy() for k in keys]))
    main_sql = main.sql(dialect=DIALECT, comments=False)

    # ---------------------------------------------------------------- companions
    def two_level(
        helper: str,
        unit: exp.Expr,
        not_null: bool,
        inner_values: list[exp.Expr],
        outer_items: list[exp.Expr],
        filtered: bool,
    ) -> str:
        """Aggregate per (group keys, unit), then per group keys: same FROM/WITH/WHERE."""
        src = base([helper])
        names = [key_name(j) for j in range(len(keys))]
        inner = exp.select(
            *[exp.alias_(k.copy(), n) for k, n in zip(keys, names, strict=True)],
            exp.alias_(unit, "__pacte_unit"),
            *inner_values,
        )
        inner.set("from_", src.args["from_"].copy())
        where: exp.Expr | None = None
        if src.args.get("where") is not None:
            where = exp.Paren(this=src.args["where"].this.copy())
        if not_null:
            present = exp.Not(this=exp.Is(this=exp.column(helper), expression=exp.Null()))
            where = present if where is None else exp.and_(where, present)
        if filtered and keys:
            wanted = exp.In(
                this=key_hash(), query=exp.Subquery(this=exp.select("h").from_(FILTER))
            )
            where = wanted if where is None else exp.and_(where, wanted)
        if where is not None:
            inner.set("where", exp.Where(this=where))
        inner.set("group", exp.Group(expressions=[exp.column(n) for n in [*names, "__pacte_unit"]]))
        outer = exp.select(*[exp.column(n) for n in names], *outer_items).from_(
            exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("__pacte_u")))
        )
        if keys:
            outer.set("group", exp.Group(expressions=[exp.column(n) for n in names]))
        if src.args.get("with_") is not None:
            outer.set("with_", src.args["with_"].copy())
        return outer.sql(dialect=DIALECT, comments=False)

    def counts_inner() -> list[exp.Expr]:
        return [
            exp.alias_(_filtered(exp.Count(this=exp.Star()), c), f"__pacte_c{q}")
            for q, c in enumerate(condition_nodes)
        ]

    def contributing(prefix: str, counted: exp.Expr) -> list[exp.Expr]:
        return [
            exp.alias_(
                _filtered(
                    exp.Count(this=counted.copy()),
                    exp.GT(this=exp.column(f"__pacte_c{q}"), expression=exp.Literal.number(0)),
                ),
                f"{prefix}{q}",
            )
            for q in range(len(condition_nodes))
        ]

    def persons(filtered: bool) -> str:
        return two_level(
            PERSON,
            exp.Anonymous(this="hash", expressions=[exp.column(PERSON)]),
            True,
            counts_inner(),
            [exp.alias_(exp.Count(this=exp.Star()), PERSONS), *contributing("__pacte_p", exp.Star())],
            filtered,
        )

    magnitudes = [i for i, a in enumerate(slot_args) if a is not None]

    def enterprises(filtered: bool) -> str:
        values = []
        shares = []
        for i in magnitudes:
            arg = slot_args[i]
            assert arg is not None
            condition = condition_nodes[slots[i].condition]
            values.append(exp.alias_(_filtered(exp.Sum(this=_abs_double(arg)), condition), f"__pacte_v{i}"))
            shares.append(
                exp.alias_(
                    exp.Div(
                        this=exp.Max(this=exp.column(f"__pacte_v{i}")),
                        expression=exp.Nullif(
                            this=exp.Sum(this=exp.column(f"__pacte_v{i}")),
                            expression=exp.Literal.number(0),
                        ),
                    ),
                    f"__pacte_s{i}",
                )
            )
        unit = exp.Case(
            ifs=[
                exp.If(
                    this=exp.Is(this=exp.column(ENTERPRISE), expression=exp.Null()),
                    true=exp.Null(),
                )
            ],
            default=exp.Anonymous(this="hash", expressions=[exp.column(ENTERPRISE)]),
        )
        return two_level(
            ENTERPRISE,
            unit,
            False,
            counts_inner() + values,
            [
                exp.alias_(exp.Count(this=exp.column("__pacte_unit")), ENTERPRISES),
                *contributing("__pacte_e", exp.column("__pacte_unit")),
                *shares,
            ],
            filtered,
        )

    return RestrictedQuery(
        sql=canonical,
        fingerprint=hashlib.sha256(canonical.encode()).hexdigest(),
        table=table,
        allowed_columns=tuple(sorted({c.lower() for c in allowed_columns})),
        columns=columns,
        key_count=len(keys),
        slots=tuple(slots),
        conditions=len(conditions),
        output_slots=tuple(output_slots),
        main_sql=main_sql,
        persons_sql=persons(False),
        persons_filtered_sql=persons(True),
        enterprise_sql=enterprises(False),
        enterprise_filtered_sql=enterprises(True),
        post_sql=post_sql,
    )


@dataclass(frozen=True)
class Limits:
    """Published cost limits of the secure room (rules page, every answer)."""

    #: Longest SQL text accepted (characters); longer is refused before parsing.
    max_sql_chars: int = 20_000
    #: Most syntax-tree nodes accepted; restriction is linear in this number.
    max_nodes: int = 4_000
    #: Wall-clock limit for all the DuckDB statements of one query (seconds).
    timeout_s: float = 30.0
    #: DuckDB memory limit per query.
    memory_limit: str = "1GB"
    #: Most groups (output rows before suppression) and cells (groups x columns).
    max_groups: int = 10_000
    max_cells: int = 100_000

    def describe(self) -> dict[str, object]:
        return {
            "max_sql_chars": self.max_sql_chars,
            "max_syntax_nodes": self.max_nodes,
            "timeout_seconds": self.timeout_s,
            "memory_limit": self.memory_limit,
            "max_groups": self.max_groups,
            "max_cells": self.max_cells,
        }


LIMITS: Final = Limits()
