"""What an API client may send that the API must refuse in its own error format, never with a 500:
forged cursors, deeply nested JSON, time-zone offsets PostgreSQL rejects, dates at the ends of the
calendar, and bodies over the upload limit."""

import base64

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.models import Order
from aftersales.tests.factories import MerchantFactory, OrderFactory, StoreFactory, api_key_for
from tickets.models import Ticket
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "api:order-list",
    "api:customer-list",
    "api:product-list",
    "api:store-list",
    "api:ticket-list",
    "api:return-list",
    "api:carrier-claim-list",
    "api:sla-policy-list",
]


@pytest.fixture
def merchant():
    return MerchantFactory()


@pytest.fixture
def client(merchant):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(merchant)[1]}")
    return client


def assert_api_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize(
    "cursor",
    [
        b64(b"anything"),
        b64(b"o=1&p=not-a-time"),
        b64(b"p=9999-12-31+23:59:59-05:00"),
        b64(b"r=1&p=%00"),
        "not base64 at all!",
    ],
)
def test_a_forged_cursor_is_a_400_on_every_list(client, merchant, name, cursor):
    OrderFactory(store=StoreFactory(merchant=merchant))
    TicketFactory(merchant=merchant)

    response = client.get(reverse(name), {"cursor": cursor})

    if cursor == "not base64 at all!" and response.status_code == 404:
        pytest.fail("a cursor that is not one must not be a 404")
    error = assert_api_error(response, 400, "invalid_cursor")
    assert error["message"] == "Invalid cursor"


@pytest.mark.parametrize("name", LISTS)
def test_a_real_cursor_still_pages(client, merchant, name):
    response = client.get(reverse(name), {"page_size": 1})

    assert response.status_code == 200
    assert response.json()["next"] is None


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("api:order-list", "[" * 1000 + "]" * 1000),
        ("api:ticket-list", '{"subject":' * 600 + "1" + "}" * 600),
        ("api:return-list", "[" * 100 + "]" * 100),
    ],
)
def test_deeply_nested_json_is_a_400_and_writes_nothing(client, merchant, name, body):
    response = client.post(reverse(name), body, content_type="application/json")

    error = assert_api_error(response, 400, "parse_error")
    assert "nested" in error["message"]
    assert Order.objects.count() == 0
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "parameter"),
    [("api:ticket-list", "created_after"), ("api:ticket-list", "created_before"), ("api:order-list", "placed_after")],
)
@pytest.mark.parametrize(
    "value",
    [
        "2024-01-16T03:53:05-20:26",
        "2024-01-16T03:53:05+16:00",
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+05:00",
    ],
)
def test_a_time_postgresql_cannot_hold_is_a_400_on_list_filters(client, merchant, name, parameter, value):
    TicketFactory(merchant=merchant)

    response = client.get(reverse(name), {parameter: value})

    error = assert_api_error(response, 400, "invalid")
    assert list(error["details"]) == [parameter]


def test_an_offset_within_range_still_filters(client, merchant):
    ticket = TicketFactory(merchant=merchant)

    response = client.get(reverse("api:ticket-list"), {"created_after": "2000-01-01T00:00:00+14:00"})

    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == [ticket.number]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_over_the_upload_limit_is_a_413_in_the_api_format(client, merchant):
    ticket = TicketFactory(merchant=merchant)
    before = ticket.messages.count()

    response = client.post(
        reverse("api:ticket-messages", kwargs={"number": ticket.number}),
        {"body": "x" * 4096},
        format="multipart",
    )

    error = assert_api_error(response, 413, "request_too_large")
    assert error["message"] == "The request is larger than the server accepts."
    assert ticket.messages.count() == before


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_json_body_over_the_upload_limit_is_a_413_in_the_api_format(client, merchant):
    response = client.post(
        reverse("api:ticket-list"), '{"subject": "' + "x" * 4096 + '"}', content_type="application/json"
    )

    assert_api_error(response, 413, "request_too_large")
    assert Ticket.objects.count() == 0
