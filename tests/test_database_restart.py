"""A real server (gunicorn, persistent connections) while the real PostgreSQL server restarts or stops.

`pg_ctl restart -m immediate` kills every connection: the next requests must reconnect (health
checks), never answer 500. While the server is stopped: 503 with Retry-After (JSON for the API,
the French page for pages, /sante says so), and 200 again once it is back, without a restart.
The test finds the data directory through the server itself (`SHOW data_directory`, the test
role is the cluster's superuser in scripts/test) and runs pg_ctl as the directory's owner.
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.db import connection

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="pg_ctl restarts a PostgreSQL server"
    ),
]


class Cluster:
    def __init__(self) -> None:
        with connection.cursor() as c:
            c.execute("SHOW data_directory")
            self.data = Path(c.fetchone()[0])
            c.execute("SHOW server_version_num")
            major = int(c.fetchone()[0]) // 10000
        found = os.environ.get("PACTE_TEST_PGBIN") or next(
            iter(glob.glob(f"/usr/lib/postgresql/{major}/bin")), ""
        )
        self.pg_ctl = str(Path(found) / "pg_ctl")
        opts = shlex.split((self.data / "postmaster.opts").read_text())[1:]
        i = opts.index("-D")
        self.options = shlex.join(opts[:i] + opts[i + 2 :])
        self.log = self.data.parent / "restart-test.log"
        owner = self.data.stat().st_uid
        self.prefix = (
            ["runuser", "-u", pwd.getpwuid(owner).pw_name, "--"] if owner != os.getuid() else []
        )

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.prefix, self.pg_ctl, "-D", str(self.data), "-w", *args],
            check=True,
            capture_output=True,
            cwd="/",
        )

    def restart_immediately(self) -> None:
        self.ctl("restart", "-m", "immediate", "-l", str(self.log))

    def stop(self) -> None:
        self.ctl("stop", "-m", "immediate")

    def start(self) -> None:
        self.ctl("start", "-o", self.options, "-l", str(self.log))

    def running(self) -> bool:
        return (
            subprocess.run(
                [*self.prefix, self.pg_ctl, "-D", str(self.data), "status"],
                capture_output=True,
                cwd="/",
            ).returncode
            == 0
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(transactional_db, world, settings):  # type: ignore[no-untyped-def]
    """`gunicorn` (1 worker × 2 threads, persistent connections) on the test database."""
    world.project(name="Projet servi")
    s = connection.settings_dict
    url = f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    port = _free_port()
    env = {
        **os.environ,
        "PACTE_DATABASE_URL": url,
        "PACTE_VAR_DIR": str(settings.VAR_DIR),
        "PACTE_ENV": "test",
        "PACTE_CONN_MAX_AGE": "600",
        "PACTE_LOG_LEVEL": "CRITICAL",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "pacte.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "2",
            "--no-control-socket",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", timeout=120
    )  # the machine may be busy
    cluster = Cluster()
    try:
        deadline = time.monotonic() + 300
        while True:  # wait for the server to accept connections (bounded)
            try:
                client.get("/sante")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield client, cluster
    finally:
        if not cluster.running():
            cluster.start()
        client.close()
        server.terminate()
        server.wait(20)
        connection.close()  # the test's own connection died with the restart


def test_restart_and_outage_give_503_then_200_never_500(served):  # type: ignore[no-untyped-def]
    client, cluster = served
    warm = [client.get("/api/v1/projects").status_code for _ in range(6)]
    assert warm == [200] * 6  # both threads hold a persistent connection now

    cluster.restart_immediately()  # kills every connection; the server keeps its dead sockets
    after_restart = [
        client.get(path).status_code for path in ("/api/v1/projects", "/projets/", "/sante") * 3
    ]
    assert 500 not in after_restart and set(after_restart) <= {200, 503}
    assert after_restart[-3:] == [200, 200, 200]

    cluster.stop()
    r = client.get("/api/v1/projects")
    assert (
        r.status_code == 503
        and r.json()["error"] == "unavailable"
        and r.headers["Retry-After"].isdigit()
    )
    r = client.get("/projets/", headers={"Accept-Language": "fr"})
    assert (
        r.status_code == 503 and "momentanément indisponible" in r.text and r.headers["Retry-After"]
    )
    r = client.get("/sante")
    assert r.status_code == 503 and r.json()["database"] == "unreachable"

    cluster.start()  # back, without restarting the application server
    back = [
        client.get(path).status_code for path in ("/api/v1/projects", "/projets/", "/sante") * 2
    ]
    assert back == [200] * 6
