"""Webhook URLs never reach internal addresses: refused when an endpoint is saved, and again at
each delivery (DNS can change in between), where a refused address parks the row with no request."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from aftersales.models import Notification, WebhookEndpoint
from aftersales.outbound import AddressRefused, address_kind, check_url
from aftersales.services.notifications import _webhook_opener, notification_send
from aftersales.services.webhooks import webhook_event_queue
from aftersales.tests.factories import MerchantFactory
from aftersales.tests.servers import Receiver

pytestmark = pytest.mark.django_db

INTERNAL = [
    ("http://127.0.0.1:8000/hooks", "127.0.0.1", "loopback"),
    ("https://10.20.30.40/hooks", "10.20.30.40", "private"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "link-local"),
    ("http://[::1]:9000/hooks", "::1", "loopback"),
    ("http://192.168.1.5/hooks", "192.168.1.5", "private"),
    ("http://[::ffff:10.0.0.1]/hooks", "::ffff:10.0.0.1", "private"),
    ("http://224.0.0.251/hooks", "224.0.0.251", "multicast"),
    ("http://240.0.0.1/hooks", "240.0.0.1", "reserved"),
    ("http://0.0.0.0/hooks", "0.0.0.0", "unspecified"),
]


@pytest.fixture
def guard_on(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False


@pytest.mark.parametrize(("url", "address", "kind"), INTERNAL)
def test_an_internal_address_is_refused_as_a_webhook_url(guard_on, url, address, kind):
    endpoint = WebhookEndpoint(merchant=MerchantFactory(), url=url)

    with pytest.raises(ValidationError) as refused:
        endpoint.full_clean()

    [message] = refused.value.message_dict["url"]
    assert message == f"Webhooks are sent to public addresses only, and {address} is not one ({kind})."


def test_a_name_that_resolves_to_loopback_is_refused(guard_on):
    endpoint = WebhookEndpoint(merchant=MerchantFactory(), url="http://localhost:8080/hooks")

    with pytest.raises(ValidationError) as refused:
        endpoint.full_clean()

    [message] = refused.value.message_dict["url"]
    assert message.startswith("Webhooks are sent to public addresses only, and localhost resolves to ")
    assert message.endswith(", which is not one (loopback).")


def test_a_public_address_is_accepted(guard_on):
    endpoint = WebhookEndpoint(merchant=MerchantFactory(), url="https://93.184.215.14/hooks")

    endpoint.full_clean()

    assert address_kind("93.184.215.14") is None
    assert address_kind("2606:4700::1111") is None
    assert address_kind("100.64.0.1") == "non-public"  # carrier-grade NAT


def test_with_the_setting_on_an_internal_address_is_accepted(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True

    WebhookEndpoint(merchant=MerchantFactory(), url="http://127.0.0.1:8000/hooks").full_clean()
    check_url("http://10.0.0.1/hooks")


def test_the_admin_shows_the_refusal_on_the_url_and_saves_nothing(guard_on, admin_client):
    merchant = MerchantFactory()

    response = admin_client.post(
        reverse("admin:aftersales_webhookendpoint_add"),
        {"merchant": merchant.pk, "url": "http://169.254.169.254/latest/meta-data/", "secret": "", "events": "[]"},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["url"] == ["Webhooks are sent to public addresses only, and 169.254.169.254 is not one (link-local)."]
    assert WebhookEndpoint.objects.count() == 0


# --- at send time -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://10.20.30.40/hooks", "10.20.30.40"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]:9/hooks", "::1"),
    ],
)
def test_a_delivery_to_an_internal_address_is_parked_at_once_saying_why(guard_on, url, address):
    # Given an endpoint saved while internal addresses were allowed (or whose DNS changed since)
    merchant = MerchantFactory()
    WebhookEndpoint.objects.create(merchant=merchant, url=url)
    [notification] = webhook_event_queue(merchant=merchant, event="return.status_changed", data={"x": 1})

    # When the worker sends it
    notification_send(notification_id=notification.pk)

    # Then it is failed after one attempt, not retried, and says which address was refused and why
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == (Notification.State.FAILED, 1)
    assert notification.last_error.startswith(f"AddressRefused: refused to connect to {address}: not a public ")
    assert "OUTBOUND_ALLOW_PRIVATE_ADDRESSES is off" in notification.last_error
    assert notification_send(notification_id=notification.pk) is None  # parked: never tried again


def test_a_receiver_on_loopback_gets_no_request_when_the_guard_is_on(guard_on):
    merchant = MerchantFactory()
    with Receiver() as receiver:
        WebhookEndpoint.objects.create(merchant=merchant, url=receiver.url)
        [notification] = webhook_event_queue(merchant=merchant, event="return.status_changed", data={"x": 1})

        notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.state == Notification.State.FAILED
    assert "127.0.0.1" in notification.last_error
    assert "loopback" in notification.last_error
    assert receiver.deliveries == []


def test_a_name_resolving_to_loopback_at_send_time_is_parked(guard_on):
    merchant = MerchantFactory()
    with Receiver() as receiver:
        url = receiver.url.replace("127.0.0.1", "localhost")
        WebhookEndpoint.objects.create(merchant=merchant, url=url)
        [notification] = webhook_event_queue(merchant=merchant, event="return.status_changed", data={"x": 1})

        notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.state == Notification.State.FAILED
    assert notification.last_error.startswith("AddressRefused: refused to connect to localhost (")
    assert receiver.deliveries == []


def test_the_connection_itself_refuses_an_internal_address(guard_on):
    # What the check before the call would miss (a name re-pointed between the check and the
    # connection) the opener refuses: it connects only to addresses it resolved and checked.
    with Receiver() as receiver, pytest.raises(AddressRefused):
        _webhook_opener.open(receiver.url.replace("127.0.0.1", "localhost"), data=b"{}", timeout=5)

    assert receiver.deliveries == []


def test_with_the_setting_on_a_local_receiver_is_delivered(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True
    merchant = MerchantFactory()
    with Receiver() as receiver:
        WebhookEndpoint.objects.create(merchant=merchant, url=receiver.url)
        [notification] = webhook_event_queue(merchant=merchant, event="return.status_changed", data={"x": 1})

        notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.state == Notification.State.SENT
    assert len(receiver.deliveries) == 1
