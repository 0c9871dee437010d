"""Reads for open data: the latest dump (statistics are in statistics.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from pacte.errors import NotFound
from pacte.opendata.models import Dump


def latest_dump() -> Dump | None:
    return Dump.objects.order_by("-day").first()


def dumps(limit: int = 30) -> list[Dump]:
    return list(Dump.objects.order_by("-day")[:limit])


def get_dump(filename: str) -> Dump:
    dump = Dump.objects.filter(filename=filename).first()
    if dump is None:
        raise NotFound(_("Cet export de données ouvertes n'existe pas (ou plus)."))
    return dump
