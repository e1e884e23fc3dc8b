"""Settings of the glossary service, read from the environment.

Everything that differs between a laptop and production comes from an
environment variable with a safe default:

- ``DATABASE_URL``: defaults to a SQLite file ``db.sqlite3`` in the project folder;
  ``postgres://user@host:port/name`` selects PostgreSQL.
- ``DJANGO_SECRET_KEY``: when unset, a random key is made for this process, so no
  known key can ever sign sessions in production (sessions then end on restart).
- ``DJANGO_DEBUG``: off unless set to 1/true/yes/on.
- ``DJANGO_ALLOWED_HOSTS``: comma-separated; defaults to the loopback names.
- ``GLOSSARY_CACHE_URL``: ``redis://host:port/db`` for a shared cache; defaults to
  a per-process memory cache; ``none`` turns caching off.
- ``GLOSSARY_ANON_THROTTLE_RATE``: anonymous request rate such as ``120/minute``;
  empty disables throttling.
- ``GLOSSARY_REQUEST_RATE``: term requests one client may submit, such as
  ``10/hour`` (staff are not counted); empty: no limit.
- ``GLOSSARY_PUBLIC_STATUSES``: statuses anonymous readers see.
- ``GLOSSARY_CORS_ORIGINS``: origins allowed to read the API from a browser
  (``*`` for any).
- ``GLOSSARY_LINKCHECK_CONTACT``: a URL or address the citation link checker
  names in its User-Agent, so site owners can reach whoever runs it.
"""

import os
import secrets
import warnings
from pathlib import Path

import dj_database_url
import dj_email_url
from corsheaders.defaults import default_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable; unknown spellings are an error."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1 or 0).")


def env_list(name: str, default: str) -> list[str]:
    """Read a comma-separated environment variable into a list."""
    raw = os.environ.get(name, default)
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "terms",
]

# The task queue that delivers webhooks (terms/integrations/webhooks.py): tasks are
# rows of
# the same database, so an event's delivery is queued in the transaction that
# made the change. A worker runs them: manage.py db_worker.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "terms.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "terms.middleware.RejectNullCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "terms.middleware.AnonymousPageThrottleMiddleware",
    "terms.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "glossary.urls"
WSGI_APPLICATION = "glossary.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # `make serve` sets this: no query may hold a worker (and its connection)
    # for long; a slow one is cancelled and answered with a 503. Commands such
    # as a large import run without it.
    _timeout = int(os.environ.get("GLOSSARY_STATEMENT_TIMEOUT_MS") or 0)
    if _timeout:
        DATABASES["default"]["OPTIONS"]["options"] = f"-c statement_timeout={_timeout}"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent readers and one writer without "database is locked" errors.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# People sign in through the admin's page (the term page's comments and
# watching are for signed-in readers).
LOGIN_URL = "admin:login"

# Mail (notifications): EMAIL_URL such as smtp://user:pass@host:587 or
# smtp+tls://user:pass@host:587 (dj-email-url); unset, mails are printed on
# the console of the process that sends them (the task worker).
_email_url = os.environ.get("EMAIL_URL", "").strip()
for _scheme, _flag in (("smtp+tls://", "tls"), ("smtp+ssl://", "ssl")):
    # dj-email-url reads TLS and SSL from the query: smtp+tls:// means ?tls=1.
    if _email_url.startswith(_scheme):
        _joiner = "&" if "?" in _email_url else "?"
        _email_url = f"smtp://{_email_url[len(_scheme) :]}{_joiner}{_flag}=1"
if _email_url:
    globals().update(dj_email_url.parse(_email_url))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "glossary@localhost"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve files straight from the apps' static folders, so no collectstatic step is
# needed for `make run` or the tests (WhiteNoise would warn that STATIC_ROOT does
# not exist until collectstatic has run).
WHITENOISE_USE_FINDERS = True
warnings.filterwarnings("ignore", message="No directory at: ")

# Secure defaults; HTTPS-only cookies and HSTS are switched on by DJANGO_HTTPS=1
# because the zero-setup server listens on plain HTTP.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if env_bool("DJANGO_HTTPS"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 30

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
        }
    },
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    },
}

_cache_url = os.environ.get("GLOSSARY_CACHE_URL", "").strip()
if _cache_url.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            # A Redis that hangs fails a read's cache step instead of holding it.
            "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
        }
    }
elif _cache_url == "none":
    # No caching at all: every read is rendered (benchmarks of the uncached path).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
elif not _cache_url:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured("GLOSSARY_CACHE_URL must be a redis:// URL or none.")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: unauthenticated requests then get 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.DjangoModelPermissionsOrAnonReadOnly",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["terms.api.parsers.GlossaryJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "terms.api.negotiation.GlossaryNegotiation",
    "DEFAULT_THROTTLE_CLASSES": ["terms.api.throttling.AnonymousRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "terms.api.errors.exception_handler",
    "UNICODE_JSON": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Glossary API",
    "DESCRIPTION": (
        "A governed glossary of AI terms: search, filter, resolve and embed terms, "
        "and edit them through the review workflow."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # OpenAPI 3.1: the version that can describe webhooks (what each delivery
    # to a subscription carries: terms/api/webhook_schema.py).
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": "terms.api.webhook_schema.WEBHOOKS",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "terms.api.schema.complete_schema",
        "terms.api.schema.nullable_as_type",
    ],
}

# Which requests get CORS headers is decided per method and path by
# terms.apps._cors_allowed (reads and annotate only); no URL pattern grants more.
CORS_URLS_REGEX = r"(?!)"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS", "POST"]
_cors_origins = env_list("GLOSSARY_CORS_ORIGINS", "*")
CORS_ALLOW_ALL_ORIGINS = _cors_origins == ["*"]
CORS_ALLOWED_ORIGINS = [] if CORS_ALLOW_ALL_ORIGINS else _cors_origins
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Retry-After"]
# django-cors-headers' defaults, plus the header the widget names itself with
# (terms.serving.usage counts its reads apart).
CORS_ALLOW_HEADERS = (*default_headers, "x-glossary-client")

# Content-Security-Policy (django-csp) on every response: only this site's own
# scripts, styles, images and connections; no inline script anywhere. The admin
# and /api/docs/ add what they need (terms.middleware).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# The glossary itself.
# Who the importer records as the actor when no --user is given.
GLOSSARY_SYSTEM_ACTOR = "importer"
GLOSSARY_ANON_THROTTLE_RATE = os.environ.get(
    "GLOSSARY_ANON_THROTTLE_RATE", "120/minute"
)
GLOSSARY_REQUEST_RATE = os.environ.get("GLOSSARY_REQUEST_RATE", "10/hour")
GLOSSARY_PUBLIC_STATUSES = env_list(
    "GLOSSARY_PUBLIC_STATUSES", "reviewed,approved,deprecated"
)
# The longest text /api/v1/annotate/ accepts, in characters (413 beyond it).
GLOSSARY_ANNOTATE_MAX_CHARS = 500_000
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * GLOSSARY_ANNOTATE_MAX_CHARS
# After a change, annotate and similar terms keep using their matcher and index
# while a thread builds the next, so no request waits for a rebuild (terms.text.aside).
GLOSSARY_BUILD_ASIDE = True
GLOSSARY_PAGE_SIZE = 20
GLOSSARY_MAX_PAGE_SIZE = 100
# How long a rendered read response is kept; entries are keyed on the glossary
# version, so a write makes them unreachable at once.
GLOSSARY_CACHE_SECONDS = 600
# Who hears of each write (terms/events.py), in order, inside the writing
# transaction: the stored API details of the changed terms are dropped, a
# webhook delivery run is queued, and the version stamp in Redis is replaced
# when the write commits (every process then serves fresh reads; the derived
# process rebuilds annotate's matcher when it sees the new stamp). A published
# release is announced too: webhooks send release.published and the task
# worker builds the release's snapshot (terms/serving/snapshots.py). People
# are told what waits for them (terms/integrations/notifications.py).
GLOSSARY_EVENTS_PIPELINE = [
    "terms.serving.readmodel.on_glossary_change",
    "terms.integrations.webhooks.on_glossary_change",
    "terms.serving.stamp.on_glossary_change",
    "terms.serving.snapshots.on_glossary_change",
    "terms.integrations.notifications.on_glossary_change",
]

# How long the glossary's stamp (what cached reads are keyed on) stays in Redis
# before a reader checks it against the database again: the longest a cached
# read can lag a write whose writer died or lost Redis at its commit.
GLOSSARY_STAMP_SECONDS = float(os.environ.get("GLOSSARY_STAMP_SECONDS") or 5)
# Memory each server process may use for rendered anonymous reads kept in front
# of Django (terms.serving.frontcache; only with the Redis cache).
# Anonymous JSON term details stored in the database and served before Django
# (terms/serving/readmodel.py); "off" renders every such read.
GLOSSARY_READ_MODEL = os.environ.get("GLOSSARY_READ_MODEL", "").strip().lower() != "off"
# The Unix socket of the process that keeps annotate's matcher and the
# similar-terms index for every server process (terms/serving/derived.py; `make serve`
# starts it). Empty: each process keeps its own.
GLOSSARY_DERIVED_SOCKET = os.environ.get("GLOSSARY_DERIVED_SOCKET", "").strip()
# Seconds a server process waits for its similar-terms answer (a first build at
# 100,000 terms takes a while); annotate waits its budget (below) and a second.
GLOSSARY_DERIVED_TIMEOUT = 30
# The most time one annotate request may take (find_spans stops past it, with
# a 413 naming the budget); the derived process is waited for as long.
GLOSSARY_ANNOTATE_BUDGET_SECONDS = float(
    os.environ.get("GLOSSARY_ANNOTATE_BUDGET_SECONDS") or 5
)
GLOSSARY_FRONT_CACHE_MB = int(os.environ.get("GLOSSARY_FRONT_CACHE_MB") or 64)
# Counting what readers look for (terms.serving.usage): GLOSSARY_USAGE=off
# counts nothing; each process writes its counts every FLUSH_SECONDS (0: only
# when `manage.py usage flush` asks or the process exits).
GLOSSARY_USAGE = os.environ.get("GLOSSARY_USAGE", "").strip().lower() != "off"
GLOSSARY_USAGE_FLUSH_SECONDS = float(
    os.environ.get("GLOSSARY_USAGE_FLUSH_SECONDS") or 30
)
# Daily counts older than this many days go with `manage.py usage prune`.
GLOSSARY_USAGE_KEEP_DAYS = int(os.environ.get("GLOSSARY_USAGE_KEEP_DAYS") or 400)
# The base of the glossary's stable URIs (SKOS exports): a term is
# {GLOSSARY_SITE_URL}/terms/{slug}/, its page. Set it to the public address.
GLOSSARY_SITE_URL = os.environ.get("GLOSSARY_SITE_URL") or "http://127.0.0.1:8000"
# The language of names, aliases and definitions (BCP 47), for language tags.
GLOSSARY_LANGUAGE = os.environ.get("GLOSSARY_LANGUAGE") or "en"
# Webhooks: the first retry waits this long, each further one twice as long (at
# most an hour); a delivery attempt gives up after the timeout.
GLOSSARY_WEBHOOK_BACKOFF_SECONDS = float(
    os.environ.get("GLOSSARY_WEBHOOK_BACKOFF_SECONDS") or 10
)
GLOSSARY_WEBHOOK_TIMEOUT_SECONDS = float(
    os.environ.get("GLOSSARY_WEBHOOK_TIMEOUT_SECONDS") or 10
)
# How long a delivery run's hold on its subscription outlasts each attempt: a
# run whose worker died frees the subscription after this
# (terms/integrations/webhooks.py).
GLOSSARY_WEBHOOK_LEASE_SECONDS = float(
    os.environ.get("GLOSSARY_WEBHOOK_LEASE_SECONDS") or 30
)
# Networks (CIDR, comma-separated) that webhooks and the citation link checker
# may reach although they are not public: for a private deployment whose
# receivers live on its own network. Empty: public addresses only
# (terms/integrations/outbound.py).
GLOSSARY_OUTBOUND_ALLOW = env_list("GLOSSARY_OUTBOUND_ALLOW", "")
# A release keeps this many integrity warnings in full, and counts the rest.
GLOSSARY_RELEASE_WARNINGS_KEPT = int(
    os.environ.get("GLOSSARY_RELEASE_WARNINGS_KEPT") or 200
)
# How many distinct approvers (none of them an author) a term or a pending
# change needs before it is approved; each approval short of that is recorded.
GLOSSARY_APPROVALS_REQUIRED = max(
    1, int(os.environ.get("GLOSSARY_APPROVALS_REQUIRED") or 1)
)
# The largest file POST /api/v1/imports/ takes, and the most a zip of term
# files may unpack to, in bytes.
GLOSSARY_IMPORT_MAX_BYTES = int(
    os.environ.get("GLOSSARY_IMPORT_MAX_BYTES") or 20 * 1024 * 1024
)
# Where the admin's import page keeps an upload between its dry run and its
# submit (terms/admin/imports.py).
GLOSSARY_IMPORT_UPLOADS = Path(
    os.environ.get("GLOSSARY_IMPORT_UPLOADS") or BASE_DIR / ".run" / "uploads"
)
# Where the glossary as of each release is kept as a SQLite file, for lists,
# lookups and annotate as of a release (terms/serving/snapshots.py); built
# once per machine, safe to delete (it is built again when read).
GLOSSARY_RELEASE_SNAPSHOTS = Path(
    os.environ.get("GLOSSARY_RELEASE_SNAPSHOTS") or BASE_DIR / ".run" / "releases"
)

# A term last reviewed longer ago than this is overdue (the dashboard).
GLOSSARY_REVIEW_PERIOD_DAYS = int(os.environ.get("GLOSSARY_REVIEW_PERIOD_DAYS") or 365)
# The citation link checker (manage.py check_citations) says who it is.
GLOSSARY_LINKCHECK_USER_AGENT = (
    "glossary-citation-check/1.0 (checks citation links{})".format(
        f"; contact {os.environ['GLOSSARY_LINKCHECK_CONTACT']}"
        if os.environ.get("GLOSSARY_LINKCHECK_CONTACT")
        else ""
    )
)
