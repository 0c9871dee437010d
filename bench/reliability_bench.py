"""Reliability under concurrent writes and faults (issue 9), on a throw-away PostgreSQL.

    bash -c '. scripts/pg.sh; pg_start; PGBIN=$PGBIN PGDIR=$PGDIR \\
             .venv/bin/python bench/reliability_bench.py --db "$PACTE_PG_URL" --duration 60'

Loads the demo into the given (empty) database, starts `pacte serve` (gunicorn, 2 workers ×
4 threads) on 127.0.0.1, then runs two phases of --duration seconds, with 8 and then 32
writers. Each writer loops over the API's write endpoints with demo API tokens: draft a
pact, withdraw one of its drafts, deposit commitment evidence on the active demo pact, and
ask a tier-3 DP aggregate with a small ρ. Every POST carries an Idempotency-Key; a request
that gets no answer (connection lost, timeout) or a 5xx is retried with the same key, as a
careful client would, a bounded number of times. In each phase: PostgreSQL is restarted
with `pg_ctl restart -m immediate` at 40 % of the time, one gunicorn worker is killed with
SIGKILL at 70 %, and a side thread sends malformed requests (NUL bytes, lone surrogates,
huge integers, a 10 MB body…; --malformed in all) beside the good traffic.

Then it checks, in the database: every acknowledged write is present exactly once in its
table and in the log (pacts by a unique title, withdrawals by status and event, evidence
by the hash of a unique note, DP releases by release id), no logical write (one key) made
two objects, `pacte log verify` passes on an export (and `pacte log audit` on the database) and no DP reservation is left `reserved`; and prints
one table. Traffic goes to 127.0.0.1 only; counts and time are bounded. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
PACTE = str(ROOT / ".venv" / "bin" / "pacte")
REGIONS = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93"]
CONTRACTS = [
    ["CDI"],
    ["CDD"],
    ["MIS"],
    ["CDI", "CDD"],
    ["CDI", "MIS"],
    ["CDD", "MIS"],
    ["CDI", "CDD", "MIS"],
]
ATTEMPTS = 40  # per logical write: enough to outlast a database restart
TIMEOUT = 30.0


@dataclass
class Phase:
    writers: int
    writes: int = 0  # logical writes started
    requests: int = 0  # HTTP requests sent (retries included)
    acks: int = 0  # logical writes acknowledged (2xx)
    refused: int = (
        0  # 4xx answers (e.g. DP budget exhausted, a transition another writer made first)
    )
    errors_5xx: int = 0
    errors_503: int = 0
    by_status: dict[int, int] = field(default_factory=dict)  # 5xx answers by status code
    no_answer: int = 0  # connection lost / timeout
    gave_up: int = 0  # logical writes still unanswered after ATTEMPTS
    fault_at: float = 0.0  # PostgreSQL restart begins
    kill_at: float = 0.0  # a gunicorn worker is killed
    first_event: int = 0  # log index before the phase
    last_event: int = 0  # log index after the phase
    five_xx_times: list[float] = field(default_factory=list)
    error_times: list[float] = field(default_factory=list)  # 5xx and unanswered requests

    def recovery(self) -> float:
        """Seconds from the database restart to the last failed request it caused (before
        the worker kill): how long writers saw errors."""
        end = self.kill_at or float("inf")
        during = [t for t in self.error_times if self.fault_at <= t < end]
        return max(during) - self.fault_at if during else 0.0

    # (event type, subject id) → [acknowledged, sent but unanswered]: what the log must hold
    expected: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    endpoints: dict[str, list[int]] = field(default_factory=dict)  # endpoint → [acks, 4xx, 5xx]
    releases: list[str] = field(default_factory=list)
    uncertain: set[str] = field(
        default_factory=set
    )  # subjects of a call left unanswered (outcome unknown)
    drafts: list[str] = field(default_factory=list)  # titles of acknowledged pact creations
    malformed: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


# Pact transitions and grant/request actions → the event each acknowledged call must leave
PACT_EVENTS = {
    "submit": "pact.submitted",
    "withdraw": "pact.withdrawn",
    "request_changes": "pact.changes_requested",
    "sign": "pact.signed",
    "notify_breach": "pact.breach_notified",
    "cure": "pact.cured",
    "suspend": "pact.suspended",
    "reinstate": "pact.reinstated",
    "break": "pact.broken",
    "complete": "pact.completed",
}
REQUEST_EVENTS = {
    "submit": "request.submitted",
    "withdraw": "request.withdrawn",
    "request-changes": "request.changes_requested",
    "refuse": "request.refused",
}
GRANT_EVENTS = {
    "suspend": "grant.suspended",
    "revoke": "grant.revoked",
    "renew": "grant.renewed",
    "token": "grant.token_rotated",
}
REASON = "Motif publié par le banc de fiabilité"
SHEET = {
    "purpose": "Proposer une liste d'entreprises à qui candidater.",
    "contribution_degree": "support",
    "contribution_mode": "Le score ordonne une liste ; la personne choisit.",
    "data_sources": [{"name": "Embauches", "source": "Agence", "description": "3 ans"}],
    "parameters": [
        {"key": "embauches", "label": "Embauches", "weight": 0.5},
        {"key": "distance_km", "label": "Distance", "weight": -0.1},
    ],
    "operations": "Somme pondérée, tri décroissant.",
    "human_oversight": "Le conseiller valide la liste.",
    "risks": "Biais territorial.",
    "objection_contact": "contestation@example.org",
}
COUNTS = {
    "n_treatment": 1000,
    "successes_treatment": 221,
    "n_control": 1000,
    "successes_control": 199,
}


def outcomes_csv(label: str) -> bytes:
    rows = (
        ["unit_id,arm,outcome"]
        + [f"{label}t{i},treatment,{int(i < 20)}" for i in range(60)]
        + [f"{label}c{i},control,{int(i < 12)}" for i in range(60)]
    )
    return ("\n".join(rows) + "\n").encode()


def audit_csv() -> bytes:
    rows = ["group,y_true,y_pred,in_need"]
    for g, n in (("Diplômés", 600), ("Sans diplôme", 400)):
        rows += [f"{g},{i % 2},{1 if i % 10 < 3 else 0},{1 if i % 5 == 0 else 0}" for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


class Writer:
    """Plays episodes that together call every write endpoint of the API (see EPISODES)."""

    grants: list[str] = []  # grants of pacts the writers made active: other writers act on them
    grants_lock = threading.Lock()

    def __init__(self, n: int, base: str, phase: Phase, ctx: dict[str, Any], stop: float) -> None:
        self.n, self.phase, self.ctx, self.stop = n, phase, ctx, stop
        self.client = httpx.Client(base_url=base, timeout=TIMEOUT)
        self.rng = random.Random(n * 7919 + phase.writers)
        self.seq = 0

    def send(
        self,
        endpoint: str,
        method: str,
        path: str,
        who: str,
        body: Any = None,
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> httpx.Response | None:
        """One logical write: same Idempotency-Key on every retry."""
        key = str(uuid.uuid4())
        ph = self.phase
        token = self.ctx["tokens"].get(who, who)
        with ph.lock:
            ph.writes += 1
        r: httpx.Response | None = None
        for _ in range(ATTEMPTS):
            with ph.lock:
                ph.requests += 1
            try:
                kwargs: dict[str, Any] = (
                    {"files": files, "data": data}
                    if files
                    else ({"json": body if body is not None else {}} if method != "delete" else {})
                )
                r = self.client.request(
                    method.upper(),
                    path,
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                    **kwargs,
                )
            except httpx.HTTPError:
                r = None
                with ph.lock:
                    ph.no_answer += 1
                    ph.error_times.append(time.monotonic())
                time.sleep(0.25)
                continue
            if r.status_code >= 500:
                with ph.lock:
                    ph.errors_5xx += 1
                    ph.errors_503 += r.status_code == 503
                    ph.by_status[r.status_code] = ph.by_status.get(r.status_code, 0) + 1
                    ph.five_xx_times.append(time.monotonic())
                    ph.error_times.append(time.monotonic())
                    ph.endpoints.setdefault(endpoint, [0, 0, 0])[2] += 1
                r = None
                time.sleep(0.25)
                continue
            break
        with ph.lock:
            if r is None:
                ph.gave_up += 1
            elif r.status_code < 300:
                ph.acks += 1
                ph.endpoints.setdefault(endpoint, [0, 0, 0])[0] += 1
            else:
                ph.refused += 1
                ph.endpoints.setdefault(endpoint, [0, 0, 0])[1] += 1
        return r

    def expect(self, r: httpx.Response | None, event: str, subject: str | int) -> None:
        """The log must hold one `event` on `subject` per acknowledged call (and at most one
        more per call left unanswered: committed but unacknowledged is not a duplicate)."""
        with self.phase.lock:
            slot = self.phase.expected.setdefault((event, str(subject)), [0, 0])
            if r is None:
                slot[1] += 1
                self.phase.uncertain.add(str(subject))
            elif r.status_code < 300:
                slot[0] += 1

    @staticmethod
    def ok(r: httpx.Response | None) -> bool:
        return r is not None and r.status_code < 300

    # ---------------------------------------------------------------- episodes

    def transition(self, ref: str, number: int, action: str, who: str) -> httpx.Response | None:
        r = self.send(
            f"pact {action}",
            "post",
            f"/api/v1/pacts/{ref}/versions/{number}/transitions/{action}",
            who,
            {"reason": REASON},
        )
        event = PACT_EVENTS.get(action)
        if action == "approve":
            event = (
                "pact.review_recorded"
                if self.ok(r) and r.json()["status"] == "submitted"
                else "pact.approved"
            )
        if self.ok(r) or r is None:
            self.expect(r, event or "", ref)
        return r

    def evidence(self, ref: str, number: int, key: str, label: str) -> None:
        r = self.send(
            "pact evidence",
            "post",
            f"/api/v1/pacts/{ref}/versions/{number}/commitments/{key}/evidence",
            "carrier",
            {"progress": self.rng.randint(0, 99), "note": f"Preuve déposée par le banc {label}"},
        )
        self.expect(r, "commitment.evidence", ref)

    def pact_life(self, label: str) -> None:
        """A pact from draft to active, a data request from it, then sanctions or completion."""
        content = {**self.ctx["content"], "title": label}
        r = self.send(
            "pact create",
            "post",
            "/api/v1/pacts",
            "carrier",
            {
                "project": self.ctx["project"],
                "institution": self.ctx["institution"],
                "content": content,
            },
        )
        if not self.ok(r):
            return
        ref = r.json()["pact"]
        self.expect(r, "pact.drafted", ref)
        with self.phase.lock:
            self.phase.drafts.append(label)
        if self.rng.random() < 0.3:  # a plain draft, withdrawn
            self.transition(ref, 1, "withdraw", "carrier")
            return
        self.send(
            "pact update",
            "put",
            f"/api/v1/pacts/{ref}/versions/1",
            "carrier",
            {
                "content": {
                    **content,
                    "mission": {**content["mission"], "territory": "Centre-Val de Loire"},
                }
            },
        )
        self.transition(ref, 1, "submit", "carrier")
        self.transition(ref, 1, "request_changes", "reviewer")
        r = self.send("pact new version", "post", f"/api/v1/pacts/{ref}/versions", "carrier")
        if self.ok(r) or r is None:
            self.expect(r, "pact.revised", ref)
        self.send(
            "pact update", "put", f"/api/v1/pacts/{ref}/versions/2", "carrier", {"content": content}
        )
        self.transition(ref, 2, "submit", "carrier")
        r = self.transition(ref, 2, "approve", "reviewer")
        if self.ok(r) and r.json()["status"] == "submitted":
            self.transition(ref, 2, "approve", "reviewer2")
        self.transition(ref, 2, "sign", "carrier")
        r = self.transition(ref, 2, "sign", "signatory")
        if not self.ok(r) or r.json()["status"] != "active":
            return
        self.evidence(ref, 2, self.ctx["new_commitment"], label)
        grant = self.data_request(ref, approve=True)
        if grant:
            with Writer.grants_lock:
                Writer.grants.append(grant)
        if self.rng.random() < 0.5:
            for action in ("notify_breach", "cure", "complete"):
                self.transition(ref, 2, action, "reviewer")
        else:
            for action in (
                "notify_breach",
                "suspend",
                "reinstate",
                "notify_breach",
                "suspend",
                "break",
            ):
                self.transition(ref, 2, action, "reviewer")

    def request_action(
        self, ref: str, action: str, who: str, body: dict[str, Any] | None = None
    ) -> httpx.Response | None:
        r = self.send(
            f"data request {action}",
            "post",
            f"/api/v1/data-requests/{ref}/{action}",
            who,
            body or {"reason": REASON},
        )
        event = REQUEST_EVENTS.get(action) or {
            "approved": "request.approved",
            "refused": "request.refused",
        }.get(r.json()["status"] if self.ok(r) else "", "request.review_recorded")
        if self.ok(r) or r is None:
            self.expect(r, event, ref)
        return r

    def data_request(self, pact: str, *, approve: bool = False, end: str = "") -> str:
        body = {
            "pact": pact,
            "dataset": self.ctx["dp_dataset"],
            "tier": 3,
            "columns": self.ctx["dp_columns"],
            "purpose": f"Repérer les entreprises qui recrutent (banc, écrivain {self.n}).",
            "legal_basis": "Mission d'intérêt public",
            "retention_months": 12,
            "recipients": "Équipe projet",
            "dpo_contact": "dpo@example.org",
            "volumetry": "10 requêtes par semaine",
        }
        r = self.send("data request create", "post", "/api/v1/data-requests", "carrier", body)
        if not self.ok(r):
            return ""
        ref = r.json()["reference"]
        self.expect(r, "request.drafted", ref)
        if end == "withdraw":
            self.request_action(ref, "withdraw", "carrier")
            return ""
        self.send(
            "data request update",
            "patch",
            f"/api/v1/data-requests/{ref}",
            "carrier",
            {"retention_months": 6},
        )
        self.request_action(ref, "submit", "carrier")
        if end == "refuse":
            self.request_action(ref, "refuse", "reviewer")
            return ""
        if end == "changes":
            self.request_action(ref, "request-changes", "reviewer")
            return ""
        if approve:
            for who in ("reviewer", "reviewer2", "steward"):
                r = self.request_action(
                    ref, "approve", who, {"population": 3_000_000, "severity": 2}
                )
                if self.ok(r) and r.json()["status"] != "submitted":
                    return str(r.json().get("grant") or "")
        return ""

    def requests(self, label: str) -> None:
        self.data_request(
            self.ctx["active_pact"], end=self.rng.choice(["withdraw", "refuse", "changes"])
        )

    def grant_actions(self, label: str) -> None:
        with Writer.grants_lock:
            grant = self.rng.choice(Writer.grants) if Writer.grants else ""
        if not grant:
            return self.gateway(label)
        for action, who in (
            ("token", "carrier"),
            ("renew", "steward"),
            ("suspend", "reviewer"),
            ("reinstate", "reviewer"),
            ("revoke", "steward"),
        ):
            if action == "revoke" and self.rng.random() < 0.7:
                continue
            r = self.send(
                f"grant {action}",
                "post",
                f"/api/v1/grants/{grant}/{action}",
                who,
                {"reason": REASON},
            )
            event = GRANT_EVENTS.get(action) or (
                "grant.expired"
                if self.ok(r) and r.json().get("state") == "expired"
                else "grant.reinstated"
            )
            if self.ok(r) or r is None:
                self.expect(r, event, grant)

    def gateway(self, label: str) -> None:
        body = {
            "group_by": ["naf_sector"],
            "filters": [
                {"column": "region", "op": "eq", "value": self.rng.choice(REGIONS)},
                {"column": "contract_type", "op": "in", "value": self.rng.choice(CONTRACTS)},
            ],
            "rho": 0.0005,
        }
        r = self.send(
            "dp aggregates", "post", f"/api/v1/data/{self.ctx['dp_dataset']}/aggregates", "dp", body
        )
        if self.ok(r):
            with self.phase.lock:
                self.phase.releases.append(r.json()["release_id"])
        self.send(
            "secure room",
            "post",
            f"/api/v1/data/{self.ctx['room_dataset']}/secure-room",
            "room",
            {"sql": "SELECT sex, COUNT(*) AS n FROM donnees GROUP BY sex"},
        )
        self.evidence(
            self.ctx["active_pact"], self.ctx["active_number"], self.ctx["commitment"], label
        )

    def evaluations(self, label: str) -> None:
        body = {"project": self.ctx["project"], "title": f"Évaluation {label}", "counts": COUNTS}
        r = self.send("evaluation create", "post", "/api/v1/evaluations", "evaluator", body)
        if self.ok(r):
            pk = r.json()["id"]
            r = self.send(
                "evaluation publish", "post", f"/api/v1/evaluations/{pk}/publish", "evaluator"
            )
            self.expect(r, "evaluation.published", pk)
        r = self.send(
            "evaluation create",
            "post",
            "/api/v1/evaluations",
            "evaluator",
            {**body, "title": f"Brouillon {label}"},
        )
        if self.ok(r):
            pk = r.json()["id"]
            self.send(
                "evaluation update", "put", f"/api/v1/evaluations/{pk}", "evaluator", {"counts": {}}
            )
            self.send("evaluation delete", "delete", f"/api/v1/evaluations/{pk}", "evaluator")
        self.send(
            "evaluation upload",
            "post",
            "/api/v1/evaluations/upload",
            "evaluator",
            files={"file": ("r.csv", outcomes_csv(label), "text/csv")},
            data={"project": self.ctx["project"], "title": f"Fichier {label}"},
        )
        r = self.send(
            "audit publish",
            "post",
            "/api/v1/audits",
            "evaluator",
            files={"file": ("a.csv", audit_csv(), "text/csv")},
            data={
                "project": self.ctx["project"],
                "title": f"Audit {label}",
                "decision": "Mise en avant",
            },
        )
        if self.ok(r):
            self.expect(r, "audit.published", r.json()["id"])

    def panels_experiments_sheets(self, label: str) -> None:
        r = self.send(
            "panel open",
            "post",
            "/api/v1/panels",
            "reviewer",
            {
                "project": self.ctx["project"],
                "title": f"Panel {label}",
                "target_size": 3,
                "targets": {"16-25": 3},
            },
        )
        if self.ok(r):
            pk = r.json()["id"]
            self.expect(r, "panel.opened", pk)
            r = self.send("panel draw", "post", f"/api/v1/panels/{pk}/draw", "reviewer")
            if self.ok(r) or r is None:
                self.expect(r, "panel.drawn", pk)
        slug = f"exp-{label}"[:60].lower()
        r = self.send(
            "experiment design",
            "post",
            "/api/v1/experiments",
            "carrier",
            {
                "project": self.ctx["project"],
                "hypothesis": "Une hypothèse testable ici.",
                "slug": slug,
                "outcome": "Retour à l'emploi",
                "baseline_rate": 0.2,
                "mde_points": 5,
            },
        )
        if self.ok(r):
            self.expect(r, "experiment.designed", slug)
            r = self.send(
                "experiment preregister",
                "post",
                f"/api/v1/experiments/{slug}/preregister",
                "carrier",
            )
            self.expect(r, "experiment.preregistered", slug)
            r = self.send(
                "experiment assign",
                "post",
                f"/api/v1/experiments/{slug}/assign",
                "carrier",
                {"unit_ids": [f"{label}-{i}" for i in range(20)]},
            )
            self.expect(r, "experiment.assigned", slug)
        r = self.send(
            "sheet create",
            "post",
            "/api/v1/algorithm-sheets",
            "carrier",
            {**SHEET, "project": self.ctx["project"], "title": f"Fiche {label}"},
        )
        if self.ok(r):
            pk = r.json()["id"]
            r = self.send(
                "sheet publish", "post", f"/api/v1/algorithm-sheets/{pk}/publish", "carrier"
            )
            self.expect(r, "algorithm_sheet.published", pk)
            self.send(
                "sheet explain",
                "post",
                f"/api/v1/algorithm-sheets/{pk}/explain",
                "carrier",
                {"situation": {"embauches": 3, "distance_km": 4}},
            )

    def run(self) -> None:
        episodes = [
            self.pact_life,
            self.pact_life,
            self.requests,
            self.grant_actions,
            self.gateway,
            self.gateway,
            self.evaluations,
            self.panels_experiments_sheets,
        ]
        while time.monotonic() < self.stop:
            self.seq += 1
            label = f"bench-{self.phase.writers}-{self.n}-{self.seq}-{uuid.uuid4().hex[:8]}"
            self.rng.choice(episodes)(label)
        self.client.close()


def malformed_requests(base: str, phase: Phase, count: int, stop: float, token: str) -> None:
    """Bad input beside the good traffic: each kind in turn, spread over the phase."""
    big = b'{"project": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    kinds = [
        (
            "NUL JSON",
            lambda c: c.post(
                "/api/v1/pacts",
                content=b'{"project":"a\\u0000b","institution":"x"}',
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            ),
        ),
        ("NUL query", lambda c: c.get("/api/v1/projects", params={"q": "a\x00b"})),
        (
            "surrogate",
            lambda c: c.post(
                "/api/v1/pacts",
                content=b'{"project":"\\ud800","institution":"x"}',
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            ),
        ),
        ("huge int", lambda c: c.get("/api/v1/projects", params={"offset": str(2**64)})),
        (
            "huge int JSON",
            lambda c: c.post(
                "/api/v1/pacts/X/versions/1/commitments/k/evidence",
                content=b'{"progress": 1' + b"0" * 40 + b', "note": "n"}',
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            ),
        ),
        (
            "bad JSON",
            lambda c: c.post(
                "/api/v1/pacts",
                content=b'{"project": ',
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            ),
        ),
        (
            "10 MB body",
            lambda c: c.post(
                "/api/v1/pacts",
                content=big,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            ),
        ),
    ]
    client = httpx.Client(base_url=base, timeout=TIMEOUT)
    start = time.monotonic()
    span = max(stop - start, 1.0)
    for i in range(count):
        name, send = kinds[i % len(kinds)]
        if name == "10 MB body" and i % (len(kinds) * 10) >= len(kinds):
            name, send = kinds[0]  # 10 MB bodies: one in ten rounds, to keep the traffic bounded
        try:
            status = send(client).status_code
            bucket = (
                "503"
                if status == 503
                else "5xx"
                if status >= 500
                else "4xx"
                if status >= 400
                else "2xx/3xx"
            )
        except httpx.HTTPError:
            bucket = "no answer"
        with phase.lock:
            phase.malformed[bucket] = phase.malformed.get(bucket, 0) + 1
        time.sleep(max(0.0, start + span * (i + 1) / count - time.monotonic()))
    client.close()


def pg_ctl(*args: str) -> None:
    pgbin, pgdir = os.environ["PGBIN"], os.environ["PGDIR"]
    cmd = [f"{pgbin}/pg_ctl", "-D", f"{pgdir}/data", "-l", f"{pgdir}/log", *args]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")


def run_phase(
    base: str,
    writers: int,
    duration: float,
    ctx: dict[str, Any],
    malformed: int,
    master_pid: int,
    faults: bool = True,
) -> Phase:
    from django.db import connections

    from pacte.journal.models import Event

    def last_index() -> int:
        try:
            return Event.objects.order_by("-index").values_list("index", flat=True).first() or 0
        finally:
            connections.close_all()

    phase = Phase(writers, first_event=last_index())
    stop = time.monotonic() + duration
    ws = [Writer(i, base, phase, ctx, stop) for i in range(writers)]
    threads = [threading.Thread(target=w.run) for w in ws]
    threads.append(
        threading.Thread(
            target=malformed_requests, args=(base, phase, malformed, stop, ctx["tokens"]["carrier"])
        )
    )
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(max(0.0, t0 + 0.4 * duration - time.monotonic()))
    if faults:
        phase.fault_at = time.monotonic()
        pg_ctl("-m", "immediate", "-w", "restart")
    time.sleep(max(0.0, t0 + 0.7 * duration - time.monotonic()))
    children = subprocess.run(
        ["pgrep", "-P", str(master_pid)], capture_output=True, text=True
    ).stdout.split()
    if children and faults:
        phase.kill_at = time.monotonic()
        os.kill(int(children[0]), signal.SIGKILL)  # one gunicorn worker; the master forks another
    for t in threads:
        t.join()
    phase.last_event = last_index()
    return phase


def check(phase: Phase) -> dict[str, int]:
    """Lost: acknowledged, not in the log (or its table). Duplicated: more events than calls
    made (an unanswered call may have committed once: not a duplicate)."""
    from pacte.data.models import Release
    from pacte.journal.models import Event
    from pacte.pacts.models import Pact

    lost = duplicated = 0
    types = {t for t, _ in phase.expected}
    actual: dict[tuple[str, str], int] = {}
    events = (
        Event.objects.filter(
            index__gt=phase.first_event, index__lte=phase.last_event, type__in=types
        )
        .exclude(organisation_slug="")
        .values_list("type", "subject_id", "entry")
    )
    for typ, subject, entry in events.iterator():
        if typ == "commitment.evidence" and '"grant":' in entry:
            continue  # written by a grant issuance, not by a deposit
        actual[(typ, subject)] = actual.get((typ, subject), 0) + 1
    for key, (acked, unanswered) in phase.expected.items():
        n = actual.pop(key, 0)
        lost += max(0, acked - n)
        duplicated += max(0, n - acked - unanswered)
    # events of a kind no writer asked for on that subject (unless a call on it went unanswered)
    duplicated += sum(n for (_, subject), n in actual.items() if subject not in phase.uncertain)
    for title in phase.drafts:
        n = Pact.objects.filter(versions__number=1, versions__content__title=title).count()
        lost += n == 0
        duplicated += max(0, n - 1)
    for release_id in phase.releases:
        n_rows = Release.objects.filter(release_id=release_id).count()
        lost += (
            n_rows != 1
            or not Event.objects.filter(type="data.query", entry__contains=release_id).exists()
        )
        duplicated += n_rows > 1
    return {"lost": lost, "duplicated": duplicated}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", default=os.environ.get("PACTE_PG_URL", ""))
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per phase (default 60)")
    ap.add_argument("--writers", default="8,32", help="writers per phase (default 8,32)")
    ap.add_argument(
        "--malformed", type=int, default=1000, help="malformed requests in all (default 1000)"
    )
    ap.add_argument("--port", type=int, default=8799)
    ap.add_argument(
        "--no-faults",
        action="store_true",
        help="no PostgreSQL restart and no worker kill: concurrency alone",
    )
    args = ap.parse_args()
    if not args.db.startswith("postgres") or "PGBIN" not in os.environ or "PGDIR" not in os.environ:
        print(
            "Run on a throw-away PostgreSQL started by scripts/pg.sh (see the docstring): "
            "--db postgresql://…, PGBIN and PGDIR set.",
            file=sys.stderr,
        )
        return 2
    var = tempfile.mkdtemp(prefix="pacte-reliability-")
    env = {
        **os.environ,
        "PACTE_DATABASE_URL": args.db,
        "PACTE_VAR_DIR": var,
        "PACTE_LOG_LEVEL": "ERROR",
    }
    os.environ.update(
        {
            "PACTE_DATABASE_URL": args.db,
            "PACTE_VAR_DIR": var,
            "DJANGO_SETTINGS_MODULE": "pacte.settings",
        }
    )
    subprocess.run([PACTE, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([PACTE, "demo", "load"], env=env, check=True, stdout=subprocess.DEVNULL)
    import django

    django.setup()
    from django.db import connections

    from pacte.accounts.models import Organisation, User
    from pacte.accounts.services import create_api_token
    from pacte.data.models import Reservation
    from pacte.demo import pact_content
    from pacte.pacts.models import Commitment, PactVersion

    def token(username: str, org: str) -> str:
        return create_api_token(
            User.objects.get(username=username),
            Organisation.objects.get(slug=org),
            "banc de fiabilité",
        )[1]

    active = PactVersion.objects.get(
        pact__project__slug="la-bonne-boite-citoyenne", status="active"
    )
    commitment = Commitment.objects.filter(version=active, owner="carrier").order_by("id").first()
    assert commitment is not None
    demo_tokens = json.loads((Path(var) / "demo-tokens.json").read_text(encoding="utf-8"))
    dp = next(t for t in demo_tokens.values() if t["tier"] == 3)
    room = next(t for t in demo_tokens.values() if t["tier"] == 4)
    content = pact_content(
        "Pacte du banc",
        problem="Les personnes éloignées de l'emploi ne trouvent pas les "
        "entreprises qui recrutent.",
        population="Demandeurs d'emploi",
        size=10_000,
        territory="Val-de-Loire",
        outcome="Retour à l'emploi durable à 6 mois",
    )
    ctx: dict[str, Any] = {
        "tokens": {
            "carrier": token("porteur", "collectif-bonne-boite"),
            "reviewer": token("instructeur", "agence-emploi"),
            "reviewer2": token("instructeur2", "agence-emploi"),
            "signatory": token("signataire", "agence-emploi"),
            "steward": token("donnees", "agence-emploi"),
            "evaluator": token("evaluateur", "labo-evaluation"),
            "dp": dp["token"],
            "room": room["token"],
        },
        "project": "la-bonne-boite-citoyenne",
        "institution": "agence-emploi",
        "content": content,
        "active_pact": active.pact.reference,
        "active_number": active.number,
        "commitment": commitment.key,
        "new_commitment": next(c["key"] for c in content["commitments"] if c["owner"] == "carrier"),
        "dp_dataset": dp["dataset"],
        "room_dataset": room["dataset"],
        "dp_columns": [
            "region",
            "naf_sector",
            "contract_type",
            "monthly_salary_eur",
            "contract_days",
        ],
    }
    connections.close_all()

    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [PACTE, "serve", "--port", str(args.port), "--workers", "2", "--threads", "4"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(var) / "serve.log", "w"),
    )
    phases: list[Phase] = []
    try:
        for _ in range(600):  # wait until gunicorn answers (bounded)
            try:
                if httpx.get(f"{base}/sante", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        counts = [int(w) for w in args.writers.split(",")]
        for i, writers in enumerate(counts):
            share = args.malformed // len(counts) + (i < args.malformed % len(counts))
            phases.append(
                run_phase(
                    base, writers, args.duration, ctx, share, server.pid, faults=not args.no_faults
                )
            )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    # the log, verified as an outsider would (export + `pacte log verify`) and from the database
    export = Path(var) / "log-export"
    subprocess.run(
        [PACTE, "log", "export", str(export)], env=env, check=True, stdout=subprocess.DEVNULL
    )
    verify = subprocess.run(
        [PACTE, "log", "verify", "--dir", str(export), "--key", str(export / "key"), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
    )
    audit = subprocess.run([PACTE, "log", "audit"], env=env, capture_output=True, text=True)
    reserved = Reservation.objects.filter(state=Reservation.State.RESERVED).count()
    faults = (
        "sans panne injectée"
        if args.no_faults
        else "redémarrage immédiat de PostgreSQL à 40 %, SIGKILL d'un worker à 70 %"
    )
    table = Table(
        title=f"Fiabilité — PostgreSQL, gunicorn 2×4, {args.duration:g} s par phase, {faults}"
    )
    for col in (
        "écrivains",
        "écritures",
        "requêtes",
        "acquittées",
        "refus 4xx",
        "5xx",
        "5xx par statut",
        "5xx hors pannes",
        "sans réponse",
        "abandonnées",
        "erreurs après redémarrage (s)",
        "perdues",
        "dupliquées",
        "malformées (4xx/503/autre 5xx/autre)",
    ):
        table.add_column(col)
    results = [check(ph) for ph in phases]
    for ph, result in zip(phases, results, strict=True):
        windows = [(ph.fault_at, ph.fault_at + ph.recovery()), (ph.kill_at, ph.kill_at + 5.0)]
        outside = sum(1 for t in ph.five_xx_times if not any(a <= t <= b for a, b in windows if a))
        recovery = f"{ph.recovery():.1f}"
        m = ph.malformed
        other = sum(v for k, v in m.items() if k not in ("4xx", "503", "5xx"))
        table.add_row(
            str(ph.writers),
            str(ph.writes),
            str(ph.requests),
            str(ph.acks),
            str(ph.refused),
            str(ph.errors_5xx),
            " ".join(f"{k}×{v}" for k, v in sorted(ph.by_status.items())) or "—",
            str(outside),
            str(ph.no_answer),
            str(ph.gave_up),
            recovery,
            str(result["lost"]),
            str(result["duplicated"]),
            f"{m.get('4xx', 0)}/{m.get('503', 0)}/{m.get('5xx', 0)}/{other}",
        )
    console = Console(width=200)
    console.print(table)
    endpoints = Table(title="Points d'écriture (acquittées / refus 4xx / 5xx), par phase")
    endpoints.add_column("point d'écriture")
    for ph in phases:
        endpoints.add_column(f"{ph.writers} écrivains")
    for name in sorted({e for ph in phases for e in ph.endpoints}):
        endpoints.add_row(
            name, *("/".join(map(str, ph.endpoints.get(name, [0, 0, 0]))) for ph in phases)
        )
    console.print(endpoints)
    console.print(
        f"pacte log verify : {'OK' if verify.returncode == 0 else 'ÉCHEC'} — "
        f"{(verify.stdout or verify.stderr).strip().splitlines()[-1] if (verify.stdout or verify.stderr) else ''}"
    )
    console.print(f"pacte log audit : {'OK' if audit.returncode == 0 else 'ÉCHEC'}")
    console.print(f"réservations DP restées « reserved » : {reserved}")
    console.print(f"journal du serveur : {Path(var) / 'serve.log'}")
    ok = (
        verify.returncode == 0
        and audit.returncode == 0
        and reserved == 0
        and all(r["lost"] == 0 == r["duplicated"] for r in results)
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
