"""Beat starts on any PostgreSQL: the folder of its schedule file is made whatever the database."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from aftersales.database import database_url

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("processes")]

BASE_DIR = Path(settings.BASE_DIR)


def test_beat_starts_when_the_data_directory_is_missing_on_postgresql(tmp_path):
    var_dir = tmp_path / "var"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
        "AFTERSALES_VAR_DIR": str(var_dir),
        # An outside PostgreSQL and Redis: nothing else would have made var/.
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        # Nothing falls due while the test watches, so beat publishes no task.
        "DEADLINE_SWEEP_SECONDS": "3600",
    }
    assert not var_dir.exists()
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "aftersales", "beat", "-l", "INFO"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            if var_dir.is_dir() and any(var_dir.glob("celerybeat-schedule*")):
                break
            time.sleep(0.2)
        time.sleep(1)  # a beat that crashes on opening its schedule exits at once
        exit_code = process.poll()
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()

    log = output.decode(errors="replace")
    assert exit_code is None, log
    assert var_dir.is_dir(), log
    assert any(path.name.startswith("celerybeat-schedule") for path in var_dir.iterdir()), log
    assert "FileNotFoundError" not in log
