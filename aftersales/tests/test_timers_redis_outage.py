"""Timers live in PostgreSQL, not in the broker: with Redis down they wait, and fire once it is back.

A private Redis on a free port, a real Celery worker and beat: nothing here touches the Redis the
rest of the suite uses.
"""

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from aftersales.database import database_url
from aftersales.models import Deadline
from aftersales.tests.factories import MembershipFactory, OrderFactory
from aftersales.tests.servers import free_port
from tickets.deadline_kinds import REMINDER_KIND
from tickets.models import TicketEvent
from tickets.tests.factories import TicketFactory

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("processes"),
]


def _redis(port: int) -> subprocess.Popen:
    if not shutil.which("redis-server"):
        pytest.fail("This test starts a private Redis: redis-server is not installed (apt-get install redis-server).")
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if (
            subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip()
            == "PONG"
        ):
            return process
        time.sleep(0.1)
    raise RuntimeError("private redis did not start")


def _celery(args: list[str], port: int, tmp_path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
        "DATABASE_URL": database_url(db),
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DEADLINE_SWEEP_SECONDS": "1",
        "EMAIL_URL": "dummymail://",
        "AFTERSALES_VAR_DIR": str(tmp_path),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "aftersales", *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def test_timers_that_fall_due_while_redis_is_down_fire_once_it_is_back(tmp_path):
    port = free_port()
    redis = _redis(port)
    worker = _celery(
        ["worker", "-c", "1", "-P", "solo", "--without-gossip", "--without-mingle", "-l", "WARNING"], port, tmp_path
    )
    beat = _celery(["beat", "-s", str(tmp_path / "beat-schedule"), "-l", "WARNING"], port, tmp_path)
    try:
        order = OrderFactory()
        user = MembershipFactory(merchant=order.merchant).user
        ticket = TicketFactory(merchant=order.merchant, customer=order.customer)

        # Redis goes away before the timers are written, and stays away past their due time: they
        # cannot fall due while it is still up, however long this process is held up in between.
        _stop(redis)
        due = timezone.now() + timedelta(seconds=2)
        for i in range(5):
            Deadline.objects.create(
                merchant=order.merchant,
                ticket=ticket,
                kind=REMINDER_KIND,
                key=str(i),
                started_at=timezone.now(),
                due_at=due,
                next_fire_at=due,
                user=user,
                payload={"note": ""},
            )

        time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 4)
        assert Deadline.objects.filter(state="pending").count() == 5

        redis = _redis(port)
        give_up = time.monotonic() + 90
        while Deadline.objects.filter(state="fired").count() < 5 and time.monotonic() < give_up:
            time.sleep(0.5)

        assert Deadline.objects.filter(state="fired").count() == 5
        time.sleep(3)  # further sweeps must not fire anything again
        assert TicketEvent.objects.filter(ticket=ticket, verb="reminder_due").count() == 5
    finally:
        for process in (beat, worker, redis):
            _stop(process)
