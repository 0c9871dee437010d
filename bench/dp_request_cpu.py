"""CPU seconds of one DP request through the API, step by step (issue 15, branch dp2).

    .venv/bin/python bench/dp_request_cpu.py VAR_DIR N

VAR_DIR is the folder a ``bench/data_bench.py`` run printed (its SQLite database, with the
``bench-embauches`` dataset and its tier-3 grant; data_bench leaves it in /tmp). The grant gets a
fresh token; N requests (distinct ρ, so none is served from the cache) are timed with
``time.process_time`` (all threads of the process: robust to the load of a shared machine; the
checkpoint signatures still pending at the end are signed inside the measurement), and
each step is wrapped to attribute the CPU: computation (DuckDB query, OpenDP noise), budget
reservation, publication (journal entry, checkpoint signature, output hash), authentication.
To measure an older commit, run it with ``PYTHONPATH=<export of that commit>/src``.
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
from django.conf import settings

settings.ALLOWED_HOSTS = ["*"]
from django.test import Client

from pacte.data import events
from pacte.data.gateway import access, aggregates
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

    def w(*a, **k):
        # in the request's thread, the process's CPU (DuckDB's threads included); in another
        # thread (the deferred checkpoint signature, dp3), that thread's own CPU only
        clock = time.process_time if threading.current_thread() is MAIN else time.thread_time
        t = clock()
        try:
            return real(*a, **k)
        finally:
            acc[label or name] += clock() - t
            acc["calls: " + (label or name)] += 1

    setattr(mod, name, w)


wrap(aggregates, "compute_release")
wrap(aggregates, "_reserve")
wrap(aggregates, "_publish_release")
wrap(aggregates, "canonical_sha")
wrap(aggregates, "release_payload")
wrap(events, "record", "journal record")
wrap(checkpoints, "integrate", "checkpoint integrate")
wrap(access, "authenticate_grant")
wrap(E.DuckDBEngine, "query", "duckdb query")
wrap(privacy.exact, "_noised", "opendp noise")
wrap(aggregates, "dataset_spec")
wrap(aggregates, "_parse")
import pacte.data.api as api

api.dp_aggregates = aggregates.dp_aggregates
n = iter(range(random.randint(0, 10**6), 10**7))


def call():
    body = {
        "group_by": ["region", "naf_sector"],
        "aggregates": [{"op": "count"}],
        "rho": 0.0001 - next(n) * 1e-11,
    }
    r = c.post(
        f"/api/v1/data/{ds.slug}/aggregates",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 200 and not r.json()["cached"], r.content[:300]


call()
acc.clear()
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
    f"LOG_CHECKPOINT_INTERVAL {getattr(settings, 'LOG_CHECKPOINT_INTERVAL', 0)} s)"
)
for k, v in sorted(acc.items(), key=lambda kv: (kv[0].startswith("calls"), -kv[1])):
    if k.startswith("calls: "):
        print(f"  {k:32s} {v / N:7.2f} per request")
    else:
        print(f"  {k:32s} {v / N * 1000:7.1f} ms")
