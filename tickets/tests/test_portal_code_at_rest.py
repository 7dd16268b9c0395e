"""A one-time portal code lives in the outbox only until it is sent: afterwards the notification
keeps what an operator needs (the shop, the order, the validity), never the code."""

from unittest import mock

import pytest
from django.core import mail

from aftersales.models import Notification
from aftersales.services.notifications import notification_send
from aftersales.tests.builders import code_from_outbox, request_code
from aftersales.tests.factories import MerchantFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    shop = MerchantFactory(name="Trail Gear", slug="trail-gear", default_language="en")
    return OrderFactory(merchant=shop, external_number="TG-1001", customer__email="lin@example.com")


def test_the_sent_code_is_not_kept_in_the_notification(client, order, django_capture_on_commit_callbacks):
    request_code(client, django_capture_on_commit_callbacks, order.merchant, "TG-1001", "lin@example.com")

    notification = Notification.objects.get(template="portal_code")
    code = code_from_outbox()
    assert notification.state == Notification.State.SENT
    assert notification.context == {"merchant_name": "Trail Gear", "order_number": "TG-1001", "minutes": 10}
    assert code not in str(notification.context)
    assert len(mail.outbox) == 1


def test_a_code_that_could_never_be_sent_is_not_kept_either(
    client, order, django_capture_on_commit_callbacks, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    with mock.patch("aftersales.services.notifications._deliver", side_effect=OSError("mail server away")):
        request_code(client, django_capture_on_commit_callbacks, order.merchant, "TG-1001", "lin@example.com")

    notification = Notification.objects.get(template="portal_code")
    assert notification.state == Notification.State.FAILED
    assert "code" not in notification.context
    assert notification.last_error == "OSError: mail server away"


def test_a_code_waiting_for_a_retry_keeps_it_until_it_is_sent(client, order, django_capture_on_commit_callbacks):
    with mock.patch("aftersales.services.notifications._deliver", side_effect=OSError("mail server away")):
        request_code(client, django_capture_on_commit_callbacks, order.merchant, "TG-1001", "lin@example.com")
    notification = Notification.objects.get(template="portal_code")
    assert notification.state == Notification.State.PENDING
    assert len(notification.context["code"]) == 6

    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=notification.created_at)
    notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.state == Notification.State.SENT
    assert "code" not in notification.context
    assert notification.context["order_number"] == "TG-1001"
