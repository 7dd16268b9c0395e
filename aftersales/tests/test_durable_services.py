"""The services that call out to other systems, or must never share a caller's transaction, say
so with a durable transaction: running one inside a transaction is an error, and changes nothing."""

import pytest
from django.db import transaction
from django.utils import timezone

from aftersales.models import Deadline, Notification
from aftersales.services.deadlines import deadlines_sweep
from aftersales.services.notifications import notification_send
from aftersales.tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def test_sending_a_notification_inside_a_transaction_is_an_error_and_claims_nothing():
    notification = Notification.objects.create(
        merchant=MerchantFactory(),
        channel=Notification.Channel.EMAIL,
        recipient="a@example.com",
        template="ticket_reply",
        language="en",
        next_attempt_at=timezone.now(),
    )

    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == (Notification.State.PENDING, 0)


def test_the_sweep_inside_a_transaction_is_an_error():
    before = list(Deadline.objects.values_list("pk", "state"))

    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        deadlines_sweep()

    assert list(Deadline.objects.values_list("pk", "state")) == before
