"""Suite-wide fixtures. The suite runs on PostgreSQL and Redis; it says what to start if not.

``make test`` (scripts/services.py) finds or starts both. Without any Redis it runs the suite on
the filesystem broker and cache and sets AFTERSALES_TEST_REDIS_MISSING: each test that needs Redis
(marked ``worker``) then fails with that message instead of being skipped.

What several apps' tests share lives here once: the browser (Debian's Chromium driven by
Playwright) and the upload makers (images, PDFs). Each app's own fixtures are in its
``tests/conftest.py``, its factories in ``tests/factories.py``, its "drive a case to state X"
helpers in ``tests/builders.py``; no test module imports another.
"""

import io
import os
import shutil
import socket
import struct
import zlib
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

CHROMIUM = "/usr/bin/chromium"
PNG_COLOR = (200, 30, 30)
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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
    if not hasattr(config, "workerinput"):
        _compile_stale_catalogs()


def _compile_stale_catalogs() -> None:
    """Compile the catalogs whose .po is newer than its .mo once, before any xdist worker starts:
    workers that compiled them themselves would write the .mo files under each other's readers.
    (``make test`` compiles them first; this is for a bare ``pytest`` after a pull.)"""
    import contextlib
    from pathlib import Path

    from django.core.management import call_command

    if shutil.which("msgfmt") is None:
        return
    base = Path(settings.BASE_DIR)
    stale = [
        po.parent.parent.name
        for po in base.glob("locale/*/LC_MESSAGES/django.po")
        if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if stale:
        with contextlib.chdir(base):
            call_command(
                "compilemessages",
                locale=stale,
                ignore_patterns=[".venv", "var", "staticfiles", "test-artifacts", "node_modules"],
                verbosity=0,
            )


def pytest_runtest_setup(item):
    redis_missing = os.environ.get("AFTERSALES_TEST_REDIS_MISSING")
    if redis_missing and item.get_closest_marker("worker") is not None:
        pytest.fail(f"This test needs Redis: {redis_missing}.", pytrace=False)


@pytest.fixture(autouse=True)
def _fresh_cache_and_mail(settings):
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]  # the backend itself: django.core.cache.cache is a proxy to it
    if isinstance(cache, RedisCache):
        # Only this worker's keys (settings_test gives each xdist worker its prefix): FLUSHDB would
        # empty the cache under the tests another worker is running at the same moment.
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


# --- rows built once, copied into each test that reads them ----------------------------------------


class _BuiltOnce:
    """Rows that many tests only read, built once per session (per xdist worker): the first test
    that asks builds them inside a savepoint, keeps them serialized with what the build returned,
    and rolls the savepoint back; every asking test (the first too) then gets a copy in its own
    transaction. Copying a few hundred rows costs a fraction of building them through the services."""

    def __init__(self):
        self.built: dict[str, tuple[dict, object]] = {}

    def __call__(self, key: str, build):
        if key not in self.built:
            self.built[key] = self._build(build)
        rows, result = self.built[key]
        self._copy(rows)
        return result

    @staticmethod
    def _build(build) -> tuple[dict, object]:
        from django.apps import apps
        from django.core import serializers
        from django.db import transaction

        # Rows a database trigger derives from others (KEPT_BY_TRIGGER) are not copied: the trigger
        # writes them again as the rows they follow are copied.
        models = [
            model
            for model in apps.get_models()
            if model._meta.managed and not model._meta.proxy and not getattr(model, "KEPT_BY_TRIGGER", False)
        ]
        # A bare savepoint, not an atomic block: the services' durable blocks (the paying ones) may
        # run inside the test's own transaction, never inside another atomic block.
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("built_once needs the test's transaction (django_db without transaction=True).")
        savepoint = transaction.savepoint()
        try:
            before = {model: set(model._base_manager.values_list("pk", flat=True)) for model in models}
            result = build()
            rows = {
                model: serializers.serialize("json", model._base_manager.exclude(pk__in=before[model]).order_by("pk"))
                for model in models
            }
        finally:
            transaction.savepoint_rollback(savepoint)
        return {model: text for model, text in rows.items() if text != "[]"}, result

    @staticmethod
    def _copy(rows: dict) -> None:
        from django.core import serializers

        # PostgreSQL checks the foreign keys at commit (Django declares them deferred), so the
        # tables load in any order. The sequences already stand past these keys: the build used them.
        for text in rows.values():
            objects = list(serializers.deserialize("json", text))
            model = type(objects[0].object)
            model._base_manager.bulk_create([deserialized.object for deserialized in objects])
            for deserialized in objects:
                for name, pks in (deserialized.m2m_data or {}).items():
                    getattr(deserialized.object, name).set(pks)


_built_once = _BuiltOnce()


@pytest.fixture
def built_once(db):
    """``built_once(key, build)``: the rows ``build()`` writes, built once per session under
    ``key`` and copied into this test; returns what ``build()`` returned. Only for tests that read
    those rows: what a test changes in its copy is rolled back with it, but ``build`` must not
    depend on the test it first runs in."""
    return _built_once


DEMO_ARGS = ("--orders", "20", "--tickets", "30")


@pytest.fixture
def demo(built_once):
    """The demo as ``seed_demo --orders 20 --tickets 30`` leaves it, seeded once per session, for
    tests that read it. Returns the command's printout (logins, the portal order, the API key)."""

    def seed() -> str:
        from django.core.management import call_command

        out = io.StringIO()
        call_command("seed_demo", *DEMO_ARGS, stdout=out)
        return out.getvalue()

    return built_once("demo", seed)


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


def make_bomb_upload(name: str = "bomb.png", *, width: int = 20000, height: int = 20000) -> SimpleUploadedFile:
    """A 1×1 PNG whose header says width × height: what Pillow reads before it decodes anything."""
    buffer = io.BytesIO()
    Image.new("1", (1, 1)).save(buffer, format="PNG")
    raw = bytearray(buffer.getvalue())
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(raw[24:29])
    raw[12:29] = header
    raw[29:33] = struct.pack(">I", zlib.crc32(header))
    return SimpleUploadedFile(name, bytes(raw), content_type="image/png")


def make_photo_with_gps(format_: str = "JPEG", name: str = "photo.jpg") -> SimpleUploadedFile:
    """A phone photo: camera make, model and serial, orientation 6, a GPS position, a comment."""
    image = Image.new("RGB", (32, 16), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Model 12 Pro"
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.BodySerialNumber] = "SN-123456"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (30.0, 15.0, 7.5), 3: "E", 4: (120.0, 9.0, 1.0)}
    buffer = io.BytesIO()
    extra = {"comment": b"Lin's flat, 3rd floor"} if format_ == "JPEG" else {}
    image.save(buffer, format=format_, exif=exif.tobytes(), **extra)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{format_.lower()}")


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


@pytest.fixture
def bomb_upload():
    """``bomb_upload(name="bomb.png", *, width=20000, height=20000)``: a decompression bomb as an upload."""
    return make_bomb_upload


@pytest.fixture
def photo_with_gps():
    """``photo_with_gps(format_="JPEG", name="photo.jpg")``: a photo carrying location and camera metadata."""
    return make_photo_with_gps


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
