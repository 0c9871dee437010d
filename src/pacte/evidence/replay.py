"""The public replay of an experiment's assignment, computed once and served from then on.

`replay_from_log` recomputes the allocation of every unit from the public log (for the
demo, 200,000 HMACs and as many rows read): the same check `pacte evidence replay SLUG` runs for
anyone, on their own machine. Its inputs never change once the assignment is logged (log entries
are append-only, assignments are written once), so the result is stored with the experiment the
first time it is computed — by the worker right after the assignment, or by the first reader —
and the public API serves the stored result. Before the assignment there is nothing to replay
yet and the (cheap) answer is not stored.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.engines import assignment as asg
from pacte.errors import NotFound
from pacte.evidence.models import Experiment
from pacte.journal.models import Event

# One computation at a time in a process: concurrent first readers wait for it instead of
# recomputing the same allocation side by side.
_computing = threading.Lock()


@dataclass
class ReplayReport:
    experiment: str
    ok: bool
    checks: list[tuple[str, bool]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def replay_from_log(slug: str) -> ReplayReport:
    """Recompute an experiment's allocation from its public log entries alone."""
    entries = [
        json.loads(e.entry)
        for e in Event.objects.filter(subject_type="experiment", subject_id=slug).order_by("index")
    ]
    if not entries:
        raise NotFound(
            _("Aucune entrée du journal pour l'expérimentation « %(slug)s ».") % {"slug": slug}
        )
    report = ReplayReport(experiment=slug, ok=False)
    pre = next((e for e in entries if e["type"] == "experiment.preregistered"), None)
    done = next((e for e in entries if e["type"] == "experiment.assigned"), None)
    report.checks.append((_("plan d'analyse pré-enregistré"), pre is not None))
    report.checks.append((_("affectation inscrite au journal"), done is not None))
    if pre is None or done is None:
        return report
    order_ok = entries.index(pre) < entries.index(done)
    report.checks.append((_("pré-enregistrement antérieur à l'affectation"), order_ok))
    plan_ok = asg.analysis_plan_hash(pre["data"]["plan"]) == pre["data"]["plan_hash"]
    report.checks.append((_("empreinte du plan d'analyse"), plan_ok))
    seed = bytes.fromhex(done["data"]["seed"])
    seed_ok = asg.verify_seed(seed, pre["data"]["seed_commitment"])
    report.checks.append((_("graine conforme à l'engagement pré-enregistré"), seed_ok))
    if not seed_ok:
        return report
    ids = asg.expand_units(done["data"]["units"])
    redone = asg.assign(
        ids,
        seed,
        arms=done["data"]["arms"],
        ratio=done["data"]["ratio"],
        strata=done["data"].get("strata"),
    )
    digest_ok = asg.allocation_digest(redone) == done["data"]["allocation_sha256"]
    report.checks.append((_("affectation recalculée identique à celle publiée"), digest_ok))
    exp = Experiment.objects.filter(slug=slug).first()
    if exp is not None:
        stored = dict(exp.assignments.values_list("unit_id", "arm"))
        report.checks.append((_("affectation enregistrée identique au recalcul"), stored == redone))
    report.counts = dict(sorted(Counter(redone.values()).items()))
    report.ok = all(ok for _label, ok in report.checks)
    return report


def report_as_json(report: ReplayReport) -> dict[str, Any]:
    return {
        "experiment": report.experiment,
        "ok": report.ok,
        "checks": [{"check": label, "ok": ok} for label, ok in report.checks],
        "counts": report.counts,
    }


def _final(exp: Experiment | None) -> bool:
    return exp is not None and exp.status == Experiment.State.ASSIGNED


def compute_and_store(slug: str) -> dict[str, Any]:
    """Recompute from the log now and, once the assignment is logged, store the result."""
    data = report_as_json(replay_from_log(slug))
    data["checked_at"] = timezone.now().isoformat()
    exp = Experiment.objects.filter(slug=slug).only("pk", "status").first()
    if exp is not None and _final(exp):
        # Only the first stored result counts; a concurrent writer's identical one is kept.
        Experiment.objects.filter(pk=exp.pk, replay_report__isnull=True).update(replay_report=data)
    return data


def _stored(slug: str) -> dict[str, Any] | None:
    report: dict[str, Any] | None = (
        Experiment.objects.filter(slug=slug).values_list("replay_report", flat=True).first()
    )
    return report


def published_replay(slug: str) -> dict[str, Any]:
    """The stored replay if there is one, else computed (once) and stored."""
    stored = _stored(slug)
    if stored is not None:
        return stored
    with _computing:
        stored = _stored(slug)
        if stored is not None:
            return stored
        return compute_and_store(slug)
