"""Reads for pacts, with access filtering built in: drafts are visible to the two parties only."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts.services import Acting
from pacte.errors import NotFound
from pacte.pacts.models import Commitment, Pact, PactVersion, Signature, Status
from pacte.projects.models import Project

PRIVATE_STATUSES = (Status.DRAFT,)


def _visible_versions(acting: Acting | None) -> Q:
    public = ~Q(status__in=PRIVATE_STATUSES)
    if acting is None:
        return public
    if acting.is_auditor:
        return Q()
    org = acting.organisation.pk
    return public | Q(pact__project__carrier_id=org) | Q(pact__institution_id=org)


def versions_visible(acting: Acting | None) -> QuerySet[PactVersion]:
    return PactVersion.objects.filter(_visible_versions(acting)).select_related(
        "pact__project__carrier", "pact__institution"
    )


def get_pact(reference: str) -> Pact:
    pact = (
        Pact.objects.select_related("project__carrier", "institution")
        .filter(reference=reference)
        .first()
    )
    if pact is None:
        raise NotFound(_("Ce pacte n'existe pas."))
    return pact


def get_version(acting: Acting | None, reference: str, number: int) -> PactVersion:
    version = versions_visible(acting).filter(pact__reference=reference, number=number).first()
    if version is None:
        raise NotFound(_("Cette version de pacte n'existe pas ou n'est pas publique."))
    return version


def pact_versions(acting: Acting | None, pact: Pact) -> QuerySet[PactVersion]:
    return versions_visible(acting).filter(pact=pact).order_by("number")


def with_public_pacts(
    projects: QuerySet[Project], acting: Acting | None = None
) -> QuerySet[Project]:
    """Prefetch what `public_pacts_of` needs, so a page of projects costs a fixed number of queries."""
    visible = versions_visible(acting).order_by("number")
    return projects.prefetch_related(
        Prefetch(
            "pacts", queryset=Pact.objects.select_related("institution").order_by("created_at")
        ),
        Prefetch("pacts__versions", queryset=visible, to_attr="visible_versions"),
        "phases",
    )


def public_pacts_of(
    project: Project, acting: Acting | None = None
) -> list[tuple[Pact, PactVersion | None]]:
    """Each pact of the project with the version the viewer sees (the current one, else the newest)."""
    if "pacts" not in getattr(project, "_prefetched_objects_cache", {}):
        project = with_public_pacts(Project.objects.filter(pk=project.pk), acting).get()
    out = []
    for pact in project.pacts.all():
        versions = pact.visible_versions  # type: ignore[attr-defined]  # set by Prefetch(to_attr=…) in with_public_pacts, unknown to the stubs
        current = next((v for v in versions if v.is_current), versions[-1] if versions else None)
        out.append((pact, current))
    return out


def public_pacts_by_project(
    project_ids: list[int], acting: Acting | None = None
) -> dict[int, list[dict[str, Any]]]:
    """`public_pacts_of` for a page of projects, as plain rows: one query, no model instances.

    Each pact of each project (oldest first) with the version the viewer sees: the current one,
    else the newest visible one, else none (a draft the viewer may not read) — picked by the
    database, as a subquery per pact, so that the versions are neither fetched nor sorted here.
    """
    shown = PactVersion.objects.filter(_visible_versions(acting), pact_id=OuterRef("pk")).order_by(
        "-is_current", "-number"
    )
    rows = (
        Pact.objects.filter(project_id__in=project_ids)
        .order_by("created_at", "id")
        .values_list("project_id", "reference", "institution__slug")
        .annotate(
            shown_number=Subquery(shown.values("number")[:1]),
            shown_status=Subquery(shown.values("status")[:1]),
        )
    )
    out: dict[int, list[dict[str, Any]]] = {pk: [] for pk in project_ids}
    for project_id, reference, institution, number, status in rows:
        out[project_id].append(
            {
                "reference": reference,
                "institution": institution,
                "status": status,
                "version": number,
            }
        )
    return out


@dataclass
class ShownPact:
    """A pact as the project page shows it: the version the viewer sees (the current one, else the
    newest visible), every visible version (oldest first), its signatures and its commitments."""

    pact: Pact
    version: PactVersion
    versions: list[PactVersion]
    signatures: list[Signature]
    commitments: list[Commitment]


def shown_pacts(project: Project, acting: Acting | None = None) -> list[ShownPact]:
    """Each pact of ``project`` that has a version ``acting`` may read (oldest pact first), in
    three queries whatever the number of pacts: the visible versions with their pact, then the
    signatures and the commitments of the shown versions. A pact whose every version is a draft
    the viewer may not read is left out."""
    versions = list(
        PactVersion.objects.filter(_visible_versions(acting), pact__project=project)
        .select_related("pact__institution")
        .order_by("pact__created_at", "pact_id", "number")
    )
    by_pact: dict[int, list[PactVersion]] = {}
    for v in versions:
        items = by_pact.setdefault(v.pact_id, [])
        if items:
            v.pact = items[0].pact  # one Pact instance per pact
        else:
            v.pact.project = project  # the page's own read (canonical_document reads it)
        items.append(v)
    out = []
    for items in by_pact.values():
        shown = next((v for v in items if v.is_current), items[-1])
        out.append(ShownPact(shown.pact, shown, items, [], []))
    if not out:
        return out
    by_version = {item.version.pk: item for item in out}
    signatures = Signature.objects.filter(version_id__in=by_version).order_by("id")
    for sig in signatures.select_related("organisation", "signer"):
        sig.version = by_version[sig.version_id].version
        by_version[sig.version_id].signatures.append(sig)
    for c in Commitment.objects.filter(version_id__in=by_version).order_by("due_date", "key"):
        c.version = by_version[c.version_id].version
        by_version[c.version_id].commitments.append(c)
    return out


# A commitment still "on track" on a pact that has ended is not on track: it lapsed with the pact.
ENDED_LABELS = {
    Status.BROKEN: _("Caduc : pacte rompu"),
    Status.SUPERSEDED: _("Sans objet : version remplacée"),
    Status.WITHDRAWN: _("Sans objet : pacte retiré"),
    Status.COMPLETED: _("Clos avec le pacte"),
}
OPEN_COMMITMENT = (Commitment.State.ON_TRACK, Commitment.State.DUE_SOON)


def shown_status(version: PactVersion, c: Commitment) -> tuple[str, str]:
    """What a page says of a commitment: its own status, unless the pact ended with it open."""
    if version.status in ENDED_LABELS and c.status in OPEN_COMMITMENT:
        return "lapsed", str(ENDED_LABELS[Status(version.status)])
    return c.status, str(c.get_status_display())


def commitments_board(
    version: PactVersion, commitments: list[Commitment] | None = None
) -> dict[str, list[Commitment]]:
    """The commitments by side, each with ``shown_status``/``shown_label`` (see shown_status);
    ``commitments``: the version's, already read (by due date then key), else read here."""
    board: dict[str, list[Commitment]] = {"carrier": [], "institution": []}
    if commitments is None:
        commitments = list(version.commitments.all().order_by("due_date", "key"))
    for c in commitments:
        c.shown_status, c.shown_label = shown_status(version, c)  # type: ignore[attr-defined]
        board[c.owner].append(c)
    return board


def commitments(*, status: str = "", owner: str = "") -> QuerySet[Commitment]:
    qs = Commitment.objects.select_related("version__pact__project").filter(
        ~Q(version__status__in=PRIVATE_STATUSES)
    )
    if status:
        qs = qs.filter(status=status)
    if owner:
        qs = qs.filter(owner=owner)
    return qs.order_by("due_date", "id")


@dataclass(frozen=True)
class QueueItem:
    version: PactVersion
    days_waiting: int
    ball: str
    approvals: int
    required: int


def review_queue(acting: Acting) -> list[QueueItem]:
    """Pacts awaiting a decision of the acting institution (or of the carrier), with clocks."""
    org = acting.organisation.pk
    qs = (
        versions_visible(acting)
        .filter(
            Q(pact__institution_id=org) | Q(pact__project__carrier_id=org),
            status__in=(
                Status.SUBMITTED,
                Status.CHANGES_REQUESTED,
                Status.APPROVED,
                Status.SIGNING,
                Status.BREACH_NOTIFIED,
                Status.SUSPENDED,
                Status.DRAFT,
            ),
        )
        .prefetch_related("reviews")
    )
    now = timezone.now()
    items = []
    for v in qs:
        since = v.status_changed_at or v.created_at
        approvals = sum(1 for r in v.reviews.all() if r.decision == "approve")
        items.append(
            QueueItem(
                v,
                max(0, (now - since).days),
                v.ball,
                approvals,
                2 if v.requires_second_review else 1,
            )
        )
    items.sort(key=lambda i: -i.days_waiting)
    return items


def _flatten(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        out: list[str] = []
        for k in sorted(value):
            out += _flatten(value[k], f"{prefix}.{k}" if prefix else k)
        return out
    if isinstance(value, list):
        if not value:
            return [f"{prefix}: (vide)"]
        out = []
        for i, item in enumerate(value):
            key = item.get("key") if isinstance(item, dict) and "key" in item else str(i + 1)
            out += _flatten(item, f"{prefix}[{key}]")
        return out
    return [f"{prefix}: {value}"]


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "added" | "removed" | "same"
    text: str


def diff_versions(old: PactVersion, new: PactVersion, context: bool = False) -> list[DiffLine]:
    """A readable field-by-field diff of two versions' content."""
    a, b = _flatten(old.content), _flatten(new.content)
    lines: list[DiffLine] = []
    for op in difflib.ndiff(a, b):
        tag, text = op[:2], op[2:]
        if tag == "- ":
            lines.append(DiffLine("removed", text))
        elif tag == "+ ":
            lines.append(DiffLine("added", text))
        elif tag == "  " and context:
            lines.append(DiffLine("same", text))
    return lines


def days_until(d: date | None) -> int | None:
    return None if d is None else (d - date.today()).days
