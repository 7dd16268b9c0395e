"""make run's embedded PostgreSQL, from an empty var/: set up as make run does, pages answer, and
the server stops with the run; a second run on the same folder is refused while one runs."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)

PAGES_SCRIPT = """
from django.test import Client
client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
assert client.login(username="admin", password="aftersales-demo")
for path in ("/healthz", "/dashboard/", "/dashboard/returns/", "/dashboard/reports/returns/",
             "/dashboard/reports/sla/", "/admin/", "/portal/demo/"):
    print(path, client.get(path).status_code)
"""


def services(*command: str, var_dir: Path) -> subprocess.CompletedProcess:
    """``scripts/services.py run -- command`` with nothing set, its files in ``var_dir``."""
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(AFTERSALES_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="aftersales.settings", DEBUG="true")
    return subprocess.run(
        [sys.executable, "scripts/services.py", "run", "--", *command],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def var_dir():
    """An empty var/ outside pytest's tmp_path: as root the server runs as its own user, which must
    reach the folder, and every pytest session makes pytest-of-root private again."""
    folder = Path(tempfile.mkdtemp(prefix="aftersales-var-"))
    yield folder / "var"
    shutil.rmtree(folder, ignore_errors=True)


def test_make_run_setup_on_the_embedded_database_from_an_empty_var_dir(var_dir):
    python = sys.executable
    # Given an empty var/ and nothing set
    # When make run's setup steps run on the embedded server, then pages are requested
    setup = " && ".join(
        [
            f"{python} scripts/services.py ensure-database",
            f"{python} manage.py migrate --noinput -v 0",
            f"{python} manage.py seed_demo --orders 20 --tickets 20 > /dev/null",
            f"{python} manage.py shell -c '{PAGES_SCRIPT}'",
            # and a second run meanwhile is refused, saying why
            f"env -u DATABASE_URL {python} scripts/services.py run -- true; echo second run: $?",
        ]
    )
    result = services("sh", "-c", setup, var_dir=var_dir)

    # Then the server was created under var/, every page answered, and the server stopped after
    assert result.returncode == 0, result.stderr
    answers = [line for line in result.stdout.splitlines() if line.startswith("/")]
    assert answers == [
        "/healthz 200",
        "/dashboard/ 200",
        "/dashboard/returns/ 200",
        "/dashboard/reports/returns/ 200",
        "/dashboard/reports/sla/ 200",
        "/admin/ 200",
        "/portal/demo/ 200",
    ]
    assert "second run: 1" in result.stdout
    assert "make run is already running from this folder" in result.stderr
    assert (var_dir / "postgres" / "PG_VERSION").read_text() == "18\n"
    assert "PostgreSQL stopped" in result.stderr
    assert not (var_dir / "postgres" / "postmaster.pid").exists()

    # When it runs again on the same folder
    again = services(python, "manage.py", "migrate", "--check", var_dir=var_dir)

    # Then the data is reused, nothing initialised twice, and the schema is there
    assert again.returncode == 0, again.stderr
    assert "first run" not in again.stderr
    assert not (var_dir / "postgres" / "postmaster.pid").exists()
