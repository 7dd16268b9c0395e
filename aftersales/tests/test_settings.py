"""Production settings, checked the way a deployment meets them: in a fresh process, from the environment."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection

from aftersales.database import database_url

BASE_DIR = Path(settings.BASE_DIR)
LONG_RANDOM_KEY = secrets.token_urlsafe(50)
FERNET_KEY = Fernet.generate_key().decode()


def run_django(args: list[str], *, var_dir: Path, **environment: str) -> subprocess.CompletedProcess:
    """Run ``manage.py`` with the real settings module and its files in ``var_dir``, on the tests'
    PostgreSQL server (its maintenance database: the pages asked here only need a connection)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="aftersales.settings",
        AFTERSALES_VAR_DIR=str(var_dir),
        DATABASE_URL=database_url({**connection.settings_dict, "NAME": "postgres"}),
    )
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    # Given production mode and an empty SECRET_KEY (set, so that a developer's .env cannot fill it in)
    # When the process starts
    result = run_django(["check"], var_dir=tmp_path, DEBUG="false", SECRET_KEY="")

    # Then it stops at once and says what to set
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert "System check identified" not in result.stdout


def test_production_with_a_short_secret_key_refuses_to_start(tmp_path):
    result = run_django(["check"], var_dir=tmp_path, DEBUG="false", SECRET_KEY="short-and-guessable")

    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 random characters" in result.stderr


def test_production_with_the_development_key_refuses_to_start(tmp_path):
    result = run_django(
        ["check"],
        var_dir=tmp_path,
        DEBUG="false",
        SECRET_KEY="insecure-local-development-key-do-not-use-in-production",
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 random characters" in result.stderr


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    # Given what a deployment sets
    # When Django's deployment checklist runs, warnings included (this also generates the API schema)
    result = run_django(
        ["check", "--deploy", "--fail-level", "WARNING"],
        var_dir=tmp_path,
        DEBUG="false",
        SECRET_KEY=LONG_RANDOM_KEY,
        ALLOWED_HOSTS="example.com",
        SECRETS_ENCRYPTION_KEYS=FERNET_KEY,
    )

    # Then there is nothing to report
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_deploy_check_reports_a_missing_secrets_encryption_key(tmp_path):
    result = run_django(
        ["check", "--deploy"],
        var_dir=tmp_path,
        DEBUG="false",
        SECRET_KEY=LONG_RANDOM_KEY,
        ALLOWED_HOSTS="example.com",
        SECRETS_ENCRYPTION_KEYS="",
    )

    assert result.returncode != 0
    assert "aftersales.E001" in result.stderr
    assert "SECRETS_ENCRYPTION_KEYS is not set" in result.stderr


SERVE_SCRIPT = """
from django.test import Client
client = Client(HTTP_HOST="example.com")
for path in ("/healthz", "/dashboard/login/"):
    response = client.get(path)
    print(path, response.status_code, response.headers.get("Location", ""))
"""


def test_production_redirects_pages_to_https_but_answers_the_health_check_over_http(tmp_path):
    # Given production settings behind a proxy that terminates TLS
    # When plain-HTTP requests arrive
    result = run_django(
        ["shell", "-c", SERVE_SCRIPT],
        var_dir=tmp_path,
        DEBUG="false",
        SECRET_KEY=LONG_RANDOM_KEY,
        ALLOWED_HOSTS="example.com",
    )

    # Then pages redirect to HTTPS and the load balancer's probe is answered as it is
    assert result.returncode == 0, result.stderr
    answers = [line for line in result.stdout.splitlines() if line.startswith("/")]
    assert answers == ["/healthz 200 ", "/dashboard/login/ 301 https://example.com/dashboard/login/"]


def test_a_database_other_than_postgresql_is_refused_in_one_line(tmp_path):
    # Given a DATABASE_URL that points at SQLite
    # When any command starts
    result = run_django(["check"], var_dir=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    # Then it stops at once with one line that says what to set, and creates nothing
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: DATABASE_URL must point at PostgreSQL "
        "(postgres://user:password@host:5432/name), not sqlite: Aftersales runs on PostgreSQL only."
    )
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_the_retired_hourly_client_limit_is_refused_in_one_line_naming_its_replacements(tmp_path):
    # Given a deployment that still sets the per-client hourly limit, which no longer exists
    # When any command starts
    result = run_django(["check"], var_dir=tmp_path, PORTAL_CODES_PER_CLIENT_PER_HOUR="20")

    # Then it stops at once and says what to set instead, rather than ignoring the setting
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: PORTAL_CODES_PER_CLIENT_PER_HOUR is gone: set "
        "PORTAL_CODES_PER_CLIENT (a burst per client address) and PORTAL_CODES_CLIENT_WINDOW_SECONDS "
        "(its window) instead."
    )
    assert result.stdout == ""
