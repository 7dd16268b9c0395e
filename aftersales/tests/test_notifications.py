from datetime import timedelta

import psycopg2
import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aftersales.models import Notification
from aftersales.services.notifications import notification_queue, notification_send, notifications_deferred
from aftersales.tasks import notifications_flush
from aftersales.tests.factories import MerchantFactory
from aftersales.tests.servers import free_port, smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    with smtp_server() as (port, received):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield received


@pytest.fixture
def smtp_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


def _queue(merchant, **overrides):
    values = {
        "merchant": merchant,
        "channel": Notification.Channel.EMAIL,
        "recipient": "buyer@example.com",
        "template": "portal_code",
        "context": {"code": "481516", "merchant_name": "Demo & Co", "order_number": "A-1", "minutes": 10},
        "language": "en",
    }
    values.update(overrides)
    return notification_queue(**values)


def test_a_queued_email_is_sent_through_smtp_only_after_commit(smtp, django_capture_on_commit_callbacks):
    merchant = MerchantFactory(support_email="help@demo.example.com")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        notification = _queue(merchant)
        assert smtp == []

    assert len(callbacks) == 1
    assert len(smtp) == 1
    message = smtp[0]
    assert message["Subject"] == "Your verification code for order A-1"
    assert message["X-Envelope-To"] == "buyer@example.com"
    assert message["Reply-To"] == "help@demo.example.com"
    body = message.get_content()
    assert "481516" in body
    assert "Demo & Co" in body  # plain text: no HTML escaping
    notification.refresh_from_db()
    assert (notification.state, notification.attempts, notification.last_error) == ("sent", 1, "")
    assert notification.sent_at is not None


def test_a_rolled_back_transaction_sends_nothing(smtp, django_capture_on_commit_callbacks):
    merchant = MerchantFactory()

    # The block that queues is the one that fails: queue and raise share the transaction.
    with (  # noqa: PT012
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _queue(merchant)
        raise RuntimeError("the use case failed")

    assert callbacks == []
    assert smtp == []
    assert Notification.objects.count() == 0


def test_sending_twice_sends_one_email(smtp):
    notification = _queue(MerchantFactory())

    notification_send(notification_id=notification.pk)
    notification_send(notification_id=notification.pk)

    assert len(smtp) == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


def test_a_failing_server_is_retried_with_backoff_then_parked(smtp_down, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    notification = _queue(MerchantFactory())
    start = timezone.now()

    notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in notification.last_error
    assert timedelta(seconds=29) <= notification.next_attempt_at - start <= timedelta(seconds=35)

    # Not due yet: a second call does nothing.
    notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.attempts == 1

    with time_machine.travel(notification.next_attempt_at + timedelta(seconds=1)):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == ("pending", 2)

    with time_machine.travel(notification.next_attempt_at + timedelta(seconds=1)):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == ("failed", 3)


def test_flush_sends_due_rows_and_reclaims_rows_of_a_dead_worker(smtp):
    merchant = MerchantFactory()
    due = _queue(merchant, recipient="due@example.com")
    stuck = _queue(merchant, recipient="stuck@example.com")
    later = _queue(merchant, recipient="later@example.com")
    Notification.objects.filter(pk=stuck.pk).update(
        state="sending", claimed_at=timezone.now() - timedelta(minutes=6), attempts=1
    )
    Notification.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    sent = notifications_flush()

    assert sent == 2
    assert sorted(m["X-Envelope-To"] for m in smtp) == ["due@example.com", "stuck@example.com"]
    assert dict(Notification.objects.values_list("recipient", "state")) == {
        "due@example.com": "sent",
        "stuck@example.com": "sent",
        "later@example.com": "pending",
    }
    assert Notification.objects.get(pk=due.pk).attempts == 1


def test_sms_goes_through_the_configured_backend(settings, caplog):
    settings.AFTERSALES_SMS_BACKEND = "aftersales.notifications.backends.LoggingSMSBackend"
    notification = _queue(MerchantFactory(), channel=Notification.Channel.SMS, recipient="+8613800138000")

    with caplog.at_level("INFO", logger="aftersales.notifications"):
        notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.state == "sent"
    assert [r.getMessage() for r in caplog.records] == [
        "SMS to +8613800138000: [Demo & Co] Your code for order A-1 is 481516, valid for 10 minutes."
    ]


def test_deferred_dispatch_writes_the_row_and_leaves_sending_to_the_flush(smtp, django_capture_on_commit_callbacks):
    from aftersales.services.notifications import notifications_deferred

    with django_capture_on_commit_callbacks(execute=True) as callbacks, notifications_deferred():
        notification = _queue(MerchantFactory())

    assert callbacks == []
    assert smtp == []
    assert Notification.objects.get(pk=notification.pk).state == "pending"

    assert notifications_flush() == 1
    assert len(smtp) == 1


def test_a_send_claims_the_row_then_saves_its_outcome_in_two_transactions(smtp):
    notification = _queue(MerchantFactory())

    with CaptureQueriesContext(connection) as captured:
        notification_send(notification_id=notification.pk)

    # Two transactions (inside the test's own, savepoints): the locking read and the claim, then
    # (after the delivery, which runs in neither) the outcome.
    statements = [query["sql"] for query in captured.captured_queries]
    work = [sql for sql in statements if "SAVEPOINT" not in sql]
    assert len([sql for sql in statements if sql.startswith("SAVEPOINT")]) == 2
    assert len(work) == 3
    assert work[0].startswith("SELECT")
    assert work[0].endswith('FOR UPDATE OF "aftersales_notification" SKIP LOCKED')
    assert all(sql.startswith('UPDATE "aftersales_notification"') for sql in work[1:])
    assert len(smtp) == 1
    notification.refresh_from_db()
    assert (notification.state, notification.attempts, notification.last_error) == ("sent", 1, "")
    assert notification.claimed_at is not None
    assert notification.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_while_it_delivers_the_row_is_committed_as_sending_and_holds_no_lock(smtp, monkeypatch):
    from aftersales.services import notifications

    with notifications_deferred():  # committed at once here: nothing sends it before the test does
        notification = _queue(MerchantFactory())
    seen: list[tuple[str, int]] = []
    deliver = notifications._deliver

    def deliver_and_look(row):
        # Another connection sees the claim committed, and may lock the row at once (NOWAIT).
        other = psycopg2.connect(**connection.get_connection_params())
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT state, attempts FROM aftersales_notification WHERE id = %s FOR UPDATE NOWAIT", [row.pk]
                )
                seen.append(cursor.fetchone())
        finally:
            other.rollback()
            other.close()
        deliver(row)

    monkeypatch.setattr(notifications, "_deliver", deliver_and_look)

    notification_send(notification_id=notification.pk)

    assert seen == [("sending", 1)]
    assert len(smtp) == 1
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == ("sent", 1)


@pytest.mark.django_db(transaction=True)
def test_a_row_another_sender_holds_is_skipped_and_left_as_it_was(smtp):
    with notifications_deferred():  # committed at once here: nothing sends it before the test does
        notification = _queue(MerchantFactory())
    holder = psycopg2.connect(**connection.get_connection_params())
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT id FROM aftersales_notification WHERE id = %s FOR UPDATE", [notification.pk])

        assert notification_send(notification_id=notification.pk) is None

        assert smtp == []
        notification.refresh_from_db()
        assert (notification.state, notification.attempts, notification.claimed_at) == ("pending", 0, None)
    finally:
        holder.rollback()
        holder.close()

    # Once the other sender lets go (it died before its commit), the row is sent, once.
    notification_send(notification_id=notification.pk)
    assert len(smtp) == 1
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == ("sent", 1)
