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
  ``COUNT(x)``                     ``x IS NOT NULL``
  ``SUM(x)``, ``AVG(x)``           ``x IS NOT NULL AND CAST(x AS DOUBLE) <> 0`` (a zero does
                                   not change a sum; for a mean it only moves the
                                   denominator, which the other rows protect)
  ``… FILTER (WHERE f)``           and ``f``
  ===============================  =========================================================

  Whatever the form of ``x`` (``CASE``, ``IF``/``IIF``, boolean arithmetic, ``NULLIF``,
  ``COALESCE``, division…), DuckDB itself evaluates the condition on each row, so the set of
  contributors is exact and no syntactic analysis of ``x`` is trusted. Per slot the main query
  returns the contributing rows, the sum of their record keys (cell key), and for magnitudes
  ``MAX``/``SUM`` of ``ABS(x)`` (largest contribution, dominance bound) and ``COUNT(x)``.
  Still in the same scan, each contributor condition is summarised by the ``BIT_OR`` of one
  bit of 128 per person and of 64 per enterprise (the count of distinct bits is at most the count of
  distinct units, so reaching the threshold in bits proves it in units), and each magnitude by
  its ``SUM(ABS(x))`` in :data:`DOMINANCE_BUCKETS` buckets of enterprises (an enterprise's
  share is at most its bucket's share). The scan itself groups by the keys and one small
  integer (contributor conditions, person word, enterprise bucket) with one plain aggregate per
  statistic; a small second aggregation per group rebuilds the per-condition figures (issue 15:
  filtered aggregates in the scan cost about a scan each);
* two **companions** (two-level aggregations per group and person, per group and enterprise)
  that count the distinct contributing persons and enterprises of every slot and the
  largest enterprise's share of each magnitude; they only run for the groups that the bounds
  from the main scan (with a dataset profile, also its heaviest units) leave undecided;
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
#: One bit of 128 per person (from its integer id or record key: bit 6 picks the word, bits 0-5
#: the bit in the word) and one of 64 per enterprise (from its id or hash): the number of
#: distinct bits a group's rows set is a lower bound on its distinct units.
PERSON_WORD: Final = "__pacte_pword"
PERSON_BIT: Final = "__pacte_pbit"
PERSON_WORDS: Final = 2
ENTERPRISE_BIT: Final = "__pacte_ebit"
#: The enterprise's bucket among DOMINANCE_BUCKETS (from its hash; NULL enterprises too).
ENTERPRISE_BUCKET: Final = "__pacte_ebucket"
DOMINANCE_BUCKETS: Final = 4
HELPERS: Final = (
    PERSON,
    ENTERPRISE,
    RECORD_KEY,
    PERSON_WORD,
    PERSON_BIT,
    ENTERPRISE_BIT,
    ENTERPRISE_BUCKET,
)
#: Columns of the scan's sub-groups (keys x contributor conditions x word x bucket).
SUB_ROWS: Final = "__pacte_sr"
SUB_KEYS: Final = "__pacte_sk"
SUB_PERSON_BITS: Final = "__pacte_sp"
SUB_ENTERPRISE_BITS: Final = "__pacte_se"
SUB: Final = "__pacte_sub"
#: Contributor conditions packed as bits of the sub-group integer (the others: own columns).
PACKED_CONDITIONS: Final = 56
#: The narrowest signed type of the sub-group integer for a number of bits (4 + conditions).
_NARROW: Final = ((7, "TINYINT"), (15, "SMALLINT"), (31, "INTEGER"), (63, "BIGINT"))
ROWS: Final = "__pacte_rows"
PERSONS: Final = "__pacte_persons"
ENTERPRISES: Final = "__pacte_enterprises"
HASH: Final = "__pacte_h"
FILTER: Final = "__pacte_filter"
#: The rows of the undecided groups, read once for both companions (temp table).
COMPANION_ROWS: Final = "__pacte_cr"
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
    #: the main scan without the person bits, for runs with a dataset profile
    main_profiled_sql: str
    persons_sql: str
    persons_filtered_sql: str
    enterprise_sql: str
    enterprise_filtered_sql: str
    post_sql: str
    #: the rows of the groups listed in FILTER with what the companions need (keys, person,
    #: enterprise, contributor conditions, |x|): one scan, stored as COMPANION_ROWS ...
    companion_rows_sql: str = ""
    #: ... and the two companions over that table (same columns as persons_sql/enterprise_sql)
    persons_rows_sql: str = ""
    enterprise_rows_sql: str = ""


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


# Longer than our ~80-line rule, on purpose: the three statements it writes (the user's outer
# query over the published cells, the main scan, the exact companions) share the pieces rendered
# once here (keys, contributor conditions, slot arguments and filters); splitting it means passing
# a dozen of them around, and rendering per statement made restriction quadratic (see below).
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
        slot_filters.append(node.expression.this.copy() if isinstance(node, exp.Filter) else None)
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
    tie = exp.Ordered(this=exp.column("rowid", table="m"))  # stable order, ties included
    if order is not None:
        ordered = rewrite(order)[0]
        ordered.append("expressions", tie)
        post.set("order", ordered)
    else:
        post.set("order", exp.Order(expressions=[tie]))
    for clause in ("limit", "offset"):
        if root.args.get(clause) is not None:
            post.set(clause, root.args[clause].copy())
    post_sql = post.sql(dialect=DIALECT, comments=False)

    # ---------------------------------------------------------------- main query
    # Every piece is rendered once and the statements are assembled as text: copying and
    # rendering the whole tree per statement made restriction quadratic in practice.
    def sql(node: exp.Expr) -> str:
        return node.sql(dialect=DIALECT, comments=False)

    nested = any(select is not root for select in root.find_all(exp.Select))
    source = root.copy() if nested else root  # helpers only flow through CTEs/subqueries
    if nested:
        _helpers(source, list(HELPERS))
    from_sql = sql(source.args["from_"])
    with_sql = sql(source.args["with_"]) + " " if source.args.get("with_") is not None else ""
    where_sql = (
        f"({sql(source.args['where'].this)})" if source.args.get("where") is not None else ""
    )
    keys_sql = [sql(k) for k in keys]
    hash_sql = f"hash({', '.join(keys_sql)})" if keys else ""
    conds_sql = [sql(c) for c in condition_nodes]
    names = [key_name(j) for j in range(len(keys))]

    def where(*parts: str) -> str:
        present = [p for p in parts if p]
        return " WHERE " + " AND ".join(present) if present else ""

    def count_if(condition: str) -> str:
        return f"COUNT(*) FILTER(WHERE {condition})"

    # Two levels. The scan groups the rows by the user's keys *and* by the few low-cardinality
    # columns the disclosure statistics need (each computed contributor condition, the person's
    # bit word, the enterprise's bucket), so that every statistic is one plain aggregate per
    # row (no FILTER: a filtered aggregate costs about as much as a scan of its own); a second,
    # small aggregation over these sub-groups (a few per group) rebuilds the per-condition,
    # per-word and per-bucket figures with FILTERs.
    # zeros and NULLs change neither MAX nor SUM of |x|: only the user's FILTER matters
    abs_sql: dict[int, str] = {
        i: sql(_abs_double(arg))
        for i, (slot, arg) in enumerate(zip(slots, slot_args, strict=True))
        if slot.kind != "count" and arg is not None
    }

    def main_query(bits: bool) -> str:
        """The main scan; without ``bits``, no person bit or word (a profile settles the
        persons rule by row counts, the filtered companion the rest: see ``run``)."""
        computed = [(q, c) for q, c in enumerate(conds_sql) if c != "TRUE"]
        fine = [f"{k} AS {n}" for k, n in zip(keys_sql, names, strict=True)]
        # the sub-group is one small integer (hashing one column is cheaper than several): bit 0 the
        # person's word, bits 1-3 the enterprise bucket + 1 (0: no enterprise), then one bit per
        # computed contributor condition (NULL counts as false, as in FILTER); past 56 conditions,
        # the further ones are grouping columns of their own
        # the arithmetic and the key are in the narrowest signed type that holds the bits used (a
        # 64-bit grouping key and arithmetic cost ~30 % of the scan; signed: Spark has no unsigned)
        packed_bits = 4 + min(len(computed), PACKED_CONDITIONS)
        arithmetic = "INTEGER" if packed_bits <= 31 else "BIGINT"
        narrow = next(t for b, t in _NARROW if packed_bits <= b)
        packed = [f"CAST(COALESCE({PERSON_WORD}, 0) AS {arithmetic})"] if bits else []
        magnitudes_in = any(slot.kind != "count" for slot in slots)
        if magnitudes_in:  # buckets only matter for magnitudes
            packed.append(f"2 * CAST(COALESCE({ENTERPRISE_BUCKET} + 1, 0) AS {arithmetic})")
        flag_test: dict[int, str] = {}
        separate: list[str] = []
        for n_flag, (q, _) in enumerate(computed):
            if n_flag < PACKED_CONDITIONS:
                packed.append(
                    f"{1 << (4 + n_flag)} * CAST(COALESCE(__pacte_q{q}, FALSE) AS {arithmetic})"
                )
                flag_test[q] = f"({SUB} >> {4 + n_flag}) & 1 = 1"
            else:
                separate.append(f"__pacte_q{q}")
                flag_test[q] = f"__pacte_q{q}"
        fine.append(f"CAST({' + '.join(packed) or '0'} AS {narrow}) AS {SUB}")
        fine += separate
        fine_group = [*keys_sql, SUB, *separate]
        flags = ["TRUE" if c == "TRUE" else flag_test[q] for q, c in enumerate(conds_sql)]
        word_test = [f"{SUB} & 1 = {w}" for w in range(PERSON_WORDS)]
        fine += [f"COUNT(*) AS {SUB_ROWS}", f"SUM({RECORD_KEY}) AS {SUB_KEYS}"]
        if bits:
            fine.append(f"BIT_OR({PERSON_BIT}) AS {SUB_PERSON_BITS}")
        fine.append(f"BIT_OR({ENTERPRISE_BIT}) AS {SUB_ENTERPRISE_BITS}")
        items = [f"{n} AS {n}" for n in names]
        items.append(f"CAST(COALESCE(SUM({SUB_ROWS}), 0) AS BIGINT) AS {ROWS}")
        if keys:
            items.append(f"hash({', '.join(names)}) AS {HASH}")
        for i, slot in enumerate(slots):
            measure = slot_args[i]
            user_filter = slot_filters[i]
            only = f" FILTER(WHERE {sql(user_filter)})" if user_filter is not None else ""
            if slot.kind == "count":
                text = sql(slot_nodes[i])
                # COUNT(*) is the sub-group's row count already: one aggregate less per row
                counted = SUB_ROWS if text == "COUNT(*)" else f"__pacte_s{i}"
                if counted != SUB_ROWS:
                    fine.append(f"{text} AS {counted}")
                items.append(f"CAST(COALESCE(SUM({counted}), 0) AS BIGINT) AS {raw_name(i)}")
                continue
            assert measure is not None
            if slot.kind == "sum":
                fine.append(f"{sql(slot_nodes[i])} AS __pacte_s{i}")
                items.append(f"SUM(__pacte_s{i}) AS {raw_name(i)}")
            else:  # AVG(x) = SUM(x) / COUNT(x) over the sub-groups
                fine.append(f"SUM({sql(measure)}){only} AS __pacte_s{i}")
                fine.append(f"COUNT({sql(measure)}){only} AS __pacte_sn{i}")
                items.append(
                    f"CAST(SUM(__pacte_s{i}) AS DOUBLE) / SUM(__pacte_sn{i}) AS {raw_name(i)}"
                )
                items.append(f"CAST(COALESCE(SUM(__pacte_sn{i}), 0) AS BIGINT) AS __pacte_n{i}")
            # zeros and NULLs change neither MAX nor SUM of |x|: only the user's FILTER matters
            fine.append(f"MAX({abs_sql[i]}){only} AS __pacte_sm{i}")
            fine.append(f"SUM({abs_sql[i]}){only} AS __pacte_st{i}")
            items.append(f"MAX(__pacte_sm{i}) AS __pacte_m{i}")
            items.append(f"SUM(__pacte_st{i}) AS __pacte_t{i}")
            items += [
                f"SUM(__pacte_st{i}) FILTER(WHERE ({SUB} >> 1) & 7 = {b + 1}) AS __pacte_d{i}_{b}"
                for b in range(DOMINANCE_BUCKETS)
            ]
        words = range(PERSON_WORDS)
        if bits:
            items += [
                f"BIT_OR({SUB_PERSON_BITS}) FILTER(WHERE {word_test[w]}) AS __pacte_pb_{w}"
                for w in words
            ]
        items.append(f"BIT_OR({SUB_ENTERPRISE_BITS}) AS __pacte_eb")
        for q, flag in enumerate(flags):
            items.append(
                f"CAST(COALESCE(SUM({SUB_ROWS}) FILTER(WHERE {flag}), 0) AS BIGINT) AS __pacte_c{q}"
            )
            items.append(f"SUM({SUB_KEYS}) FILTER(WHERE {flag}) AS __pacte_ck{q}")
            if bits:
                items += [
                    f"BIT_OR({SUB_PERSON_BITS}) FILTER(WHERE {flag} AND {word_test[w]}) "
                    f"AS __pacte_pb{q}_{w}"
                    for w in words
                ]
            items.append(f"BIT_OR({SUB_ENTERPRISE_BITS}) FILTER(WHERE {flag}) AS __pacte_eb{q}")
        # each contributor condition is evaluated once per row (in a row-level subquery that keeps
        # the name of the user's source, so that qualified columns still resolve)
        if computed:
            name = source.args["from_"].this.alias_or_name or "__pacte_r"
            rows_sql = (
                f"FROM (SELECT *, {', '.join(f'{c} AS __pacte_q{q}' for q, c in computed)} "
                f"{from_sql}{where(where_sql)}) AS {sql(exp.to_identifier(name, quoted=True))}"
            )
        else:
            rows_sql = f"{from_sql}{where(where_sql)}"
        fine_sql = f"SELECT {', '.join(fine)} {rows_sql} GROUP BY {', '.join(fine_group)}"
        # groups in key order: the same query gives the same rows in the same order (and output
        # hash) whatever the parallel aggregation's order; the user's ORDER BY applies afterwards
        group_sql = f" GROUP BY {', '.join(names)} ORDER BY {', '.join(names)}" if keys else ""
        return f"{with_sql}SELECT {', '.join(items)} FROM ({fine_sql}) AS __pacte_sub{group_sql}"

    # ---------------------------------------------------------------- companions
    def two_level(
        unit: str,
        not_null: str,
        inner_values: list[str],
        outer_items: list[str],
        filtered: bool,
        stored: bool = False,
    ) -> str:
        """Aggregate per (group keys, unit), then per group keys: same FROM/WITH/WHERE (or,
        ``stored``, over the COMPANION_ROWS table, whose columns are already computed)."""
        if stored:
            inner_items = [*names, f"{unit} AS __pacte_unit", *inner_values]
            inner = (
                f"SELECT {', '.join(inner_items)} FROM {COMPANION_ROWS}{where(not_null)} "
                f"GROUP BY {', '.join([*names, '__pacte_unit'])}"
            )
            prefix = ""
        else:
            inner_items = [
                *[f"{k} AS {n}" for k, n in zip(keys_sql, names, strict=True)],
                f"{unit} AS __pacte_unit",
                *inner_values,
            ]
            wanted = f"{hash_sql} IN (SELECT h FROM {FILTER})" if filtered and keys else ""
            inner = (
                f"SELECT {', '.join(inner_items)} {from_sql}{where(where_sql, not_null, wanted)} "
                f"GROUP BY {', '.join([*names, '__pacte_unit'])}"
            )
            prefix = with_sql
        outer_group = f" GROUP BY {', '.join(names)}" if keys else ""
        return (
            f"{prefix}SELECT {', '.join([*names, *outer_items])} FROM ({inner}) AS __pacte_u"
            f"{outer_group}"
        )

    # in the stored rows, each computed condition is a boolean column (NULL counts as false
    # in FILTER, as the condition itself does), each magnitude's |x| a DOUBLE column
    stored_conds = ["TRUE" if c == "TRUE" else f"__pacte_q{q}" for q, c in enumerate(conds_sql)]

    def counts_inner(stored: bool) -> list[str]:
        conds = stored_conds if stored else conds_sql
        return [f"{count_if(c)} AS __pacte_c{q}" for q, c in enumerate(conds)]

    def contributing(prefix: str, counted: str) -> list[str]:
        return [
            f"COUNT({counted}) FILTER(WHERE __pacte_c{q} > 0) AS {prefix}{q}"
            for q in range(len(conds_sql))
        ]

    def persons(filtered: bool, stored: bool = False) -> str:
        return two_level(
            "__pacte_pu" if stored else PERSON,  # the person (integer id, else the text id)
            f"NOT {'__pacte_pu' if stored else PERSON} IS NULL",
            counts_inner(stored),
            [f"COUNT(*) AS {PERSONS}", *contributing("__pacte_p", "*")],
            filtered,
            stored,
        )

    magnitudes = sorted(abs_sql)

    def enterprises(filtered: bool, stored: bool = False) -> str:
        conds = stored_conds if stored else conds_sql
        values = [
            f"SUM({f'__pacte_v{i}' if stored else abs_sql[i]}) "
            f"FILTER(WHERE {conds[slots[i].condition]}) AS __pacte_v{i}"
            for i in magnitudes
        ]
        shares = [
            f"MAX(__pacte_v{i}) / NULLIF(SUM(__pacte_v{i}), 0) AS __pacte_s{i}" for i in magnitudes
        ]
        return two_level(
            "__pacte_eu" if stored else ENTERPRISE,  # NULL for rows without enterprise: not counted
            "",
            counts_inner(stored) + values,
            [
                f"COUNT(__pacte_unit) AS {ENTERPRISES}",
                *contributing("__pacte_e", "__pacte_unit"),
                *shares,
            ],
            filtered,
            stored,
        )

    def companion_rows() -> str:
        """One scan of the rows of the groups in FILTER, for both companions (issue 15: each
        filtered companion was a full scan of its own, ~0.3 s at 10 M rows)."""
        items = [f"{k} AS {n}" for k, n in zip(keys_sql, names, strict=True)]
        items += [f"{PERSON} AS __pacte_pu", f"{ENTERPRISE} AS __pacte_eu"]
        items += [f"{c} AS __pacte_q{q}" for q, c in enumerate(conds_sql) if c != "TRUE"]
        items += [f"{abs_sql[i]} AS __pacte_v{i}" for i in magnitudes]
        wanted = f"{hash_sql} IN (SELECT h FROM {FILTER})" if keys else ""
        return f"{with_sql}SELECT {', '.join(items)} {from_sql}{where(where_sql, wanted)}"

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
        main_sql=main_query(bits=True),
        main_profiled_sql=main_query(bits=False),
        persons_sql=persons(False),
        persons_filtered_sql=persons(True),
        enterprise_sql=enterprises(False),
        enterprise_filtered_sql=enterprises(True),
        post_sql=post_sql,
        companion_rows_sql=companion_rows(),
        persons_rows_sql=persons(True, stored=True),
        enterprise_rows_sql=enterprises(True, stored=True),
    )


@dataclass(frozen=True)
class Limits:
    """Published cost limits of the secure room (rules page, every answer)."""

    #: Longest SQL text accepted (characters); longer is refused before parsing.
    max_sql_chars: int = 10_000
    #: Most lexical tokens (checked before parsing) and syntax-tree nodes (after) accepted.
    max_nodes: int = 3_000
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
