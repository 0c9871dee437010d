"""Reads for data access: catalogue, DCAT-AP, queues with clocks, diffs, accountability."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts.models import Organisation, Role
from pacte.accounts.services import Acting
from pacte.accounts.state_record import PromiseFigures, figures_from_items
from pacte.data import dcat
from pacte.data.models import (
    Consent,
    DataRequest,
    Dataset,
    Grant,
    Release,
    RequestReview,
    RequestStatus,
)
from pacte.errors import NotFound, PermissionDenied
from pacte.pacts.models import Pact, PactVersion, Status
from pacte.projects.models import Project


def datasets() -> QuerySet[Dataset]:
    return Dataset.objects.select_related("publisher").prefetch_related("versions")


def get_dataset(slug: str) -> Dataset:
    ds = datasets().filter(slug=slug).first()
    if ds is None:
        raise NotFound(_("Jeu de données « %(slug)s » introuvable.") % {"slug": slug})
    return ds


def active_version(pact: Pact) -> PactVersion | None:
    """The pact's version in force (a data request is made, and a grant used, under it)."""
    return pact.versions.filter(status=Status.ACTIVE).first()


def grants_of_dataset(ds: Dataset) -> QuerySet[Grant]:
    return Grant.objects.filter(dataset_version__dataset=ds).select_related(
        "project__carrier", "dataset_version", "request"
    )


def releases_of_dataset(ds: Dataset) -> QuerySet[Release]:
    return Release.objects.filter(dataset_version__dataset=ds).select_related(
        "grant__project", "dataset_version"
    )


def get_grant(reference: str) -> Grant:
    g = (
        Grant.objects.select_related(
            "project__carrier", "dataset_version__dataset__publisher", "request", "pact"
        )
        .filter(reference=reference)
        .first()
    )
    if g is None:
        raise NotFound(_("Accès « %(reference)s » introuvable.") % {"reference": reference})
    return g


def get_release(release_id: str) -> Release:
    try:
        r = (
            Release.objects.select_related("grant__project", "dataset_version__dataset")
            .filter(release_id=release_id)
            .first()
        )
    except Exception:  # noqa: BLE001 - malformed UUID
        r = None
    if r is None:
        raise NotFound(_("Publication introuvable."))
    return r


def grants_of_project(project: Project) -> QuerySet[Grant]:
    return (
        Grant.objects.filter(project=project)
        .select_related("dataset_version__dataset")
        .prefetch_related("releases")
    )


# ---------------------------------------------------------------- requests


def can_see_request(acting: Acting | None, req: DataRequest) -> bool:
    if acting is None:
        return False
    org = acting.organisation.pk
    return (
        org == req.carrier_id
        or (
            org == req.dataset.publisher_id
            and (acting.has(Role.REVIEWER) or acting.has(Role.DATA_STEWARD))
        )
        or acting.is_auditor
    )


def get_request(acting: Acting | None, reference: str) -> DataRequest:
    req = (
        DataRequest.objects.select_related(
            "dataset__publisher",
            "dataset_version",
            "project__carrier",
            "pact",
            "pact_version",
            "requested_by",
        )
        .filter(reference=reference)
        .first()
    )
    if req is None:
        raise NotFound(_("Demande « %(reference)s » introuvable.") % {"reference": reference})
    if not can_see_request(acting, req):
        raise PermissionDenied(
            _("Cette demande n'est visible que du porteur et de l'institution éditrice.")
        )
    return req


@dataclass(frozen=True)
class QueueItem:
    request: DataRequest
    days_waiting: int
    ball: str
    approvals: int


def request_queue(acting: Acting) -> list[QueueItem]:
    org = acting.organisation.pk
    qs = (
        DataRequest.objects.filter(Q(dataset__publisher_id=org) | Q(carrier_id=org))
        .select_related("dataset", "project")
        .prefetch_related("reviews")
    )
    if not (acting.has(Role.REVIEWER) or acting.has(Role.DATA_STEWARD)):
        qs = qs.filter(carrier_id=org)
    now = timezone.now()
    items = []
    for r in qs:
        since = r.status_changed_at or r.created_at
        approvals = sum(
            1
            for v in r.reviews.all()
            if v.decision == RequestReview.Decision.APPROVE and v.submission == len(r.submissions)
        )
        items.append(QueueItem(r, max(0, (now - since).days), r.ball, approvals))
    open_first = {
        RequestStatus.SUBMITTED: 0,
        RequestStatus.CHANGES_REQUESTED: 1,
        RequestStatus.DRAFT: 2,
    }
    items.sort(key=lambda i: (open_first.get(RequestStatus(i.request.status), 3), -i.days_waiting))
    return items


def clock(req: DataRequest) -> dict[str, Any]:
    now = timezone.now()
    since = req.status_changed_at or req.created_at
    first = req.submitted_at if not req.submissions else req.submissions[0].get("at")
    total = None
    if req.submissions:
        total = max(0, (now - datetime.fromisoformat(req.submissions[0]["at"])).days)
    return {
        "days_in_state": max(0, (now - since).days),
        "ball": req.ball,
        "days_since_first_submission": total,
        "first_submission": first,
    }


@dataclass(frozen=True)
class DiffLine:
    kind: str
    text: str


def _flat(snapshot: dict[str, Any]) -> list[str]:
    lines = []
    for k in sorted(snapshot):
        if k == "at":
            continue
        v = snapshot[k]
        if isinstance(v, list):
            v = ", ".join(map(str, v)) or "(vide)"
        lines.append(f"{k}: {v}")
    return lines


def submission_diff(
    req: DataRequest, old: int | None = None, new: int | None = None
) -> list[DiffLine]:
    """Field diff between two submissions (default: the last two)."""
    subs = req.submissions
    if len(subs) < 2:
        return []
    a = subs[(old or len(subs) - 1) - 1]
    b = subs[(new or len(subs)) - 1]
    out = []
    for op in difflib.ndiff(_flat(a), _flat(b)):
        if op.startswith("- "):
            out.append(DiffLine("removed", op[2:]))
        elif op.startswith("+ "):
            out.append(DiffLine("added", op[2:]))
    return out


# ---------------------------------------------------------------- DCAT-AP


def dcat_catalog(base_url: str) -> dict[str, Any]:
    """The catalogue as DCAT-AP 3 in JSON-LD (see :mod:`pacte.data.dcat`)."""
    return dcat.dcat_catalog(base_url, datasets())


def consents_of(user: Any) -> QuerySet[Consent]:
    return Consent.objects.filter(user=user).select_related("project", "dataset_version__dataset")


# ------------------------------------------------------------------ the State's record (issue 12)

DECISION_CLOCK_DAYS = 30  # an institution decides a submitted data request within 30 days


def decision_figures(institution: Organisation, now: datetime) -> PromiseFigures:
    """Data requests to this publisher: received at (latest) submission, answered when the
    institution decided (approved, refused, or changes requested), due 30 days after submission."""
    decided = (RequestStatus.APPROVED, RequestStatus.REFUSED, RequestStatus.CHANGES_REQUESTED)
    rows = (
        DataRequest.objects.filter(dataset__publisher=institution, submitted_at__isnull=False)
        .exclude(status__in=(RequestStatus.DRAFT, RequestStatus.WITHDRAWN))
        .values_list("submitted_at", "status", "status_changed_at")
    )
    clock = timedelta(days=DECISION_CLOCK_DAYS)
    return figures_from_items(
        (
            (submitted, changed if status in decided and changed else None, submitted + clock)
            for submitted, status, changed in rows
            if submitted is not None  # filtered above; the stubs do not know
        ),
        now,
    )
