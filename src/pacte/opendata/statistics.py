"""The public statistics (reads only): each figure is a labelled series of (label, value) rows.

The same :class:`Series` feed the page (chart and table) and ``GET /api/v1/statistics``.
"""

from __future__ import annotations

import statistics as stats
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts.models import Organisation
from pacte.accounts.state_record import STATE_PROMISES
from pacte.data.models import DataRequest, RequestStatus
from pacte.evidence import selectors as evidence
from pacte.funding import selectors as funding
from pacte.funding.models import PaymentOrder
from pacte.pacts import selectors as pacts
from pacte.pacts.models import Status
from pacte.projects.models import Phase, PhaseKind, Project


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    value: float


@dataclass(frozen=True)
class Series:
    name: str
    title: str
    unit: str
    rows: list[Row]
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(r.value for r in self.rows)


def projects_per_phase() -> Series:
    current: dict[int, tuple[Any, int, str]] = {}
    for project_id, kind, started_on, pk in Phase.objects.values_list(
        "project_id", "kind", "started_on", "id"
    ):
        if project_id not in current or (started_on, pk) > current[project_id][:2]:
            current[project_id] = (started_on, pk, kind)
    counts = Counter(kind for _, _, kind in current.values())
    rows = [Row(k.value, str(k.label), counts.get(k.value, 0)) for k in PhaseKind]
    without = Project.objects.count() - len(current)
    if without:
        rows.append(Row("none", _("Sans phase déclarée"), without))
    return Series("projects_per_phase", _("Projets par phase"), _("projets"), rows)


def pacts_per_status() -> Series:
    counts = dict(
        pacts.versions_visible(None)
        .filter(is_current=True)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    rows = [Row(s.value, str(s.label), counts.get(s.value, 0)) for s in Status if s != Status.DRAFT]
    return Series(
        "pacts_per_status",
        _("Pactes publics par statut (version en vigueur)"),
        _("pactes"),
        [r for r in rows if r.value or r.key in {"active", "submitted"}],
    )


def evaluations_conclusive() -> Series:
    counts = dict(
        evidence.evaluations(None)
        .order_by()
        .values_list("conclusive")
        .annotate(n=Count("id"))
        .values_list("conclusive", "n")
    )
    return Series(
        "evaluations_conclusive",
        _("Évaluations d'impact publiées : concluantes ou non"),
        _("évaluations"),
        [
            Row("conclusive", _("Concluantes"), counts.get(True, 0)),
            Row("not_conclusive", _("Non concluantes"), counts.get(False, 0)),
        ],
    )


def _decision_days(now: datetime) -> Series:
    """Days from submission to decision of data requests, per deciding institution (median)."""
    delays: dict[str, list[float]] = {}
    names: dict[str, str] = {}
    rows = DataRequest.objects.filter(
        status__in=[RequestStatus.APPROVED, RequestStatus.REFUSED],
        submitted_at__isnull=False,
        status_changed_at__isnull=False,
    ).values_list(
        "dataset__publisher__slug", "dataset__publisher__name", "submitted_at", "status_changed_at"
    )
    for slug, name, submitted, decided in rows:
        if submitted is None or decided is None:  # excluded by the filter; for the type checker
            continue
        delays.setdefault(slug, []).append((decided - submitted).total_seconds() / 86400)
        names[slug] = name
    return Series(
        "state_response_days",
        _("Délais de réponse de l'État : décision sur les demandes de données (médiane)"),
        _("jours"),
        [Row(slug, names[slug], round(stats.median(d), 1)) for slug, d in sorted(delays.items())],
        note=_("Du dépôt de la demande à la décision de l'institution qui publie le jeu."),
        extra={"decided": {slug: len(d) for slug, d in delays.items()}},
    )


def state_response_times(now: datetime | None = None) -> list[Series]:
    """The State's promises (accounts.state_record) when domains registered some; else the
    decision times of data requests, which every instance has."""
    now = now or timezone.now()
    promises = STATE_PROMISES.entries()
    if not promises:
        return [_decision_days(now)]
    institutions = list(Organisation.objects.filter(kind=Organisation.Kind.INSTITUTION))
    out = []
    for entry in promises:
        rows = []
        for inst in institutions:
            fig = entry.reader(inst, now)
            if fig.median_response_days is not None:
                rows.append(Row(inst.slug, inst.name, fig.median_response_days))
        out.append(
            Series(
                f"state_{entry.name}",
                _("Délais de réponse de l'État : %(promise)s (médiane)") % {"promise": entry.label},
                _("jours"),
                rows,
                note=str(entry.clock),
            )
        )
    return out


def payments() -> list[Series]:
    by_status = dict(
        funding.payments()
        .order_by()
        .values_list("status")
        .annotate(total=Sum("amount_eur"))
        .values_list("status", "total")
    )
    counts = dict(
        funding.payments()
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    amounts = [
        Row(s.value, str(s.label), float(by_status.get(s.value) or Decimal(0)))
        for s in PaymentOrder.State
    ]
    numbers = [Row(s.value, str(s.label), counts.get(s.value, 0)) for s in PaymentOrder.State]
    late = funding.late_payments().count()
    return [
        Series("payments_amount", _("Paiements au résultat : montants par état"), "€", amounts),
        Series(
            "payments_count",
            _("Paiements au résultat : nombre par état"),
            _("paiements"),
            numbers,
            extra={"late": late},
        ),
    ]


def all_series() -> list[Series]:
    return [
        projects_per_phase(),
        pacts_per_status(),
        evaluations_conclusive(),
        *state_response_times(),
        *payments(),
    ]


def as_dict(series: Series) -> dict[str, Any]:
    return {
        "name": series.name,
        "title": series.title,
        "unit": series.unit,
        "note": series.note,
        "total": series.total,
        "rows": [{"key": r.key, "label": r.label, "value": r.value} for r in series.rows],
        **series.extra,
    }
