"""The comptoir's routing table and search folding, without a database."""

from __future__ import annotations

from pacte.engines.comptoir_routing import RouteRow, choose_route, fold, search_terms

ROWS = [
    RouteRow(1, "", ""),
    RouteRow(2, "emploi", ""),
    RouteRow(3, "", "Île-de-France"),
    RouteRow(4, "emploi", "Île-de-France"),
    RouteRow(5, "emploi", "Bretagne"),
]


def test_fold_removes_accents_case_and_extra_spaces() -> None:
    assert fold("  Écoles   FERMÉES l'été ") == "ecoles fermees l'ete"
    assert fold("Œuvre ﬁne") == "œuvre fine"  # ligature ﬁ decomposed, œ kept and casefolded


def test_most_specific_row_wins() -> None:
    assert choose_route(ROWS, "emploi", "ile-de-france") == ROWS[3]
    assert choose_route(ROWS, "emploi", "Occitanie") == ROWS[1]
    assert choose_route(ROWS, "sante", "ÎLE-DE-FRANCE") == ROWS[2]
    assert choose_route(ROWS, "sante", "Occitanie") == ROWS[0]


def test_no_catch_all_no_route() -> None:
    assert choose_route(ROWS[1:], "sante", "Occitanie") is None
    assert choose_route([], "emploi", "") is None


def test_ties_go_to_the_oldest_row() -> None:
    rows = [RouteRow(9, "emploi", ""), RouteRow(7, "emploi", "")]
    assert choose_route(rows, "emploi", "x") == rows[1]


def test_search_terms() -> None:
    assert search_terms("  Écoles  été ") == ["ecoles", "ete"]
    assert search_terms("   ") == []
