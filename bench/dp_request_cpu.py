"""CPU and wall seconds of one DP request through the API, step by step (issue 15, dp2–dp4).

    .venv/bin/python bench/dp_request_cpu.py VAR_DIR N

VAR_DIR is the folder a ``bench/data_bench.py`` run printed (its SQLite database, with the
``bench-embauches`` dataset and its tier-3 grant; data_bench leaves it in /tmp). The grant gets a
fresh token; N requests (distinct ρ, so none is served from the cache) are timed with
``time.process_time`` (all threads of the process: robust to the load of a shared machine; the
checkpoint signatures still pending at the end are signed inside the measurement) and with
``time.perf_counter`` (wall clock, dp4), and each step is wrapped to attribute both: computation
(DuckDB query, OpenDP noise), budget reservation, publication (journal entry, checkpoint
signature, output hash), authentication, the response's validation and rendering. Counted per
request (dp4): SQL statements and their wall time, commits, DuckDB connections opened, ``os.stat``
calls. To measure an older commit, run it with ``PYTHONPATH=<export of that commit>/src``.
"""
# ruff: noqa: E402  (Django is set up before the project is imported)

import collections
import json
import os
import random
import sys
import threading
import time

os.environ["PACTE_VAR_DIR"] = sys.argv[1]
os.environ.pop("PACTE_DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacte.settings")
import django

django.setup()
import duckdb
from django.conf import settings
from django.db import connection

settings.ALLOWED_HOSTS = ["*"]
from django.test import Client
from ninja import operation

import pacte.data.api as api
from pacte.data import events
from pacte.data.gateway import aggregates
from pacte.data.gateway import engines as E
from pacte.data.models import Dataset, Grant
from pacte.engines import privacy
from pacte.journal import checkpoints

ds = Dataset.objects.get(slug="bench-embauches")
g = Grant.objects.filter(dataset_version=ds.current_version, tier=3).first()
import hashlib
import secrets

raw = secrets.token_urlsafe(24)
Grant.objects.filter(pk=g.pk).update(token_hash=hashlib.sha256(raw.encode()).hexdigest())
c = Client()
acc = collections.defaultdict(float)
MAIN = threading.main_thread()


def wrap(mod, name, label=None):
    real = getattr(mod, name)
    label = label or name

    def w(*a, **k):
        # in the request's thread, the process's CPU (DuckDB's threads included); in another
        # thread (the deferred checkpoint signature, dp3), that thread's own CPU only
        clock = time.process_time if threading.current_thread() is MAIN else time.thread_time
        t, t_wall = clock(), time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            acc[label] += clock() - t
            acc["wall: " + label] += time.perf_counter() - t_wall
            acc["calls: " + label] += 1

    setattr(mod, name, w)


def count(mod, name, label):
    real = getattr(mod, name)

    def w(*a, **k):
        acc["calls: " + label] += 1
        return real(*a, **k)

    setattr(mod, name, w)


wrap(aggregates, "dp_aggregates", "view: dp_aggregates (all below)")
wrap(aggregates, "compute_release")
wrap(aggregates, "_reserve")
wrap(aggregates, "_publish_release")
wrap(aggregates, "canonical_sha")
wrap(aggregates, "release_payload")
wrap(events, "record", "journal record")
wrap(checkpoints, "integrate", "checkpoint integrate")
wrap(api, "authenticate_grant", "auth (authenticate_grant)")
wrap(E.DuckDBEngine, "query", "duckdb query")
# the noise: drawn after the scan until dp3 (_noised), in a thread during the scan since dp4 (_noise)
wrap(privacy.exact, "_noise" if hasattr(privacy.exact, "_noise") else "_noised", "opendp noise")
wrap(privacy.exact, "exact_sql")
wrap(privacy.exact, "_assemble")
wrap(aggregates, "dataset_spec")
wrap(aggregates, "_parse")
wrap(operation.Operation, "_result_to_response", "response (validate + JSON)")
count(duckdb, "connect", "duckdb.connect")
count(os, "stat", "os.stat")
from django.db import connections

count(type(connections["default"]), "commit", "commit")
api.dp_aggregates = aggregates.dp_aggregates


def sql_timer(execute, sql, params, many, context):
    t = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        acc["wall: SQL statements"] += time.perf_counter() - t
        acc["calls: SQL statements"] += 1


n = iter(range(random.randint(0, 10**6), 10**7))


def call():
    body = {
        "group_by": ["region", "naf_sector"],
        "aggregates": [{"op": "count"}],
        "rho": 0.0001 - next(n) * 1e-11,
    }
    t = time.perf_counter()
    r = c.post(
        f"/api/v1/data/{ds.slug}/aggregates",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    acc["wall: whole request (test client)"] += time.perf_counter() - t
    assert r.status_code == 200 and not r.json()["cached"], r.content[:300]


with connection.execute_wrapper(sql_timer):
    call()
    N = int(sys.argv[2])
    flush = getattr(checkpoints, "flush_deferred_signature", lambda: None)  # dp3 onwards
    flush()
    acc.clear()
    t0, w0 = time.process_time(), time.perf_counter()
    for _ in range(N):
        call()
    flush()  # the signatures still due belong to these requests
    tot, wall = time.process_time() - t0, time.perf_counter() - w0
print(
    f"request CPU {tot / N * 1000:.1f} ms, wall {wall / N * 1000:.1f} ms (mean of {N}; "
    f"LOG_CHECKPOINT_INTERVAL {getattr(settings, 'LOG_CHECKPOINT_INTERVAL', 0)} s; "
    f"load {os.getloadavg()[0]:.2f})"
)
order = {"": 0, "wall: ": 1, "calls: ": 2}
for k, v in sorted(
    acc.items(),
    key=lambda kv: (
        order[next(p for p in ("calls: ", "wall: ", "") if kv[0].startswith(p))],
        -kv[1],
    ),
):
    if k.startswith("calls: "):
        print(f"  {k:44s} {v / N:7.2f} per request")
    elif k.startswith("wall: "):
        print(f"  {k:44s} {v / N * 1000:7.1f} ms wall")
    else:
        print(f"  {k:44s} {v / N * 1000:7.1f} ms CPU")
