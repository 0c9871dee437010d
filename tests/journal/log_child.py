"""Child process for the crash and concurrency tests (run with `python -m`)."""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacte.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from pacte.journal import entries, services
    from pacte.journal.models import Checkpoint, Event, LogState
    from pacte.journal.services import SYSTEM, NewEvent, integrate, record_event, record_events

    mode = sys.argv[1]
    if mode == "migrate":
        call_command("migrate", "journal", verbosity=0)
        return
    if mode == "crash":
        stage = sys.argv[2]
        state = LogState.objects.first()
        base = state.size if state else 0
        record_events(
            NewEvent("x.bulk", SYSTEM, "b", (base + i) % 7, {"i": base + i}) for i in range(100)
        )
        print(f"COMMITTED {base + 100}", flush=True)

        def hook(name: str) -> None:
            if name == stage:
                print(f"AT {name}", flush=True)
                sys.stdin.readline()  # blocks until killed

        if stage == "after-commit":
            # the governance transaction commits; the process dies while signing after commit
            entries.crash_hook = lambda name: (
                hook("after-commit") if name == "checkpoint-signing" else None
            )
            with transaction.atomic():
                record_event(
                    "x.one", actor=SYSTEM, subject_type="b", subject_id=1, data={"i": base + 100}
                )
        else:
            entries.crash_hook = hook
            record_events(
                NewEvent("x.bulk", SYSTEM, "b", (base + 100 + i) % 7, {"i": base + 100 + i})
                for i in range(100)
            )
        print("NOT KILLED", flush=True)
        return
    if mode == "write":
        n, tag = int(sys.argv[2]), sys.argv[3]
        print("READY", flush=True)
        sys.stdin.readline()
        for i in range(n):
            with transaction.atomic():
                record_event(
                    "x.concurrent",
                    actor=SYSTEM,
                    subject_type="w",
                    subject_id=i % 3,
                    data={"tag": tag, "i": i},
                )
            if i % 10 == 9:
                record_events(
                    NewEvent("x.concurrent.bulk", SYSTEM, "w", j % 3, {"tag": tag, "i": i, "j": j})
                    for j in range(5)
                )
        print("DONE", flush=True)
        return
    if mode == "check":
        integrated_before = (
            LogState.objects.first().tree_size if LogState.objects.exists() else 0,
            Checkpoint.objects.order_by("-size").values_list("size", flat=True).first(),
        )
        report_before = services.verify_log()
        integrate()
        report = services.verify_log()
        data = [
            json.loads(e)["data"]
            for e in Event.objects.order_by("index").values_list("entry", flat=True)
        ]
        print(
            json.dumps(
                {
                    "problems_before": report_before.problems,
                    "problems": report.problems,
                    "size": report.size,
                    "tree_size_before": integrated_before[0],
                    "checkpoint_before": integrated_before[1],
                    "checkpoint": report.checkpoint_size,
                    "data": data,
                }
            )
        )
        return
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
