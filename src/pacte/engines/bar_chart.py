"""An accessible horizontal bar chart in SVG, for the public statistics. Pure string generation.

The chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>`` (the description
reads every figure, so the chart says in words what it draws); each bar has its label and its
written value beside it, so nothing is carried by length or colour alone. Colours have WCAG AA
contrast on white. Pages show the same figures in a table as well.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

__all__ = ["bar_chart_svg", "format_value"]

TEXT = "#1e1e1e"  # 16.7:1 on white
BAR = "#000091"  # 15.0:1 on white (bleu France)
AXIS = "#3a3a3a"  # 11.5:1
FONT = "Marianne, Arial, sans-serif"
ROW_H = 30
LABEL_W = 230
PLOT_W = 320
VALUE_W = 150
TOP = 10
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def _t(text: object) -> str:
    return escape(_XML_INVALID.sub("", str(text)), {'"': "&quot;", "'": "&apos;"})


def format_value(value: float, unit: str = "") -> str:
    """French number: narrow no-break space for thousands, comma for decimals."""
    if float(value).is_integer():
        text = f"{int(value):,}".replace(",", "\u202f")
    else:
        text = f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")
    return f"{text} {unit}".strip()


def bar_chart_svg(
    rows: Sequence[tuple[str, float]],
    title: str,
    *,
    id_prefix: str,
    unit: str = "",
    description: str | None = None,
) -> str:
    """One bar per (label, value); values are non-negative."""
    if not _ID_RE.match(id_prefix):
        raise ValueError("id_prefix must start with a letter and contain only [A-Za-z0-9_-]")
    if any(v < 0 for _, v in rows):
        raise ValueError("values must be non-negative")
    if description is None:
        description = (
            " ; ".join(f"{label} : {format_value(v, unit)}" for label, v in rows)
            if rows
            else "aucune donnée"
        )
    top = max((v for _, v in rows), default=0.0) or 1.0
    height = TOP * 2 + max(len(rows), 1) * ROW_H
    width = LABEL_W + PLOT_W + VALUE_W
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="{id_prefix}-title {id_prefix}-desc" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="13" fill="{TEXT}">',
        f'<title id="{id_prefix}-title">{_t(title)}</title>',
        f'<desc id="{id_prefix}-desc">{_t(description)}</desc>',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<line x1="{LABEL_W}" y1="{TOP}" x2="{LABEL_W}" y2="{height - TOP}" stroke="{AXIS}"/>',
    ]
    for i, (label, value) in enumerate(rows):
        y = TOP + i * ROW_H
        w = value / top * PLOT_W
        out.append(
            f'<g class="bar"><text x="{LABEL_W - 8}" y="{y + ROW_H / 2 + 4:.1f}" '
            f'text-anchor="end">{_t(label)}</text>'
            f'<rect x="{LABEL_W}" y="{y + 6}" width="{w:.1f}" height="{ROW_H - 12}" fill="{BAR}"/>'
            f'<text x="{LABEL_W + w + 6:.1f}" y="{y + ROW_H / 2 + 4:.1f}">'
            f"{_t(format_value(value, unit))}</text></g>"
        )
    out.append("</svg>")
    return "\n".join(out)
