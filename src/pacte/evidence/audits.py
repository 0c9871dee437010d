"""Bias audits (C3): an independent evaluator publishes the audit of an algorithm's decisions per
group against the pact's tolerated band; a breach opens a remediation commitment on the pact."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.services import Acting
from pacte.engines import bias
from pacte.errors import ValidationFailed
from pacte.evidence import events
from pacte.evidence.compliance import lock_for_compliance, run_compliance
from pacte.evidence.csv_tables import AuditTable, parse_audit_csv
from pacte.evidence.inputs import required_text
from pacte.evidence.models import Audit
from pacte.evidence.selectors import live_version
from pacte.pacts.models import Commitment, PactVersion
from pacte.pacts.schema import parse_content
from pacte.projects.models import Project
from pacte.writes.retry import retry_on_conflict

REMEDIATION_DAYS = 90
DEFAULT_BAND = (0.8, 1.25)


def pact_band(version: PactVersion | None) -> tuple[tuple[float, float], str]:
    """The pact's tolerated ratio when stricter than the 80 % rule, else the default band."""
    if version is not None:
        ratios = [r.tolerated_ratio for r in parse_content(version.content).bias_risks]
        strictest = max(ratios, default=0.0)
        if strictest > DEFAULT_BAND[0]:
            return (strictest, round(1 / strictest, 6)), _(
                "seuil du pacte %(pact)s (%(ratio)s)"
            ) % {"pact": version.pact.reference, "ratio": f"{strictest:g}"}
    return DEFAULT_BAND, _("règle des 80 % (bande [0,8 ; 1,25])")


def _json_safe(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
        for r in rows
    ]


@retry_on_conflict
@transaction.atomic
def publish_audit(
    acting: Acting,
    project: Project,
    *,
    title: str,
    decision: str,
    csv_data: bytes | None = None,
    table: AuditTable | None = None,
    min_group_size: int = 30,
    n_bootstrap: int = 200,
    reference_group: str | None = None,
    today: date | None = None,
) -> Audit:
    policy.require(acting, policy.Action.PROJECT_EVALUATE, project)
    title = required_text(title, "title", _("Donnez un titre à l'audit."))
    decision = required_text(decision, "decision", _("Indiquez la décision auditée."))
    if not 5 <= min_group_size <= 10_000:
        raise ValidationFailed(_("La taille minimale de groupe va de 5 à 10 000."))
    if table is None:
        table = parse_audit_csv(csv_data or b"")
    v = live_version(project)
    band, band_source = pact_band(v)
    try:
        result = bias.audit(
            table.y_true,
            table.y_pred,
            table.groups,
            in_need=table.in_need,
            reference_group=reference_group or None,
            band=band,
            min_group_size=min_group_size,
            n_bootstrap=n_bootstrap,
            seed=int(table.sha256[:8], 16),
        )
    except ValueError as exc:
        raise ValidationFailed(_("Audit impossible : %(error)s.") % {"error": exc}) from exc
    today = today or timezone.localdate()
    audit = Audit.objects.create(
        project=project,
        pact=v.pact if v else None,
        auditor=acting.organisation,
        title=title,
        decision=decision,
        band_low=band[0],
        band_high=band[1],
        band_source=band_source,
        min_group_size=min_group_size,
        reference_group=result.reference_group,
        n_rows=len(table.groups),
        data_sha256=table.sha256,
        rows=_json_safe(result.rows()),
        groups=[{"group": g.group, "n": g.n, "n_in_need": g.n_in_need} for g in result.groups],
        breach_count=len(result.breaches),
        insufficient_count=len(result.insufficient),
        published_at=timezone.now(),
        published_on=today,
    )
    breaches = [
        {"group": c.group, "metric": c.metric, "ratio": round(c.ratio or 0, 4)}
        for c in result.breaches
    ]
    lock_for_compliance(project)  # lock order: what run_compliance changes, before the log
    events.record(
        "audit.published",
        acting,
        "audit",
        audit.pk,
        project,
        title=title,
        decision=decision,
        band=list(band),
        band_source=band_source,
        reference_group=result.reference_group,
        n_rows=audit.n_rows,
        breaches=breaches,
        insufficient=len(result.insufficient),
        data_sha256=table.sha256,
        pact=v.pact.reference if v else None,
    )
    if breaches and v is not None:
        audit.remediation_key = _open_remediation(v, audit, result, today)
        Audit.objects.filter(pk=audit.pk).update(remediation_key=audit.remediation_key)
    run_compliance(today, project=project)
    return audit


def _open_remediation(
    version: PactVersion, audit: Audit, result: bias.AuditResult, today: date
) -> str:
    """A carrier commitment on the live pact: bring the audited gaps back into the band by the next audit."""
    label = bias.METRIC_LABELS_FR[result.breaches[0].metric].lower()
    key = f"remediation-audit-{audit.pk}"
    listed = "; ".join(
        _("%(group)s (%(metric)s : rapport %(ratio)s)")
        % {
            "group": c.group,
            "metric": bias.METRIC_LABELS_FR[c.metric].lower(),
            "ratio": f"{c.ratio:.2f}",
        }
        for c in result.breaches[:5]
    )
    c = Commitment.objects.create(
        version=version,
        key=key,
        owner=Commitment.Owner.CARRIER,
        principle="equality",
        text=_("Corriger les écarts trouvés par l'audit « %(title)s » : %(gaps)s.")
        % {"title": audit.title, "gaps": listed},
        indicator=_("Rapport de %(metric)s au groupe de référence dans la bande")
        % {"metric": label},
        threshold=_("[%(low)s ; %(high)s] au prochain audit")
        % {"low": f"{audit.band_low:.2f}", "high": f"{audit.band_high:.2f}"},
        due_date=today + timedelta(days=REMEDIATION_DAYS),
        evidence_kind="audit",
        status=Commitment.State.ON_TRACK,
        status_changed_at=timezone.now(),
    )
    # the remediation belongs to the pact's public page of the log, written by the platform
    events.record_on_pact(
        "remediation.opened",
        version,
        {
            "version": version.number,
            "commitment": c.key,
            "audit": audit.pk,
            "owner": c.owner,
            "due_date": c.due_date.isoformat() if c.due_date else None,
            "breaches": [
                {"group": b.group, "metric": b.metric, "ratio": round(b.ratio or 0, 4)}
                for b in result.breaches
            ],
        },
    )
    return key
