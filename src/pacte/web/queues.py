"""One work queue per person, across ALL their organisations and roles.

The back office acts for one organisation at a time (the acting organisation), but a reviewer of three
institutions must see the work of the three: each row says for which organisation and in which role it
waits, since when (the clock), who holds the ball, and whether it is this person's turn.
Reads only: each domain's own selectors give the rows, this module puts them together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts.models import Membership, Organisation, Role, User
from pacte.accounts.services import Acting
from pacte.data import selectors as data_selectors
from pacte.data.models import DataRequest, RequestStatus
from pacte.evidence.models import Evaluation
from pacte.pacts import selectors as pact_selectors
from pacte.pacts.models import PactVersion, Status
from pacte.projects.models import Project
from pacte.web import labels

OPEN_REQUESTS = (RequestStatus.DRAFT, RequestStatus.SUBMITTED, RequestStatus.CHANGES_REQUESTED)


@dataclass(frozen=True)
class WorkItem:
    """One thing waiting for a decision, seen from one of the person's organisations."""

    kind: str  # "pact" | "request" | "evaluation"
    title: str
    subtitle: str
    url: str
    organisation: Organisation
    role: str  # the label of the role this person holds there for this item
    status: str  # the status label
    status_code: str  # for the badge colour
    days_waiting: int
    ball: str  # who must act next, in words
    your_turn: bool
    detail: str = ""
    todo: str = ""  # what this person has to do, when it is their turn


@dataclass
class Workspace:
    """The person's memberships and everything waiting in them."""

    memberships: list[Membership]
    items: list[WorkItem] = field(default_factory=list)
    audit_requests: list[DataRequest] = field(default_factory=list)
    audit_projects: list[Project] = field(default_factory=list)

    @property
    def your_turn(self) -> list[WorkItem]:
        return [i for i in self.items if i.your_turn]

    @property
    def waiting_for_others(self) -> list[WorkItem]:
        return [i for i in self.items if not i.your_turn]

    @property
    def is_auditor(self) -> bool:
        return any(Role.AUDITOR in m.roles for m in self.memberships)


def _days(since: Any) -> int:
    return max(0, (timezone.now() - since).days) if since else 0


def _pact_turn(acting: Acting, version: PactVersion) -> tuple[bool, str]:
    """Whether this person, for this organisation, is the one who must act; and their role there."""
    carrier_side = acting.organisation.pk == version.pact.project.carrier_id
    status = version.status
    if carrier_side:
        role = Role.CARRIER_ADMIN if acting.has(Role.CARRIER_ADMIN) else Role.CARRIER_MEMBER
        if status in (Status.DRAFT, Status.CHANGES_REQUESTED, Status.BREACH_NOTIFIED):
            return True, role
        if status in (Status.APPROVED, Status.SIGNING) and acting.has(Role.CARRIER_ADMIN):
            signed = any(s.side == "carrier" for s in version.signatures.all())
            return not signed, role
        return False, role
    if status == Status.SUBMITTED and acting.has(Role.REVIEWER):
        already = any(
            r.reviewer_id == acting.user.pk and r.decision == "approve"
            for r in version.reviews.all()
        )
        return not already, Role.REVIEWER
    if status in (Status.APPROVED, Status.SIGNING) and acting.has(Role.SIGNATORY):
        signed = any(s.side == "institution" for s in version.signatures.all())
        return not signed, Role.SIGNATORY
    if status == Status.SUSPENDED and acting.has(Role.REVIEWER):
        return True, Role.REVIEWER
    roles = sorted(acting.roles)
    return False, roles[0] if roles else ""


def _pact_todo(status: str, role: str) -> str:
    if role in (Role.CARRIER_ADMIN, Role.CARRIER_MEMBER):
        return {
            Status.DRAFT: _("compléter puis soumettre"),
            Status.CHANGES_REQUESTED: _("préparer une nouvelle version"),
            Status.BREACH_NOTIFIED: _("remédier au manquement avant l'échéance"),
            Status.APPROVED: _("signer"),
            Status.SIGNING: _("signer"),
        }.get(Status(status), "")
    return {
        Status.SUBMITTED: _("instruire : approuver ou demander des modifications"),
        Status.APPROVED: _("signer"),
        Status.SIGNING: _("signer"),
        Status.SUSPENDED: _("rétablir ou rompre le pacte"),
    }.get(Status(status), "")


def _pact_items(acting: Acting) -> list[WorkItem]:
    out = []
    for item in pact_selectors.review_queue(acting):
        v = item.version
        carrier_side = acting.organisation.pk == v.pact.project.carrier_id
        if v.status == Status.DRAFT and not carrier_side:
            continue  # a carrier's draft is not the institution's work yet
        if not carrier_side and not (acting.has(Role.REVIEWER) or acting.has(Role.SIGNATORY)):
            continue  # e.g. the data steward: pacts are the reviewers' and signatories' work
        turn, role = _pact_turn(acting, v)
        todo = _pact_todo(v.status, role) if turn else ""
        detail = ""
        if v.status == Status.SUBMITTED:
            detail = _("%(approvals)s/%(required)s approbation(s)") % {
                "approvals": item.approvals,
                "required": item.required,
            }
        out.append(
            WorkItem(
                kind="pact",
                title=f"{v.pact.reference} v{v.number}",
                subtitle=v.pact.project.name,
                url=reverse("web:version", args=[v.pact.reference, v.number]),
                organisation=acting.organisation,
                role=labels.label("role", role),
                status=v.get_status_display(),
                status_code=v.status,
                days_waiting=item.days_waiting,
                ball=labels.ball(v.ball),
                your_turn=turn,
                detail=detail,
                todo=todo,
            )
        )
    return out


def _request_items(acting: Acting) -> list[WorkItem]:
    out = []
    for item in data_selectors.request_queue(acting):
        r = item.request
        if r.status not in OPEN_REQUESTS:
            continue
        carrier_side = acting.organisation.pk == r.carrier_id
        if carrier_side:
            role = Role.CARRIER_ADMIN if acting.has(Role.CARRIER_ADMIN) else Role.CARRIER_MEMBER
            turn = r.status != RequestStatus.SUBMITTED
        else:
            role = Role.DATA_STEWARD if acting.has(Role.DATA_STEWARD) else Role.REVIEWER
            already = any(
                v.reviewer_id == acting.user.pk and v.submission == len(r.submissions)
                for v in r.reviews.all()
            )
            turn = r.status == RequestStatus.SUBMITTED and not already
            if r.status == RequestStatus.DRAFT:
                continue  # the carrier's draft is not the publisher's work yet
        out.append(
            WorkItem(
                kind="request",
                title=r.reference,
                subtitle=_("%(dataset)s, pour %(project)s")
                % {"dataset": r.dataset.title, "project": r.project.name},
                url=reverse("data:request", args=[r.reference]),
                organisation=acting.organisation,
                role=labels.label("role", role),
                status=r.get_status_display(),
                status_code=r.status,
                days_waiting=item.days_waiting,
                ball=labels.ball(r.ball),
                your_turn=turn,
                todo=(_("donner votre avis") if not carrier_side else _("compléter puis soumettre"))
                if turn
                else "",
                detail=_("%(count)s avis favorable(s)") % {"count": item.approvals}
                if r.status == RequestStatus.SUBMITTED
                else "",
            )
        )
    return out


def _evaluation_items(acting: Acting) -> list[WorkItem]:
    if not acting.has(Role.EVALUATOR):
        return []
    drafts = Evaluation.objects.filter(
        evaluator=acting.organisation, status=Evaluation.State.DRAFT
    ).select_related("project")
    return [
        WorkItem(
            kind="evaluation",
            title=ev.title,
            subtitle=ev.project.name,
            url=reverse("evidence:evaluation", args=[ev.pk]),
            organisation=acting.organisation,
            role=labels.label("role", Role.EVALUATOR),
            status=ev.get_status_display(),
            status_code=ev.status,
            days_waiting=_days(getattr(ev, "created_at", None)),
            ball=_("à l'évaluateur"),
            your_turn=True,
            todo=_("relire puis publier"),
        )
        for ev in drafts
    ]


def workspace(user: User) -> Workspace:
    """Everything waiting for this person, in every organisation they belong to."""
    memberships = list(
        Membership.objects.filter(user=user).select_related("organisation").order_by("pk")
    )
    ws = Workspace(memberships=memberships)
    for m in memberships:
        acting = Acting(user=user, organisation=m.organisation, roles=frozenset(m.roles))
        ws.items += _pact_items(acting) + _request_items(acting) + _evaluation_items(acting)
    ws.items.sort(key=lambda i: (not i.your_turn, -i.days_waiting, i.title))
    if ws.is_auditor:  # the auditor reads everything: every open request and every project
        ws.audit_requests = list(
            DataRequest.objects.filter(status__in=OPEN_REQUESTS)
            .exclude(status=RequestStatus.DRAFT)
            .select_related("dataset", "project")
            .order_by("created_at")
        )
        ws.audit_projects = list(Project.objects.select_related("carrier").order_by("name"))
    return ws


def projects_of(user: User) -> list[Project]:
    """The projects the person works on: carried by one of their organisations, or under a pact
    with one of their institutions."""
    orgs = list(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
    return list(
        Project.objects.filter(Q(carrier_id__in=orgs) | Q(pacts__institution_id__in=orgs))
        .distinct()
        .order_by("name")
    )
