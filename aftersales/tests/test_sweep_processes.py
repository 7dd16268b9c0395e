"""Sweepers as separate processes on PostgreSQL: shared work, no double fire, nothing lost on a kill."""

import os
import signal
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
from tickets.deadline_kinds import REMINDER_KIND
from tickets.models import TicketEvent
from tickets.tests.factories import TicketFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]


def _seed_due_reminders(count: int, tickets: int = 40) -> list[int]:
    order = OrderFactory.create()
    user = MembershipFactory.create(merchant=order.merchant).user
    rows = [TicketFactory.create(merchant=order.merchant, customer=order.customer) for _ in range(tickets)]
    due = timezone.now() - timedelta(minutes=1)
    Deadline.objects.bulk_create(
        Deadline(
            merchant=order.merchant,
            ticket=rows[i % tickets],
            kind=REMINDER_KIND,
            key=str(i),
            started_at=due,
            due_at=due,
            next_fire_at=due,
            user=user,
            payload={"note": ""},
        )
        for i in range(count)
    )
    return list(Deadline.objects.values_list("pk", flat=True))


def _sweeper(*extra: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
        "DATABASE_URL": database_url(db),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "sweep_deadlines", *extra],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _fired_once_each(ids: list[int]) -> None:
    fired = list(
        TicketEvent.objects.filter(verb="reminder_due").values_list("data__deadline", flat=True).order_by("id")
    )
    assert sorted(fired) == sorted(ids), "every deadline fires exactly once"
    assert Deadline.objects.filter(state="fired").count() == len(ids)
    assert Deadline.objects.filter(state="pending").count() == 0


def test_two_sweepers_share_the_due_rows_and_fire_each_exactly_once():
    ids = _seed_due_reminders(1200)

    sweepers = [_sweeper("--batch-size", "50") for _ in range(2)]
    outputs = [process.communicate(timeout=300)[0] for process in sweepers]

    assert [process.returncode for process in sweepers] == [0, 0], outputs
    _fired_once_each(ids)
    fired_by = [int(output.split("fired=")[1].split()[0]) for output in outputs]
    assert sum(fired_by) == 1200
    assert min(fired_by) > 0, f"both sweepers took work: {fired_by}"


def test_a_sweeper_killed_mid_batch_loses_nothing_and_doubles_nothing():
    ids = _seed_due_reminders(1600)

    victim = _sweeper("--batch-size", "100")
    deadline = time.monotonic() + 120
    while Deadline.objects.filter(state="fired").count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    fired_before = Deadline.objects.filter(state="fired").count()
    assert 0 < fired_before < 1600, "the kill landed while work remained"
    assert fired_before % 100 == 0, "only whole batches committed"

    survivor = _sweeper("--batch-size", "100")
    output = survivor.communicate(timeout=300)[0]

    assert survivor.returncode == 0, output
    _fired_once_each(ids)
