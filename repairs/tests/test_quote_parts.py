"""The dashboard's quote form picks parts from the merchant's catalogue: a server-side search
(parts fitting the repair's product first, a short list however large the catalogue), part lines
filled from the catalogue and editable, labour lines as before; another merchant's part is refused
and nothing changes."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.tests.factories import ProductFactory
from repairs.models import LineCoverage, LineKind, RepairLine, RepairOrder, RepairQuote, RepairStatus
from repairs.services import repair_triage
from repairs.tests.builders import build_world, request_repair
from repairs.tests.factories import PartFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
TWO_YEARS_ON = datetime(2028, 3, 20, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def two_years_on():
    with time_machine.travel(TWO_YEARS_ON, tick=False):
        yield


@pytest.fixture
def out_of_warranty(world, two_years_on):
    repair = request_repair(world)
    repair_triage(repair_order=repair, actor=world.agent)
    assert RepairOrder.objects.get(pk=repair.pk).status == RepairStatus.OUT_OF_WARRANTY
    return repair


def _search(client, repair, q=""):
    return client.get(reverse("dashboard:repair_quote_parts", args=[repair.ticket.number]), {"q": q})


@pytest.mark.usefixtures("two_years_on")
def test_the_part_search_lists_parts_fitting_the_product_first(client, world, out_of_warranty):
    other_product = ProductFactory(merchant=world.merchant, sku="SINK-1", name="Sink")
    fits = PartFactory(merchant=world.merchant, part_number="Z-CART", name="Ceramic cartridge", price=Decimal("60.00"))
    fits.compatible_products.add(world.product)
    elsewhere = PartFactory(merchant=world.merchant, part_number="A-DRAIN", name="Drain cartridge")
    elsewhere.compatible_products.add(other_product)
    PartFactory(merchant=world.merchant, part_number="A-OLD", name="Old cartridge", is_active=False)
    PartFactory(merchant=world.merchant, part_number="B-HOSE", name="Hose")
    client.force_login(world.agent)

    everything = _search(client, out_of_warranty).json()["parts"]
    cartridges = _search(client, out_of_warranty, "cartridge").json()["parts"]
    by_number = _search(client, out_of_warranty, "b-ho").json()["parts"]

    assert [p["part_number"] for p in everything] == ["Z-CART", "A-DRAIN", "B-HOSE"]
    assert [p["part_number"] for p in cartridges] == ["Z-CART", "A-DRAIN"]
    assert cartridges[0] == {
        "part_number": "Z-CART",
        "name": "Ceramic cartridge",
        "price": "60.00",
        "fits": True,
        "label": "Ceramic cartridge · 60.00 · fits this product",
    }
    assert [p["part_number"] for p in by_number] == ["B-HOSE"]


@pytest.mark.usefixtures("two_years_on")
def test_the_part_search_answers_a_short_list_in_constant_queries_from_a_large_catalogue(
    client, world, out_of_warranty
):
    PartFactory.create_batch(60, merchant=world.merchant, name="Washer")
    client.force_login(world.agent)
    _search(client, out_of_warranty, "wash")  # the session and membership are read once

    with CaptureQueriesContext(connection) as few:
        few_parts = _search(client, out_of_warranty, "wash").json()["parts"]
    PartFactory.create_batch(60, merchant=world.merchant, name="Washer")
    with CaptureQueriesContext(connection) as many:
        many_parts = _search(client, out_of_warranty, "wash").json()["parts"]

    assert (len(few_parts), len(many_parts)) == (20, 20)
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.usefixtures("two_years_on")
def test_the_part_search_shows_no_part_of_another_merchant_and_another_merchant_gets_a_404(
    client, world, out_of_warranty
):
    other = build_world(slug="other-shop", serial="OTHER-1")
    PartFactory(merchant=other.merchant, part_number="THEIRS-1", name="Their cartridge")
    client.force_login(world.agent)
    mine = _search(client, out_of_warranty, "cartridge").json()["parts"]
    client.force_login(other.agent)

    theirs = _search(client, out_of_warranty, "cartridge")

    assert mine == []
    assert theirs.status_code == 404


@pytest.mark.usefixtures("two_years_on")
def test_a_quote_lists_a_labour_line_and_picked_parts_with_edited_and_catalogue_prices(client, world, out_of_warranty):
    cartridge = PartFactory(
        merchant=world.merchant, part_number="CART-1", name="Ceramic cartridge", cost="25.00", price="60.00"
    )
    PartFactory(merchant=world.merchant, part_number="WASH-1", name="Washer", cost="1.00", price="5.00")
    client.force_login(world.agent)

    response = client.post(
        reverse("dashboard:repair_action", args=[out_of_warranty.ticket.number, "quote"]),
        {
            "description_1": "Labour",
            "kind_1": "labour",
            "price_1": "80.00",
            "part_number_1": "CART-1",
            "part_description_1": "",
            "part_quantity_1": "1",
            "part_price_1": "55.00",
            "part_number_2": " WASH-1 ",
            "part_quantity_2": "2",
            "note": "Cartridge and washers",
        },
    )

    assert response.status_code == 302
    repair = RepairOrder.objects.get(pk=out_of_warranty.pk)
    assert repair.status == RepairStatus.QUOTED
    quote = RepairQuote.objects.get(repair_order=repair)
    lines = list(RepairLine.objects.filter(quote=quote).order_by("pk"))
    assert [
        (line.kind, line.part_id, line.description, line.quantity, line.unit_price, line.unit_cost) for line in lines
    ] == [
        (LineKind.LABOUR, None, "Labour", Decimal("1.00"), Decimal("80.00"), Decimal("0.00")),
        (LineKind.PART, cartridge.pk, "Ceramic cartridge", Decimal("1.00"), Decimal("55.00"), Decimal("25.00")),
        (LineKind.PART, lines[2].part_id, "Washer", Decimal("2.00"), Decimal("5.00"), Decimal("1.00")),
    ]
    assert {line.coverage for line in lines} == {LineCoverage.CUSTOMER}
    # 80 + 55 + 2 × 5 = 145, taxed at 13 %.
    assert (quote.subtotal, quote.tax_amount, quote.total) == (Decimal("145.00"), Decimal("18.85"), Decimal("163.85"))


@pytest.mark.usefixtures("two_years_on")
def test_a_quote_naming_another_merchants_part_is_refused_and_changes_nothing(client, world, out_of_warranty):
    other = build_world(slug="other-shop", serial="OTHER-1")
    PartFactory(merchant=other.merchant, part_number="THEIRS-1", name="Their cartridge", price="9.00")
    client.force_login(world.agent)

    response = client.post(
        reverse("dashboard:repair_action", args=[out_of_warranty.ticket.number, "quote"]),
        {"description_1": "Labour", "kind_1": "labour", "price_1": "80.00", "part_number_1": "THEIRS-1"},
        follow=True,
    )

    assert "Unknown part: THEIRS-1." in response.content.decode()
    assert RepairOrder.objects.get(pk=out_of_warranty.pk).status == RepairStatus.OUT_OF_WARRANTY
    assert RepairQuote.objects.filter(repair_order=out_of_warranty).count() == 0
    assert RepairLine.objects.filter(repair_order=out_of_warranty).count() == 0


@pytest.mark.usefixtures("two_years_on")
def test_an_empty_quote_is_refused_with_a_message(client, world, out_of_warranty):
    client.force_login(world.agent)

    response = client.post(
        reverse("dashboard:repair_action", args=[out_of_warranty.ticket.number, "quote"]), {"note": "x"}, follow=True
    )

    assert "A quote needs at least one line." in response.content.decode()
    assert RepairOrder.objects.get(pk=out_of_warranty.pk).status == RepairStatus.OUT_OF_WARRANTY
    assert RepairQuote.objects.count() == 0


@pytest.mark.usefixtures("two_years_on")
def test_the_repair_box_offers_the_part_picker_on_the_quote_form(client, world, out_of_warranty):
    client.force_login(world.agent)

    page = client.get(reverse("dashboard:ticket", args=[out_of_warranty.ticket.number])).content.decode()

    search_url = reverse("dashboard:repair_quote_parts", args=[out_of_warranty.ticket.number])
    assert f'data-part-search="{search_url}"' in page
    assert 'name="part_number_3"' in page
    assert "js/quote_parts.js" in page
