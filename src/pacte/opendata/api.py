"""Open-data API: the public statistics (same figures as /statistiques/)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from pacte.api_contract import responses
from pacte.opendata import statistics

router = Router(tags=["statistiques"])


class RowOut(Schema):
    key: str
    label: str
    value: float


class SeriesOut(Schema):
    name: str
    title: str
    unit: str
    note: str
    total: float
    rows: list[RowOut]
    late: int | None = None
    decided: dict[str, int] | None = None


class StatisticsOut(Schema):
    series: list[SeriesOut]


@router.get(
    "/statistics",
    response=responses({200: StatisticsOut}),
    summary="Statistiques publiques (les chiffres de /statistiques/)",
)
def get_statistics(request: HttpRequest) -> dict[str, Any]:
    return {"series": [statistics.as_dict(s) for s in statistics.all_series()]}
