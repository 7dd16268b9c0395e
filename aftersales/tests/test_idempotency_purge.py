"""Idempotency-Key answers are kept for IDEMPOTENCY_RECORD_DAYS, then purged in batches by beat."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from aftersales.celery import app
from aftersales.models import IdempotencyRecord
from aftersales.services.idempotency import idempotency_records_purge
from aftersales.tasks import idempotency_records_purge as purge_task
from aftersales.tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _record(merchant, key: str, status: int | None = 201) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        merchant=merchant,
        key=key,
        endpoint="returns.refund:RT-000001",
        request_hash="0" * 64,
        response_status=status,
        response_body="{}" if status else "",
    )


def _keys() -> list[str]:
    return sorted(IdempotencyRecord.objects.values_list("key", flat=True))


def test_records_are_kept_until_the_retention_has_passed_then_purged(settings):
    # Given the default retention and records of two merchants, written a day apart
    settings.IDEMPOTENCY_RECORD_DAYS = 7
    shop, other = MerchantFactory(), MerchantFactory()
    with time_machine.travel(START, tick=False):
        _record(shop, "old-1")
        _record(other, "old-2")
        _record(shop, "held", status=None)  # a call whose writer died before answering
    with time_machine.travel(START + timedelta(days=1), tick=False):
        _record(shop, "new-1")

    # When the purge runs one second before the first records are seven days old
    with time_machine.travel(START + timedelta(days=7) - timedelta(seconds=1), tick=False):
        assert idempotency_records_purge() == 0
    # Then nothing is gone
    assert _keys() == ["held", "new-1", "old-1", "old-2"]

    # When it runs one second after: the three older records go, whichever merchant they belong to
    with time_machine.travel(START + timedelta(days=7, seconds=1), tick=False):
        assert idempotency_records_purge() == 3
    assert _keys() == ["new-1"]


def test_the_retention_follows_the_setting(settings):
    settings.IDEMPOTENCY_RECORD_DAYS = 2
    merchant = MerchantFactory()
    with time_machine.travel(START, tick=False):
        _record(merchant, "k")

    with time_machine.travel(START + timedelta(days=2, seconds=1), tick=False):
        deleted = idempotency_records_purge()

    assert (deleted, _keys()) == (1, [])


def test_a_backlog_is_deleted_in_batches_until_none_is_left():
    merchant = MerchantFactory()
    with time_machine.travel(START, tick=False):
        for number in range(7):
            _record(merchant, f"k{number}")
    with time_machine.travel(START + timedelta(days=10), tick=False):
        _record(merchant, "fresh")

        deleted = idempotency_records_purge(batch_size=3)

    assert deleted == 7
    assert _keys() == ["fresh"]


def test_beat_runs_the_purge_task_and_the_task_purges():
    # The schedule names a registered task, so beat's message reaches a worker that knows it.
    task = "aftersales.tasks.idempotency_records_purge"
    entry = next(entry for entry in app.conf.beat_schedule.values() if entry["task"] == task)
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 3600.0
    merchant = MerchantFactory()
    with time_machine.travel(START, tick=False):
        _record(merchant, "k")

    with time_machine.travel(START + timedelta(days=8), tick=False):
        assert purge_task.delay().get() == 1

    assert _keys() == []
