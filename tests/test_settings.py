from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("PACTE_")}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import pacte.settings"], env=full, capture_output=True, text=True
    )


def test_production_refuses_placeholder_secret():
    r = _import_settings({"PACTE_ENV": "production"})
    assert r.returncode != 0 and "PACTE_SECRET_KEY" in r.stderr


KEK = "Bq0W4kKQ2cOnY1cZ0oQ7aVhD2mJmC0m0ZKoX0qvU8gM="  # a Fernet key (32 bytes, URL-safe base64)
PRODUCTION = {
    "PACTE_ENV": "production",
    "PACTE_SECRET_KEY": "x" * 50,
    "PACTE_KEY_ENCRYPTION_KEY": KEK,
    "PACTE_COMMITMENT_SALT": "s" * 40,
}


def test_production_starts_with_a_real_secret():
    r = _import_settings(PRODUCTION)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"PACTE_KEY_ENCRYPTION_KEY": ""}, "PACTE_KEY_ENCRYPTION_KEY must be set"),
        (
            {"PACTE_KEY_ENCRYPTION_KEY": "change-me"},
            "PACTE_KEY_ENCRYPTION_KEY: key 1 is not a Fernet key",
        ),
        (
            {"PACTE_KEY_ENCRYPTION_KEY": f"{KEK},short"},
            "PACTE_KEY_ENCRYPTION_KEY: key 2 is not a Fernet key",
        ),
        ({"PACTE_COMMITMENT_SALT": ""}, "PACTE_COMMITMENT_SALT must be set"),
        ({"PACTE_COMMITMENT_SALT": "too-short"}, "PACTE_COMMITMENT_SALT must be a random value"),
        (
            {"PACTE_COMMITMENT_SALT": "pacte-dev-insecure-placeholder-change-me"},
            "PACTE_COMMITMENT_SALT must be",
        ),
    ],
)
def test_production_refuses_missing_or_placeholder_secrets(change, named):
    r = _import_settings({**PRODUCTION, **change})
    assert r.returncode != 0 and named in r.stderr, r.stderr


def test_development_generates_each_secret_once_in_var_dir(tmp_path):
    show = "import pacte.settings as s; print(s.KEY_ENCRYPTION_KEYS[0]); print(s.COMMITMENT_SALT)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACTE_")}
    env.update({"PACTE_ENV": "development", "PACTE_VAR_DIR": str(tmp_path)})
    first = subprocess.run(
        [sys.executable, "-c", show], env=env, capture_output=True, text=True, check=True
    ).stdout
    again = subprocess.run(
        [sys.executable, "-c", show], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert first == again
    kek, salt = first.split()
    assert (tmp_path / "key-encryption-key").read_text().strip() == kek
    assert (tmp_path / "commitment-salt").read_text().strip() == salt
    assert (tmp_path / "key-encryption-key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "commitment-salt").stat().st_mode & 0o777 == 0o600
    assert len(salt) >= 32 and kek != salt
    # the Django secret is another setting: changing it changes neither
    env["PACTE_SECRET_KEY"] = "another-" + "y" * 40
    assert (
        subprocess.run(
            [sys.executable, "-c", show], env=env, capture_output=True, text=True, check=True
        ).stdout
        == first
    )


def test_database_url_parsing():
    from pacte.settings import database_from_url

    pg = database_from_url("postgresql://u:p%40ss@db.example:5433/pacte?sslmode=require")
    assert pg["ENGINE"] == "django.db.backends.postgresql" and pg["PASSWORD"] == "p@ss"
    assert pg["PORT"] == "5433" and pg["OPTIONS"]["sslmode"] == "require"
    assert pg["OPTIONS"]["connect_timeout"] == 5 and "statement_timeout=30000" in str(
        pg["OPTIONS"]["options"]
    )
    assert pg["CONN_HEALTH_CHECKS"] is True
    custom = database_from_url(
        "postgresql://u@h/p?connect_timeout=2&options=-c%20statement_timeout%3D1000"
    )
    assert (
        custom["OPTIONS"]["connect_timeout"] == "2"
        and custom["OPTIONS"]["options"] == "-c statement_timeout=1000"
    )
    assert database_from_url("sqlite:///tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"


def test_trusted_proxies_are_checked_at_start_up():
    r = _import_settings({"PACTE_TRUSTED_PROXIES": "127.0.0.1, pas-une-adresse"})
    assert r.returncode != 0 and "PACTE_TRUSTED_PROXIES" in r.stderr
    r = _import_settings({"PACTE_TRUSTED_PROXIES": "127.0.0.1,::1,10.0.0.0/8"})
    assert r.returncode == 0, r.stderr
