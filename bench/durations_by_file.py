"""Where a pytest run spends its time, per test file: setup, call and teardown totals.

Reads the output of a run made with ``--durations=0`` (``--durations-min`` to drop the
shortest), for instance the SQLite lane of scripts/test:

    PACTE_ENV=test .venv/bin/python -m pytest -q --durations=0 --durations-min=0.05 \\
        --ignore=tests/engines -m "not conformance" > /tmp/profile.log
    .venv/bin/python bench/durations_by_file.py /tmp/profile.log --top 40
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

LINE = re.compile(r"\s*([\d.]+)s (setup|call|teardown)\s+(\S+?)::")
PHASES = ("setup", "call", "teardown")


def totals(text: str) -> dict[str, dict[str, float]]:
    """Seconds per file and phase, and the number of tests (``tests``) whose call is listed."""
    per_file: dict[str, dict[str, float]] = defaultdict(
        lambda: dict.fromkeys((*PHASES, "tests"), 0.0)
    )
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            seconds, phase, path = float(m[1]), m[2], m[3]
            per_file[path][phase] += seconds
            if phase == "call":
                per_file[path]["tests"] += 1
    return dict(per_file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    per_file = totals(args.log.read_text(encoding="utf-8", errors="replace"))
    overall = {p: sum(f[p] for f in per_file.values()) for p in PHASES}
    print("all files: " + ", ".join(f"{p} {overall[p]:.0f} s" for p in PHASES))
    print(f"{'file':64} {'total':>7} {'setup':>7} {'call':>7} {'tear':>6} {'tests':>5}")
    ranked = sorted(per_file.items(), key=lambda kv: -sum(kv[1][p] for p in PHASES))
    for path, t in ranked[: args.top]:
        total = sum(t[p] for p in PHASES)
        print(
            f"{path:64} {total:7.1f} {t['setup']:7.1f} {t['call']:7.1f} "
            f"{t['teardown']:6.1f} {int(t['tests']):5}"
        )


if __name__ == "__main__":
    main()
