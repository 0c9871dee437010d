"""Background work for open data (django-tasks, database backend; run by `pacte worker`)."""

from __future__ import annotations

from django_tasks import task

from pacte.accounts import policy
from pacte.opendata.dump import publish_dump


@task()
def publish_dump_task() -> dict[str, object]:
    """Nightly: the open-data dump of everything public (ZIP of CSV and JSON, Etalab 2.0)."""
    dump = publish_dump(policy.SYSTEM)
    return {"file": dump.filename, "bytes": dump.byte_size, "sha256": dump.sha256}
