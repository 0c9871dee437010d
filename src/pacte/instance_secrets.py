"""The installation's own secrets, kept apart from Django's SECRET_KEY (read by settings).

Rotating ``PACTE_SECRET_KEY`` (sessions, password-reset links, CSRF) must break nothing
else, so two secrets are never derived from it:

* ``PACTE_KEY_ENCRYPTION_KEY``: the key-encryption key of custodial signing keys, one or
  more Fernet keys separated by commas (the first encrypts, all decrypt: to change it, put
  the new key first, run ``pacte signing-keys reencrypt``, then drop the old one);
* ``PACTE_COMMITMENT_SALT``: the salt of the commitments to personal data published in the
  log (changing it changes every future commitment; keep it for the life of the log).

In production both must be given (settings refuse to start otherwise). In development and
tests each is generated once and kept in ``PACTE_VAR_DIR`` (mode 0600), like the log's
development signing key. No Django import here: settings load this module.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

KEY_ENCRYPTION_KEY_FILE = "key-encryption-key"
COMMITMENT_SALT_FILE = "commitment-salt"
MIN_SALT_LENGTH = 32


class SecretConfigurationError(ValueError):
    """A secret is missing or unusable; the message names the variable."""


def parse_key_encryption_keys(text: str) -> list[str]:
    """The Fernet keys of ``PACTE_KEY_ENCRYPTION_KEY`` (comma-separated, first = current)."""
    keys = [k.strip() for k in text.split(",") if k.strip()]
    if not keys:
        raise SecretConfigurationError("PACTE_KEY_ENCRYPTION_KEY is empty.")
    for i, key in enumerate(keys, 1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != 32:
            raise SecretConfigurationError(
                f"PACTE_KEY_ENCRYPTION_KEY: key {i} is not a Fernet key (32 bytes in URL-safe base64; "
                "generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')."
            )
    return keys


def check_commitment_salt(salt: str, placeholders: tuple[str, ...] = ()) -> str:
    if len(salt) < MIN_SALT_LENGTH or salt in placeholders:
        raise SecretConfigurationError(
            f"PACTE_COMMITMENT_SALT must be a random value of at least {MIN_SALT_LENGTH} characters."
        )
    return salt


def development_secret(var_dir: Path, name: str, generate: str) -> str:
    """The secret kept in ``var_dir/name``, written (0600, atomically) with ``generate`` on
    first use; when two processes race, both read the one that won."""
    path = var_dir / name
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(generate + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return generate


def key_encryption_keys(
    environ: dict[str, str] | os._Environ[str], *, production: bool, var_dir: Path
) -> list[str]:
    text = environ.get("PACTE_KEY_ENCRYPTION_KEY", "").strip()
    if not text:
        if production:
            raise SecretConfigurationError(
                "PACTE_KEY_ENCRYPTION_KEY must be set in production (the key that encrypts custodial "
                "signing keys; a Fernet key, never derived from PACTE_SECRET_KEY)."
            )
        text = development_secret(
            var_dir, KEY_ENCRYPTION_KEY_FILE, Fernet.generate_key().decode("ascii")
        )
    return parse_key_encryption_keys(text)


def commitment_salt(
    environ: dict[str, str] | os._Environ[str],
    *,
    production: bool,
    var_dir: Path,
    placeholders: tuple[str, ...] = (),
) -> str:
    salt = environ.get("PACTE_COMMITMENT_SALT", "")
    if not salt:
        if production:
            raise SecretConfigurationError(
                "PACTE_COMMITMENT_SALT must be set in production (salt of the commitments to personal "
                "data in the public log; an existing installation keeps its published commitments by "
                "setting it to the value PACTE_SECRET_KEY had)."
            )
        return development_secret(var_dir, COMMITMENT_SALT_FILE, secrets.token_urlsafe(48))
    return check_commitment_salt(salt, placeholders) if production else salt
