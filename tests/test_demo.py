from __future__ import annotations

import pytest

from pacte.demo import load_demo
from pacte.journal.models import Event
from pacte.pacts.models import PactVersion, Status
from pacte.projects.models import Project

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_covers_the_stages(capsys):  # type: ignore[no-untyped-def]
    """Loaded through the command (`pacte demo load` calls load_demo once and says so), then
    idempotent through the function and the command alike. One test: the demo is the suite's
    costliest load (every domain's use cases), it is loaded for real once here."""
    from pacte.cli import main

    assert main(["demo", "load"]) == 0
    assert "Démo chargée." in capsys.readouterr().out  # load_demo() returned True
    counts = (Project.objects.count(), PactVersion.objects.count(), Event.objects.count())
    assert load_demo() is False
    assert main(["demo", "load"]) == 0
    assert "déjà chargée" in capsys.readouterr().out
    assert (Project.objects.count(), PactVersion.objects.count(), Event.objects.count()) == counts
    statuses = set(PactVersion.objects.values_list("status", flat=True))
    assert {
        Status.ACTIVE,
        Status.SUBMITTED,
        Status.CHANGES_REQUESTED,
        Status.DRAFT,
        Status.BROKEN,
    } <= statuses
    assert counts[0] >= 5
    broken = PactVersion.objects.get(status=Status.BROKEN, pact__project__slug="trajectoire-jeunes")
    types = list(
        Event.objects.filter(subject_id=broken.pact.reference).values_list("type", flat=True)
    )
    assert (
        types.index("pact.breach_notified")
        < types.index("pact.suspended")
        < types.index("pact.broken")
    )


def test_cli_on_an_unmigrated_database_says_what_to_do(tmp_path):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "PACTE_VAR_DIR": str(tmp_path),
        "PACTE_DATABASE_URL": f"sqlite://{tmp_path}/vide.sqlite3",
    }
    r = subprocess.run(
        [sys.executable, "-m", "pacte.cli", "commitments", "check"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert "pacte migrate" in r.stderr and "Traceback" not in r.stderr
