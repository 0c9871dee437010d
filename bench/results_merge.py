#!/usr/bin/env python3
"""Merge the JSON fragments the bench scripts wrote (``--json-out``) into ONE results file.

    python bench/results_merge.py FRAGMENT_DIR bench/results/latest.json [--quick]

Each fragment is a flat ``{"stable.name": number}`` object; a name may appear in one fragment
only. The result holds every figure under its name, plus the run's date, commit and machine, and
lists the names of issue 15's table that no script produced (``missing``), so that a reader
compares two runs without parsing tables. The naming convention is in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

# The figures of issue 15's table: every run says which of them it measured.
TABLE = (
    "log.append_per_s.sqlite",
    "log.append_per_s.postgresql",
    "log.append_ratio.sqlite",
    "log.append_ratio.postgresql",
    "log.proofs_http_ratio_service",
    "pages.project_p95_ratio",
    "api.list_p95_ratio",
    "secure_room.ratio",
    "dp.ratio",
    "audit.ratio_numpy",
    "spark.dp_ratio_duckdb",
    # issue 15 part 3, the pages: with the never-stale public cache, and the template stack's floor
    "pages.project_p95_ratio.cached",
    "api.list_p95_ratio.cached",
    "api.events_p95_ratio.cached",
    "pages.floor_p95_ratio",
)


def merge(fragments: list[Path]) -> dict[str, float]:
    figures: dict[str, float] = {}
    origin: dict[str, str] = {}
    for path in sorted(fragments):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise SystemExit(f"{path}: a fragment is a JSON object of name -> number")
        for name, value in data.items():
            if name in figures:
                raise SystemExit(f"{name}: in {origin[name]} and in {path.name}")
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise SystemExit(f"{path.name}: {name} is not a number")
            figures[name], origin[name] = value, path.name
    return dict(sorted(figures.items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fragments", type=Path, help="directory of *.json fragments")
    ap.add_argument("out", type=Path)
    ap.add_argument("--quick", action="store_true", help="the run used the small sizes")
    args = ap.parse_args()
    figures = merge(list(args.fragments.glob("*.json")))
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    result = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "cores": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "quick": args.quick,
        "figures": figures,
        "missing": [name for name in TABLE if name not in figures],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{len(figures)} figures in {args.out}; missing: {', '.join(result['missing']) or '—'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
