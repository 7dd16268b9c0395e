"""Builders shared by every app's tests: proving an order in the portal the way a customer does,
what a page flashed, the rows of an order import and the order intake's payload."""

import csv
import re
from datetime import timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from aftersales.intake import OrderIntakeSerializer
from aftersales.management.commands.import_orders import KNOWN_COLUMNS
from aftersales.services.orders import order_upsert

CODE_LINE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)


def flash_messages(response) -> list[str]:
    """The messages a dashboard page flashed, as the user reads them."""
    return [str(message) for message in response.context["messages"]]


def code_from_outbox(index=-1) -> str:
    found = CODE_LINE.search(str(mail.outbox[index].body))
    assert found is not None, "no code in the last mail"
    return found.group(1)


def request_code(client, capture, merchant, order_number, contact, ip="10.0.0.1"):
    with capture(execute=True):
        return client.post(
            reverse("portal:home", args=[merchant.slug]),
            {"order_number": order_number, "contact": contact},
            REMOTE_ADDR=ip,
        )


def sign_in(client, capture, order, contact=None):
    """Prove an order the way a customer does: lookup, then the code from the e-mail."""
    response = request_code(client, capture, order.merchant, order.external_number, contact or order.contact_email)
    assert response.status_code == 302
    response = client.post(reverse("portal:verify", args=[order.merchant.slug]), {"code": code_from_outbox()})
    assert response.status_code == 302
    return response


HEADER = list(KNOWN_COLUMNS)


def row(order_number, line_number, **overrides):
    values = {
        "order_number": order_number,
        "placed_at": "2025-03-01 10:00:00",
        "shipped_at": "2025-03-02 09:00:00",
        "delivered_at": "2025-03-04 15:30:00",
        "currency": "CNY",
        "shipping_amount": "12.00",
        "customer_name": "王芳",
        "customer_email": f"buyer-{order_number}@example.com",
        "customer_phone": "13800138000" if order_number == "1001" else "",
        "line_number": line_number,
        "sku": f"SKU-{line_number}",
        "product_name": f"Product {line_number}",
        "category": "tents",
        "quantity": "2",
        "unit_price": "199.00",
        "discount_amount": "10.00",
    }
    values.update(overrides)
    return values


def write_csv(path, rows, *, bom=False):
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def intake_payload(target_store, **overrides):
    placed = timezone.now() - timedelta(days=3)
    payload = {
        "store": target_store.pk,
        "number": "TB-20261101-0001",
        "placed_at": placed.isoformat(),
        "delivered_at": (placed + timedelta(days=2)).isoformat(),
        "shipping_amount": "10.00",
        "customer": {"name": "王小明", "email": "Xiaoming@Example.com", "phone": "138 0013 8000"},
        "lines": [
            {"line_number": "1", "sku": "TENT-2P", "name": "Two-person tent", "quantity": 1, "unit_price": "899.00"},
            {
                "line_number": "2",
                "sku": "MAT-XL",
                "name": "Sleeping mat",
                "quantity": 2,
                "unit_price": "150.00",
                "discount_amount": "20.00",
            },
        ],
    }
    payload.update(overrides)
    return payload


def intake_upsert(store, payload):
    serializer = OrderIntakeSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    return order_upsert(merchant=store.merchant, data=serializer.to_input())
