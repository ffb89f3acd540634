"""Settings for socialclusters, read from the environment.

Every setting a user may change is an environment variable listed in the README ("Settings");
a test fails when one is missing there. Defaults are safe for local use; in production mode
(``SOCIALCLUSTERS_PRODUCTION=1``) the project refuses to start with an insecure default.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import xstatic.pkg.leaflet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent
# The checkout's root when installed in editable mode (src/socialclusters/config → root).
CHECKOUT_DIR = PACKAGE_DIR.parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


PRODUCTION = env_bool("SOCIALCLUSTERS_PRODUCTION", False)
INSECURE_SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"  # noqa: S105 - refused in production below
SECRET_KEY = os.environ.get("SECRET_KEY", INSECURE_SECRET_KEY)
DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"])

DATA_DIR = Path(os.environ.get("SOCIALCLUSTERS_DATA_DIR", CHECKOUT_DIR / "var")).resolve()

# Reference data: a base URL or a local folder laid out like the publisher's site. The shared
# mirror beside the checkout is preferred when it exists, so demo, tests and CI run offline.
_SHARED_DATA = Path(os.environ.get("SOCIALCLUSTERS_SHARED_DATA", CHECKOUT_DIR.parent / "shared" / "data"))
SHARED_DATA_DIR = _SHARED_DATA if _SHARED_DATA.is_dir() else None
GISCO_OFFICIAL_URL = "https://gisco-services.ec.europa.eu/distribution/v2/"
GISCO_SOURCE = os.environ.get(
    "SOCIALCLUSTERS_GISCO_SOURCE",
    str(SHARED_DATA_DIR / "gisco") if SHARED_DATA_DIR and (SHARED_DATA_DIR / "gisco").is_dir() else GISCO_OFFICIAL_URL,
)
ESSGLOBAL_OFFICIAL_URL = "http://purl.org/essglobal/standard/"
ESSGLOBAL_SOURCE = os.environ.get(
    "SOCIALCLUSTERS_ESSGLOBAL_SOURCE",
    str(SHARED_DATA_DIR / "essglobal")
    if SHARED_DATA_DIR and (SHARED_DATA_DIR / "essglobal").is_dir()
    else ESSGLOBAL_OFFICIAL_URL,
)
# Statistics (fetch-statistics): Eurostat's dissemination API, and a local folder of dataset files (named like
# the API's paths or <CODE>.tsv[.gz] / <CODE>.csv[.gz]) read instead of the API for the datasets it holds.
EUROSTAT_API_URL = os.environ.get("SOCIALCLUSTERS_EUROSTAT_API_URL", "https://ec.europa.eu/eurostat/api/dissemination")
EUROSTAT_MIRROR = os.environ.get(
    "SOCIALCLUSTERS_EUROSTAT_MIRROR",
    str(SHARED_DATA_DIR / "eurostat") if SHARED_DATA_DIR and (SHARED_DATA_DIR / "eurostat").is_dir() else "",
)
DOWNLOAD_TIMEOUT = float(os.environ.get("SOCIALCLUSTERS_DOWNLOAD_TIMEOUT", "60"))

if PRODUCTION:
    if SECRET_KEY == INSECURE_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "SOCIALCLUSTERS_PRODUCTION=1 needs SECRET_KEY set to a random string of at least 32 characters."
        )
    if DEBUG:
        raise ImproperlyConfigured("SOCIALCLUSTERS_PRODUCTION=1 refuses DEBUG=1: unset DEBUG or set it to 0.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("SOCIALCLUSTERS_PRODUCTION=1 needs ALLOWED_HOSTS (comma-separated host names).")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "simple_history",
    "django_tasks_db",
    # django-ninja as an app so /api/v1/docs renders its bundled Swagger UI (static files), not a CDN copy.
    "ninja",
    "socialclusters.accounts",
    "socialclusters.registry",
    "socialclusters.mapping",
    "socialclusters.workinggroup",
    "socialclusters.surveys",
    "socialclusters.cooperation",
    "socialclusters.api",
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
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "socialclusters.config.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "socialclusters.config.urls"
WSGI_APPLICATION = "socialclusters.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'socialclusters.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A fresh checkout has no data directory yet; SQLite creates the file but not its folder.
    if DATABASES["default"]["NAME"] not in {"", ":memory:"}:
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the demo server read while an import writes; a busy timeout avoids spurious "locked" errors.
    # A new database gets 16 KiB pages (SQLite's default is 4 KiB; an existing file keeps its own): the
    # registry's rows are long and its tables large, and a million-row import then spends 12% less time in
    # SQLite (fewer, fuller B-tree pages to split and write).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20,
         "init_command": "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Leaflet comes from its registry package (xstatic-leaflet), served by the app itself: no CDN.
# The project's own CSS and JS live in the package's static/ folder (not an app, so listed here).
STATICFILES_DIRS = [PACKAGE_DIR / "static", ("leaflet", xstatic.pkg.leaflet.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
# Outside production, files are looked up per request (no collectstatic needed, no warning about an empty STATIC_ROOT).
WHITENOISE_AUTOREFRESH = not PRODUCTION
MEDIA_ROOT = DATA_DIR / "media"

# Email: a file backend locally (messages land in DATA_DIR/mail), SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    EMAIL_FILE_PATH = DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "socialclusters <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Uploads: imports read files from disk through the CLI; web uploads stay small.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False

# Long work (member selection, …) runs as django-tasks tasks. By default they are queued in the database and run
# by a worker process (`socialclusters db_worker`, started beside the web server by `socialclusters serve`);
# `SOCIALCLUSTERS_TASKS=immediate` runs them at once inside the request instead (no worker needed).
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
_TASKS = os.environ.get("SOCIALCLUSTERS_TASKS", "database").strip().lower()
if _TASKS not in TASK_BACKENDS:
    raise ImproperlyConfigured(f"SOCIALCLUSTERS_TASKS={_TASKS!r}: expected one of {', '.join(TASK_BACKENDS)}")
TASKS = {"default": {"BACKEND": TASK_BACKENDS[_TASKS]}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
