"""Settings for osseo-mdt.

Every setting comes from the environment (12-factor); the README's configuration table lists
each variable with its default. Defaults give the embedded service: SQLite file, tasks run
in-process, email printed to the console.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Public address of the service, used for links in emails and calendar feeds.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "osseo_mdt.apps.OsseoAdminConfig",  # django.contrib.admin with our site (a dashboard)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "cases",
    "scheduling",
]

MIDDLEWARE = [
    "osseo_mdt.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "osseo_mdt.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "osseo_mdt" / "templates"],
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

WSGI_APPLICATION = "osseo_mdt.wsgi.application"

# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: wait for the writer instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    # Lets the token check (osseo_mdt.api.authentication), asked on every API request, be
    # planned once per connection. Django's own cursors bind on the client and never
    # prepare, whatever this says. Turn off behind a pooler in transaction mode (PgBouncer).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# "api": rendered answers of the busiest reads, kept while the data generation they were
# built on is current (osseo_mdt.api.cache). Per process by default; "dummycache://" turns
# it off; a redis:// URL shares it between processes.
CACHES = {
    "default": env.cache_url("CACHE_URL", default="locmemcache://"),
    "api": env.cache_url("API_CACHE_URL", default="locmemcache://osseo-api"),
}
CACHES["api"].setdefault("OPTIONS", {}).setdefault(
    "MAX_ENTRIES", env.int("API_CACHE_MAX_ENTRIES", default=500)
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# https://docs.djangoproject.com/en/5.2/ref/settings/#time-zone
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGIN_URL = "admin:login"

# Largest request body accepted (bytes); a bigger one is refused with 400 before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=1_048_576)

# Email: https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url
# consolemail:// prints; smtp://user:password@host:587/?tls=True (or smtp+tls://) sends.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="OI MDT <noreply@osseo-mdt.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# Celery: https://docs.celeryq.dev/en/stable/userguide/configuration.html
# Unset broker = the embedded default: tasks run in-process, no broker needed.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
# Our tasks are idempotent, so a message is acknowledged only after the task ran and is
# redelivered if the worker dies mid-task.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Longer than any countdown or retry delay we schedule (at most a few hours), so Redis does not
# redeliver a delayed message while it is still waiting.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 12 * 3600}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "osseo_mdt.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["osseo_mdt.api.permissions.IsAuthenticatedWithinScope"],
    "DEFAULT_PAGINATION_CLASS": "osseo_mdt.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "osseo_mdt.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": env.str("TOKEN_THROTTLE_RATE", default="10/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "osseo-mdt API",
    "DESCRIPTION": (
        "Case management for osseointegration MDTs. Errors share one shape: "
        '{"error": {"code": str, "message": str, "fields": {field: [messages]}}}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: no CDN, strict CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "cases.pathway.Stage",
        "StagingPlanEnum": "cases.pathway.StagingPlan",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# API tokens (django-rest-knox): stored hashed, revocable, expiring.
# https://jazzband.github.io/django-rest-knox/settings/
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=12)),
    "AUTH_HEADER_PREFIX": "Token",
}

# Admin/token login lockout (django-axes): https://django-axes.readthedocs.io/en/latest/4_configuration.html
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind a reverse proxy: how many proxies append to X-Forwarded-For (0 = none, use REMOTE_ADDR).
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

# Content-Security-Policy (django-csp 4): https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "script-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if not DEBUG:
    # Behind a TLS-terminating reverse proxy in production.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

CELERY_BEAT_SCHEDULE["worker-heartbeat"] = {
    "task": "scheduling.record_heartbeat",
    "schedule": 300.0,
}

# Relative-contraindication thresholds for the eligibility summary (cases/eligibility.py,
# EligibilityThresholds); a centre overrides them with ELIGIBILITY_THRESHOLDS, a JSON object,
# e.g. {"bmi_above": 35, "age_over": 75}.
ELIGIBILITY_THRESHOLDS: dict[str, Any] = env.json("ELIGIBILITY_THRESHOLDS", default={})

# Scheduling (scheduling/): one name per choice set in the OpenAPI schema.
_enum_names: dict[str, str] = SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})  # type: ignore[assignment]
_enum_names.update(
    {
        "TaskStatusEnum": "scheduling.models.TaskStatus",
        "AppointmentStatusEnum": "scheduling.models.AppointmentStatus",
        "AppointmentKindEnum": "scheduling.models.AppointmentKind",
        "SurgeryKindEnum": "cases.pathway.SurgeryKind",
        "DecisionOutcomeEnum": "cases.pathway.DecisionOutcome",
        "TimePointEnum": "cases.models.TimePoint",
    }
)

# Rehabilitation (cases/rehab.py, cases/models/rehab.py): the daily missed-sessions check at
# 06:00 in TIME_ZONE (each team's "today" is counted in its own zone), and one schema name per
# choice set.
# API tokens past their expiry (the token check refuses them without this; this deletes them).
CELERY_BEAT_SCHEDULE["sweep-expired-tokens"] = {
    "task": "cases.sweep_expired_tokens",
    "schedule": crontab(hour=3, minute=30),
}
CELERY_BEAT_SCHEDULE["rehab-missed-sessions-check"] = {
    "task": "cases.missed_sessions_check",
    "schedule": crontab(hour=6, minute=0),
}
_enum_names.update(
    {
        "FlagKindEnum": "cases.rehab.FlagKind",
        "StomaFindingEnum": "cases.rehab.StomaFinding",
        "SideEnum": "cases.models.Side",
        "WalkingAidEnum": "cases.models.WalkingAid",
        "ComplicationKindEnum": "cases.models.ComplicationKind",
        "OutcomeKindEnum": "cases.models.OutcomeKind",
        "ProsthesisComponentEnum": "cases.models.ProsthesisComponent",
        "TreatmentEnum": "cases.models.Treatment",
    }
)

# Weekly task email: sent when a team's wall clock (Team.time_zone) reads this weekday
# (0 = Monday) and hour; beat checks hourly, so daylight saving never shifts it.
DIGEST_WEEKDAY = env.int("DIGEST_WEEKDAY", default=0)
DIGEST_HOUR = env.int("DIGEST_HOUR", default=7)
DIGEST_MAX_ATTEMPTS = env.int("DIGEST_MAX_ATTEMPTS", default=5)
DIGEST_RETRY_BACKOFF_SECONDS = env.int("DIGEST_RETRY_BACKOFF_SECONDS", default=60)
DIGEST_SENDING_TIMEOUT_MINUTES = env.int("DIGEST_SENDING_TIMEOUT_MINUTES", default=15)
CELERY_BEAT_SCHEDULE["weekly-digest-tick"] = {
    "task": "scheduling.weekly_digest_tick",
    "schedule": crontab(minute=0),
}
CELERY_BEAT_SCHEDULE["weekly-digest-sweep"] = {
    "task": "scheduling.sweep_digests",
    "schedule": crontab(minute="*/10"),
}

# Webhooks (scheduling/webhooks.py; README: Webhooks). Signed POSTs to hospital systems, retried
# with exponential backoff and jitter (base * 2^(attempt-1) seconds, capped at an hour) up to
# WEBHOOK_MAX_ATTEMPTS; a subscription whose deliveries fail WEBHOOK_FAILURES_BEFORE_PAUSE
# times in a row is paused and its owner emailed. Private and loopback targets (10/8, 192.168/16,
# 127/8, fc00::/7 ...) are refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS is on, for a hospital
# whose integration engine sits on its internal network; link-local, cloud metadata, multicast
# and unspecified addresses are refused always.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=10)
WEBHOOK_RETRY_BACKOFF_SECONDS = env.float("WEBHOOK_RETRY_BACKOFF_SECONDS", default=30.0)
WEBHOOK_FAILURES_BEFORE_PAUSE = env.int("WEBHOOK_FAILURES_BEFORE_PAUSE", default=5)
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_SENDING_TIMEOUT_MINUTES = env.int("WEBHOOK_SENDING_TIMEOUT_MINUTES", default=10)
# A PEM file of the CA(s) that sign receivers' certificates (a hospital's internal CA);
# empty: the public CAs (certifi). Certificates are always verified.
WEBHOOK_CA_BUNDLE = env.str("WEBHOOK_CA_BUNDLE", default="")
_enum_names.update(
    {
        "WebhookEventTypeEnum": "scheduling.models.WebhookEventType",
        "WebhookDeliveryStatusEnum": "scheduling.models.WebhookDeliveryStatus",
    }
)
# Hourly, so that each team's midnight (Team.time_zone) is caught within the hour; a task's
# task.overdue is emitted once per due date however often this runs.
CELERY_BEAT_SCHEDULE["webhook-overdue-tick"] = {
    "task": "scheduling.emit_overdue_task_events",
    "schedule": crontab(minute=5),
}
# Safety net: re-queue deliveries whose retry message was lost or whose worker died mid-send.
CELERY_BEAT_SCHEDULE["webhook-sweep"] = {
    "task": "scheduling.sweep_webhook_deliveries",
    "schedule": crontab(minute="*/5"),
}

# FHIR API: system URI of the hospital number in Patient.identifier (the hospital's MRN
# namespace); empty means {SITE_URL}/fhir/sid/hospital-number.
FHIR_PATIENT_IDENTIFIER_SYSTEM = env.str("FHIR_PATIENT_IDENTIFIER_SYSTEM", default="")
