"""The demo's apparel and footwear come in sizes (and the fleece in colours) with prices, so the
portal offers them in an exchange and the demo's exchanges ask for one."""

from decimal import Decimal

import pytest

from aftersales.models import Merchant, OrderLine, Product
from returns.models import ReturnLine
from returns.selectors import exchange_variants_for

# One worker builds the session's demo (the demo fixture) for all of them.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]


def test_the_demo_catalogue_has_priced_variants_that_its_exchanges_ask_for(demo):
    # When the demo is seeded at a small size (once per session: this test only reads it)
    demo = Merchant.objects.get(slug="demo")

    # Then every product has a price, and the fleece comes in three colours in their order
    assert not Product.objects.filter(merchant=demo, price__isnull=True).exists()
    fleece = Product.objects.filter(merchant=demo, variant_group="JK-FLEECE").order_by("variant_position")
    assert [(p.sku, p.variant_attributes["colour"], p.price) for p in fleece] == [
        ("JK-FLEECE", "Grey 灰色", Decimal("399.00")),
        ("JK-FLEECE-RED", "Red, last season 红色（过季）", Decimal("319.00")),
        ("JK-FLEECE-NVY", "Navy 藏青", Decimal("399.00")),
    ]
    assert Product.objects.filter(merchant=demo, variant_group="JK-DOWN").count() == 5

    # and a line sold of an item in sizes is offered its other sizes
    line = (
        OrderLine.objects.filter(merchant=demo, product__variant_group__gt="")
        .select_related("product", "order")
        .first()
    )
    offered = exchange_variants_for(merchant=demo, lines=[line])[line.pk]
    assert offered
    assert all(variant.product.variant_group == line.product.variant_group for variant in offered)

    # and the demo's exchanges of such items ask for another size or colour of them
    wishes = ReturnLine.objects.filter(
        return_request__merchant=demo,
        return_request__resolution="exchange",
        order_line__product__variant_group__gt="",
    )
    assert wishes.exists()
    for wish in wishes.select_related("exchange_product", "order_line__product"):
        assert wish.exchange_product.variant_group == wish.order_line.product.variant_group
        assert wish.exchange_product_id != wish.order_line.product_id
