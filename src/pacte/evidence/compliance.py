"""Compliance engine (C7): evidence → commitment statuses → the pact's breach path.

`run_compliance(today)` is idempotent and takes the date as a parameter (simulated clock):

1. every commitment of a pact in force gets its status recomputed. For the kinds whose evidence
   the platform computes itself (evaluation, bias audit, algorithm sheet, panel, data grant) the
   evidence decides `met`; for the others (documents, reports, payments…) `met` is what the
   owner deposited. Without evidence: `on_track` → `due_soon` (14 days before) → `missed` (past
   the due date) → `breached` (past the due date plus a grace period);
2. a carrier commitment breached moves the pact to `breach_notified` with its cure period (both
   parties notified); once the cure deadline passes with the commitment still not met, the pact
   is `suspended` (sanctions through the pact hooks); after a further cure period suspended, it
   is `broken`. Evidence arriving in between cures (or reinstates) the pact;
3. a State-side commitment breached is recorded and notified to both parties the same way — it
   never sanctions the carrier for the State's failure, but it is shown just as prominently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pacte.accounts import policy
from pacte.accounts.models import Membership
from pacte.evidence.models import AlgorithmSheet, Audit, ComplianceCase, Evaluation, PanelCall
from pacte.journal.services import SYSTEM, record_event
from pacte.notifications.notifier import notify
from pacte.pacts import sanctions as pact_sanctions
from pacte.pacts.models import Commitment, PactVersion, Status
from pacte.pacts.schema import parse_content
from pacte.projects.models import Project
from pacte.writes.retry import retry_on_conflict

BREACH_GRACE_DAYS = 15
COMPUTED_KINDS = ("evaluation", "audit", "publication", "panel", "grant")
LIVE = (Status.ACTIVE, Status.BREACH_NOTIFIED, Status.SUSPENDED)


@dataclass
class ComplianceReport:
    today: date
    statuses: dict[str, int] = field(default_factory=dict)
    transitions: list[str] = field(default_factory=list)
    state_breaches: list[str] = field(default_factory=list)

    def count(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


# ---------------------------------------------------------------- evidence per kind


def _grant_issued(version: PactVersion, today: date) -> bool:
    """A data grant issued for this pact on or before ``today``. Issued is what the State owed: a
    grant later suspended or revoked as a sanction was still delivered. (Read by app label, without
    importing the data domain.)"""
    grant = apps.get_model("data", "Grant")
    return bool(
        grant._default_manager.filter(pact=version.pact, issued_at__date__lte=today).exists()
    )


def _mentions_algorithm(c: Commitment) -> bool:
    text = f"{c.key} {c.text} {c.indicator} {c.threshold}".lower()
    return "algorithm" in text or "algorithme" in text


def evidence_for(c: Commitment, version: PactVersion, today: date) -> tuple[bool | None, str]:
    """(met?, note) from evidence the platform holds; None when the platform does not compute it."""
    project = version.pact.project
    scope = Q(project=project) & (Q(pact__isnull=True) | Q(pact=version.pact))
    kind = c.evidence_kind
    if kind == "evaluation":
        e = (
            Evaluation.objects.filter(scope, status="published", published_on__lte=today)
            .order_by("published_on")
            .first()
        )
        return (
            e is not None,
            f"Évaluation publiée le {e.published_on:%d/%m/%Y} : {e.title}" if e else "",
        )
    if kind == "audit" and c.principle != "accessibility":
        audits = Audit.objects.filter(scope, published_on__lte=today)
        if c.key.startswith("remediation-audit-"):
            try:
                after = int(c.key.rsplit("-", 1)[1])
            except ValueError:
                after = 0
            audits = audits.filter(pk__gt=after)
        latest = audits.order_by("-published_at").first()
        if latest is None:
            return (False, "")
        if latest.breach_count:
            return (
                False,
                f"Dernier audit ({latest.published_on:%d/%m/%Y}) : {latest.breach_count} écart(s) hors bande",
            )
        return (True, f"Audit publié le {latest.published_on:%d/%m/%Y} sans écart hors bande")
    if kind == "publication" and _mentions_algorithm(c):
        s = AlgorithmSheet.objects.filter(
            project=project, status="published", published_on__lte=today
        ).first()
        return (
            s is not None,
            f"Fiche algorithme publiée le {s.published_on:%d/%m/%Y}" if s else "",
        )
    if kind == "panel":
        p = PanelCall.objects.filter(scope, opened_on__lte=today).order_by("opened_on").first()
        return (p is not None, f"Panel ouvert le {p.opened_on:%d/%m/%Y} : {p.title}" if p else "")
    if kind == "grant":
        issued = _grant_issued(version, today)
        return (issued, "Accès aux données accordé" if issued else "")
    return (None, "")


def status_for(c: Commitment, met: bool | None, today: date) -> str:
    if met or (met is None and c.status == Commitment.State.MET):
        return Commitment.State.MET
    if c.due_date is None:
        return Commitment.State.ON_TRACK
    if today > c.due_date + timedelta(days=BREACH_GRACE_DAYS):
        return Commitment.State.BREACHED
    if today > c.due_date:
        return Commitment.State.MISSED
    if (c.due_date - today).days <= settings.COMMITMENT_DUE_SOON_DAYS:
        return Commitment.State.DUE_SOON
    return Commitment.State.ON_TRACK


# ---------------------------------------------------------------- the run


def _notify_state_breach(version: PactVersion, c: Commitment) -> None:
    pact = version.pact
    recipients = [
        m.user.email
        for m in Membership.objects.filter(
            organisation_id__in=(pact.project.carrier_id, pact.institution_id)
        ).select_related("user")
        if m.user.email
    ]
    notify(
        recipients,
        f"Manquement de l'institution sur {pact.reference}",
        f"Pacte {pact.reference} — {pact.project.name}.\nEngagement de l'institution non tenu : {c.text}\n"
        f"Échéance : {c.due_date:%d/%m/%Y}.\n",
        event="pact.state_breach",
    )


def _update_commitments(version: PactVersion, today: date, report: ComplianceReport) -> None:
    for c in version.commitments.select_for_update(no_key=True).order_by("id"):
        met, note = evidence_for(c, version, today)
        new = status_for(c, met, today)
        report.count(new)
        if new == c.status and not (met and c.progress != 100):
            continue
        old = c.status
        c.status = new
        if new == Commitment.State.MET:
            c.progress = 100
            if note:
                c.evidence_note = note
        elif met is False and old == Commitment.State.MET:
            c.progress = 0
        c.status_changed_at = timezone.now()
        c.save(update_fields=["status", "progress", "evidence_note", "status_changed_at"])
        if new == old:
            continue
        record_event(
            f"commitment.{new}",
            actor=SYSTEM,
            subject_type="pact",
            subject_id=version.pact.reference,
            project_slug=version.pact.project.slug,
            data={
                "version": version.number,
                "commitment": c.key,
                "owner": c.owner,
                "previous": old,
                "due_date": c.due_date.isoformat() if c.due_date else None,
                "as_of": today.isoformat(),
                "evidence": note or None,
                "engine": "compliance",
            },
        )
        if new == Commitment.State.BREACHED and c.owner == Commitment.Owner.INSTITUTION:
            report.state_breaches.append(f"{version.pact.reference}:{c.key}")
            _notify_state_breach(version, c)


def _step_pact(version: PactVersion, today: date, report: ComplianceReport) -> None:
    ref = version.pact.reference
    breached = list(
        version.commitments.filter(
            owner=Commitment.Owner.CARRIER, status=Commitment.State.BREACHED
        ).values_list("key", flat=True)
    )
    case = version.compliance_cases.filter(
        status__in=(ComplianceCase.State.NOTIFIED, ComplianceCase.State.SUSPENDED)
    ).first()
    cure_days = parse_content(version.content).cure_days
    if case is not None and version.status == Status.ACTIVE:
        case.status, case.closed_on = (
            ComplianceCase.State.CURED,
            today,
        )  # a person cured it meanwhile
        case.save()
        case = None
    if case is None:
        if version.status != Status.ACTIVE or not breached:
            return
        reason = (
            f"Engagement(s) du porteur non tenu(s) à l'échéance : {', '.join(breached)} "
            f"(constat du moteur de conformité au {today:%d/%m/%Y})."
        )
        deadline = today + timedelta(days=cure_days)
        pact_sanctions.notify_breach(
            policy.SYSTEM, version, reason, cure_days=cure_days, today=today
        )
        ComplianceCase.objects.create(
            version=version,
            commitment_keys=breached,
            reason=reason,
            opened_on=today,
            cure_deadline=deadline,
        )
        report.transitions.append(f"{ref}: breach_notified")
        return
    keys = sorted(set(case.commitment_keys) | set(breached))
    if keys != case.commitment_keys:
        case.commitment_keys = keys
        case.save(update_fields=["commitment_keys"])
    unresolved = list(
        version.commitments.filter(key__in=keys)
        .exclude(status=Commitment.State.MET)
        .values_list("key", flat=True)
    )
    if not unresolved:
        if version.status == Status.BREACH_NOTIFIED:
            pact_sanctions.cure(
                policy.SYSTEM,
                version,
                f"Preuve reçue pour {', '.join(keys)} pendant le délai de remédiation.",
            )
            report.transitions.append(f"{ref}: cured")
        elif version.status == Status.SUSPENDED:
            pact_sanctions.reinstate(
                policy.SYSTEM,
                version,
                f"Preuve reçue pour {', '.join(keys)} : le pacte est rétabli.",
            )
            report.transitions.append(f"{ref}: reinstated")
        case.status, case.closed_on = ComplianceCase.State.CURED, today
        case.save()
        return
    if version.status == Status.BREACH_NOTIFIED and today > case.cure_deadline:
        pact_sanctions.suspend(
            policy.SYSTEM,
            version,
            f"Délai de remédiation écoulé le {case.cure_deadline:%d/%m/%Y} sans preuve pour "
            f"{', '.join(unresolved)} : sanctions prévues par le pacte appliquées.",
        )
        case.status, case.suspended_on = ComplianceCase.State.SUSPENDED, today
        case.break_on = today + timedelta(days=cure_days)
        case.save()
        report.transitions.append(f"{ref}: suspended")
    elif version.status == Status.SUSPENDED and case.break_on and today > case.break_on:
        pact_sanctions.break_pact(
            policy.SYSTEM,
            version,
            f"Toujours aucune preuve pour {', '.join(unresolved)} après la suspension "
            f"(échéance {case.break_on:%d/%m/%Y}) : le pacte est rompu.",
        )
        case.status, case.closed_on = ComplianceCase.State.BROKEN, today
        case.save()
        report.transitions.append(f"{ref}: broken")


def lock_for_compliance(project: Project | None = None) -> list[PactVersion]:
    """Lock, before any event is written, every row the engine may change: the live pact
    versions (of the project, or all), then their commitments, each kind in primary-key
    order (a sanction's listeners lock the pact's grants themselves, before the pact's events). A use case that runs the engine after its own change (publishing an evaluation,
    an audit, a sheet, opening a panel) calls this BEFORE its own event, so that the log's
    lock stays the last one taken (lock order: :mod:`pacte.journal.services`). Returns the
    versions locked."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "lock_for_compliance must run inside the transaction that runs the engine"
        )
    live = PactVersion.objects.filter(status__in=LIVE)
    if project is not None:
        live = live.filter(pact__project=project)
    versions = list(
        PactVersion.objects.select_for_update(of=("self",), no_key=True)
        .select_related("pact")
        .filter(pk__in=live.values("pk"))
        .order_by("pk")
    )
    list(
        Commitment.objects.select_for_update(of=("self",), no_key=True)
        .filter(version__in=[v.pk for v in versions])
        .order_by("pk")
        .only("pk")
    )
    return versions


@retry_on_conflict
@transaction.atomic
def run_compliance(
    today: date | None = None, *, project: Project | None = None
) -> ComplianceReport:
    today = today or timezone.localdate()
    report = ComplianceReport(today=today)
    # only the versions locked up front: one that came into force since is left to the next run
    # (locking it now, after this run's first event, would break the lock order)
    locked = [v.pk for v in lock_for_compliance(project)]
    versions = PactVersion.objects.select_related(
        "pact__project__carrier", "pact__institution"
    ).filter(pk__in=locked, status__in=LIVE)
    for version in versions.order_by("pact__reference", "number"):
        _update_commitments(version, today, report)
        _step_pact(version, today, report)
    return report
