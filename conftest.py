"""Suite-wide fixtures. The suite runs on PostgreSQL and Redis; it says what to start if not.

What several apps' tests share lives here once: the browser (Debian's Chromium driven by
Playwright) and the upload makers (images, PDFs). Each app's own fixtures are in its
``tests/conftest.py``, its factories in ``tests/factories.py``, its "drive a case to state X"
helpers in ``tests/builders.py``; no test module imports another.
"""

import io
import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

CHROMIUM = "/usr/bin/chromium"
PNG_COLOR = (200, 30, 30)
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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
    from django.core.cache.backends.redis import RedisCache

    if isinstance(cache, RedisCache):
        # Only this worker's keys (settings_test gives each xdist worker its prefix): FLUSHDB would
        # empty the cache under the tests another worker is running at the same moment.
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    yield


# --- the demo -------------------------------------------------------------------------------------

DEMO_ARGS = ("--orders", "20", "--tickets", "30")


@pytest.fixture(scope="session")
def _demo_rows(django_db_setup, django_db_blocker):
    """Seed the demo once per session (per xdist worker) at a small size, keep its rows and the
    command's printout, and roll the seeding back: the database stays empty for every other test."""
    from django.apps import apps
    from django.core import serializers
    from django.core.management import call_command
    from django.db import transaction

    models = [model for model in apps.get_models() if model._meta.managed and not model._meta.proxy]
    out = io.StringIO()
    with django_db_blocker.unblock(), transaction.atomic():
        before = {model: set(model._base_manager.values_list("pk", flat=True)) for model in models}
        call_command("seed_demo", *DEMO_ARGS, stdout=out)
        rows = {
            model: serializers.serialize("json", model._base_manager.exclude(pk__in=before[model]).order_by("pk"))
            for model in models
        }
        transaction.set_rollback(True)
    return {model: text for model, text in rows.items() if text != "[]"}, out.getvalue()


@pytest.fixture
def demo(_demo_rows, db):
    """The demo as ``seed_demo --orders 20 --tickets 30`` leaves it, for tests that read it: its rows
    are copied into this test's transaction from the session's one build. Returns the command's
    printout (logins, the portal order, the API key)."""
    from django.core import serializers

    rows, output = _demo_rows
    # PostgreSQL checks the foreign keys at commit (Django declares them deferred), so the tables
    # load in any order.
    for text in rows.values():
        objects = list(serializers.deserialize("json", text))
        model = type(objects[0].object)
        model._base_manager.bulk_create([deserialized.object for deserialized in objects])
        for deserialized in objects:
            for name, pks in (deserialized.m2m_data or {}).items():
                getattr(deserialized.object, name).set(pks)
    return output


# --- uploads ------------------------------------------------------------------------------------


def make_png_bytes(size: tuple[int, int] = (8, 8), color: tuple[int, int, int] = PNG_COLOR) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def make_png_upload(
    name: str = "photo.png", color: tuple[int, int, int] = PNG_COLOR, *, size: tuple[int, int] = (8, 8)
) -> SimpleUploadedFile:
    """A small real PNG; the same colour and size give the same bytes (the duplicate-photo rule
    compares them)."""
    return SimpleUploadedFile(name, make_png_bytes(size, color), content_type="image/png")


def make_pdf_upload(name: str = "invoice.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


@pytest.fixture
def png_bytes():
    """``png_bytes(size=(8, 8), color=(200, 30, 30))``: the bytes of a small real PNG."""
    return make_png_bytes


@pytest.fixture
def png_upload():
    """``png_upload(name="photo.png", color=(200, 30, 30), *, size=(8, 8))``: a PNG as a form upload."""
    return make_png_upload


@pytest.fixture
def pdf_bytes():
    return PDF_BYTES


@pytest.fixture
def pdf_upload():
    """``pdf_upload(name="invoice.pdf")``: a minimal PDF as a form upload."""
    return make_pdf_upload


# --- the browser ----------------------------------------------------------------------------------


@pytest.fixture
def browser():
    """Debian's Chromium driven by Playwright; the test is skipped where it is not installed."""
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is missing (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between browser steps are ordinary synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
            )
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def private_storage(settings, tmp_path):
    """Uploaded files go to a folder of this test only, so a test sees exactly what was written."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path
