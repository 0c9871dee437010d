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
import hashlib
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

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
PACTE = str(ROOT / ".venv" / "bin" / "pacte")
REGIONS = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93"]
CONTRACTS = [["CDI"], ["CDD"], ["MIS"], ["CDI", "CDD"], ["CDI", "MIS"], ["CDD", "MIS"], ["CDI", "CDD", "MIS"]]
ATTEMPTS = 40  # per logical write: enough to outlast a database restart
TIMEOUT = 30.0


@dataclass
class Phase:
    writers: int
    writes: int = 0  # logical writes started
    requests: int = 0  # HTTP requests sent (retries included)
    acks: int = 0  # logical writes acknowledged (2xx)
    refused: int = 0  # 4xx answers (e.g. DP budget exhausted, invalid transition)
    errors_5xx: int = 0
    errors_503: int = 0
    no_answer: int = 0  # connection lost / timeout
    gave_up: int = 0  # logical writes still unanswered after ATTEMPTS
    fault_at: float = 0.0  # PostgreSQL restart begins
    kill_at: float = 0.0  # a gunicorn worker is killed
    five_xx_times: list[float] = field(default_factory=list)
    error_times: list[float] = field(default_factory=list)  # 5xx and unanswered requests

    def recovery(self) -> float:
        """Seconds from the database restart to the last failed request it caused (before
        the worker kill): how long writers saw errors."""
        end = self.kill_at or float("inf")
        during = [t for t in self.error_times if self.fault_at <= t < end]
        return max(during) - self.fault_at if during else 0.0
    acked: list[tuple[str, str]] = field(default_factory=list)  # (kind, identity)
    attempted: list[tuple[str, str]] = field(default_factory=list)
    malformed: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Writer:
    def __init__(self, n: int, base: str, phase: Phase, tokens: dict[str, str], stop: float) -> None:
        self.n, self.phase, self.tokens, self.stop = n, phase, tokens, stop
        self.client = httpx.Client(base_url=base, timeout=TIMEOUT)
        self.drafts: list[str] = []
        self.rng = random.Random(n * 7919 + phase.writers)
        self.seq = 0

    def post(self, path: str, body: object, token: str) -> httpx.Response | None:
        """One logical write: same Idempotency-Key on every retry."""
        key = str(uuid.uuid4())
        ph = self.phase
        for _ in range(ATTEMPTS):
            with ph.lock:
                ph.requests += 1
            try:
                r = self.client.post(path, json=body, headers={"Authorization": f"Bearer {token}",
                                                               "Idempotency-Key": key})
            except httpx.HTTPError:
                with ph.lock:
                    ph.no_answer += 1
                    ph.error_times.append(time.monotonic())
                time.sleep(0.25)
                continue
            if r.status_code >= 500:
                with ph.lock:
                    ph.errors_5xx += 1
                    ph.errors_503 += r.status_code == 503
                    ph.five_xx_times.append(time.monotonic())
                    ph.error_times.append(time.monotonic())
                time.sleep(0.25)
                continue
            return r
        with ph.lock:
            ph.gave_up += 1
        return None

    def run(self) -> None:
        while time.monotonic() < self.stop:
            self.seq += 1
            label = f"bench-{self.phase.writers}-{self.n}-{self.seq}-{uuid.uuid4().hex[:8]}"
            kind = self.rng.choice(["draft", "draft", "withdraw", "evidence", "dp"])
            if kind == "withdraw" and not self.drafts:
                kind = "draft"
            with self.phase.lock:
                self.phase.writes += 1
            if kind == "draft":
                body = {"project": "la-bonne-boite-citoyenne", "institution": "agence-emploi",
                        "content": {"title": label}}
                ident = label
                r = self.post("/api/v1/pacts", body, self.tokens["carrier"])
                if r is not None and r.status_code == 201:
                    self.drafts.append(r.json()["pact"])
            elif kind == "withdraw":
                ref = self.drafts.pop(0)
                ident = ref
                r = self.post(f"/api/v1/pacts/{ref}/versions/1/transitions/withdraw",
                              {"reason": f"Retrait de test {label}"}, self.tokens["carrier"])
            elif kind == "evidence":
                note = f"Preuve déposée par le banc {label}"
                ident = hashlib.sha256(note.encode()).hexdigest()
                r = self.post(f"/api/v1/pacts/{self.tokens['active_pact']}/versions/{self.tokens['active_number']}"
                              f"/commitments/{self.tokens['commitment']}/evidence",
                              {"progress": self.rng.randint(0, 99), "note": note}, self.tokens["carrier"])
            else:
                body = {"group_by": ["naf_sector"],
                        "filters": [{"column": "region", "op": "eq", "value": self.rng.choice(REGIONS)},
                                    {"column": "contract_type", "op": "in", "value": self.rng.choice(CONTRACTS)}],
                        "rho": 0.0005}
                ident = ""
                r = self.post(f"/api/v1/data/{self.tokens['dp_dataset']}/aggregates", body, self.tokens["dp"])
                if r is not None and r.status_code == 200:
                    ident = f"{r.json()['release_id']}|{int(r.json()['cached'])}"
            with self.phase.lock:
                self.phase.attempted.append((kind, ident))
                if r is not None and 200 <= r.status_code < 300:
                    self.phase.acks += 1
                    self.phase.acked.append((kind, ident))
                elif r is not None:
                    self.phase.refused += 1
        self.client.close()


def malformed_requests(base: str, phase: Phase, count: int, stop: float, token: str) -> None:
    """Bad input beside the good traffic: each kind in turn, spread over the phase."""
    big = b'{"project": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    kinds = [
        ("NUL JSON", lambda c: c.post("/api/v1/pacts", content=b'{"project":"a\\u0000b","institution":"x"}',
                                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})),
        ("NUL query", lambda c: c.get("/api/v1/projects", params={"q": "a\x00b"})),
        ("surrogate", lambda c: c.post("/api/v1/pacts", content=b'{"project":"\\ud800","institution":"x"}',
                                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})),
        ("huge int", lambda c: c.get("/api/v1/projects", params={"offset": str(2**64)})),
        ("huge int JSON", lambda c: c.post("/api/v1/pacts/X/versions/1/commitments/k/evidence",
                                           content=b'{"progress": 1' + b"0" * 40 + b', "note": "n"}',
                                           headers={"Authorization": f"Bearer {token}",
                                                    "Content-Type": "application/json"})),
        ("bad JSON", lambda c: c.post("/api/v1/pacts", content=b'{"project": ',
                                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})),
        ("10 MB body", lambda c: c.post("/api/v1/pacts", content=big,
                                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})),
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
            bucket = "503" if status == 503 else "5xx" if status >= 500 else "4xx" if status >= 400 else "2xx/3xx"
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


def run_phase(base: str, writers: int, duration: float, tokens: dict[str, str], malformed: int,
              master_pid: int) -> Phase:
    phase = Phase(writers)
    stop = time.monotonic() + duration
    ws = [Writer(i, base, phase, tokens, stop) for i in range(writers)]
    threads = [threading.Thread(target=w.run) for w in ws]
    threads.append(threading.Thread(target=malformed_requests, args=(base, phase, malformed, stop, tokens["carrier"])))
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(max(0.0, t0 + 0.4 * duration - time.monotonic()))
    phase.fault_at = time.monotonic()
    pg_ctl("-m", "immediate", "-w", "restart")
    time.sleep(max(0.0, t0 + 0.7 * duration - time.monotonic()))
    children = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    if children:
        phase.kill_at = time.monotonic()
        os.kill(int(children[0]), signal.SIGKILL)  # one gunicorn worker; the master forks another
    for t in threads:
        t.join()
    return phase


def check(phase: Phase) -> dict[str, int]:
    """Lost: acknowledged, not found exactly once. Duplicated: one logical write, two objects."""
    from pacte.data.models import Release
    from pacte.journal.models import Event
    from pacte.pacts.models import Pact, PactVersion

    lost = duplicated = 0
    acked = set(phase.acked)
    for kind, ident in phase.attempted:
        if kind == "draft":
            pacts = list(Pact.objects.filter(versions__content__title=ident).values_list("reference", flat=True))
            n_rows = len(pacts)
            n_events = Event.objects.filter(type="pact.drafted", subject_id__in=pacts).count()
            if n_rows > 1 or n_events > 1:
                duplicated += 1
            elif (kind, ident) in acked and (n_rows != 1 or n_events != 1):
                lost += 1
        elif kind == "withdraw" and (kind, ident) in acked:
            ok = PactVersion.objects.filter(pact__reference=ident, number=1, status="withdrawn").count() == 1
            n_events = Event.objects.filter(type="pact.withdrawn", subject_id=ident).count()
            lost += not ok or n_events == 0
            duplicated += n_events > 1
        elif kind == "evidence":
            n_events = Event.objects.filter(type="commitment.evidence", entry__contains=ident).count()
            duplicated += n_events > 1
            lost += (kind, ident) in acked and n_events == 0
        elif kind == "dp" and (kind, ident) in acked:
            release_id, cached = ident.split("|")
            n_rows = Release.objects.filter(release_id=release_id).count()
            n_events = Event.objects.filter(type="data.query", entry__contains=release_id).count()
            lost += n_rows != 1 or n_events == 0
            duplicated += n_rows > 1
    return {"lost": lost, "duplicated": duplicated}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=os.environ.get("PACTE_PG_URL", ""))
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per phase (default 60)")
    ap.add_argument("--writers", default="8,32", help="writers per phase (default 8,32)")
    ap.add_argument("--malformed", type=int, default=1000, help="malformed requests in all (default 1000)")
    ap.add_argument("--port", type=int, default=8799)
    args = ap.parse_args()
    if not args.db.startswith("postgres") or "PGBIN" not in os.environ or "PGDIR" not in os.environ:
        print("Run on a throw-away PostgreSQL started by scripts/pg.sh (see the docstring): "
              "--db postgresql://…, PGBIN and PGDIR set.", file=sys.stderr)
        return 2
    var = tempfile.mkdtemp(prefix="pacte-reliability-")
    env = {**os.environ, "PACTE_DATABASE_URL": args.db, "PACTE_VAR_DIR": var, "PACTE_LOG_LEVEL": "ERROR"}
    os.environ.update({"PACTE_DATABASE_URL": args.db, "PACTE_VAR_DIR": var,
                       "DJANGO_SETTINGS_MODULE": "pacte.settings"})
    subprocess.run([PACTE, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([PACTE, "demo", "load"], env=env, check=True, stdout=subprocess.DEVNULL)
    import django

    django.setup()
    from django.db import connections

    from pacte.accounts.models import Organisation, User
    from pacte.accounts.services import create_api_token
    from pacte.data.models import Reservation
    from pacte.pacts.models import Commitment, PactVersion

    carrier = Organisation.objects.get(slug="collectif-bonne-boite")
    _, carrier_token = create_api_token(User.objects.get(username="porteur"), carrier, "banc de fiabilité")
    active = PactVersion.objects.get(pact__project__slug="la-bonne-boite-citoyenne", status="active")
    commitment = Commitment.objects.filter(version=active, owner="carrier").order_by("id").first()
    assert commitment is not None
    demo_tokens = json.loads((Path(var) / "demo-tokens.json").read_text(encoding="utf-8"))
    dp = next(t for t in demo_tokens.values() if t["tier"] == 3)
    tokens = {"carrier": carrier_token, "active_pact": active.pact.reference, "active_number": str(active.number),
              "commitment": commitment.key, "dp": dp["token"], "dp_dataset": dp["dataset"]}
    connections.close_all()

    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen([PACTE, "serve", "--port", str(args.port), "--workers", "2", "--threads", "4"],
                              env=env, stdout=subprocess.DEVNULL, stderr=open(Path(var) / "serve.log", "w"))
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
            phases.append(run_phase(base, writers, args.duration, tokens, share, server.pid))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    # the log, verified as an outsider would (export + `pacte log verify`) and from the database
    export = Path(var) / "log-export"
    subprocess.run([PACTE, "log", "export", str(export)], env=env, check=True, stdout=subprocess.DEVNULL)
    verify = subprocess.run([PACTE, "log", "verify", "--dir", str(export), "--key", str(export / "key"), "--quiet"],
                            env=env, capture_output=True, text=True)
    audit = subprocess.run([PACTE, "log", "audit"], env=env, capture_output=True, text=True)
    reserved = Reservation.objects.filter(state=Reservation.State.RESERVED).count()
    table = Table(title=f"Fiabilité — PostgreSQL, gunicorn 2×4, {args.duration:g} s par phase, "
                        "redémarrage immédiat de PostgreSQL à 40 %, SIGKILL d'un worker à 70 %")
    for col in ("écrivains", "écritures", "requêtes", "acquittées", "refus 4xx", "5xx", "dont 503",
                "5xx hors pannes", "sans réponse", "abandonnées", "erreurs après redémarrage (s)", "perdues", "dupliquées",
                "malformées (4xx/503/autre 5xx/autre)"):
        table.add_column(col)
    results = [check(ph) for ph in phases]
    for ph, result in zip(phases, results, strict=True):
        windows = [(ph.fault_at, ph.fault_at + ph.recovery()), (ph.kill_at, ph.kill_at + 5.0)]
        outside = sum(1 for t in ph.five_xx_times if not any(a <= t <= b for a, b in windows if a))
        recovery = f"{ph.recovery():.1f}"
        m = ph.malformed
        other = sum(v for k, v in m.items() if k not in ("4xx", "503", "5xx"))
        table.add_row(str(ph.writers), str(ph.writes), str(ph.requests), str(ph.acks), str(ph.refused),
                      str(ph.errors_5xx), str(ph.errors_503), str(outside), str(ph.no_answer), str(ph.gave_up),
                      recovery, str(result["lost"]), str(result["duplicated"]),
                      f"{m.get('4xx', 0)}/{m.get('503', 0)}/{m.get('5xx', 0)}/{other}")
    console = Console(width=200)
    console.print(table)
    console.print(f"pacte log verify : {'OK' if verify.returncode == 0 else 'ÉCHEC'} — "
                  f"{(verify.stdout or verify.stderr).strip().splitlines()[-1] if (verify.stdout or verify.stderr) else ''}")
    console.print(f"pacte log audit : {'OK' if audit.returncode == 0 else 'ÉCHEC'}")
    console.print(f"réservations DP restées « reserved » : {reserved}")
    console.print(f"journal du serveur : {Path(var) / 'serve.log'}")
    ok = verify.returncode == 0 and audit.returncode == 0 and reserved == 0 and all(r["lost"] == 0 == r["duplicated"] for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
