"""Delivery itself: a real Celery worker on Redis sends the outbox through a real SMTP server."""

import os
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
QUEUE = f"test-worker-{os.getpid()}"


@pytest.fixture
def worker():
    with smtp_server() as (port, received):
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "aftersales.settings",
            "DATABASE_URL": database_url(db),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "REDIS_URL": settings.REDIS_URL,
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "CELERY_TASK_ALWAYS_EAGER": "false",
        }
        with celery_worker(python=sys.executable, env=env, queue=QUEUE):
            yield received


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_real_worker_sends_the_outbox_row_after_commit(worker):
    merchant = MerchantFactory()

    with transaction.atomic():
        notification = notification_queue(
            merchant=merchant,
            channel=Notification.Channel.EMAIL,
            recipient="buyer@example.com",
            template="portal_code",
            context={"code": "271828", "merchant_name": merchant.name, "order_number": "A-9", "minutes": 10},
            language="en",
        )

    assert _wait_for(lambda: len(worker) == 1), "the worker did not deliver the e-mail"
    assert "271828" in worker[0].get_content()
    assert _wait_for(lambda: Notification.objects.get(pk=notification.pk).state == "sent")
    notification.refresh_from_db()
    assert notification.attempts == 1
