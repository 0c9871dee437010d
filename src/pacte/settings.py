"""One settings module; everything that varies comes from the environment (PACTE_*)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from pacte import instance_secrets

# Generic Django classes (ModelAdmin[Project], QuerySet[Pact]…) can be subscripted at run time, as
# the type annotations of the admin and selectors do.
django_stubs_ext.monkeypatch()

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


DB_CONNECT_TIMEOUT = int(os.environ.get("PACTE_DB_CONNECT_TIMEOUT", "5"))  # seconds (PostgreSQL)
DB_STATEMENT_TIMEOUT_MS = int(
    float(os.environ.get("PACTE_DB_STATEMENT_TIMEOUT", "30")) * 1000
)  # PostgreSQL
DB_BUSY_TIMEOUT = float(os.environ.get("PACTE_DB_BUSY_TIMEOUT", "20"))  # seconds (SQLite)
DB_RETRY_AFTER_SECONDS = int(os.environ.get("PACTE_DB_RETRY_AFTER", "5"))  # Retry-After of a 503


def database_from_url(url: str) -> dict[str, object]:
    """Translate PACTE_DATABASE_URL into a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        options: dict[str, object] = {
            # a server that does not answer must not block a worker thread for ever
            "connect_timeout": DB_CONNECT_TIMEOUT,
            # no statement runs longer than this (0 = no limit); the request then gets a 503
            "options": f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
        }
        options.update({k: v[-1] for k, v in parse_qs(parsed.query).items()})  # the URL wins
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "pacte",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": int(os.environ.get("PACTE_CONN_MAX_AGE", "60")),
            # persistent connections are checked before reuse: after a server restart the
            # next request reconnects instead of failing on a dead socket
            "CONN_HEALTH_CHECKS": True,
            "TEST": {"NAME": os.environ.get("PACTE_TEST_DATABASE_NAME") or None},
        }
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path) or str(VAR_DIR / "pacte.sqlite3")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": DB_BUSY_TIMEOUT,  # seconds a writer waits for the lock before "database is locked"
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
    "django_tasks",
    "django_tasks_db",
    "django_htmx",  # htmx, served from our own static files (pact editor)
    "pacte.accounts",
    "pacte.notifications",
    "pacte.scheduling",
    "pacte.journal",
    "pacte.projects",
    "pacte.pacts",
    "pacte.data",
    "pacte.evidence",
    "pacte.funding",
    "pacte.channels",
    "pacte.participation",
    "pacte.opendata",  # issue 13 parts 5, 8: open-data dump, statistics, statements
    "pacte.mediation",  # issue 13 part 7: assisted use
    "pacte.comptoirs",
    "pacte.writes",
    "pacte.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "pacte.request_faults.RequestFaultMiddleware",  # NUL in the address → 400; DB down → 503
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
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:home"

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

EMAIL_BACKEND = os.environ.get(
    "PACTE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("PACTE_FROM_EMAIL", "pacte@localhost")
# The public address of the site, for the links in e-mails (digests, one-click unsubscribe).
PACTE_SITE_URL = os.environ.get("PACTE_SITE_URL", "http://localhost:8000")
# Queued notifications (pacte.notifications): tries, backoff base · 2^(n−1) capped, retention of the outbox.
NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("PACTE_NOTIFICATION_MAX_ATTEMPTS", "6"))
NOTIFICATION_RETRY_BASE_SECONDS = 60
NOTIFICATION_RETRY_CAP_SECONDS = 6 * 3600
NOTIFICATION_RETENTION_DAYS = 90
NOTICE_RETENTION_DAYS = int(os.environ.get("PACTE_NOTICE_RETENTION_DAYS", "180"))  # in-app notices

TASKS = {
    "default": {
        "BACKEND": os.environ.get("PACTE_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Signing key of the transparency log (C2SP note); generated under var/ in development.
LOG_SIGNING_KEY = os.environ.get("PACTE_LOG_SIGNING_KEY", "")
# The checkpoint origin names the log's public URL prefix without scheme nor trailing slash, as
# c2sp.org/tlog-tiles recommends: <prefix>/checkpoint and <prefix>/tile/… are served there.
# Derived from PACTE_PUBLIC_URL (else PACTE_PUBLIC_HOST); an existing log keeps its origin by
# setting PACTE_LOG_ORIGIN explicitly (e.g. the former default `pacte.<host>/log`).
LOG_PATH_PREFIX = "/api/v1/log"


def default_log_origin(public_url: str, public_host: str) -> str:
    base = public_url.strip() or public_host
    base = base.split("://", 1)[-1].rstrip("/")
    return f"{base}{LOG_PATH_PREFIX}"


LOG_ORIGIN = os.environ.get("PACTE_LOG_ORIGIN") or default_log_origin(
    os.environ.get("PACTE_PUBLIC_URL", ""), PUBLIC_HOST
)
# The log's memory of the latest checkpoint it signed, kept OUTSIDE the database (beside the
# development signing key) so that a restored backup cannot make it sign a fork.
LOG_MEMORY_FILE = os.environ.get("PACTE_LOG_MEMORY_FILE", str(VAR_DIR / "log-latest-checkpoint"))
# Seconds between two checkpoints a process signs after its record_event commits (issue 15,
# dp3): the request only schedules the signature, which a timer signs at the latest this long
# after the commit; a reader asking for the checkpoint gets it at once (docs/
# transparency-log-operations.md, "Signature des points de contrôle"). 0: signed in the request
# right after its commit (the test settings: tests/conftest.py sets 0 too).
LOG_CHECKPOINT_INTERVAL = float(
    os.environ.get("PACTE_LOG_CHECKPOINT_INTERVAL", "0" if ENVIRONMENT == "test" else "1.0")
)
# The witness role (c2sp.org/tlog-witness) served at /api/v1/witness/: the cosignature key
# (PRIVATE+KEY+… of type cosignature/v1) and the verifier keys of the logs it witnesses.
WITNESS_SIGNING_KEY = os.environ.get("PACTE_WITNESS_SIGNING_KEY", "")
WITNESS_LOG_KEYS = [
    k.strip() for k in os.environ.get("PACTE_WITNESS_LOG_KEYS", "").split(",") if k.strip()
]
# Cosignatures whose timestamp is further than this in the future are refused.
WITNESS_MAX_CLOCK_SKEW = int(os.environ.get("PACTE_WITNESS_MAX_CLOCK_SKEW", "600"))

# Secrets never derived from SECRET_KEY, so that rotating it only ends sessions (see
# pacte/instance_secrets.py): the key-encryption key(s) of custodial signing keys (Fernet; the
# first encrypts, all decrypt) and the salt of commitments to personal data in public entries.
# Required in production; generated once under VAR_DIR in development and tests.
try:
    KEY_ENCRYPTION_KEYS = instance_secrets.key_encryption_keys(
        os.environ, production=ENVIRONMENT == "production", var_dir=VAR_DIR
    )
    COMMITMENT_SALT = instance_secrets.commitment_salt(
        os.environ,
        production=ENVIRONMENT == "production",
        var_dir=VAR_DIR,
        placeholders=(PLACEHOLDER_SECRET,),
    )
except instance_secrets.SecretConfigurationError as exc:
    raise ImproperlyConfigured(str(exc)) from None

PACT_DEFAULT_CURE_DAYS = 30
PACT_SECOND_REVIEW_EUROS = 500_000
COMMITMENT_DUE_SOON_DAYS = 14

# Largest request body read in memory (files uploaded as multipart are not counted); beyond it: 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("PACTE_MAX_BODY_BYTES", str(2_500_000)))

# Public pages (and the public API lists) for visitors without an account are cached, keyed on
# the database state they see (pacte.public_cache: never stale), for at most this many seconds
# (a bound for what depends on the time of day; 0: no cache).
PUBLIC_PAGE_CACHE_SECONDS = int(os.environ.get("PACTE_PUBLIC_PAGE_CACHE_SECONDS", "60"))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PACTE_LOG_LEVEL", "WARNING")},
}


# ---------------------------------------------------------------------------------------------
# Web hardening (issue 9, "Web and roles"): Content-Security-Policy, sign-in throttling, proxies.
# Kept together in this block; see docs/deployment.md.
# ---------------------------------------------------------------------------------------------
from datetime import timedelta  # noqa: E402

from csp.constants import NONCE, NONE, SELF  # noqa: E402

# "ninja" in INSTALLED_APPS makes /api/v1/docs serve Swagger UI from our static files, with no
# inline script (otherwise django-ninja inlines its start-up script and loads it from a CDN).
INSTALLED_APPS += ["ninja", "csp", "axes"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as django-axes asks

# A strict policy on every response: scripts only from our origin (or carrying this response's
# nonce, `request.csp_nonce`), no plugins, no <base>, no framing, forms post to us only.
# Inline event handlers (onclick=…) and style="" attributes are refused: use static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Swagger UI draws its icons as data: SVG
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# Sign-in throttling with django-axes: failures are counted per (account, client address), so a
# stranger hammering an account from elsewhere cannot lock its owner out. After
# PACTE_LOGIN_MAX_FAILURES failures that pair is refused for PACTE_LOGIN_COOLOFF_MINUTES, even
# with the right password; a success resets the count. Expired attempts are deleted by axes at
# each sign-in; `pacte manage axes_reset_logs --age 30` prunes the access log (docs/deployment.md).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]
SIGN_IN_LOG_RETENTION_DAYS = int(os.environ.get("PACTE_SIGN_IN_LOG_RETENTION_DAYS", "30"))
AXES_FAILURE_LIMIT = int(os.environ.get("PACTE_LOGIN_MAX_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("PACTE_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "pacte.accounts.client_address.normalised_username"
AXES_CLIENT_IP_CALLABLE = "pacte.accounts.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "pacte.web.views.login_locked_out"
AXES_COOLOFF_MESSAGE = _(
    "Trop de tentatives de connexion depuis cette adresse. Réessayez dans quelques minutes."
)

# The client address: REMOTE_ADDR, unless the connection comes from one of these trusted reverse
# proxies (addresses or networks, comma-separated, e.g. "127.0.0.1,::1"); then the right-most
# X-Forwarded-For address that is not itself a trusted proxy. Empty (default): X-Forwarded-For
# is ignored, since anyone can write it.
PACTE_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("PACTE_TRUSTED_PROXIES", "").split(",") if p.strip()
]
try:
    import ipaddress as _ipaddress

    for _proxy in PACTE_TRUSTED_PROXIES:
        _ipaddress.ip_network(_proxy, strict=False)
except ValueError as _exc:
    raise ImproperlyConfigured(
        f"PACTE_TRUSTED_PROXIES: adresse ou réseau invalide ({_exc})."
    ) from _exc

# Publisher of the service (issue 13 parts 5 and 8): named in the legal notices, the
# accessibility and personal-data statements, the DCAT-AP catalogue and the open-data dump.
PUBLISHER_NAME = os.environ.get("PACTE_PUBLISHER_NAME", "Service Public Citoyen (instance Pacte)")
PUBLISHER_ADDRESS = os.environ.get("PACTE_PUBLISHER_ADDRESS", "")
PUBLISHER_EMAIL = os.environ.get("PACTE_PUBLISHER_EMAIL", "contact@pacte.localhost")
PUBLICATION_DIRECTOR = os.environ.get("PACTE_PUBLICATION_DIRECTOR", "")
HOSTING_PROVIDER = os.environ.get("PACTE_HOSTING_PROVIDER", "")
DATA_PROTECTION_EMAIL = os.environ.get("PACTE_DPO_EMAIL", "") or PUBLISHER_EMAIL
ACCESSIBILITY_EMAIL = os.environ.get("PACTE_ACCESSIBILITY_EMAIL", "") or PUBLISHER_EMAIL
OPEN_DATA_DIR = Path(os.environ.get("PACTE_OPEN_DATA_DIR", VAR_DIR / "opendata"))

# ---------------------------------------------------------------------------------------------
# Accounts (issue 13, parts 1-2): django-allauth for sign-up, e-mail verification, sign-in by
# e-mail or account name, password reset, e-mail change; FranceConnect and ProConnect through
# allauth's OpenID Connect provider (pacte.accounts.oidc adds nonce, acr and signed userinfo).
# Kept together in this block; see docs/accounts.md.
# ---------------------------------------------------------------------------------------------
INSTALLED_APPS += [
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "allauth.account.middleware.AccountMiddleware",
)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: it refuses a locked (account, address) pair
    "allauth.account.auth_backends.AuthenticationBackend",  # by e-mail or account name
]
ACCOUNT_ADAPTER = "pacte.accounts.adapters.PacteAccountAdapter"
SOCIALACCOUNT_ADAPTER = "pacte.accounts.adapters.PacteSocialAccountAdapter"
ACCOUNT_FORMS = {"login": "pacte.accounts.forms.SignInForm"}
ACCOUNT_SIGNUP_FORM_CLASS = "pacte.accounts.signup_details.SignUpDetails"
ACCOUNT_LOGIN_METHODS = {"email", "username"}  # people sign in by e-mail; older accounts by name
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # a link opened by a mail scanner must not confirm anything
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Pacte] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if ENVIRONMENT == "production" else "http"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# django-axes counts failed sign-ins per (account, address) above; allauth's own per-account
# limit would let a stranger lock the owner out, so it is off. The other limits stay.
ACCOUNT_RATE_LIMITS = {"login_failed": False}
AXES_USERNAME_FORM_FIELD = "login"
SOCIALACCOUNT_LOGIN_ON_GET = False  # the provider buttons post a form (CSRF-protected)
SOCIALACCOUNT_STORE_TOKENS = True  # the ID token is kept for logout (id_token_hint)
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never sign into an account by its e-mail alone…
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_AUTO_SIGNUP = True  # …a clash goes to the linking page, which asks the person
SOCIALACCOUNT_EMAIL_VERIFICATION = "mandatory"
SOCIALACCOUNT_QUERY_EMAIL = True
from pacte.accounts.oidc.configuration import configured_apps, provider_origins  # noqa: E402

_IDENTITY_PROVIDERS = configured_apps(os.environ)
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "provider_class": "pacte.accounts.oidc.provider.PublicServiceProvider",
        "OAUTH_PKCE_ENABLED": True,
        "APPS": _IDENTITY_PROVIDERS,
    }
}
# the sign-in buttons and the sign-out form post to Pacte, which redirects to the provider
CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] = [
    SELF,
    *provider_origins(_IDENTITY_PROVIDERS),
]
