from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aftersales.exceptions import InvalidInput
from aftersales.intake import OrderIntakeSerializer
from aftersales.models import Customer, Order, OrderLine, Product
from aftersales.tests.builders import intake_payload, intake_upsert
from aftersales.tests.factories import StoreFactory
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_an_order_is_created_with_lines_customer_and_exact_amounts(store):
    result = intake_upsert(store, intake_payload(store))

    order = result.order
    assert result.created is True
    assert (order.currency, order.shipping_amount, order.contact_email, order.contact_phone) == (
        "CNY",
        Decimal("10.00"),
        "xiaoming@example.com",
        "+8613800138000",
    )
    customer = Customer.objects.get()
    assert (customer.name, customer.email, customer.phone, customer.merchant_id) == (
        "王小明",
        "xiaoming@example.com",
        "+8613800138000",
        store.merchant_id,
    )
    lines = {line.line_number: line for line in order.lines.all()}
    assert lines["2"].paid_amount == Decimal("280.00")
    assert order.total_amount == Decimal("1189.00")
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["MAT-XL", "TENT-2P"]


def test_the_same_order_pushed_twice_is_one_order(store):
    first = intake_upsert(store, intake_payload(store))
    second = intake_upsert(store, intake_payload(store, shipping_amount="12.00"))

    assert second.created is False
    assert second.order.pk == first.order.pk
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 2
    assert Customer.objects.count() == 1
    assert Order.objects.get().shipping_amount == Decimal("12.00")


def test_a_line_dropped_by_the_shop_is_removed_when_untouched(store):
    intake_upsert(store, intake_payload(store))
    payload = intake_payload(store)
    payload["lines"] = payload["lines"][:1]

    intake_upsert(store, payload)

    assert list(OrderLine.objects.values_list("line_number", flat=True)) == ["1"]


def test_a_line_with_an_open_case_cannot_be_removed_and_nothing_changes(store):
    order = intake_upsert(store, intake_payload(store)).order
    ticket = TicketFactory(merchant=store.merchant, customer=order.customer, order=order)
    ticket.order_lines.add(order.lines.get(line_number="2"))
    payload = intake_payload(store, shipping_amount="99.00")
    payload["lines"] = payload["lines"][:1]

    with pytest.raises(InvalidInput) as refusal:
        intake_upsert(store, payload)

    assert refusal.value.code == "line_in_use"
    assert OrderLine.objects.filter(order=order).count() == 2
    assert Order.objects.get().shipping_amount == Decimal("10.00")


def test_quantity_cannot_drop_below_units_in_after_sales(store):
    order = intake_upsert(store, intake_payload(store)).order
    OrderLine.objects.filter(order=order, line_number="2").update(quantity_requested=2)
    payload = intake_payload(store)
    payload["lines"][1]["quantity"] = 1

    with pytest.raises(InvalidInput) as refusal:
        intake_upsert(store, payload)

    assert refusal.value.code == "line_in_use"
    assert OrderLine.objects.get(order=order, line_number="2").quantity == 2


def test_a_store_of_another_merchant_is_refused_and_nothing_is_written(store):
    foreign = StoreFactory()

    with pytest.raises(InvalidInput) as refusal:
        intake_upsert(store, intake_payload(foreign))

    assert refusal.value.code == "unknown_store"
    assert (Order.objects.count(), Customer.objects.count(), Product.objects.count()) == (0, 0, 0)


def test_a_discount_above_the_line_price_is_refused_and_nothing_is_written(store):
    payload = intake_payload(store)
    payload["lines"][1]["discount_amount"] = "300.01"

    with pytest.raises(InvalidInput) as refusal:
        intake_upsert(store, payload)

    assert refusal.value.code == "invalid_discount"
    assert (Order.objects.count(), OrderLine.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customer": {"name": "No contact"}}, "customer"),
        ({"customer": {"email": "not-an-email"}}, "customer"),
        ({"customer": {"phone": "12345"}}, "customer"),
        ({"lines": []}, "lines"),
        ({"store": 0}, "store"),
    ],
)
def test_intake_validation_names_the_bad_field(store, change, field):
    serializer = OrderIntakeSerializer(data=intake_payload(store, **change))

    assert serializer.is_valid() is False
    assert list(serializer.errors) == [field]


def test_delivery_before_shipment_is_refused(store):
    placed = timezone.now() - timedelta(days=3)
    serializer = OrderIntakeSerializer(
        data=intake_payload(
            store,
            placed_at=placed.isoformat(),
            shipped_at=(placed + timedelta(days=2)).isoformat(),
            delivered_at=(placed + timedelta(days=1)).isoformat(),
        )
    )

    assert serializer.is_valid() is False
    assert list(serializer.errors) == ["delivered_at"]
