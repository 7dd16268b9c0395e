"""Suite-wide fixtures. The suite runs on PostgreSQL and Redis; it says what to start if not.

``make test`` (scripts/services.py) finds or starts both. Without any Redis it runs the suite on
the filesystem broker and cache and sets AFTERSALES_TEST_REDIS_MISSING: each test that needs Redis
(marked ``worker``) then fails with that message instead of being skipped.
"""

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings


def _reachable(host: str, port: int) -> bool:
    try:
        if host.startswith("/"):  # a Unix socket directory (the embedded server's)
            with socket.socket(socket.AF_UNIX) as unix:
                unix.settimeout(2)
                unix.connect(str(Path(host) / f".s.PGSQL.{port}"))
        else:
            with socket.create_connection((host, port), timeout=2):
                pass
    except OSError:
        return False
    return True


def pytest_configure(config):
    db = settings.DATABASES["default"]
    missing = []
    if not _reachable(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)):
        missing.append(
            f"PostgreSQL at {db.get('HOST')}:{db.get('PORT') or 5432} "
            "(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start, "
            "or run `make test`, which starts an embedded one)"
        )
    redis = urlparse(settings.REDIS_URL) if settings.REDIS_URL else None
    if redis and not _reachable(redis.hostname or "127.0.0.1", redis.port or 6379):
        missing.append(
            f"Redis at {redis.hostname}:{redis.port} "
            "(redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no)"
        )
    if missing:
        raise pytest.UsageError("The tests need these services running: " + "; ".join(missing))


def pytest_runtest_setup(item):
    redis_missing = os.environ.get("AFTERSALES_TEST_REDIS_MISSING")
    if redis_missing and item.get_closest_marker("worker") is not None:
        pytest.fail(f"This test needs Redis: {redis_missing}.", pytrace=False)


@pytest.fixture(autouse=True)
def _fresh_cache_and_mail(settings):
    from django.core.cache import cache

    cache.clear()
    yield
