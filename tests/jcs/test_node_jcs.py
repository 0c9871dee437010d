"""An independent JCS implementation in another language reproduces what Pacte signs.

Node.js runs ``canonicalize`` (RFC 8785 implementation by one of the RFC's authors, pinned in
tests/jcs/package-lock.json; ``npm ci --prefix tests/jcs`` installs it, scripts/test does it)
on a deliberately NON-canonical rendering of the same objects (keys reversed, indented,
Python's own number forms such as ``2.0`` and ``1e-07``), then compares bytes and SHA-256 with
Pacte's, recomputes RFC 6962 leaf hashes and verifies the Ed25519 signatures with Node's own
crypto.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from pacte.engines.canonical import LOG_ENTRY_FORMAT, PACT_FORMAT, canonical_bytes
from pacte.journal.models import Event
from pacte.journal.services import SYSTEM, record_event
from pacte.pacts import documents as pact_documents
from pacte.pacts.models import Signature

pytestmark = pytest.mark.django_db

HERE = Path(__file__).parent
CHECK_JS = HERE / "check.js"
CANONICALIZE = HERE / "node_modules" / "canonicalize" / "package.json"


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed_keys(v) for k, v in reversed(list(value.items()))}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


def _loose(value: Any) -> str:
    """The same JSON value written the way JCS does not: keys reversed, indented, \\u escapes,
    and Python's float forms (2.0, 1e-07)."""
    return json.dumps(_reversed_keys(value), indent=2, ensure_ascii=True)


def _node(items: list[dict[str, str]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None or not CANONICALIZE.exists():  # a missing tool must not pass silently
        pytest.fail(
            "node or canonicalize is missing: apt-get install nodejs; npm ci --prefix tests/jcs"
        )
    out = subprocess.run(
        [node, str(CHECK_JS)],
        input=json.dumps({"items": items}),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HERE,
    )
    assert out.returncode == 0, out.stderr
    result: list[dict[str, Any]] = json.loads(out.stdout)
    return result


def test_node_reproduces_the_demo_signatures_and_log_leaves(client, demo_data):
    """One demo (it is slow to load) for both halves."""
    _pact_signatures(client)
    _log_leaves()


def _pact_signatures(client) -> None:  # type: ignore[no-untyped-def]
    signatures = list(Signature.objects.select_related("version__pact").order_by("pk"))
    assert len(signatures) >= 2
    items, expected = [], []
    for s in signatures:
        doc = pact_documents.canonical_document(s.version)
        assert doc["format"] == PACT_FORMAT
        url = f"/pactes/{s.version.pact.reference}/v{s.version.number}/canonique.json"
        published = client.get(url).content  # what the public page offers to download
        assert published == canonical_bytes(doc)
        items.append({"json": _loose(doc), "public_key": s.public_key, "signature": s.signature})
        expected.append((published.decode("utf-8"), s))
    # a forged signature must fail in Node too (the check is not vacuous)
    first = signatures[0]
    forged = ("0" if first.signature[0] != "0" else "1") + first.signature[1:]
    items.append(
        {
            "json": _loose(pact_documents.canonical_document(first.version)),
            "public_key": first.public_key,
            "signature": forged,
        }
    )
    results = _node(items)
    for (text, s), got in zip(expected, results, strict=False):
        assert got["canonical"] == text
        assert got["sha256"] == s.digest_sha256 == s.version.canonical_sha256
        assert got["signature_valid"] is True, s
        assert pact_documents.verify_signature(s)
    assert results[-1]["signature_valid"] is False


def _log_leaves() -> None:
    """Every leaf of the demo log, plus an entry with numbers Python writes differently."""
    with transaction.atomic():
        record_event(
            "x.numbers",
            actor=SYSTEM,
            subject_type="test",
            subject_id="jcs",
            data={
                "rho": 0.1,
                "ratio": 2.0,
                "tiny": 1e-7,
                "huge": 1e21,
                "minus_zero": -0.0,
                "text": 'é\u2028"\\\x01',
                "\U0001f600": 1,
                "\ufb33": 2,
            },
        )
    events = list(Event.objects.order_by("index").values_list("entry", "leaf_hash", "entry_hash"))
    assert len(events) > 50
    numbers = json.loads(events[-1][0])
    assert numbers["format"] == LOG_ENTRY_FORMAT
    assert (
        '"huge":1e+21,"minus_zero":0,"ratio":2,"rho":0.1,"text":"é\u2028\\"\\\\\\u0001","tiny":1e-7'
        in events[-1][0]
    )
    results = _node([{"json": _loose(json.loads(entry))} for entry, _, _ in events])
    assert len(results) == len(events)
    for (entry, leaf, entry_hash), got in zip(events, results, strict=True):
        assert got["canonical"] == entry
        assert got["leaf_hash"] == bytes(leaf).hex()
        assert got["sha256"] == entry_hash
        assert json.loads(entry)["format"] == LOG_ENTRY_FORMAT
