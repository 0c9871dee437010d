"""What signatories sign: the canonical document of a pact version, its digest, and the check
anyone can redo on a signature (Ed25519 over SHA-256 of the RFC 8785 bytes)."""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pacte.engines.canonical import PACT_FORMAT, canonical_bytes
from pacte.pacts.models import PactVersion, Signature


def canonical_document(version: PactVersion) -> dict[str, Any]:
    """What signatories sign: SHA-256 of its RFC 8785 bytes (``format`` names the layout)."""
    pact = version.pact
    return {
        "format": PACT_FORMAT,
        "pact": pact.reference,
        "version": version.number,
        "project": pact.project.slug,
        "carrier": pact.project.carrier.slug,
        "institution": pact.institution.slug,
        "content": version.content,
    }


def canonical_digest(version: PactVersion) -> bytes:
    return hashlib.sha256(canonical_bytes(canonical_document(version))).digest()


def verify_signature(signature: Signature, digest: bytes | None = None) -> bool:
    """Anyone can redo this: Ed25519 over SHA-256(canonical JSON of the version); ``digest``:
    that of ``signature.version``, when the caller computed it once for all its signatures."""
    if digest is None:
        digest = canonical_digest(signature.version)
    if digest.hex() != signature.digest_sha256:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(signature.public_key)).verify(
            bytes.fromhex(signature.signature), digest
        )
    except (InvalidSignature, ValueError):
        return False
    return True
