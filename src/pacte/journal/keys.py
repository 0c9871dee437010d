"""The log's signing key (C2SP note key), from settings or generated in development."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from pacte.engines import note

KEY_FILE_NAME = "log-signing-key"
_lock = threading.Lock()
_cache: dict[str, note.Signer] = {}


def _key_name(origin: str) -> str:
    # A C2SP key name has no space and no '+'; by convention it is the log origin.
    return origin.replace("+", "-").replace(" ", "-") or "pacte-log"


def check_configuration() -> None:
    """Refuse to start in production without an explicit signing key."""
    if getattr(settings, "ENVIRONMENT", "") == "production" and not settings.LOG_SIGNING_KEY:
        raise ImproperlyConfigured(
            "PACTE_LOG_SIGNING_KEY doit contenir la clé privée (format C2SP/Go note) du journal en production."
        )
    if settings.LOG_SIGNING_KEY:
        try:
            note.parse_private_key(settings.LOG_SIGNING_KEY)
        except note.NoteError as exc:
            raise ImproperlyConfigured(f"PACTE_LOG_SIGNING_KEY invalide : {exc}") from None


def key_file() -> Path:
    return Path(settings.VAR_DIR) / KEY_FILE_NAME


def _load_or_generate(path: Path) -> str:
    """Read the development key file, creating it (mode 0600) atomically on first use."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    text = note.generate_signer(_key_name(settings.LOG_ORIGIN)).private_key_text
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return text


def _development_key_file() -> Path:
    """VAR_DIR/log-signing-key, unless that key is named after another origin (the origin was
    changed, e.g. the former default `pacte.localhost/log`): a key is named after its log's
    origin (C2SP convention, which witnesses rely on), so another origin gets its own file."""
    path = key_file()
    try:
        name, _ = note.parse_private_key(path.read_text(encoding="ascii").strip())
    except (FileNotFoundError, note.NoteError):
        return path
    wanted = _key_name(settings.LOG_ORIGIN)
    if name == wanted:
        return path
    digest = hashlib.sha256(wanted.encode("utf-8")).hexdigest()[:12]
    return path.with_name(f"{KEY_FILE_NAME}-{digest}")


def get_signer() -> note.Signer:
    """The log signer: settings.LOG_SIGNING_KEY, else (development) VAR_DIR/log-signing-key."""
    check_configuration()
    text = settings.LOG_SIGNING_KEY
    cache_key = text or f"{key_file()}|{settings.LOG_ORIGIN}"
    with _lock:
        signer = _cache.get(cache_key)
        if signer is None:
            if not text:
                text = _load_or_generate(_development_key_file())
            signer = note.Signer.from_private_key_text(text)
            _cache[cache_key] = signer
        return signer


def verifier_key() -> str:
    return get_signer().verifier_key
