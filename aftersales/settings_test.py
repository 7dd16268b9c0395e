"""Test settings: the real services (PostgreSQL, Redis), with what must differ for tests.

``make test`` sets DATABASE_URL and REDIS_URL (scripts/services.py: what is given, else the servers
on 127.0.0.1, else embedded ones); a bare ``pytest`` uses 127.0.0.1 unless they are set.
"""

import base64
import hashlib
import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aftersales")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("EMAIL_URL", "consolemail://")

from aftersales.settings import *  # noqa: F403
from aftersales.settings import VAR_DIR

# Under pytest-xdist each worker gets its own database (pytest-django suffixes its name); the
# cache and the uploaded files are split the same way, so one worker's cache.clear() or files
# never touch another's.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")

# Units run tasks in the caller; the tests about delivery start a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "-".join(filter(None, ["test-private", XDIST_WORKER])))},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": f"test-{XDIST_WORKER or 'main'}"}}
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}
# pytest-django runs with DEBUG off, where secrets at rest need a key of their own.
SECRETS_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(hashlib.sha256(b"aftersales test key").digest()).decode()]
# The webhook tests deliver to a receiver on 127.0.0.1; the guard's own tests turn this off.
OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True
