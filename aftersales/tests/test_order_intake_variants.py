"""Order intake fills a product's variant group, attributes and price: for a product it creates,
and where the catalogue has none yet — never over what the merchant set."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from aftersales.intake import OrderIntakeSerializer
from aftersales.models import Product
from aftersales.tests.builders import intake_payload, intake_upsert, row, write_csv
from aftersales.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _variant_line(**fields):
    return {"line_number": "1", "sku": "JKT-M", "name": "Jacket", "quantity": 1, "unit_price": "100.00", **fields}


def test_a_new_product_gets_the_variant_group_attributes_and_price_of_the_line(store):
    line = _variant_line(variant_group="JKT", variant_attributes={"size": "M"}, product_price="120.00")

    intake_upsert(store, intake_payload(store, lines=[line]))

    product = Product.objects.get(sku="JKT-M")
    assert (product.variant_group, product.variant_attributes, product.price, product.is_active) == (
        "JKT",
        {"size": "M"},
        Decimal("120.00"),
        True,
    )


def test_intake_fills_what_the_catalogue_lacks_and_keeps_what_the_merchant_set(store):
    ProductFactory(merchant=store.merchant, sku="JKT-M", variant_group="", price=Decimal("99.00"))
    line = _variant_line(variant_group="JKT", variant_attributes={"size": "M"}, product_price="120.00")

    intake_upsert(store, intake_payload(store, lines=[line]))

    product = Product.objects.get(sku="JKT-M")
    assert (product.variant_group, product.variant_attributes, product.price) == (
        "JKT",
        {"size": "M"},
        Decimal("99.00"),
    )


def test_a_negative_price_is_refused_on_the_line(store):
    serializer = OrderIntakeSerializer(data=intake_payload(store, lines=[_variant_line(product_price="-1.00")]))

    assert not serializer.is_valid()
    assert "product_price" in serializer.errors["lines"][0]


def test_the_csv_import_takes_the_variant_group_and_product_price_columns(tmp_path, store):
    path = write_csv(
        tmp_path / "orders.csv",
        [row("1001", "1", sku="JKT-M", variant_group="JKT", product_price="120.00"), row("1001", "2")],
    )
    out = io.StringIO()

    call_command("import_orders", path, "--merchant", store.merchant.slug, "--store", str(store.pk), stdout=out)

    assert "1 created" in out.getvalue()
    assert list(Product.objects.order_by("sku").values_list("sku", "variant_group", "price")) == [
        ("JKT-M", "JKT", Decimal("120.00")),
        ("SKU-2", "", None),
    ]
