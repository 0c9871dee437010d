"""One settings module; everything that varies comes from the environment (PACTE_*)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("PACTE_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite file, static files, development keys, datasets

PLACEHOLDER_SECRET = "pacte-dev-insecure-placeholder-change-me"
ENVIRONMENT = os.environ.get("PACTE_ENV", "development")  # development | test | production
DEBUG = os.environ.get("PACTE_DEBUG", "0") == "1"
SECRET_KEY = os.environ.get("PACTE_SECRET_KEY", PLACEHOLDER_SECRET)
if ENVIRONMENT == "production" and (SECRET_KEY == PLACEHOLDER_SECRET or len(SECRET_KEY) < 40):
    raise ImproperlyConfigured(
        "PACTE_SECRET_KEY must be set to a random value of at least 40 characters in production."
    )

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("PACTE_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("PACTE_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
PUBLIC_HOST = os.environ.get("PACTE_PUBLIC_HOST", "localhost")


def database_from_url(url: str) -> dict[str, object]:
    """Translate PACTE_DATABASE_URL into a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "pacte",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": int(os.environ.get("PACTE_CONN_MAX_AGE", "60")),
            "TEST": {"NAME": os.environ.get("PACTE_TEST_DATABASE_NAME") or None},
        }
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path) or str(VAR_DIR / "pacte.sqlite3")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # a file, not memory, so that concurrency tests see real BEGIN IMMEDIATE locks
            "TEST": {"NAME": str(Path(path).with_name("pacte-test.sqlite3"))},
        }
    raise ImproperlyConfigured(f"Unsupported PACTE_DATABASE_URL scheme: {parsed.scheme!r}")


DATABASES = {
    "default": database_from_url(
        os.environ.get("PACTE_DATABASE_URL", f"sqlite://{VAR_DIR / 'pacte.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",  # its templates and static files: /api/v1/docs loads Swagger UI from here, not from a CDN
    "django_tasks",
    "django_tasks_db",
    "pacte.accounts",
    "pacte.notifications",
    "pacte.scheduling",
    "pacte.journal",
    "pacte.projects",
    "pacte.pacts",
    "pacte.data",
    "pacte.evidence",
    "pacte.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pacte.accounts.middleware.ActingOrganisationMiddleware",
    "pacte.errors.DomainErrorMiddleware",
]

ROOT_URLCONF = "pacte.urls"
WSGI_APPLICATION = "pacte.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pacte.accounts.middleware.acting_context",
            ],
        },
    }
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:home"
LOGIN_THROTTLE_MAX_FAILURES = int(os.environ.get("PACTE_LOGIN_MAX_FAILURES", "5"))
LOGIN_THROTTLE_WINDOW_SECONDS = int(os.environ.get("PACTE_LOGIN_WINDOW_SECONDS", "900"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if ENVIRONMENT == "production":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Paris"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("PACTE_STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # filled by `pacte serve` (collectstatic)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if ENVIRONMENT == "production"
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_BACKEND = os.environ.get("PACTE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("PACTE_FROM_EMAIL", "pacte@localhost")
# Queued notifications (pacte.notifications): tries, backoff base · 2^(n−1) capped, retention of the outbox.
NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("PACTE_NOTIFICATION_MAX_ATTEMPTS", "6"))
NOTIFICATION_RETRY_BASE_SECONDS = 60
NOTIFICATION_RETRY_CAP_SECONDS = 6 * 3600
NOTIFICATION_RETENTION_DAYS = 90

TASKS = {
    "default": {
        "BACKEND": os.environ.get("PACTE_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Signing key of the transparency log (C2SP note); generated under var/ in development.
LOG_SIGNING_KEY = os.environ.get("PACTE_LOG_SIGNING_KEY", "")
LOG_ORIGIN = os.environ.get("PACTE_LOG_ORIGIN", f"pacte.{PUBLIC_HOST}/log")

# Salt for commitments to personal data in public entries.
COMMITMENT_SALT = os.environ.get("PACTE_COMMITMENT_SALT", SECRET_KEY)

PACT_DEFAULT_CURE_DAYS = 30
PACT_SECOND_REVIEW_EUROS = 500_000
COMMITMENT_DUE_SOON_DAYS = 14

NINJA_PAGINATION_PER_PAGE = 20

# Public pages for visitors without an account are cached, keyed on the public log size
# (every governance change appends an event), for at most this many seconds.
PUBLIC_PAGE_CACHE_SECONDS = int(os.environ.get("PACTE_PUBLIC_PAGE_CACHE_SECONDS", "60"))
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 2000}}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PACTE_LOG_LEVEL", "WARNING")},
}
