"""requirements.txt alone is the runtime: a virtualenv built from it (and nothing else) runs a
Celery worker on Redis that delivers a task. The Redis transport imports packaging, which a
plain ``celery`` pin did not bring; this is how a missing runtime dependency shows up.

The virtualenv is built without pip of its own and without byte-compiling, by this environment's
pip, reusing pip's cache: about 15 s on a warm cache.
"""

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from aftersales.database import database_url
from aftersales.models import Notification
from aftersales.services.notifications import notification_queue
from aftersales.tests.factories import MerchantFactory
from aftersales.tests.servers import celery_worker, smtp_server

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]

BASE_DIR = Path(settings.BASE_DIR)
PRODUCT_PACKAGES = ("aftersales", "tickets", "returns", "repairs", "feedback")
# Run by the runtime venv's Python: which of the module names given are not importable there.
FIND_MISSING = (
    "import importlib.util, json, sys; "
    "print(json.dumps([name for name in json.loads(sys.argv[1]) if importlib.util.find_spec(name) is None]))"
)
QUEUE = f"test-runtime-venv-{os.getpid()}"


@pytest.fixture(scope="module")
def runtime_python(tmp_path_factory):
    venv = tmp_path_factory.mktemp("runtime") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python), "install"),
            *("--quiet", "--no-compile", "--disable-pip-version-check"),
            *("--requirement", str(BASE_DIR / "requirements.txt")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-4000:]
    return python


def _clean_environment(**extra):
    # The runtime venv sees only what it installed: nothing of this test environment's paths.
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return {**env, **extra}


def test_requirements_install_every_distribution_the_redis_broker_imports(runtime_python):
    probe = subprocess.run(
        [str(runtime_python), "-c", "import kombu.transport.redis, packaging, redis; print('importable')"],
        capture_output=True,
        text=True,
        check=False,
        env=_clean_environment(),
    )

    assert (probe.returncode, probe.stdout) == (0, "importable\n"), probe.stderr


def _runtime_imports() -> set[str]:
    """The top-level modules the product's code imports when it runs (not its tests, not the
    imports only type checkers read under ``if TYPE_CHECKING:``)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}:
                for branch in child.orelse:
                    visit(branch)
                continue
            if isinstance(child, ast.Import):
                names.update(alias.name.partition(".")[0] for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names.add(child.module.partition(".")[0])
            visit(child)

    for package in PRODUCT_PACKAGES:
        for path in (BASE_DIR / package).rglob("*.py"):
            if "tests" not in path.relative_to(BASE_DIR).parts:
                visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in names if name not in sys.stdlib_module_names and name not in PRODUCT_PACKAGES}


def test_every_third_party_module_the_product_imports_is_installed_by_requirements(runtime_python):
    imports = sorted(_runtime_imports())
    probe = subprocess.run(
        [
            str(runtime_python),
            "-c",
            FIND_MISSING,
            json.dumps(imports),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=_clean_environment(),
    )

    assert "celery" in imports
    assert json.loads(probe.stdout) == []


def test_a_worker_from_the_runtime_venv_runs_a_task_from_redis(runtime_python):
    with smtp_server() as (port, received):
        env = _clean_environment(
            DJANGO_SETTINGS_MODULE="aftersales.settings",
            DATABASE_URL=database_url(connection.settings_dict),
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            REDIS_URL=settings.REDIS_URL,
            EMAIL_URL=f"smtp://127.0.0.1:{port}",
            CELERY_TASK_ALWAYS_EAGER="false",
        )
        with celery_worker(python=str(runtime_python), env=env, queue=QUEUE) as worker:
            merchant = MerchantFactory()
            with transaction.atomic():
                notification = notification_queue(
                    merchant=merchant,
                    channel=Notification.Channel.EMAIL,
                    recipient="buyer@example.com",
                    template="portal_code",
                    context={"code": "314159", "merchant_name": merchant.name, "order_number": "A-7", "minutes": 10},
                    language="en",
                )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and worker.process.poll() is None:
                if received and Notification.objects.filter(pk=notification.pk, state="sent").exists():
                    break
                time.sleep(0.2)

        log = worker.log
        assert len(received) == 1, log
        assert "314159" in received[0].get_content()
        notification.refresh_from_db()
        assert (notification.state, notification.attempts) == ("sent", 1)
