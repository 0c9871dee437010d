"""Accessible SVG charts for evidence pages (impact, bias, panels). Pure string generation.

Every chart:

* is an ``<svg role="img">`` whose ``aria-labelledby`` points at its ``<title>`` and ``<desc>``;
* never carries meaning by colour alone: each status has its own marker shape, fill or
  hatching pattern *and* a written label next to the mark; reference lines are labelled;
* uses colours with WCAG AA contrast on white (text >= 4.5:1, graphics >= 3:1);
* XML-escapes every label (and drops characters XML cannot carry);
* has a companion ``*_table`` function returning the same figures as table rows
  (``list[dict[str, str]]``, keys are the French column headers) for a visible or
  ``<details>`` text alternative.

Ids are prefixed by ``id_prefix`` (derived from the content when not given) so several charts
can live on one page.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

from pacte.engines.impact import format_number_fr

__all__ = [
    "COLOURS",
    "composition_svg",
    "composition_table",
    "effect_interval_svg",
    "effect_interval_table",
    "group_metrics_svg",
    "group_metrics_table",
]

# Contrast ratios against #ffffff in comments (WCAG 2.x relative luminance).
COLOURS: dict[str, str] = {
    "text": "#1e1e1e",  # 16.7:1
    "axis": "#3a3a3a",  # 11.5:1
    "point": "#000091",  # 15.0:1 (bleu France)
    "breach": "#b60000",  # 7.4:1
    "muted": "#595959",  # 7.0:1
    "band": "#dfe6ff",  # decorative fill; band edges are drawn in "axis" and labelled
    "bar": "#000091",
    "background": "#ffffff",
}

ROW_H = 34
LABEL_W = 190
PLOT_W = 300
VALUE_W = 300
TOP = 16
AXIS_H = 40
LEGEND_H = 26
FONT = "Marianne, Arial, sans-serif"

STATUS_TEXT: dict[str, str] = {
    "ok": "dans la bande",
    "breach": "hors bande",
    "insufficient_data": "données insuffisantes",
}

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

EffectRow = tuple[str, float, float, float]
GroupRow = tuple[str, float | None, float | None, float | None, str]
CompositionRow = tuple[str, int, int]


# --------------------------------------------------------------------------- helpers


def _t(text: object) -> str:
    """Escape for XML text and attribute values."""
    return escape(_XML_INVALID.sub("", str(text)), {'"': "&quot;", "'": "&apos;"})


def _n(x: float) -> str:
    return f"{x:.1f}"


def _prefix(id_prefix: str | None, *parts: object) -> str:
    if id_prefix is None:
        digest = hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:10]
        return f"chart-{digest}"
    if not _ID_RE.match(id_prefix):
        raise ValueError("id_prefix must start with a letter and contain only [A-Za-z0-9_-]")
    return id_prefix


def _open(width: float, height: float, pid: str, title: str, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="{pid}-title {pid}-desc" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" font-family="{FONT}" font-size="13" '
        f'fill="{COLOURS["text"]}">',
        f'<title id="{pid}-title">{_t(title)}</title>',
        f'<desc id="{pid}-desc">{_t(description)}</desc>',
        f'<rect width="100%" height="100%" fill="{COLOURS["background"]}"/>',
    ]


def _nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks: list[float] = []
    v = first
    while v <= hi + 1e-9 * span:
        ticks.append(0.0 if abs(v) < step * 1e-9 else v)
        v += step
    return ticks


def _decimals_for(ticks: Sequence[float]) -> int:
    if len(ticks) < 2:
        return 1
    step = abs(ticks[1] - ticks[0])
    return max(0, min(3, -math.floor(math.log10(step) + 1e-9) + (1 if step < 1 else 0)))


class _Scale:
    def __init__(self, lo: float, hi: float, x0: float, width: float) -> None:
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError("chart values must be finite")
        if hi <= lo:
            lo, hi = lo - 1.0, hi + 1.0
        pad = (hi - lo) * 0.06
        self.lo, self.hi = lo - pad, hi + pad
        self.x0, self.width = x0, width

    def __call__(self, v: float) -> float:
        v = min(max(v, self.lo), self.hi)
        return self.x0 + (v - self.lo) / (self.hi - self.lo) * self.width


def _axis(scale: _Scale, y: float, unit: str, lines: list[str], top: float) -> None:
    ticks = _nice_ticks(scale.lo, scale.hi)
    dec = _decimals_for(ticks)
    lines.append(
        f'<line x1="{_n(scale.x0)}" y1="{_n(y)}" x2="{_n(scale.x0 + scale.width)}" '
        f'y2="{_n(y)}" stroke="{COLOURS["axis"]}" stroke-width="1"/>'
    )
    lines.append('<g aria-hidden="true">')
    for tv in ticks:
        x = scale(tv)
        lines.append(
            f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(y)}" stroke="#d0d0d0" '
            f'stroke-width="1"/>'
        )
        lines.append(
            f'<text x="{_n(x)}" y="{_n(y + 16)}" text-anchor="middle">'
            f"{_t(format_number_fr(tv, dec))}</text>"
        )
    lines.append("</g>")
    if unit:
        lines.append(
            f'<text x="{_n(scale.x0 + scale.width / 2)}" y="{_n(y + 33)}" '
            f'text-anchor="middle">{_t(unit)}</text>'
        )


def _defs(pid: str) -> str:
    return (
        "<defs>"
        f'<pattern id="{pid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{COLOURS["band"]}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{COLOURS["point"]}" stroke-width="1.5"/>'
        "</pattern>"
        "</defs>"
    )


# --------------------------------------------------------------------------- effects


def _effect_key(unit: str) -> str:
    return f"Effet estimé ({unit})" if unit else "Effet estimé"


def effect_interval_table(
    estimates: Sequence[EffectRow], unit: str = "points", decimals: int = 2
) -> list[dict[str, str]]:
    """Text alternative of :func:`effect_interval_svg` (values already in display units)."""
    rows: list[dict[str, str]] = []
    for label, est, low, high in estimates:
        conclusive = low > 0 or high < 0
        rows.append(
            {
                "Résultat": str(label),
                _effect_key(unit): format_number_fr(est, decimals, signed=True),
                "Borne basse": format_number_fr(low, decimals, signed=True),
                "Borne haute": format_number_fr(high, decimals, signed=True),
                "Conclusion": (
                    ("concluant, effet négatif" if est < 0 else "concluant")
                    if conclusive
                    else "non concluant (l'intervalle contient zéro)"
                ),
            }
        )
    return rows


def effect_interval_svg(
    estimates: Sequence[EffectRow],
    unit: str = "points",
    title: str = "Effets estimés et intervalles de confiance",
    description: str | None = None,
    *,
    id_prefix: str | None = None,
    decimals: int = 2,
) -> str:
    """Forest plot: one row per (label, estimate, low, high), with a labelled zero line.

    Conclusive estimates (interval excludes 0) get a filled circle, non-conclusive ones a
    hollow circle; the written value, interval and verdict are printed on each row.
    """
    if not estimates:
        raise ValueError("nothing to draw")
    for _, est, low, high in estimates:
        if not low <= est <= high:
            raise ValueError("each estimate must lie inside its interval")
    pid = _prefix(id_prefix, "effect", list(estimates), unit, title)
    if description is None:
        description = " ; ".join(
            f"{r['Résultat']} : {r[_effect_key(unit)]} {unit}, "
            f"intervalle {r['Borne basse']} à {r['Borne haute']}, {r['Conclusion']}"
            for r in effect_interval_table(estimates, unit, decimals)
        )
    lo = min(0.0, *(r[2] for r in estimates))
    hi = max(0.0, *(r[3] for r in estimates))
    scale = _Scale(lo, hi, LABEL_W, PLOT_W)
    n = len(estimates)
    plot_bottom = TOP + n * ROW_H
    width = LABEL_W + PLOT_W + VALUE_W
    height = plot_bottom + AXIS_H + LEGEND_H
    out = _open(width, height, pid, title, description)
    _axis(scale, plot_bottom, unit, out, TOP)
    zx = scale(0.0)
    out.append(
        f'<line x1="{_n(zx)}" y1="{_n(TOP - 6)}" x2="{_n(zx)}" y2="{_n(plot_bottom)}" '
        f'stroke="{COLOURS["axis"]}" stroke-width="1.5" stroke-dasharray="5 3"/>'
    )
    out.append(f'<text x="{_n(zx + 4)}" y="{_n(TOP - 2)}" font-size="11">0 = aucun effet</text>')
    for i, (label, est, low, high) in enumerate(estimates):
        cy = TOP + i * ROW_H + ROW_H / 2
        conclusive = low > 0 or high < 0
        out.append('<g class="row">')
        out.append(
            f'<text x="{LABEL_W - 10}" y="{_n(cy + 4)}" text-anchor="end">{_t(label)}</text>'
        )
        out.append(
            f'<line x1="{_n(scale(low))}" y1="{_n(cy)}" x2="{_n(scale(high))}" y2="{_n(cy)}" '
            f'stroke="{COLOURS["point"]}" stroke-width="2.5"/>'
        )
        for edge in (low, high):
            out.append(
                f'<line x1="{_n(scale(edge))}" y1="{_n(cy - 6)}" x2="{_n(scale(edge))}" '
                f'y2="{_n(cy + 6)}" stroke="{COLOURS["point"]}" stroke-width="2"/>'
            )
        fill = COLOURS["point"] if conclusive else COLOURS["background"]
        out.append(
            f'<circle cx="{_n(scale(est))}" cy="{_n(cy)}" r="6" fill="{fill}" '
            f'stroke="{COLOURS["point"]}" stroke-width="2.5"/>'
        )
        verdict = "concluant" if conclusive else "non concluant"
        value_text = (
            f"{format_number_fr(est, decimals, signed=True)} "
            f"[{format_number_fr(low, decimals, signed=True)} ; "
            f"{format_number_fr(high, decimals, signed=True)}] — {verdict}"
        )
        out.append(f'<text x="{LABEL_W + PLOT_W + 10}" y="{_n(cy + 4)}">{_t(value_text)}</text>')
        out.append("</g>")
    ly = plot_bottom + AXIS_H + 12
    out.append('<g class="legend">')
    out.append(
        f'<circle cx="{LABEL_W + 6}" cy="{ly}" r="6" fill="{COLOURS["point"]}" '
        f'stroke="{COLOURS["point"]}" stroke-width="2"/>'
        f'<text x="{LABEL_W + 18}" y="{ly + 4}">concluant</text>'
        f'<circle cx="{LABEL_W + 110}" cy="{ly}" r="6" fill="{COLOURS["background"]}" '
        f'stroke="{COLOURS["point"]}" stroke-width="2.5"/>'
        f'<text x="{LABEL_W + 122}" y="{ly + 4}">non concluant (l\'intervalle contient 0)</text>'
    )
    out.append("</g></svg>")
    return "\n".join(out)


# --------------------------------------------------------------------------- group ratios


def group_metrics_table(
    groups: Sequence[GroupRow], band: tuple[float, float] = (0.8, 1.25), decimals: int = 2
) -> list[dict[str, str]]:
    """Text alternative of :func:`group_metrics_svg`."""
    rows: list[dict[str, str]] = []
    for group, ratio, low, high, status in groups:
        rows.append(
            {
                "Groupe": str(group),
                "Rapport au groupe de référence": (
                    "—" if ratio is None else format_number_fr(ratio, decimals)
                ),
                "Intervalle (bootstrap)": (
                    "—"
                    if low is None or high is None
                    else f"{format_number_fr(low, decimals)} à {format_number_fr(high, decimals)}"
                ),
                "Bande acceptée": (
                    f"{format_number_fr(band[0], decimals)} à {format_number_fr(band[1], decimals)}"
                ),
                "Statut": STATUS_TEXT.get(status, str(status)),
            }
        )
    return rows


def group_metrics_svg(
    groups: Sequence[GroupRow],
    band: tuple[float, float] = (0.8, 1.25),
    title: str = "Écarts entre groupes",
    description: str | None = None,
    *,
    metric_label: str = "rapport au groupe de référence",
    id_prefix: str | None = None,
    decimals: int = 2,
) -> str:
    """Disparity ratios (with intervals) against the hatched accepted band and a line at 1.

    Markers: circle = in the band, filled triangle (red) = outside the band, hollow square =
    not enough data (no ratio drawn). The status is also written on each row.
    """
    if not groups:
        raise ValueError("nothing to draw")
    pid = _prefix(id_prefix, "groups", list(groups), band, title)
    table = group_metrics_table(groups, band, decimals)
    if description is None:
        description = (
            f"{metric_label.capitalize()}, bande acceptée de {table[0]['Bande acceptée']}. "
            + " ; ".join(
                f"{r['Groupe']} : {r['Rapport au groupe de référence']} "
                f"(intervalle {r['Intervalle (bootstrap)']}), {r['Statut']}"
                for r in table
            )
        )
    values = [band[0], band[1], 1.0]
    for _, ratio, low, high, _ in groups:
        values += [v for v in (ratio, low, high) if v is not None and math.isfinite(v)]
    scale = _Scale(min(values), max(values), LABEL_W, PLOT_W)
    n = len(groups)
    plot_bottom = TOP + n * ROW_H
    width = LABEL_W + PLOT_W + VALUE_W
    height = plot_bottom + AXIS_H + LEGEND_H
    out = _open(width, height, pid, title, description)
    out.append(_defs(pid))
    bx0, bx1 = scale(band[0]), scale(band[1])
    out.append(
        f'<rect x="{_n(bx0)}" y="{TOP}" width="{_n(bx1 - bx0)}" height="{_n(n * ROW_H)}" '
        f'fill="url(#{pid}-hatch)" fill-opacity="0.5" stroke="{COLOURS["axis"]}" '
        f'stroke-dasharray="4 2"/>'
    )
    _axis(scale, plot_bottom, metric_label, out, TOP)
    one = scale(1.0)
    out.append(
        f'<line x1="{_n(one)}" y1="{_n(TOP - 6)}" x2="{_n(one)}" y2="{_n(plot_bottom)}" '
        f'stroke="{COLOURS["axis"]}" stroke-width="1.5"/>'
        f'<text x="{_n(one + 4)}" y="{_n(TOP - 2)}" font-size="11">1 = parité</text>'
    )
    for i, ((group, ratio, low, high, status), row) in enumerate(zip(groups, table, strict=True)):
        cy = TOP + i * ROW_H + ROW_H / 2
        out.append(f'<g class="row" data-status="{_t(status)}">')
        out.append(
            f'<text x="{LABEL_W - 10}" y="{_n(cy + 4)}" text-anchor="end">{_t(group)}</text>'
        )
        colour = COLOURS["breach"] if status == "breach" else COLOURS["point"]
        if status == "insufficient_data" or ratio is None or not math.isfinite(ratio):
            x = scale(1.0)
            out.append(
                f'<rect x="{_n(x - 6)}" y="{_n(cy - 6)}" width="12" height="12" '
                f'fill="{COLOURS["background"]}" stroke="{COLOURS["muted"]}" stroke-width="2" '
                f'stroke-dasharray="3 2"/>'
            )
            colour = COLOURS["muted"]
        else:
            if low is not None and high is not None:
                out.append(
                    f'<line x1="{_n(scale(low))}" y1="{_n(cy)}" x2="{_n(scale(high))}" '
                    f'y2="{_n(cy)}" stroke="{colour}" stroke-width="2.5"/>'
                )
            x = scale(ratio)
            if status == "breach":
                out.append(
                    f'<path d="M{_n(x)},{_n(cy - 8)} L{_n(x + 8)},{_n(cy + 6)} '
                    f'L{_n(x - 8)},{_n(cy + 6)} Z" fill="{colour}" stroke="{colour}"/>'
                )
            else:
                out.append(
                    f'<circle cx="{_n(x)}" cy="{_n(cy)}" r="6" fill="{colour}" '
                    f'stroke="{colour}" stroke-width="2"/>'
                )
        text = f"{row['Rapport au groupe de référence']} — {row['Statut']}"
        weight = ' font-weight="bold"' if status == "breach" else ""
        out.append(
            f'<text x="{LABEL_W + PLOT_W + 10}" y="{_n(cy + 4)}" fill="{colour}"{weight}>'
            f"{_t(text)}</text>"
        )
        out.append("</g>")
    ly = plot_bottom + AXIS_H + 12
    out.append(
        '<g class="legend">'
        f'<rect x="{LABEL_W}" y="{ly - 7}" width="14" height="14" fill="url(#{pid}-hatch)" '
        f'stroke="{COLOURS["axis"]}"/>'
        f'<text x="{LABEL_W + 20}" y="{ly + 4}">bande acceptée</text>'
        f'<path d="M{LABEL_W + 140},{ly - 8} L{LABEL_W + 148},{ly + 6} L{LABEL_W + 132},{ly + 6} Z" '
        f'fill="{COLOURS["breach"]}"/>'
        f'<text x="{LABEL_W + 154}" y="{ly + 4}">hors bande</text>'
        f'<rect x="{LABEL_W + 240}" y="{ly - 6}" width="12" height="12" fill="none" '
        f'stroke="{COLOURS["muted"]}" stroke-width="2" stroke-dasharray="3 2"/>'
        f'<text x="{LABEL_W + 258}" y="{ly + 4}">données insuffisantes</text>'
        "</g></svg>"
    )
    return "\n".join(out)


# --------------------------------------------------------------------------- composition


def composition_table(rows: Sequence[CompositionRow]) -> list[dict[str, str]]:
    """Text alternative of :func:`composition_svg`."""
    out: list[dict[str, str]] = []
    for stratum, target, actual in rows:
        gap = target - actual
        out.append(
            {
                "Strate": str(stratum),
                "Cible": format_number_fr(target, 0),
                "Atteint": format_number_fr(actual, 0),
                "Écart": "cible atteinte" if gap <= 0 else f"manque {format_number_fr(gap, 0)}",
            }
        )
    return out


def composition_svg(
    rows: Sequence[CompositionRow],
    title: str = "Composition du panel : cible et atteint",
    description: str | None = None,
    *,
    id_prefix: str | None = None,
) -> str:
    """Per stratum: hatched outline bar = target, solid bar = actual, written counts."""
    if not rows:
        raise ValueError("nothing to draw")
    if any(t < 0 or a < 0 for _, t, a in rows):
        raise ValueError("counts must be non-negative")
    pid = _prefix(id_prefix, "composition", list(rows), title)
    table = composition_table(rows)
    if description is None:
        description = " ; ".join(
            f"{r['Strate']} : {r['Atteint']} sur une cible de {r['Cible']}, {r['Écart']}"
            for r in table
        )
    top_value = max(max(t, a) for _, t, a in rows) or 1
    n = len(rows)
    plot_bottom = TOP + n * ROW_H
    width = LABEL_W + PLOT_W + VALUE_W
    height = plot_bottom + AXIS_H + LEGEND_H
    out = _open(width, height, pid, title, description)
    out.append(_defs(pid))

    def x(v: float) -> float:
        return LABEL_W + v / top_value * PLOT_W

    for i, ((stratum, target, actual), row) in enumerate(zip(rows, table, strict=True)):
        y = TOP + i * ROW_H
        out.append('<g class="row">')
        out.append(
            f'<text x="{LABEL_W - 10}" y="{_n(y + ROW_H / 2 + 4)}" text-anchor="end">{_t(stratum)}</text>'
        )
        out.append(
            f'<rect x="{LABEL_W}" y="{_n(y + 4)}" width="{_n(x(target) - LABEL_W)}" '
            f'height="{ROW_H - 8}" fill="url(#{pid}-hatch)" stroke="{COLOURS["axis"]}" '
            f'stroke-width="1.5"/>'
        )
        out.append(
            f'<rect x="{LABEL_W}" y="{_n(y + 10)}" width="{_n(x(actual) - LABEL_W)}" '
            f'height="{ROW_H - 20}" fill="{COLOURS["bar"]}"/>'
        )
        text = f"{row['Atteint']} / {row['Cible']} — {row['Écart']}"
        out.append(
            f'<text x="{LABEL_W + PLOT_W + 10}" y="{_n(y + ROW_H / 2 + 4)}">{_t(text)}</text>'
        )
        out.append("</g>")
    ly = plot_bottom + 20
    out.append(
        '<g class="legend">'
        f'<rect x="{LABEL_W}" y="{ly - 7}" width="14" height="14" fill="url(#{pid}-hatch)" '
        f'stroke="{COLOURS["axis"]}"/>'
        f'<text x="{LABEL_W + 20}" y="{ly + 4}">cible</text>'
        f'<rect x="{LABEL_W + 80}" y="{ly - 5}" width="14" height="10" fill="{COLOURS["bar"]}"/>'
        f'<text x="{LABEL_W + 100}" y="{ly + 4}">atteint</text>'
        "</g></svg>"
    )
    return "\n".join(out)
