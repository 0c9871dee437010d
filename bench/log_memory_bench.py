"""Cost of the log's memory (pacte.journal.memory) per signed checkpoint.

    .venv/bin/python bench/log_memory_bench.py [N]

`remember` runs after each signing commit (temp file + fsync + rename, under an flock);
`read_memory` runs before each append (one stat while the file is unchanged).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacte.settings")
os.environ["PACTE_VAR_DIR"] = tempfile.mkdtemp(prefix="pacte-memory-bench-")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from pacte.engines import note  # noqa: E402
from pacte.journal import memory  # noqa: E402
from pacte.journal.keys import get_signer  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    settings.LOG_MEMORY_FILE = os.path.join(os.environ["PACTE_VAR_DIR"], "log-latest-checkpoint")
    signer = get_signer()
    notes = [signer.sign(note.checkpoint(settings.LOG_ORIGIN, i + 1, bytes(32))) for i in range(n)]
    t = time.perf_counter()
    for signed in notes:
        memory.remember(signed)
    write = (time.perf_counter() - t) / n
    t = time.perf_counter()
    for _ in range(n):
        memory.read_memory()
    read = (time.perf_counter() - t) / n
    print(
        f"remember (temp file + fsync + rename, flock): {write * 1e3:.2f} ms per signed checkpoint"
    )
    print(f"read_memory (file unchanged): {read * 1e6:.1f} µs per append")
    print(f"({n} checkpoints, {os.environ['PACTE_VAR_DIR']})")


if __name__ == "__main__":
    main()
