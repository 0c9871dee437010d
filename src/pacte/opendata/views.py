"""Thin views: the open-data page and its files, the statistics, the statements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render

from pacte.engines.bar_chart import bar_chart_svg, format_value
from pacte.errors import NotFound
from pacte.opendata import selectors, statistics
from pacte.opendata.dump import dump_dir, open_dump
from pacte.opendata.tables import TABLES

CHECKLIST = Path(__file__).parent / "data" / "rgaa_checklist.json"


def dump_page(request: HttpRequest) -> HttpResponse:
    latest = selectors.latest_dump()
    return render(
        request,
        "opendata/dump.html",
        {
            "latest": latest,
            "available": latest is not None and (dump_dir() / latest.filename).exists(),
            "previous": selectors.dumps()[1:8],
            "tables": TABLES,
        },
    )


def dump_file(request: HttpRequest, filename: str) -> FileResponse:
    dump = selectors.get_dump(filename)
    try:
        handle = open_dump(dump)
    except FileNotFoundError as exc:
        raise NotFound(
            "Ce fichier n'est plus disponible ; prenez l'export le plus récent."
        ) from exc
    response = FileResponse(handle, as_attachment=True, filename=dump.filename)
    response["Content-Type"] = "application/zip"
    response["Digest"] = f"sha-256={dump.sha256}"
    return response


def _chart(series: statistics.Series) -> dict[str, Any]:
    rows = [(r.label, r.value) for r in series.rows]
    return {
        "series": series,
        "svg": bar_chart_svg(rows, series.title, id_prefix=f"stat-{series.name}", unit=series.unit),
        "table": [(r.label, format_value(r.value, series.unit)) for r in series.rows],
    }


def statistics_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "opendata/statistics.html",
        {"charts": [_chart(s) for s in statistics.all_series()]},
    )


def _publisher() -> dict[str, str]:
    return {
        "name": settings.PUBLISHER_NAME,
        "address": settings.PUBLISHER_ADDRESS,
        "email": settings.PUBLISHER_EMAIL,
        "director": settings.PUBLICATION_DIRECTOR,
        "host": settings.HOSTING_PROVIDER,
        "dpo_email": settings.DATA_PROTECTION_EMAIL,
        "accessibility_email": settings.ACCESSIBILITY_EMAIL,
    }


def accessibility(request: HttpRequest) -> HttpResponse:
    from pacte.opendata.accessibility import conformity

    return render(
        request,
        "opendata/accessibility.html",
        {"publisher": _publisher(), "audit": conformity(json.loads(CHECKLIST.read_text()))},
    )


def legal_notices(request: HttpRequest) -> HttpResponse:
    return render(request, "opendata/legal.html", {"publisher": _publisher()})


def personal_data(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "opendata/personal_data.html",
        {
            "publisher": _publisher(),
            "sign_in_days": settings.SIGN_IN_LOG_RETENTION_DAYS,
            "notice_days": settings.NOTICE_RETENTION_DAYS,
        },
    )
