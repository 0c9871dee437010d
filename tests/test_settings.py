from __future__ import annotations

import os
import subprocess
import sys


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("PACTE_")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", "import pacte.settings"], env=full, capture_output=True, text=True)


def test_production_refuses_placeholder_secret():
    r = _import_settings({"PACTE_ENV": "production"})
    assert r.returncode != 0 and "PACTE_SECRET_KEY" in r.stderr


def test_production_starts_with_a_real_secret():
    r = _import_settings({"PACTE_ENV": "production", "PACTE_SECRET_KEY": "x" * 50})
    assert r.returncode == 0, r.stderr


def test_database_url_parsing():
    from pacte.settings import database_from_url

    pg = database_from_url("postgresql://u:p%40ss@db.example:5433/pacte?sslmode=require")
    assert pg["ENGINE"] == "django.db.backends.postgresql" and pg["PASSWORD"] == "p@ss"
    assert pg["PORT"] == "5433" and pg["OPTIONS"] == {"sslmode": "require"}
    assert database_from_url("sqlite:///tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"


def test_trusted_proxies_are_checked_at_start_up():
    r = _import_settings({"PACTE_TRUSTED_PROXIES": "127.0.0.1, pas-une-adresse"})
    assert r.returncode != 0 and "PACTE_TRUSTED_PROXIES" in r.stderr
    r = _import_settings({"PACTE_TRUSTED_PROXIES": "127.0.0.1,::1,10.0.0.0/8"})
    assert r.returncode == 0, r.stderr
