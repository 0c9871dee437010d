from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from pacte.engines.impact import difference_in_proportions
from pacte.evidence.charts import (
    COLOURS,
    composition_svg,
    composition_table,
    effect_interval_svg,
    effect_interval_table,
    group_metrics_svg,
    group_metrics_table,
)

NS = "{http://www.w3.org/2000/svg}"
EVIL = "Cohorte <script>alert(\"x\")</script> & 'Ïle'\x00"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby", "").split()
    title = root.find(f"{NS}title")
    desc = root.find(f"{NS}desc")
    assert title is not None and desc is not None
    assert title.get("id") == title_id and desc.get("id") == desc_id
    assert (title.text or "").strip() and (desc.text or "").strip()
    # <title> is the first child, as screen readers expect
    assert list(root)[0] is title
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    return root


def _texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter(f"{NS}text")]


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("name", ["text", "axis", "point", "breach", "muted", "bar"])
def test_colours_meet_wcag_aa_for_text(name: str) -> None:
    assert _contrast(COLOURS[name], COLOURS["background"]) >= 4.5


def test_effect_interval_svg_structure() -> None:
    big = difference_in_proportions(22_100, 100_000, 19_990, 100_000).displayed()
    small = difference_in_proportions(221, 1000, 200, 1000).displayed()
    rows = [("100 000 par bras", *big), ("1 000 par bras", *small)]
    svg = effect_interval_svg(
        rows, title="Retour à l'emploi à 5 mois", description=None, id_prefix="eff1"
    )
    root = _parse(svg)
    assert root.get("aria-labelledby") == "eff1-title eff1-desc"
    texts = _texts(root)
    assert "0 = aucun effet" in texts
    assert any("+2,11" in t and "concluant" in t for t in texts)
    assert any("non concluant" in t for t in texts)
    # conclusive = filled marker, non-conclusive = hollow marker (shape/fill, not colour only)
    circles = [c for c in root.iter(f"{NS}circle") if c.get("r") == "6"]
    fills = [c.get("fill") for c in circles[:2]]
    assert fills == [COLOURS["point"], COLOURS["background"]]
    desc = root.find(f"{NS}desc")
    assert desc is not None and "non concluant" in (desc.text or "")


def test_effect_table_is_text_alternative() -> None:
    table = effect_interval_table([("A", -2.0, -3.0, -1.0), ("B", 1.0, -0.5, 2.5)])
    assert table[0]["Effet estimé (points)"] == "\u22122,00"
    assert table[0]["Conclusion"] == "concluant, effet négatif"
    assert table[1]["Conclusion"].startswith("non concluant")
    assert list(table[0]) == list(table[1])


def test_labels_are_escaped() -> None:
    svg = effect_interval_svg([(EVIL, 1.0, 0.5, 1.5)], title=EVIL, description=EVIL)
    assert "<script>" not in svg
    root = _parse(svg)
    title = root.find(f"{NS}title")
    assert title is not None
    assert title.text == EVIL.replace("\x00", "")
    assert EVIL.replace("\x00", "") in _texts(root)
    svg2 = group_metrics_svg([(EVIL, 0.5, 0.4, 0.6, "breach")])
    assert "<script>" not in svg2
    root2 = _parse(svg2)
    assert EVIL.replace("\x00", "") in _texts(root2)
    svg3 = composition_svg([(EVIL, 10, 3)])
    assert EVIL.replace("\x00", "") in _texts(_parse(svg3))


def test_group_metrics_svg_statuses_not_colour_only() -> None:
    rows = [
        ("Référence", 1.0, 1.0, 1.0, "ok"),
        ("Rural", 0.42, 0.35, 0.5, "breach"),
        ("Outre-mer", None, None, None, "insufficient_data"),
    ]
    svg = group_metrics_svg(rows, band=(0.8, 1.25), id_prefix="bias-cov")
    root = _parse(svg)
    groups = [g for g in root.iter(f"{NS}g") if g.get("class") == "row"]
    assert [g.get("data-status") for g in groups] == ["ok", "breach", "insufficient_data"]
    assert groups[1].find(f"{NS}path") is not None  # triangle marker for a breach
    assert groups[2].find(f"{NS}rect") is not None  # hollow square, no ratio drawn
    row_texts = ["".join(t.itertext()) for g in groups for t in g.iter(f"{NS}text")]
    assert "0,42 — hors bande" in row_texts
    assert "— — données insuffisantes" in row_texts
    assert "1 = parité" in _texts(root)
    pattern = root.find(f"{NS}defs/{NS}pattern")
    assert pattern is not None and pattern.get("id") == "bias-cov-hatch"
    table = group_metrics_table(rows)
    assert table[1]["Statut"] == "hors bande"
    assert table[1]["Intervalle (bootstrap)"] == "0,35 à 0,50"
    assert table[2]["Rapport au groupe de référence"] == "—"


def test_group_metrics_from_audit_rows() -> None:
    import numpy as np

    from pacte.engines.bias import audit

    rng = np.random.default_rng(0)
    groups = rng.choice(["a", "b"], 2000)
    result = audit(rng.integers(0, 2, 2000), rng.integers(0, 2, 2000), groups, n_bootstrap=50)
    svg = group_metrics_svg(result.chart_rows("selection_rate"), band=result.band)
    _parse(svg)


def test_composition_svg() -> None:
    rows = [("18-25 ans", 10, 10), ("65 ans et plus", 8, 5)]
    svg = composition_svg(rows, id_prefix="panel")
    root = _parse(svg)
    texts = _texts(root)
    assert "10 / 10 — cible atteinte" in texts
    assert "5 / 8 — manque 3" in texts
    assert composition_table(rows)[1]["Écart"] == "manque 3"


def test_default_ids_differ_between_charts_and_are_stable() -> None:
    a = effect_interval_svg([("A", 1.0, 0.0, 2.0)])
    b = effect_interval_svg([("B", 1.0, 0.0, 2.0)])
    assert ET.fromstring(a).get("aria-labelledby") != ET.fromstring(b).get("aria-labelledby")
    assert a == effect_interval_svg([("A", 1.0, 0.0, 2.0)])


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError):
        effect_interval_svg([])
    with pytest.raises(ValueError):
        effect_interval_svg([("A", 3.0, 0.0, 2.0)])
    with pytest.raises(ValueError):
        effect_interval_svg([("A", 1.0, 0.0, 2.0)], id_prefix='x" onload="')
    with pytest.raises(ValueError):
        composition_svg([("A", -1, 0)])
