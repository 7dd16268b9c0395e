"""Outgoing webhooks: every return status change is queued for the merchant's endpoints, signed
with HMAC-SHA256 of the raw body, delivered to a real HTTP server, and retried when it fails."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from aftersales.models import Notification, WebhookEndpoint
from aftersales.services.notifications import notification_send
from aftersales.tests.servers import Receiver
from returns.models import ReturnStatus
from returns.services import return_request_approve
from returns.tests.builders import drive, make_world, submit

pytestmark = pytest.mark.django_db


def webhooks():
    return Notification.objects.filter(channel=Notification.Channel.WEBHOOK).order_by("pk")


def test_every_status_change_is_queued_for_each_endpoint_that_wants_it():
    # Given an endpoint for every event, one for return events, one for other events and an inactive one
    world = make_world()
    every = WebhookEndpoint.objects.create(merchant=world.merchant, url="https://erp.example.com/all")
    WebhookEndpoint.objects.create(
        merchant=world.merchant, url="https://erp.example.com/returns", events=["return.status_changed"]
    )
    WebhookEndpoint.objects.create(merchant=world.merchant, url="https://erp.example.com/other", events=["x.y"])
    WebhookEndpoint.objects.create(merchant=world.merchant, url="https://erp.example.com/off", is_active=False)

    # When a return is submitted, then approved
    return_request = submit(world)
    return_request_approve(return_request=return_request, actor=world.agent)

    # Then two endpoints are told of each of the two changes, with the number and both statuses
    rows = list(webhooks())
    assert [(row.recipient, row.template) for row in rows] == [
        ("https://erp.example.com/all", "return.status_changed"),
        ("https://erp.example.com/returns", "return.status_changed"),
    ] * 2
    changes = [
        (row.context["data"]["return"]["previous_status"], row.context["data"]["return"]["status"]) for row in rows
    ]
    assert changes == [("", "submitted"), ("", "submitted"), ("submitted", "approved"), ("submitted", "approved")]
    assert rows[2].context["event"] == "return.status_changed"
    assert rows[2].context["data"]["return"]["number"] == return_request.ticket.number
    assert all(row.ticket_id == return_request.ticket_id for row in rows)
    assert every.secret  # generated


def test_a_refused_transition_queues_nothing():
    world = make_world()
    return_request = drive(world, submit(world), ReturnStatus.APPROVED)
    WebhookEndpoint.objects.create(merchant=world.merchant, url="https://erp.example.com/all")

    with pytest.raises(Exception, match="cannot become"):
        return_request_approve(return_request=return_request, actor=world.agent)

    assert webhooks().count() == 0


def test_without_an_endpoint_a_status_change_writes_no_webhook_row():
    world = make_world()

    drive(world, submit(world), ReturnStatus.APPROVED)

    assert webhooks().count() == 0


def test_a_delivery_reaches_the_endpoint_signed_with_its_secret(django_capture_on_commit_callbacks):
    world = make_world()
    return_request = submit(world)
    with Receiver() as receiver:
        endpoint = WebhookEndpoint.objects.create(merchant=world.merchant, url=receiver.url, secret="s3cret")

        # When the return is approved and the transaction commits (the worker runs eagerly)
        with django_capture_on_commit_callbacks(execute=True):
            return_request_approve(return_request=return_request, actor=world.agent)

    # Then the endpoint got one POST whose signature it can verify over the raw body
    notification = webhooks().get()
    assert notification.state == Notification.State.SENT
    assert len(receiver.deliveries) == 1
    delivery = receiver.deliveries[0]
    expected = "sha256=" + hmac.new(endpoint.secret.encode(), delivery["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(delivery["headers"]["X-Aftersales-Signature"], expected)
    assert delivery["headers"]["X-Aftersales-Event"] == "return.status_changed"
    assert delivery["headers"]["X-Aftersales-Delivery"] == str(notification.pk)
    assert delivery["headers"]["Content-Type"] == "application/json"
    payload = json.loads(delivery["body"])
    assert payload["data"]["return"] == {
        "id": return_request.pk,
        "number": return_request.ticket.number,
        "status": "approved",
        "previous_status": "submitted",
        "resolution": "refund",
        "order_id": world.order.pk,
        "customer_id": world.customer.pk,
    }


def test_a_failing_endpoint_is_retried_with_backoff_then_succeeds(django_capture_on_commit_callbacks):
    world = make_world()
    return_request = submit(world)
    with Receiver(answers=[500, 503]) as receiver:
        WebhookEndpoint.objects.create(merchant=world.merchant, url=receiver.url, secret="s3cret")
        with django_capture_on_commit_callbacks(execute=True):
            return_request_approve(return_request=return_request, actor=world.agent)

        # Then the first attempt failed and waits for its retry
        notification = webhooks().get()
        assert notification.state == Notification.State.PENDING
        assert notification.attempts == 1
        assert "500" in notification.last_error
        assert notification.next_attempt_at > timezone.now()
        assert notification_send(notification_id=notification.pk) is None  # not due yet

        # When the backoff has passed twice (the second attempt fails too)
        with time_machine.travel(notification.next_attempt_at + timedelta(seconds=1)):
            notification_send(notification_id=notification.pk)
        notification.refresh_from_db()
        assert (notification.state, notification.attempts) == (Notification.State.PENDING, 2)
        with time_machine.travel(notification.next_attempt_at + timedelta(seconds=1)):
            notification_send(notification_id=notification.pk)

    # Then the third attempt delivered it: three POSTs of the same signed body and delivery id
    notification.refresh_from_db()
    assert (notification.state, notification.attempts, notification.last_error) == (Notification.State.SENT, 3, "")
    assert len(receiver.deliveries) == 3
    assert len({delivery["body"] for delivery in receiver.deliveries}) == 1
    assert {delivery["headers"]["X-Aftersales-Delivery"] for delivery in receiver.deliveries} == {str(notification.pk)}


def test_an_unreachable_endpoint_counts_as_a_failed_attempt(django_capture_on_commit_callbacks):
    world = make_world()
    return_request = submit(world)
    with Receiver() as receiver:
        url = receiver.url
    WebhookEndpoint.objects.create(merchant=world.merchant, url=url)

    with django_capture_on_commit_callbacks(execute=True):
        return_request_approve(return_request=return_request, actor=world.agent)

    notification = webhooks().get()
    assert (notification.state, notification.attempts) == (Notification.State.PENDING, 1)
    assert notification.last_error


def test_the_admin_never_shows_the_secret_and_keeps_it_when_left_empty(admin_client):
    world = make_world()
    endpoint = WebhookEndpoint.objects.create(
        merchant=world.merchant, url="https://erp.example.com/all", secret="do-not-show-me"
    )
    change_url = reverse("admin:aftersales_webhookendpoint_change", args=[endpoint.pk])

    page = admin_client.get(change_url)
    response = admin_client.post(
        change_url,
        {"merchant": world.merchant.pk, "url": "https://erp.example.com/v2", "secret": "", "events": "[]"},
    )

    assert page.status_code == 200
    assert "do-not-show-me" not in page.content.decode()
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.secret, endpoint.is_active) == (
        "https://erp.example.com/v2",
        "do-not-show-me",
        False,
    )
