"""Sweepers as separate processes on PostgreSQL: shared work, no double fire, nothing lost on a kill.

What the tests look at is held in place by locks, not by timing: a sweeper takes a second or
more to start (longer on a busy machine), and one that started first could do all the work before
the other connected, or finish before a kill landed.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from aftersales.database import database_url
from aftersales.models import Deadline
from aftersales.tests.factories import MembershipFactory, OrderFactory
from tickets.deadline_kinds import REMINDER_KIND
from tickets.models import Ticket, TicketEvent
from tickets.tests.factories import TicketFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]


def _seed_due_reminders(count: int, tickets: int = 40) -> tuple[list[int], list[Ticket]]:
    """``count`` reminders, all due, each a millisecond after the one before (the sweep takes them
    in that order); the first half on the first half of ``tickets`` tickets, the second half on
    the others. The ids and the tickets."""
    order = OrderFactory.create()
    user = MembershipFactory.create(merchant=order.merchant).user
    rows = [TicketFactory.create(merchant=order.merchant, customer=order.customer) for _ in range(tickets)]
    first = timezone.now() - timedelta(minutes=1)
    half, per_half = count // 2, tickets // 2
    Deadline.objects.bulk_create(
        Deadline(
            merchant=order.merchant,
            ticket=rows[(i // half) * per_half + i % per_half],
            kind=REMINDER_KIND,
            key=str(i),
            started_at=first,
            due_at=first + timedelta(milliseconds=i),
            next_fire_at=first + timedelta(milliseconds=i),
            user=user,
            payload={"note": ""},
        )
        for i in range(count)
    )
    return list(Deadline.objects.values_list("pk", flat=True)), rows


def _backends_waiting_for_a_lock(*, on_table: str | None = None) -> list[int]:
    """The pids of the other backends of this database waiting for a lock (on ``on_table``'s
    rows or the table itself when given)."""
    with connection.cursor() as cursor:
        # Inside a transaction the activity statistics stay as first read: read them afresh.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT DISTINCT locks.pid FROM pg_locks AS locks JOIN pg_stat_activity AS activity USING (pid)"
            " WHERE NOT locks.granted AND activity.datname = current_database() AND locks.pid <> pg_backend_pid()"
            " AND (%s::text IS NULL OR locks.relation = %s::regclass)",
            [on_table, on_table],
        )
        return [pid for (pid,) in cursor.fetchall()]


def _wait_for(predicate, processes: list[subprocess.Popen], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        exited = [process.returncode for process in processes if process.poll() is not None]
        assert not exited, f"a sweeper exited ({exited}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout:g} s"
        time.sleep(0.05)


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


def _backend_pids() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {pid for (pid,) in cursor.fetchall()}


def _fired_once_each(ids: list[int]) -> None:
    fired = list(
        TicketEvent.objects.filter(verb="reminder_due").values_list("data__deadline", flat=True).order_by("id")
    )
    assert sorted(fired) == sorted(ids), "every deadline fires exactly once"
    assert Deadline.objects.filter(state="fired").count() == len(ids)
    assert Deadline.objects.filter(state="pending").count() == 0


def test_two_sweepers_share_the_due_rows_and_fire_each_exactly_once():
    ids, _tickets = _seed_due_reminders(1200)

    # Both sweepers start, then wait at the deadlines' table until both are there: the one that
    # started first cannot fire everything before the other has connected.
    table = Deadline._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # reads pass, claims wait
        sweepers = [_sweeper("--batch-size", "50") for _ in range(2)]
        _wait_for(
            lambda: len(_backends_waiting_for_a_lock(on_table=table)) == 2, sweepers, "both sweepers at the table"
        )
    outputs = [process.communicate(timeout=300)[0] for process in sweepers]

    assert [process.returncode for process in sweepers] == [0, 0], outputs
    _fired_once_each(ids)
    fired_by = [int(output.split("fired=")[1].split()[0]) for output in outputs]
    assert sum(fired_by) == 1200
    assert min(fired_by) > 0, f"both sweepers took work: {fired_by}"


def test_a_sweeper_killed_mid_batch_loses_nothing_and_doubles_nothing():
    ids, tickets = _seed_due_reminders(1600)

    # The ninth batch of 100 is the first on the second half's tickets: with one of them locked
    # here, the sweeper commits eight batches and then waits in the ninth, its rows claimed,
    # where it is killed.
    with transaction.atomic():
        list(Ticket.objects.select_for_update().filter(pk=tickets[20].pk).values_list("pk", flat=True))
        victim = _sweeper("--batch-size", "100")
        _wait_for(lambda: _backends_waiting_for_a_lock(), [victim], "the sweeper waiting in its ninth batch")
        [stuck_backend] = _backends_waiting_for_a_lock()
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        fired_before = Deadline.objects.filter(state="fired").count()
        assert fired_before == 800, "the eight whole batches committed, the ninth not"
    # Released, the dead sweeper's backend finds its client gone and rolls the ninth batch back.
    deadline = time.monotonic() + 60
    while stuck_backend in _backend_pids():
        assert time.monotonic() < deadline, "the killed sweeper's backend did not end"
        time.sleep(0.05)
    assert Deadline.objects.filter(state="fired").count() == 800

    survivor = _sweeper("--batch-size", "100")
    output = survivor.communicate(timeout=300)[0]

    assert survivor.returncode == 0, output
    _fired_once_each(ids)
