"""Where a comptoir post goes, and how a search matches it: pure functions, no Django.

The routing table is published (``/comptoir/routage/``): each row names a theme (or any theme),
a territory (or any territory), the institution that answers, its contact role and its clock. A
post goes to the most specific row that matches it: theme and territory, then theme alone, then
territory alone, then the catch-all row. Territories match without regard to case or accents.

Search folds text the same way on every database (SQLite and PostgreSQL alike): the folded text
is stored beside the post and the folded query is looked up in it, so "Écoles" finds "ecoles".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


def fold(text: str) -> str:
    """Lower case, without accents, spaces collapsed: the form both sides of a search take."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


@dataclass(frozen=True)
class RouteRow:
    """One row of the published routing table (``theme``/``territory`` empty: any)."""

    key: int
    theme: str
    territory: str


def specificity(row: RouteRow) -> int:
    """3: theme and territory; 2: theme only; 1: territory only; 0: catch-all."""
    return (2 if row.theme else 0) + (1 if row.territory else 0)


def matches(row: RouteRow, theme: str, territory: str) -> bool:
    if row.theme and row.theme != theme:
        return False
    return not row.territory or fold(row.territory) == fold(territory)


def choose_route(rows: Iterable[RouteRow], theme: str, territory: str) -> RouteRow | None:
    """The most specific matching row (ties: the lowest key, i.e. the oldest row), or None."""
    candidates = [row for row in rows if matches(row, theme, territory)]
    if not candidates:
        return None
    return min(candidates, key=lambda row: (-specificity(row), row.key))


def search_terms(query: str) -> list[str]:
    """The folded words of a query (every word must be found)."""
    return [word for word in fold(query).split(" ") if word]
