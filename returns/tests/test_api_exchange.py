"""The returns API's exchange for another variant: a line names the SKU it wants instead, the
return shows the wish and its difference, the difference is confirmed paid before the replacement
ships, and a cheaper variant's refund is paid once under the request's Idempotency-Key."""

from decimal import Decimal

import pytest

from aftersales.models import IdempotencyRecord
from aftersales.tests.factories import ProductFactory
from returns.models import Refund, RefundExecution, ReplacementShipment, ReturnRequest, ReturnStatus
from returns.tests.builders import api_client, drive, exchange, make_world, nothing_written, received, url, variant_shop

pytestmark = pytest.mark.django_db


def _create(client, shop, *, sku: str, resolution="exchange", socks_sku: str | None = None):
    lines = [{"order_line": shop.jacket.pk, "quantity": 2, "exchange_sku": sku}]
    if socks_sku is not None:
        lines.append({"order_line": shop.socks.pk, "quantity": 1, "exchange_sku": socks_sku})
    return client.post(
        url("return-list"),
        {"order": shop.world.order.pk, "lines": lines, "reason": "changed_mind", "resolution": resolution},
        format="json",
    )


def test_a_return_names_the_variant_wanted_by_sku_and_shows_the_wish_and_the_difference():
    shop = variant_shop()
    client = api_client(shop.world.merchant)

    response = _create(client, shop, sku="JKT-L", socks_sku="")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["resolution"], body["exchange_difference_due"], body["exchange_difference_paid_at"]) == (
        "exchange",
        "40.00",
        None,
    )
    jacket, socks = body["lines"]
    assert {key: jacket[key] for key in ("exchange_product", "exchange_sku", "exchange_unit_price")} == {
        "exchange_product": shop.large.pk,
        "exchange_sku": "JKT-L",
        "exchange_unit_price": "120.00",
    }
    assert (jacket["price_difference_per_unit"], jacket["price_difference"]) == ("20.00", "40.00")
    assert (socks["exchange_product"], socks["exchange_sku"], socks["price_difference"]) == (None, "", "0.00")


@pytest.mark.parametrize(
    ("sku", "resolution", "code"),
    [
        ("JKT-XS", "exchange", "unknown_sku"),  # another merchant's product
        ("NO-SUCH-SKU", "exchange", "unknown_sku"),
        ("JKT-XL", "exchange", "exchange_variant_not_on_sale"),
        ("JKT-L", "refund", "exchange_variant_not_exchange"),
    ],
)
def test_a_variant_that_cannot_be_asked_for_is_a_400_and_nothing_is_written(sku, resolution, code):
    shop = variant_shop()
    client = api_client(shop.world.merchant)
    before = nothing_written()

    response = _create(client, shop, sku=sku, resolution=resolution)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert nothing_written() == before


def test_the_replacement_waits_for_the_difference_confirmed_paid_then_ships_the_variant():
    shop = variant_shop()
    return_request = received(shop, {shop.jacket: shop.large})
    client = api_client(shop.world.merchant)

    refused = client.post(
        url("return-exchange", return_request),
        {"carrier": "SF", "tracking_number": "SF1"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="ship-1",
    )
    paid = client.post(url("return-exchange-difference-paid", return_request), {"reference": "PAY-1"}, format="json")
    again = client.post(url("return-exchange-difference-paid", return_request), {"reference": "PAY-1"}, format="json")
    shipped = client.post(
        url("return-exchange", return_request),
        {"carrier": "SF", "tracking_number": "SF1"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="ship-2",
    )

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "exchange_difference_unpaid"
    assert paid.status_code == 200, paid.json()
    assert paid.json()["exchange_difference_reference"] == "PAY-1"
    assert paid.json()["exchange_difference_paid_at"] is not None
    assert again.status_code == 200
    assert shipped.status_code == 201, shipped.json()
    body = shipped.json()
    assert body["status"] == "completed"
    assert [(r["sku"], r["product"], r["quantity"]) for r in body["replacements"]] == [("JKT-L", shop.large.pk, 2)]


def test_a_cheaper_variants_refund_is_paid_once_under_the_idempotency_key_however_often_it_is_sent():
    # Given a received exchange of 2 jackets for the red one (15.00 less each)
    shop = variant_shop()
    return_request = received(shop, {shop.jacket: shop.red})
    client = api_client(shop.world.merchant)
    body = {"carrier": "SF", "tracking_number": "SF1"}

    # When the parcel is sent, the same request retried, and sent again under another key
    first = client.post(url("return-exchange", return_request), body, format="json", HTTP_IDEMPOTENCY_KEY="x-1")
    retry = client.post(url("return-exchange", return_request), body, format="json", HTTP_IDEMPOTENCY_KEY="x-1")
    other_key = client.post(url("return-exchange", return_request), body, format="json", HTTP_IDEMPOTENCY_KEY="x-2")

    # then one parcel and one refund of 30.00, its payment under the key derived from the first
    assert (first.status_code, retry.status_code, other_key.status_code) == (201, 201, 201)
    assert retry["Idempotent-Replayed"] == "true"
    assert ReplacementShipment.objects.count() == 1
    refund = Refund.objects.get()
    assert refund.amount == Decimal("30.00")
    execution = RefundExecution.objects.get()
    assert execution.refund == refund
    assert execution.idempotency_key.startswith("pay:")
    assert [(r["amount"], r["lines"][0]["quantity"]) for r in first.json()["refunds"]] == [("30.00", 0)]


def test_another_merchants_key_gets_404_on_the_difference_and_changes_nothing():
    shop = variant_shop()
    return_request = received(shop, {shop.jacket: shop.large})
    stranger = api_client(make_world().merchant)

    response = stranger.post(
        url("return-exchange-difference-paid", return_request), {"reference": "PAY-1"}, format="json"
    )

    assert response.status_code == 404
    assert ReturnRequest.objects.get(pk=return_request.pk).exchange_difference_paid_at is None
    assert IdempotencyRecord.objects.count() == 0


def test_a_difference_on_a_return_that_owes_none_is_a_409():
    shop = variant_shop()
    return_request = drive(shop.world, exchange(shop, {shop.jacket: shop.red}), ReturnStatus.APPROVED)
    client = api_client(shop.world.merchant)

    response = client.post(url("return-exchange-difference-paid", return_request), {"reference": "P"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_difference_due"


# --- the catalogue: variants in and out ----------------------------------------------------------


def test_products_show_their_variant_group_attributes_price_and_filter_by_group():
    shop = variant_shop()
    client = api_client(shop.world.merchant)
    ProductFactory(merchant=shop.world.merchant, sku="PANTS-M", variant_group="PANTS")

    response = client.get(url("product-list"), {"variant_group": "JKT"})

    assert response.status_code == 200
    rows = {row["sku"]: row for row in response.json()["results"]}
    assert set(rows) == {shop.jacket.sku, "JKT-S", "JKT-L", "JKT-M-RED", "JKT-XL", "JKT-NOPRICE"}
    assert {key: rows["JKT-L"][key] for key in ("variant_group", "variant_attributes", "price", "is_active")} == {
        "variant_group": "JKT",
        "variant_attributes": {"size": "L", "colour": "black"},
        "price": "120.00",
        "is_active": True,
    }
    assert rows["JKT-XL"]["is_active"] is False
