"""Secrets separated: rotating SECRET_KEY ends sessions and nothing else."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.conf import settings
from django.test import override_settings

from pacte.accounts.models import SigningKey
from pacte.accounts.signing_keys import (
    SigningKeyUnavailable,
    ensure_signing_key,
    reencrypt_all,
    sign_digest,
)
from pacte.journal.services import personal_commitment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DIGEST = hashlib.sha256(b"pacte").digest()
NEW_SECRET = "rotated-" + "s" * 50


def _verifies(public_hex: str, signature_hex: str) -> bool:
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(
        bytes.fromhex(signature_hex), DIGEST
    )
    return True


def _former_scheme_key(user, secret: str) -> SigningKey:  # type: ignore[no-untyped-def]
    """A key stored as before the upgrade: Fernet key = SHA-256("signing-keys:" + SECRET_KEY)."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    former = Fernet(
        base64.urlsafe_b64encode(hashlib.sha256(("signing-keys:" + secret).encode()).digest())
    )
    return SigningKey.objects.create(
        user=user, public_key=public, encrypted_private_key=former.encrypt(raw)
    )


def test_rotating_the_django_secret_keeps_keys_and_commitments_and_ends_sessions(client, world):
    user = world.carrier_admin.user
    key = ensure_signing_key(user)
    public, _ = sign_digest(user, DIGEST)
    commitment = personal_commitment(f"user:{user.pk}")
    # the salt is not the Django secret any more
    assert (
        commitment
        != hmac.new(
            settings.SECRET_KEY.encode(), f"user:{user.pk}".encode(), hashlib.sha256
        ).hexdigest()
    )
    client.force_login(user)
    assert client.get("/espace/").status_code == 200

    with override_settings(SECRET_KEY=NEW_SECRET):
        r = client.get("/espace/")
        assert r.status_code == 302 and r["Location"].startswith(
            "/connexion/"
        )  # signed out: sign in again
        public2, signature = sign_digest(user, DIGEST)
        assert public2 == public == key.public_key and _verifies(public2, signature)
        assert personal_commitment(f"user:{user.pk}") == commitment
    key.refresh_from_db()
    assert Fernet(settings.KEY_ENCRYPTION_KEYS[0].encode()).decrypt(
        bytes(key.encrypted_private_key)
    )


def test_a_key_of_the_former_scheme_is_reencrypted_on_first_use_then_survives_rotation():
    user = UserFactory()
    key = _former_scheme_key(user, settings.SECRET_KEY)
    old_token = bytes(key.encrypted_private_key)
    public, signature = sign_digest(user, DIGEST)
    assert public == key.public_key and _verifies(public, signature)
    key.refresh_from_db()
    assert bytes(key.encrypted_private_key) != old_token
    with override_settings(SECRET_KEY=NEW_SECRET):
        _, signature = sign_digest(user, DIGEST)
        assert _verifies(public, signature)


def test_without_migration_a_former_key_is_lost_at_rotation_with_a_clear_error():
    user = UserFactory()
    _former_scheme_key(user, settings.SECRET_KEY)
    with override_settings(SECRET_KEY=NEW_SECRET), pytest.raises(SigningKeyUnavailable) as caught:
        sign_digest(user, DIGEST)
    assert caught.value.status == 503 and "PACTE_KEY_ENCRYPTION_KEY" in caught.value.message
    # the old secret as a fallback still opens it (Django's SECRET_KEY_FALLBACKS)
    with override_settings(SECRET_KEY=NEW_SECRET, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        assert sign_digest(user, DIGEST)


def test_reencrypt_command_moves_every_key_then_a_new_key_encryption_key_can_come_first(capsys):
    from pacte.cli import main

    people = [UserFactory() for _ in range(3)]
    _former_scheme_key(people[0], settings.SECRET_KEY)
    _former_scheme_key(people[1], settings.SECRET_KEY)
    ensure_signing_key(people[2])
    SigningKey.objects.create(
        user=UserFactory(), public_key="00" * 32, encrypted_private_key=None
    )  # offline signer
    assert main(["signing-keys", "reencrypt"]) == 0
    out = capsys.readouterr().out
    assert "2 rechiffrée(s)" in out and "1 déjà à jour" in out
    with override_settings(SECRET_KEY=NEW_SECRET):  # nothing depends on the Django secret any more
        assert all(sign_digest(u, DIGEST) for u in people)
    assert reencrypt_all().reencrypted == 0

    new_kek = Fernet.generate_key().decode()
    with override_settings(KEY_ENCRYPTION_KEYS=[new_kek, *settings.KEY_ENCRYPTION_KEYS]):
        r = reencrypt_all()
        assert (r.reencrypted, r.current, r.unreadable) == (3, 0, [])
    with override_settings(KEY_ENCRYPTION_KEYS=[new_kek]):  # the old key-encryption key removed
        assert all(sign_digest(u, DIGEST) for u in people)


def test_reencrypt_command_reports_keys_no_configured_key_opens(capsys):
    from pacte.cli import main

    user = UserFactory()
    stray = _former_scheme_key(user, "a-secret-nobody-has-any-more-" + "x" * 20)
    assert main(["signing-keys", "reencrypt"]) == 1
    err = capsys.readouterr().err
    assert "1 clé(s) indéchiffrable(s)" in err and str(stray.pk) in err
