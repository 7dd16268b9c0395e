"""Suite-wide fixtures. The suite runs on PostgreSQL and Redis; it says what to start if not."""

import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def pytest_configure(config):
    db = settings.DATABASES["default"]
    missing = []
    if db["ENGINE"] != "django.db.backends.sqlite3" and not _reachable(
        db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)
    ):
        missing.append(
            f"PostgreSQL at {db.get('HOST')}:{db.get('PORT')} "
            "(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)"
        )
    redis = urlparse(settings.REDIS_URL) if settings.REDIS_URL else None
    if redis and not _reachable(redis.hostname or "127.0.0.1", redis.port or 6379):
        missing.append(
            f"Redis at {redis.hostname}:{redis.port} "
            "(redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no)"
        )
    if missing:
        raise pytest.UsageError("The tests need these services running: " + "; ".join(missing))


@pytest.fixture(autouse=True)
def _fresh_cache_and_mail(settings):
    from django.core.cache import cache

    cache.clear()
    yield
