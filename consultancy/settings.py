"""Settings for the consultancy CRM: one file, every deployment knob read from the environment.

Without any environment the app runs embedded: SQLite, Celery over kombu's filesystem transport
(a real worker and beat, no Redis) and email printed to the console. Set DATABASE_URL, REDIS_URL
and EMAIL_URL to use real servers. A malformed value fails at start-up with ImproperlyConfigured.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from clients.money import parse_money

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Everything the app writes beside its database: the embedded broker's folders and the collected
# static files. Processes that share an embedded broker (web, worker, beat; a test and the worker
# it starts) must share this folder, so it is absolute, never relative to where each one starts.
VAR_DIR = Path(env.str("DJANGO_VAR_DIR", default=str(BASE_DIR / "var")))
if not VAR_DIR.is_absolute():
    raise ImproperlyConfigured(f"DJANGO_VAR_DIR must be an absolute path, not {str(VAR_DIR)!r}.")


def _env_bool(name: str, default: bool) -> bool:
    # environ.Env.bool() reads any unknown word as False; a typo in DJANGO_DEBUG must not
    # silently switch a production box into debug mode or the other way round.
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def _env_money(name: str, default: str) -> Decimal:
    raw = env.str(name, default=default)
    try:
        value = parse_money(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an amount like 125.00, not {raw!r}.") from None
    if value >= 100_000:
        raise ImproperlyConfigured(f"{name} must be an amount from 0 to 99999.99, not {raw!r}.")
    return value


def _env_limit(name: str, default: int, low: int, high: int) -> int:
    """A whole number from `low` to `high` (ASCII digits only: "²" passes str.isdigit())."""
    raw = env.str(name, default="").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ImproperlyConfigured(
            f"{name} must be a whole number from {low} to {high}, not {raw!r}."
        )
    return int(raw)


# --- Development mode ------------------------------------------------------------------------
# Production is the default. DJANGO_DEVELOPMENT=true is the one switch to development mode, and
# only the development entry points set it (`make run`, `make lint`, tests/settings.py): debug
# pages, a built-in secret key when none is given, cookies over plain HTTP, no HTTPS redirect,
# and a banner on every page saying so. DJANGO_DEBUG can turn debug pages off inside
# development mode, never on outside it.
DEVELOPMENT = _env_bool("DJANGO_DEVELOPMENT", default=False)
DEBUG = _env_bool("DJANGO_DEBUG", default=DEVELOPMENT)
if DEBUG and not DEVELOPMENT:
    raise ImproperlyConfigured(
        "DJANGO_DEBUG=true is only allowed in development mode (DJANGO_DEVELOPMENT=true)."
    )
TESTING = _env_bool("DJANGO_TESTING", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set (outside development mode, DJANGO_DEVELOPMENT=true)."
        )
    SECRET_KEY = "insecure-development-key-only-for-development-mode-never-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "simple_history",  # the audit trail (README, "Audit trail")
    "clients",
    "contracts",
    "billing",
    "offers",
    "tickets",
    "insights",
    "consultancy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Audit: who made a change in this request (needs request.user, so after auth).
    "simple_history.middleware.HistoryRequestMiddleware",
    "consultancy.safety.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "consultancy.urls"
WSGI_APPLICATION = "consultancy.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "consultancy.context_processors.roles",
                "consultancy.context_processors.development_mode",
            ],
        },
    },
]

try:
    DATABASES = {
        "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
    }
    if not DATABASES["default"].get("ENGINE"):
        raise ValueError("unknown scheme")
except (KeyError, ValueError) as exc:
    raise ImproperlyConfigured(
        f"DATABASE_URL must look like postgres://user@host:5432/name or sqlite:///path ({exc})."
    ) from None
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; the busy timeout makes a writer
    # wait for the other's lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    try:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    except ValueError:
        raise ImproperlyConfigured("DJANGO_CONN_MAX_AGE must be a number of seconds.") from None
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiles plans for queries it guesses are big; for the campaign's
    # eligibility query at 50,000 clients the compiling cost more than it saved (measured
    # 2.1 s with JIT, 1.2 s without, bench/campaign.py).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="America/New_York")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"DJANGO_TIME_ZONE {TIME_ZONE!r} is not a known time zone."
    ) from None
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where `collectstatic` gathers the files WhiteNoise serves in production.
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEVELOPMENT or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email -------------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
if "EMAIL_FILE_PATH" in _email:
    EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Service Desk <service@example.com>")
# The right-hand side of the Message-IDs we make (stable ids let mail clients spot a repeat).
EMAIL_MESSAGE_DOMAIN = env.str("EMAIL_MESSAGE_DOMAIN", default="crm.example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ------------------------------------------------------------------------------------
try:
    CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
    # The soft limit leaves a task time to hand its unsent work back before the hard kill.
    CELERY_TASK_SOFT_TIME_LIMIT = max(CELERY_TASK_TIME_LIMIT - 30, CELERY_TASK_TIME_LIMIT * 3 // 4)
    _VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
except ValueError:
    raise ImproperlyConfigured("Celery time limits must be whole seconds.") from None
if _VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT.")
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and urlsplit(REDIS_URL).scheme not in {"redis", "rediss"}:
    raise ImproperlyConfigured(f"REDIS_URL must be a redis:// or rediss:// URL, not {REDIS_URL!r}.")
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_FILESYSTEM_DIR = VAR_DIR / "celery-broker"
if not REDIS_URL:
    CELERY_FILESYSTEM_DIR.mkdir(parents=True, exist_ok=True)
    # kombu's filesystem transport: a real worker and beat run with nothing but the disk, so
    # `make run` needs no server. Both folders are the same: producer and consumer share a queue.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "store_processed": False,
        # The exchange tables (the workers' control and event fanout): kombu's default is a
        # `control/` folder in the working directory, which left one in the project root.
        "control_folder": str(VAR_DIR / "celery-control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # How long Redis waits for an ack before redelivering a message whose worker died
        # (acks_late). It must exceed the longest task time limit below.
        "visibility_timeout": _VISIBILITY_TIMEOUT,
        # A broker that is down or unreachable fails a request's publish within seconds
        # instead of hanging on the kernel's timeouts. Well above BRPOP's one-second wait,
        # so an idle worker's read never times out.
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
    }
# Queueing a task after commit is only a first try: the outbox row (or the offer row) is the
# promise, and the sweeper queues what a failed publish left (clients/broker.py). So a dead
# broker gets one quick retry, not Celery's default three with growing waits.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_ALWAYS_EAGER = _env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# --- Logging -----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # No password inside a URL (a broker's, a database's) reaches a log (consultancy.safety).
    "filters": {"mask_url_passwords": {"()": "consultancy.safety.MaskUrlPasswords"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_url_passwords"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own "django" logger prints to the console in DEBUG and propagates to the root
        # logger, which prints too: every request warning twice. One handler, the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
    },
}


# How many reverse proxies of our own stand in front of the app, each appending to
# X-Forwarded-For the address it was reached from. 0: the header is anyone's to write and is
# ignored; the client is REMOTE_ADDR (clients.http.client_ip).
TRUSTED_PROXY_COUNT = _env_limit("TRUSTED_PROXY_COUNT", default=0, low=0, high=20)

# --- Login protection (django-axes) -----------------------------------------------------------
# Both logins (/accounts/login/ and /admin/login/) authenticate through Django's authenticate(),
# where AxesStandaloneBackend refuses a locked-out attempt before the password is checked, so the
# right password is refused too until the cool-off ends or a manager deletes the attempts in the
# admin. Appended here rather than in the lists above: axes' middleware must stay the last one.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: it refuses before any password is checked
    "django.contrib.auth.backends.ModelBackend",
]


# Failures of one username from one address within the cool-off that lock that pair out.
AXES_FAILURE_LIMIT = _env_limit("LOGIN_FAILURE_LIMIT", default=5, low=1, high=100)
# Wider limits against spread-out guessing (consultancy.lockout.LoginLockoutHandler): failures
# for one username from any address (a botnet on one account), and from one address for any
# username (one machine trying a password on every account).
LOGIN_USERNAME_FAILURE_LIMIT = _env_limit("LOGIN_USERNAME_FAILURE_LIMIT", 20, 1, 1000)
LOGIN_ADDRESS_FAILURE_LIMIT = _env_limit("LOGIN_ADDRESS_FAILURE_LIMIT", 20, 1, 1000)
if min(LOGIN_USERNAME_FAILURE_LIMIT, LOGIN_ADDRESS_FAILURE_LIMIT) < AXES_FAILURE_LIMIT:
    raise ImproperlyConfigured(
        "LOGIN_USERNAME_FAILURE_LIMIT and LOGIN_ADDRESS_FAILURE_LIMIT must be at least"
        " LOGIN_FAILURE_LIMIT: they count the same failures and more."
    )
AXES_COOLOFF_TIME = dt.timedelta(minutes=_env_limit("LOGIN_COOLOFF_MINUTES", 15, 1, 1440))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "consultancy.lockout.LoginLockoutHandler"
AXES_LOCKOUT_CALLABLE = "consultancy.lockout.lockout_response"
# The address offer acceptance records, behind the same TRUSTED_PROXY_COUNT proxies.
AXES_CLIENT_IP_CALLABLE = "clients.http.client_ip"
AXES_USERNAME_CALLABLE = "consultancy.lockout.client_username"
# A success forgets that username's failures from that address, not the address's other ones.
AXES_RESET_ON_SUCCESS = True
# Attempts while locked out are refused without being counted, so the lock ends at the time the
# lockout page names, however often someone (the real user included) tries again meanwhile.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# No start-up banner in every management command's output, and no line for every sign-in: axes
# logs each failure and lockout as a warning (the username and address masked).
AXES_VERBOSE = False
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # type: ignore[index]


# --- Security: HTTPS, cookies, sessions, error reports, Content-Security-Policy -------------
# Outside development mode every default is the strict one; README "Production" lists the knobs.
if DEVELOPMENT:
    SECURE_SSL_REDIRECT = False
    SECURE_HSTS_SECONDS = 0
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
else:
    SECURE_SSL_REDIRECT = _env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # A load balancer's health check asks over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = _env_limit(
        "DJANGO_SECURE_HSTS_SECONDS", default=31_536_000, low=0, high=10 * 31_536_000
    )
    # Subdomains of the app's own host name only (crm.example.com: *.crm.example.com).
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
# Behind a TLS-terminating proxy the request reaches us as HTTP and the proxy says what it was in
# X-Forwarded-Proto. Only a proxy of our own may say so: the header is believed when the
# deployment trusts proxies (TRUSTED_PROXY_COUNT > 0) or sets DJANGO_SECURE_PROXY_SSL_HEADER.
if _env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=TRUSTED_PROXY_COUNT > 0):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Our pages send the CSRF token from the page (a form field, htmx's hx-headers), never from the
# cookie: no script needs to read it.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# Idle timeout: a session not used for this long is over (a request renews it, at most once a
# minute: consultancy.safety.IdleTimeoutMiddleware). An hour covers a meeting or lunch away from
# the desk, and bounds how long an unlocked machine or a stolen cookie stays useful; the app holds
# clients' personal data and accepts their contracts.
SESSION_COOKIE_AGE = _env_limit("DJANGO_SESSION_IDLE_MINUTES", 60, low=1, high=1440) * 60
# The debug page and error emails: passwords inside URLs masked, broker and server URLs hidden.
DEFAULT_EXCEPTION_REPORTER_FILTER = "consultancy.safety.SecretUrlFilter"
DEFAULT_EXCEPTION_REPORTER = "consultancy.safety.SecretUrlReporter"
# django-csp: no inline script, no inline style (attribute or element), no eval, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- The practice's business rules ------------------------------------------------------------
PRACTICE_NAME = env.str("PRACTICE_NAME", default="Northwind IT Services")
# What break-fix labour costs per hour, and what a transactional client pays to jump the line.
HOURLY_RATE = _env_money("PRACTICE_HOURLY_RATE", default="125.00")
PAID_PRIORITY_SURCHARGE = _env_money("PRACTICE_PAID_PRIORITY_SURCHARGE", default="75.00")
if PAID_PRIORITY_SURCHARGE <= 0:
    # Priority is what transactional clients pay for; a free one would be a charge of $0.00.
    raise ImproperlyConfigured("PRACTICE_PAID_PRIORITY_SURCHARGE must be more than 0.")
# Public base URL used in emails (links clients click). No trailing slash.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
