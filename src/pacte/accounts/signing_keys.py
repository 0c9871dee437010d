"""Custodial Ed25519 signing keys: created, used to sign, re-encrypted.

A private key is stored encrypted with the key-encryption key ``PACTE_KEY_ENCRYPTION_KEY``
(settings.KEY_ENCRYPTION_KEYS, Fernet; the first key encrypts, every listed key decrypts),
never with a key derived from Django's SECRET_KEY, so rotating SECRET_KEY only ends sessions.

Migration from the former scheme (Fernet key = SHA-256("signing-keys:" + SECRET_KEY)): a key
still encrypted that way is decrypted with the current SECRET_KEY (or one of
SECRET_KEY_FALLBACKS) and re-encrypted under the key-encryption key the first time it is
used; ``pacte signing-keys reencrypt`` does it for every key at once (run it once after the
upgrade, before rotating SECRET_KEY, and after putting a new key-encryption key first).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from pacte.accounts.models import SigningKey, User
from pacte.errors import DomainError, ValidationFailed


class SigningKeyUnavailable(DomainError):
    """The stored private key cannot be decrypted with the configured keys (HTTP 503)."""

    status = 503
    code = "signing_key_unavailable"


def _key_encryption() -> MultiFernet:
    return MultiFernet([Fernet(k.encode("ascii")) for k in settings.KEY_ENCRYPTION_KEYS])


def _former_keys() -> list[Fernet]:
    """The keys of the former scheme, derived from SECRET_KEY (and its fallbacks)."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(("signing-keys:" + s).encode()).digest()))
        for s in secrets
    ]


def _encrypted_now(token: bytes) -> tuple[bytes, bytes | None]:
    """(private key, new token or None): decrypt ``token``; a token that is not under the
    current (first) key-encryption key comes back re-encrypted under it."""
    current = _key_encryption()
    try:
        raw = current.decrypt(token)
    except InvalidToken:
        pass
    else:
        first = Fernet(settings.KEY_ENCRYPTION_KEYS[0].encode("ascii"))
        try:
            first.decrypt(token)
        except InvalidToken:  # under an older key-encryption key still listed
            return raw, current.encrypt(raw)
        return raw, None
    for former in _former_keys():
        try:
            raw = former.decrypt(token)
        except InvalidToken:
            continue
        return raw, current.encrypt(raw)
    raise SigningKeyUnavailable(
        _(
            "La clé de signature ne peut pas être déchiffrée avec la clé de chiffrement configurée "
            "(PACTE_KEY_ENCRYPTION_KEY) : prévenez l'administrateur de la plateforme."
        )
    )


@transaction.atomic
def ensure_signing_key(user: User) -> SigningKey:
    existing = SigningKey.objects.filter(user=user).first()
    if existing:
        return existing
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return SigningKey.objects.create(
        user=user,
        public_key=public.hex(),
        encrypted_private_key=_key_encryption().encrypt(raw_private),
    )


def sign_digest(user: User, digest: bytes) -> tuple[str, str]:
    """Sign a SHA-256 digest with the person's key; returns (public key hex, signature hex)."""
    key = ensure_signing_key(user)
    if not key.encrypted_private_key:
        raise ValidationFailed(_("Cette personne signe hors ligne : déposez une signature."))
    raw, renewed = _encrypted_now(bytes(key.encrypted_private_key))
    if renewed is not None:  # first use since the upgrade (or since a new key-encryption key)
        SigningKey.objects.filter(pk=key.pk).update(encrypted_private_key=renewed)
    return key.public_key, Ed25519PrivateKey.from_private_bytes(raw).sign(digest).hex()


@dataclass(frozen=True)
class Reencryption:
    reencrypted: int
    current: int
    unreadable: list[int]  # SigningKey ids that no configured key decrypts


def reencrypt_all() -> Reencryption:
    """Put every custodial key under the current key-encryption key (one transaction)."""
    done = current = 0
    unreadable: list[int] = []
    with transaction.atomic():
        keys = (
            SigningKey.objects.select_for_update()
            .filter(encrypted_private_key__isnull=False)
            .order_by("pk")
        )
        for key in keys:
            if not key.encrypted_private_key:
                continue
            try:
                _, renewed = _encrypted_now(bytes(key.encrypted_private_key))
            except SigningKeyUnavailable:
                unreadable.append(key.pk)
                continue
            if renewed is None:
                current += 1
            else:
                SigningKey.objects.filter(pk=key.pk).update(encrypted_private_key=renewed)
                done += 1
    return Reencryption(done, current, unreadable)
