"""Orders through the API: the shop pushes them (one, or a list), integrations read them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aftersales.api.views import MAX_ORDERS_PER_PUSH
from aftersales.models import Customer, Order, OrderLine
from aftersales.services.api_keys import api_key_revoke
from aftersales.tests.factories import (
    MembershipFactory,
    MerchantFactory,
    OrderFactory,
    OrderLineFactory,
    StoreFactory,
    api_key_for,
)
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

ORDERS = "api:order-list"


@pytest.fixture
def store():
    return StoreFactory(merchant=MerchantFactory(currency="CNY"))


@pytest.fixture
def api_key(store):
    return api_key_for(store.merchant)


@pytest.fixture
def client(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key[1]}")
    return client


def _order(store, number="TB-0001", **overrides):
    placed = timezone.now() - timedelta(days=3)
    payload = {
        "store": store.pk,
        "number": number,
        "placed_at": placed.isoformat(),
        "delivered_at": (placed + timedelta(days=2)).isoformat(),
        "shipping_amount": "10.00",
        "customer": {"name": "王小明", "email": "Xiaoming@Example.com", "phone": "138 0013 8000"},
        "lines": [
            {"line_number": "1", "sku": "TENT-2P", "name": "Two-person tent", "quantity": 1, "unit_price": "899.00"},
            {"line_number": "2", "sku": "MAT-XL", "quantity": 2, "unit_price": "150.00", "discount_amount": "20.00"},
        ],
    }
    payload.update(overrides)
    return payload


# --- one order -----------------------------------------------------------------------------------


def test_pushing_a_new_order_creates_it_with_201(client, store):
    response = client.post(reverse(ORDERS), _order(store), format="json")

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    body = response.json()
    assert (body["id"], body["number"], body["store"]["id"]) == (order.pk, "TB-0001", store.pk)
    assert (body["shipping_amount"], body["total_amount"], body["currency"]) == ("10.00", "1189.00", "CNY")
    assert [line["line_number"] for line in body["lines"]] == ["1", "2"]
    assert body["lines"][1]["paid_amount"] == "280.00"
    assert body["customer"]["email"] == "xiaoming@example.com"
    assert body["customer"]["phone"] == "+8613800138000"


def test_pushing_the_same_order_twice_is_one_order_updated_with_200(client, store):
    first = client.post(reverse(ORDERS), _order(store), format="json")
    changed = _order(store, shipping_amount="0.00")
    changed["lines"] = [changed["lines"][0]]

    second = client.post(reverse(ORDERS), changed, format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Order.objects.count() == 1
    assert Customer.objects.count() == 1
    order = Order.objects.get()
    assert order.shipping_amount == Decimal("0.00")
    assert list(order.lines.values_list("line_number", flat=True)) == ["1"]


def test_an_invalid_order_is_400_with_field_errors_and_writes_nothing(client, store):
    response = client.post(reverse(ORDERS), _order(store, lines=[]), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "lines" in response.json()["error"]["details"]
    assert (Order.objects.count(), Customer.objects.count()) == (0, 0)


def test_a_refusal_of_the_service_is_400_with_its_code_and_writes_nothing(client, store):
    payload = _order(store)
    payload["lines"][1]["line_number"] = "1"

    response = client.post(reverse(ORDERS), payload, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "duplicate_line"
    assert (Order.objects.count(), OrderLine.objects.count(), Customer.objects.count()) == (0, 0, 0)


def test_an_update_that_would_drop_a_line_in_after_sales_is_refused_and_changes_nothing(client, store):
    client.post(reverse(ORDERS), _order(store), format="json")
    order = Order.objects.get()
    TicketFactory(merchant=store.merchant, customer=order.customer, order=order).order_lines.set(
        order.lines.filter(line_number="2")
    )
    shrunk = _order(store, shipping_amount="99.00")
    shrunk["lines"] = [shrunk["lines"][0]]

    response = client.post(reverse(ORDERS), shrunk, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "line_in_use"
    order.refresh_from_db()
    assert order.shipping_amount == Decimal("10.00")
    assert order.lines.count() == 2


# --- a list of orders ----------------------------------------------------------------------------


def test_a_list_of_new_orders_is_201_with_one_result_each(client, store):
    response = client.post(reverse(ORDERS), [_order(store, "A-1"), _order(store, "A-2")], format="json")

    assert response.status_code == 201
    ids = dict(Order.objects.values_list("external_number", "pk"))
    assert response.json() == [
        {"index": 0, "status": "created", "id": ids["A-1"], "number": "A-1"},
        {"index": 1, "status": "created", "id": ids["A-2"], "number": "A-2"},
    ]


def test_a_list_with_an_order_already_known_is_200(client, store):
    client.post(reverse(ORDERS), _order(store, "A-1"), format="json")

    response = client.post(reverse(ORDERS), [_order(store, "A-1"), _order(store, "A-2")], format="json")

    assert response.status_code == 200
    assert [row["status"] for row in response.json()] == ["updated", "created"]
    assert Order.objects.count() == 2


def test_a_bad_order_in_a_list_is_reported_and_written_not_at_all_while_the_good_ones_land(client, store):
    # Given a list whose second order repeats a line number: its new customer is written before
    # the lines are checked, so "nothing of it" means that order's transaction rolled back.
    bad = _order(store, "B-2", customer={"email": "only-on-the-bad-order@example.com"})
    bad["lines"] = [
        {"line_number": "1", "sku": "ONLY-ON-BAD", "quantity": 1, "unit_price": "5.00"},
        {"line_number": "1", "sku": "ONLY-ON-BAD", "quantity": 1, "unit_price": "5.00"},
    ]
    invalid = _order(store, "B-3", placed_at="not a date")

    response = client.post(reverse(ORDERS), [_order(store, "B-1"), bad, invalid, _order(store, "B-4")], format="json")

    assert response.status_code == 207
    rows = response.json()
    assert [(row["index"], row["status"], row["number"]) for row in rows] == [
        (0, "created", "B-1"),
        (1, "error", "B-2"),
        (2, "error", "B-3"),
        (3, "created", "B-4"),
    ]
    assert rows[1]["errors"]["code"] == "duplicate_line"
    assert rows[2]["errors"]["code"] == "invalid"
    assert "placed_at" in rows[2]["errors"]["details"]
    assert sorted(Order.objects.values_list("external_number", flat=True)) == ["B-1", "B-4"]
    assert not Customer.objects.filter(email="only-on-the-bad-order@example.com").exists()
    assert not OrderLine.objects.filter(sku="ONLY-ON-BAD").exists()


def test_a_list_where_every_order_fails_is_400(client, store):
    response = client.post(reverse(ORDERS), [_order(store, "C-1", lines=[]), "not an order"], format="json")

    assert response.status_code == 400
    assert [(row["status"], row["errors"]["code"]) for row in response.json()] == [
        ("error", "invalid"),
        ("error", "invalid"),
    ]
    assert Order.objects.count() == 0


def test_a_list_longer_than_the_limit_is_refused_whole(client, store):
    orders = [_order(store, f"D-{n}") for n in range(MAX_ORDERS_PER_PUSH + 1)]

    response = client.post(reverse(ORDERS), orders, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "batch_too_large"
    assert Order.objects.count() == 0


def test_an_empty_list_is_refused(client):
    response = client.post(reverse(ORDERS), [], format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "empty_batch"


def test_the_same_order_twice_in_one_list_is_one_order(client, store):
    response = client.post(reverse(ORDERS), [_order(store, "E-1"), _order(store, "E-1")], format="json")

    assert response.status_code == 200
    assert [row["status"] for row in response.json()] == ["created", "updated"]
    assert Order.objects.filter(external_number="E-1").count() == 1


# --- reading -------------------------------------------------------------------------------------


def test_the_list_shows_orders_most_recently_placed_first_with_their_lines(client, store):
    now = timezone.now()
    older = OrderFactory(merchant=store.merchant, store=store, placed_at=now - timedelta(days=9))
    newer = OrderFactory(merchant=store.merchant, store=store, placed_at=now - timedelta(days=1))
    OrderLineFactory(order=newer, line_number="1")

    response = client.get(reverse(ORDERS))

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [newer.pk, older.pk]
    assert [line["line_number"] for line in rows[0]["lines"]] == ["1"]


def test_the_list_filters_by_number_customer_store_and_placed_range(client, store):
    now = timezone.now()
    other_store = StoreFactory(merchant=store.merchant)
    early = OrderFactory(merchant=store.merchant, store=store, placed_at=now - timedelta(days=20))
    late = OrderFactory(merchant=store.merchant, store=other_store, placed_at=now - timedelta(days=2))

    def ids(**params):
        response = client.get(reverse(ORDERS), params)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids(number=early.external_number) == [early.pk]
    assert ids(customer=late.customer_id) == [late.pk]
    assert ids(store=other_store.pk) == [late.pk]
    assert ids(placed_after=(now - timedelta(days=5)).isoformat()) == [late.pk]
    assert ids(placed_before=(now - timedelta(days=5)).isoformat()) == [early.pk]


def test_the_detail_shows_one_order(client, store):
    order = OrderFactory(merchant=store.merchant, store=store, shipping_amount=Decimal("8.00"))
    OrderLineFactory(order=order, quantity=2, unit_price=Decimal("50.00"), discount_amount=Decimal("5.00"))

    response = client.get(reverse("api:order-detail", kwargs={"order_id": order.pk}))

    assert response.status_code == 200
    assert (response.json()["number"], response.json()["total_amount"]) == (order.external_number, "103.00")


def test_staff_read_orders_of_their_merchant(store):
    order = OrderFactory(merchant=store.merchant, store=store)
    client = APIClient()
    client.force_login(MembershipFactory(merchant=store.merchant).user)

    response = client.get(reverse(ORDERS))

    assert [row["id"] for row in response.json()["results"]] == [order.pk]


def test_a_revoked_key_gets_401_and_cannot_push(api_key, store):
    api_key_revoke(api_key=api_key[0])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key[1]}")

    pushed = client.post(reverse(ORDERS), _order(store), format="json")
    listed = client.get(reverse(ORDERS))

    assert (pushed.status_code, listed.status_code) == (401, 401)
    assert pushed.json()["error"]["code"] == "authentication_failed"
    assert Order.objects.count() == 0


def test_a_wrong_secret_for_a_real_prefix_gets_401(api_key, store):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key[0].prefix}.not-the-secret")

    assert client.get(reverse(ORDERS)).status_code == 401
