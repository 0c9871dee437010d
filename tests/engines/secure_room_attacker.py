"""A property-based attacker for the secure room, and an independent brute-force oracle.

Queries are drawn as small specifications (group keys, conditional aggregates in many SQL
forms, WHERE, row-level subquery or CTE, HAVING, ORDER BY/LIMIT, UNION, window functions,
random literals, conditions built from a real row so that they often isolate one person),
rendered as sqlglot ASTs, and sent to the engine. The oracle never looks at the engine: it
evaluates the specification row by row with pandas on the raw Parquet rows and finds, for
every published value, the persons whose rows change it (COUNT(*): all rows; COUNT(x): x not
null; SUM/AVG(x): x not null and not zero) and, with an enterprise column, the enterprises and
the largest enterprise's share of SUM(|x|). Every query must be refused, or every value it
publishes must be backed by >= 11 persons (and >= 3 enterprises, none above 85 %).

Used by tests/engines/test_secure_room_attacks.py (bounded) and bench/secure_room_attack.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from sqlglot import exp

TABLE = "donnees"
KEYS = ["region", "sex", "age_band", "departement", "education_level"]
QUASI = ["departement", "age_band", "sex", "education_level", "unemployment_duration_band"]
MEASURES = ["disability", "benefit_receipt", "in_need", "treated", "back_to_work_6m"]
COLUMNS = sorted(set(KEYS + QUASI + MEASURES))
FORMS = [
    "plain",
    "case1",
    "casex",
    "casenull",
    "iif",
    "boolmul",
    "nullif",
    "coalesce",
    "div",
    "filter",
]
MIN_PERSONS = 11
MIN_ENTERPRISES = 3
DOMINANCE = 0.85


@dataclass(frozen=True)
class Condition:
    terms: tuple[tuple[str, str], ...]  # AND of column = literal
    negated: bool = False

    def sql(self) -> exp.Expr:
        parts: list[exp.Expr] = [
            exp.EQ(this=exp.column(c), expression=exp.Literal.string(v)) for c, v in self.terms
        ]
        node: exp.Expr = parts[0]
        for p in parts[1:]:
            node = exp.and_(node, p)
        node = exp.Paren(this=node)
        return exp.Not(this=node) if self.negated else node

    def mask(self, df: pd.DataFrame) -> pd.Series:
        m = pd.Series(True, index=df.index)
        for c, v in self.terms:
            m &= df[c] == v
        return ~m if self.negated else m


@dataclass(frozen=True)
class Aggregate:
    func: str  # COUNT, SUM, AVG
    form: str
    measure: str
    condition: Condition

    def sql(self) -> exp.Expr:
        m = exp.column(self.measure)
        c = self.condition.sql()
        one = exp.Literal.number(1)
        zero = exp.Literal.number(0)
        if self.form == "plain" or self.form == "filter":
            arg: exp.Expr = exp.Star() if self.func == "COUNT" and self.form == "plain" else m
        elif self.form == "case1":
            arg = exp.Case(ifs=[exp.If(this=c, true=one)], default=zero)
        elif self.form == "casex":
            arg = exp.Case(ifs=[exp.If(this=c, true=m)], default=zero)
        elif self.form == "casenull":
            arg = exp.Case(ifs=[exp.If(this=c, true=m)])
        elif self.form == "iif":
            arg = exp.If(this=c, true=m, false=zero)
        elif self.form == "boolmul":
            arg = exp.Mul(
                this=m, expression=exp.Cast(this=exp.Paren(this=c), to=exp.DataType.build("INT"))
            )
        elif self.form == "nullif":
            arg = exp.Nullif(
                this=exp.Case(ifs=[exp.If(this=c, true=one)], default=zero), expression=zero
            )
        elif self.form == "coalesce":
            arg = exp.Coalesce(this=exp.Case(ifs=[exp.If(this=c, true=m)]), expressions=[zero])
        elif self.form == "div":
            arg = exp.Div(
                this=exp.Paren(this=exp.Case(ifs=[exp.If(this=c, true=m)], default=zero)),
                expression=exp.Literal.number(2),
            )
        else:  # pragma: no cover
            raise AssertionError(self.form)
        node: exp.Expr = {"COUNT": exp.Count, "SUM": exp.Sum, "AVG": exp.Avg}[self.func](this=arg)
        if self.form == "filter":
            node = exp.Filter(this=node, expression=exp.Where(this=c))
        return node

    def values(self, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        """(row values as floats with NaN for NULL, rows kept by a FILTER)."""
        m = df[self.measure].astype(float)
        c = self.condition.mask(df)
        keep = pd.Series(True, index=df.index)
        nan = np.nan
        if self.form == "plain":
            v = pd.Series(1.0, index=df.index) if self.func == "COUNT" else m
        elif self.form == "filter":
            v = m
            keep = c
        elif self.form == "case1":
            v = c.astype(float)
        elif self.form in ("casex", "iif", "boolmul"):
            v = m.where(c, 0.0)
        elif self.form == "casenull":
            v = m.where(c, nan)
        elif self.form == "nullif":
            v = pd.Series(np.where(c, 1.0, nan), index=df.index)
        elif self.form == "coalesce":
            v = m.where(c, 0.0)
        elif self.form == "div":
            v = m.where(c, 0.0) / 2
        else:  # pragma: no cover
            raise AssertionError(self.form)
        return v, keep

    def contributing(self, df: pd.DataFrame) -> pd.Series:
        v, keep = self.values(df)
        if self.func == "COUNT":
            return keep & v.notna()
        return keep & v.notna() & (v != 0)


@dataclass(frozen=True)
class Query:
    keys: tuple[str, ...]
    aggregates: tuple[Aggregate, ...]
    where: Condition | None
    source: str  # table, subquery, cte
    source_condition: Condition | None
    having: int | None
    order_limit: int | None
    trick: str  # "", "union", "window"

    def ast(self) -> exp.Expr:
        items: list[exp.Expr] = [exp.column(k) for k in self.keys]
        items += [exp.alias_(a.sql(), f"v{i}") for i, a in enumerate(self.aggregates)]
        select = exp.select(*items)
        if self.source == "table":
            select = select.from_(TABLE)
        else:
            inner = exp.select("*").from_(TABLE)
            if self.source_condition is not None:
                inner = inner.where(self.source_condition.sql())
            if self.source == "subquery":
                select = select.from_(
                    exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("s")))
                )
            else:
                select = select.from_("t").with_("t", as_=inner)
        if self.where is not None:
            select = select.where(self.where.sql())
        if self.keys:
            select = select.group_by(*[exp.column(k) for k in self.keys])
        if self.having is not None:
            select = select.having(
                exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(self.having))
            )
        if self.order_limit is not None:
            select = select.order_by("1").limit(self.order_limit)
        if self.trick == "window":
            select.append(
                "expressions",
                exp.alias_(
                    exp.Window(
                        this=exp.Count(this=exp.Star()), partition_by=[exp.column(QUASI[0])]
                    ),
                    "w",
                ),
            )
        if self.trick == "union":
            return exp.union(
                select,
                exp.select(*items).from_(TABLE).group_by(*[exp.column(k) for k in self.keys])
                if self.keys
                else exp.select(*items).from_(TABLE),
            )
        return select

    def sql(self) -> str:
        return self.ast().sql(dialect="duckdb")

    def rows(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df
        if self.source != "table" and self.source_condition is not None:
            out = out[self.source_condition.mask(out)]
        if self.where is not None:
            out = out[self.where.mask(out)]
        return out


def conditions(df: pd.DataFrame) -> st.SearchStrategy[Condition]:
    """Conditions built from a real row (often isolating one person) or random literals."""

    @st.composite
    def build(draw: st.DrawFn) -> Condition:
        row = df.iloc[draw(st.integers(0, len(df) - 1))]
        columns = draw(st.lists(st.sampled_from(QUASI), min_size=1, max_size=5, unique=True))
        terms = []
        for c in columns:
            value = (
                str(row[c])
                if draw(st.integers(0, 9))
                else draw(st.sampled_from(["48", "F", "BAC", "zz", ""]))
            )
            terms.append((c, value))
        return Condition(tuple(terms), negated=draw(st.integers(0, 4)) == 0)

    return build()


def queries(df: pd.DataFrame) -> st.SearchStrategy[Query]:
    cond = conditions(df)

    @st.composite
    def build(draw: st.DrawFn) -> Query:
        keys = tuple(draw(st.lists(st.sampled_from(KEYS), max_size=2, unique=True)))
        aggs = tuple(
            Aggregate(
                draw(st.sampled_from(["COUNT", "SUM", "AVG"])),
                draw(st.sampled_from(FORMS)),
                draw(st.sampled_from(MEASURES)),
                draw(cond),
            )
            for _ in range(draw(st.integers(1, 3)))
        )
        source = draw(st.sampled_from(["table", "table", "subquery", "cte"]))
        return Query(
            keys=keys,
            aggregates=aggs,
            where=draw(st.none() | cond),
            source=source,
            source_condition=draw(st.none() | cond) if source != "table" else None,
            having=draw(st.none() | st.integers(0, 30)),
            order_limit=draw(st.none() | st.integers(1, 50)),
            trick=draw(st.sampled_from(["", "", "", "", "", "", "union", "window"])),
        )

    return build()


def violations(
    query: Query,
    df: pd.DataFrame,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    enterprise: str | None,
) -> list[str]:
    """Every published value that the raw rows do not back; [] if the answer is safe."""
    problems: list[str] = []
    base = query.rows(df)
    nk = len(query.keys)
    for published in rows:
        group = base
        for k, value in zip(query.keys, published[:nk], strict=True):
            group = group[group[k] == value]
        if group["person_id"].nunique() < MIN_PERSONS:
            problems.append(f"group {published[:nk]} has {group['person_id'].nunique()} persons")
            continue
        if enterprise is not None and group[enterprise].nunique() < MIN_ENTERPRISES:
            problems.append(f"group {published[:nk]} has {group[enterprise].nunique()} enterprises")
            continue
        for i, agg in enumerate(query.aggregates):
            value = published[nk + i]
            if value is None:
                continue
            contributing = agg.contributing(group)
            rows_in = group[contributing]
            persons = rows_in["person_id"].nunique()
            if persons < MIN_PERSONS:
                problems.append(f"{columns[nk + i]}={value} in {published[:nk]}: {persons} persons")
            if enterprise is not None:
                if rows_in[enterprise].nunique() < MIN_ENTERPRISES:
                    problems.append(f"{columns[nk + i]} in {published[:nk]}: too few enterprises")
                if agg.func != "COUNT":
                    v, _ = agg.values(rows_in)
                    by_unit = v.abs().groupby(rows_in[enterprise], dropna=False).sum()
                    total = float(by_unit.sum())
                    if total > 0 and float(by_unit.max()) / total > DOMINANCE + 1e-9:
                        problems.append(f"{columns[nk + i]} in {published[:nk]}: dominance")
    return problems
