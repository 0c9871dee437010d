"""The official OCDS 1.1 release schema, from a package on the Python registry.

No registry package ships the OCDS schema as package data. The Open Contracting Partnership's own
``ocdsmerge`` 0.8.0 source distribution on PyPI carries the official, unmodified
``release-schema.json`` of OCDS 1.1.4 (its merge tests run against it). The test run downloads that
distribution with pip (the registry is the only network Pacte's CI reaches), checks its SHA-256,
and reads the schema from it; the download is cached in the virtual environment.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

SDIST = "ocdsmerge-0.8.0.tar.gz"
SDIST_SHA256 = "a9f6d8f1e854b79d07d378f3effaaefcc2687efd52e9edacd89b6b4a79538160"
MEMBER = "ocdsmerge-0.8.0/tests/fixtures/release-schema-1__1__4.json"
SCHEMA_ID = "https://standard.open-contracting.org/schema/1__1__4/release-schema.json"
CACHE = Path(sys.prefix) / "share" / "pacte-test-data" / "ocds"


def official_release_schema() -> dict[str, Any]:
    archive = CACHE / SDIST
    if not archive.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                "ocdsmerge==0.8.0",
                "-d",
                str(CACHE),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0 and archive.exists(), (
            f"could not download {SDIST} from the Python registry: {done.stderr[-2000:]}"
        )
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert digest == SDIST_SHA256, f"{SDIST}: unexpected SHA-256 {digest}"
    with tarfile.open(archive) as tar:
        member = tar.extractfile(MEMBER)
        assert member is not None
        schema: dict[str, Any] = json.load(member)
    assert schema["id"] == SCHEMA_ID
    return schema
