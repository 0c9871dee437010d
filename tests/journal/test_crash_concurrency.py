"""Kill a writer mid-batch; run two writers at once. Each child uses a fresh database of the
same engine as the test run (SQLite file, or a new PostgreSQL database)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def child_env(tmp_path, django_db_blocker):
    env = {
        **os.environ,
        "PACTE_VAR_DIR": str(tmp_path / "var"),
        "PACTE_ENV": "test",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PACTE_LOG_SIGNING_KEY", None)
    dropdb = None
    if connection.vendor == "postgresql":
        import psycopg

        s = connection.settings_dict
        name = f"pacte_child_{uuid.uuid4().hex[:10]}"
        conninfo = dict(
            host=s["HOST"] or None,
            port=s["PORT"] or None,
            user=s["USER"] or None,
            password=s["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        )
        with psycopg.connect(**conninfo) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        env["PACTE_DATABASE_URL"] = f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{name}"

        def dropdb() -> None:
            with psycopg.connect(**conninfo) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        env["PACTE_DATABASE_URL"] = f"sqlite://{tmp_path / 'child.sqlite3'}"
    run(env, "migrate")
    yield env
    if dropdb:
        dropdb()


def run(env, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "tests.journal.log_child", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def spawn(env, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.journal.log_child", *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until(proc: subprocess.Popen, prefix: str) -> str:
    for line in proc.stdout:
        if line.startswith(prefix):
            return line
    raise AssertionError(f"child ended before {prefix!r}: {proc.stderr.read()}")


def crash(env, stage: str) -> None:
    proc = spawn(env, "crash", stage)
    read_until(proc, "COMMITTED")
    read_until(proc, f"AT {stage}")  # synchronised on the child's own report, never on time
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def test_kill_mid_batch_loses_duplicates_and_reorders_nothing(child_env):
    # killed after the entries are inserted, after the nodes are inserted, just before the commit
    for stage in ("entries-inserted", "nodes-inserted", "before-commit"):
        crash(child_env, stage)
    result = json.loads(run(child_env, "check"))
    assert result["problems_before"] == [] and result["problems"] == []
    # three committed batches survive, the three killed ones vanished entirely: in order, no duplicate
    assert [d["i"] for d in result["data"]] == list(range(300))
    assert result["tree_size_before"] == 300 and result["checkpoint_before"] == 300
    # killed after a governance commit, while signing: entry and tree are there, the checkpoint
    # lags and is re-issued by the next integrate()
    crash(child_env, "after-commit")
    result = json.loads(run(child_env, "check"))
    assert result["problems_before"] == [] and result["problems"] == []
    assert [d["i"] for d in result["data"]] == list(range(401))
    assert result["tree_size_before"] == 401 and result["checkpoint_before"] == 400
    assert result["checkpoint"] == 401


def test_two_concurrent_writers_give_contiguous_unique_indexes_and_a_valid_tree(child_env):
    writers = [spawn(child_env, "write", "40", tag) for tag in ("A", "B")]
    for w in writers:
        read_until(w, "READY")
    for w in writers:
        w.stdin.write("GO\n")
        w.stdin.flush()
    for w in writers:
        read_until(w, "DONE")
        assert w.wait(timeout=60) == 0, w.stderr.read()
    result = json.loads(run(child_env, "check"))
    assert result["problems"] == [] and result["problems_before"] == []
    assert result["size"] == 2 * (40 + 4 * 5)
    tags = Counter(d["tag"] for d in result["data"])
    assert tags == {"A": 60, "B": 60}
    keys = [(d["tag"], d["i"], d.get("j")) for d in result["data"]]
    assert len(set(keys)) == len(keys)
