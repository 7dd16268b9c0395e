"""The portal's exchange for another variant: each line offers its other sizes and colours with the
price difference, the review shows what the customer will receive and the difference to pay or to
get back, and the confirmed return records exactly that. Nothing is written before confirming."""

import re
from decimal import Decimal

import pytest

from aftersales.models import OrderLine, Product
from aftersales.tests.builders import sign_in
from aftersales.tests.factories import MembershipFactory, MerchantFactory, ProductFactory
from returns.models import ReturnLine, ReturnRequest
from returns.services import exchange_difference_confirm_paid, return_request_approve
from returns.tests.builders import (
    START_PAGE_QUERIES,
    SUBMISSION_QUERIES,
    change_choices,
    confirm,
    nothing_written_for,
    portal_order,
    start_url,
    ticket_url,
)
from tickets.models import TicketNumberCounter

# The portal return pages' world (returns/tests/conftest.py): a shop in Shanghai, its policy and
# reasons, a signed-in customer with an order of 2 pairs of shoes and a pair of socks, on 20 November.
pytestmark = pytest.mark.usefixtures("private_storage", "day_ten")


def give_variants(order) -> dict[str, Product]:
    """The shoes of the order (2 × 300.00 less 20.00: 290.00 a unit paid) come in size 41 at 290.00,
    43 at 310.00 and red at 275.00; the socks (1 × 199.00) in grey at 179.00; one shoe size is sold
    out, and another shop has a size 44 in a group of the same name."""
    shoes_line, socks_line = order.lines.get(line_number="1"), order.lines.get(line_number="2")
    Product.objects.filter(pk=shoes_line.product_id).update(
        variant_group="TRAIL", variant_attributes={"size": "42"}, variant_position=2, price="300.00"
    )
    Product.objects.filter(pk=socks_line.product_id).update(
        variant_group="SOCKS", variant_attributes={"colour": "black"}, price="199.00"
    )
    merchant = order.merchant

    def variant(sku, group, position, price, is_active=True, **attributes):
        return ProductFactory(
            merchant=merchant,
            sku=sku,
            variant_group=group,
            variant_position=position,
            variant_attributes=attributes,
            price=Decimal(price),
            is_active=is_active,
        )

    ProductFactory(merchant=MerchantFactory(), sku="TRAIL-44", variant_group="TRAIL", price=Decimal("300.00"))
    return {
        "41": variant("TRAIL-41", "TRAIL", 1, "290.00", size="41"),
        "43": variant("TRAIL-43", "TRAIL", 3, "310.00", size="43"),
        "red": variant("TRAIL-42-RED", "TRAIL", 2, "275.00", size="42", colour="red"),
        "45": variant("TRAIL-45", "TRAIL", 5, "330.00", is_active=False, size="45"),
        "grey": variant("SOCKS-GREY", "SOCKS", 1, "179.00", colour="grey"),
    }


def choose_exchange(client, order, quantities, reason, variants):
    data = {f"quantity_{line.pk}": quantity for line, quantity in quantities.items()}
    data.update({f"variant_{line.pk}": product.pk for line, product in variants.items()})
    data.update(reason=reason.pk, resolution="exchange", description="")
    return client.post(start_url(order), data)


def options(body: str, line) -> list[str]:
    select = re.search(rf'<select name="variant_{line.pk}"[^>]*>(.*?)</select>', body, re.S)
    assert select, f"no variant select for line {line.pk}"
    return [re.sub(r"\s+", " ", text).strip() for text in re.findall(r"<option[^>]*>(.*?)</option>", select[1], re.S)]


def test_the_start_page_offers_each_lines_other_sizes_and_colours_with_the_difference(signed_in, order, shoes):
    give_variants(order)
    socks = order.lines.get(line_number="2")

    body = signed_in.get(start_url(order)).content.decode()

    assert options(body, shoes) == [
        "The same item again",
        "Size: 41 (same price)",
        "Size: 42, Colour: red (−15.00 CNY)",
        "Size: 43 (+20.00 CNY)",
    ]
    assert options(body, socks) == ["The same item again", "Colour: grey (−20.00 CNY)"]
    assert "TRAIL-44" not in body
    assert "TRAIL-45" not in body
    assert 'class="return-start"' in body


def test_a_line_with_no_other_variant_offers_only_the_same_item(signed_in, order, shoes):
    give_variants(order)
    socks = order.lines.get(line_number="2")
    Product.objects.filter(sku="SOCKS-GREY").update(is_active=False)

    body = signed_in.get(start_url(order)).content.decode()

    assert f'name="variant_{socks.pk}"' not in body
    assert "For an exchange: the same item again; it comes in no other size or colour." in body
    assert f'name="variant_{shoes.pk}"' in body


def test_an_order_without_variants_shows_no_exchange_choice(signed_in, order):
    body = signed_in.get(start_url(order)).content.decode()

    assert "return-line__exchange" not in body
    assert 'name="variant_' not in body


def test_a_bigger_size_for_a_difference_to_pay_is_reviewed_and_recorded_exactly(
    signed_in, order, shoes, reasons, django_capture_on_commit_callbacks, png_upload
):
    # Given shoes in other sizes
    variants = give_variants(order)
    before = nothing_written_for(order)

    # When the customer asks to exchange one pair for size 43
    response = choose_exchange(signed_in, order, {shoes: 1}, reasons["changed_mind"], {shoes: variants["43"]})

    # then the review says what they will receive and what they pay, and nothing is written
    assert response.status_code == 200
    review = response.content.decode()
    assert "Instead: Size: 43 (TRAIL-43)" in review
    assert "+20.00 CNY a unit" in review
    assert re.search(r"Price difference to pay</dt><dd><strong>20.00 CNY</strong>", review)
    assert "Price difference refunded to you" not in review
    assert "your replacement is sent once it is paid" in review
    assert nothing_written_for(order) == before

    # When they confirm
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(signed_in, order, response, photos=[png_upload()])

    # then the return records the size, its price and the difference, and the ticket page shows it
    return_request = ReturnRequest.objects.get()
    assert response["Location"] == ticket_url(return_request.ticket)
    line = ReturnLine.objects.get()
    assert (line.quantity, line.exchange_product, line.exchange_unit_price, line.price_difference_per_unit) == (
        1,
        variants["43"],
        Decimal("310.00"),
        Decimal("20.00"),
    )
    assert (return_request.resolution, return_request.exchange_difference_due) == ("exchange", Decimal("20.00"))
    page = signed_in.get(response["Location"]).content.decode()
    assert "Instead: Size: 43 (TRAIL-43), +20.00 CNY a unit" in page
    assert "Price difference to pay <strong>20.00 CNY</strong>" in page
    assert "The shop will tell you how to pay it" in page

    # and once the shop approves the exchange and confirms the payment, the page says it is paid
    agent = MembershipFactory(merchant=order.merchant, role="agent").user
    return_request_approve(return_request=return_request, actor=agent)
    exchange_difference_confirm_paid(return_request=return_request, actor=agent, reference="PAY-1")
    page = signed_in.get(response["Location"]).content.decode()
    assert '20.00 CNY</strong> <span class="status status--done">Paid</span>' in page
    assert "The shop will tell you how to pay it" not in page
    assert "The shop received your payment of the price difference" in page


def test_a_cheaper_colour_and_a_dearer_size_show_both_totals_and_are_recorded(
    signed_in, order, shoes, reasons, png_upload
):
    # Given shoes and socks with variants
    variants = give_variants(order)
    socks = order.lines.get(line_number="2")

    # When the customer exchanges both pairs of shoes for red ones (15.00 less each) and the socks
    # for grey ones (20.00 less)
    both = {shoes: 2, socks: 1}
    response = choose_exchange(
        signed_in, order, both, reasons["changed_mind"], {shoes: variants["red"], socks: variants["grey"]}
    )
    review = response.content.decode()

    # then the review refunds 50.00 and asks for nothing
    assert "Instead: Size: 42, Colour: red (TRAIL-42-RED)" in review
    assert "−30.00 CNY" in review
    assert "−20.00 CNY" in review
    assert re.search(r"Price difference refunded to you</dt><dd><strong>50.00 CNY</strong>", review)
    assert "Price difference to pay" not in review

    # When the customer changes the shoes to size 43 (+20.00 each)
    response = choose_exchange(
        signed_in, order, both, reasons["changed_mind"], {shoes: variants["43"], socks: variants["grey"]}
    )
    review = response.content.decode()

    # then both totals are shown, apart
    assert re.search(r"Price difference to pay</dt><dd><strong>40.00 CNY</strong>", review)
    assert re.search(r"Price difference refunded to you</dt><dd><strong>20.00 CNY</strong>", review)

    confirm(signed_in, order, response, photos=[png_upload()])
    assert sorted(ReturnLine.objects.values_list("exchange_sku", "price_difference_per_unit")) == [
        ("SOCKS-GREY", Decimal("-20.00")),
        ("TRAIL-43", Decimal("20.00")),
    ]
    assert ReturnRequest.objects.get().exchange_difference_due == Decimal("40.00")


def test_an_exchange_left_on_the_same_item_says_so_and_records_no_variant(signed_in, order, shoes, reasons, png_upload):
    give_variants(order)

    response = choose_exchange(signed_in, order, {shoes: 1}, reasons["changed_mind"], {})
    review = response.content.decode()
    confirm(signed_in, order, response, photos=[png_upload()])

    assert "The same item again" in review
    assert "None: same price" in review
    line = ReturnLine.objects.get()
    assert (line.exchange_product, line.exchange_sku) == (None, "")


@pytest.mark.parametrize("pick", ["sold_out", "another_shops", "the_socks_colour", "not_a_product"])
def test_a_variant_not_offered_is_refused_on_its_line_and_nothing_is_written(signed_in, order, shoes, reasons, pick):
    variants = give_variants(order)
    value = {
        "sold_out": variants["45"].pk,
        "another_shops": Product.objects.get(sku="TRAIL-44").pk,
        "the_socks_colour": variants["grey"].pk,
        "not_a_product": 999999,
    }[pick]
    before = nothing_written_for(order)

    response = signed_in.post(
        start_url(order),
        {
            f"quantity_{shoes.pk}": 1,
            f"variant_{shoes.pk}": value,
            "reason": reasons["changed_mind"].pk,
            "resolution": "exchange",
        },
    )

    assert response.status_code == 200
    assert "Pick one of the sizes or colours offered for this item." in response.content.decode()
    assert nothing_written_for(order) == before


def test_a_variant_left_in_the_form_of_a_refund_is_ignored(signed_in, order, shoes, reasons, png_upload):
    variants = give_variants(order)

    response = signed_in.post(
        start_url(order),
        {
            f"quantity_{shoes.pk}": 1,
            f"variant_{shoes.pk}": variants["43"].pk,
            "reason": reasons["changed_mind"].pk,
            "resolution": "refund",
        },
    )
    review = response.content.decode()
    confirm(signed_in, order, response, photos=[png_upload()])

    assert "What you will receive" not in review
    return_request = ReturnRequest.objects.get()
    assert (return_request.resolution, return_request.exchange_difference_due) == ("refund", Decimal("0.00"))
    assert ReturnLine.objects.get().exchange_sku == ""


# --- what it costs -------------------------------------------------------------------------------


@pytest.mark.parametrize("lines", [2, 10])
def test_the_start_page_with_variants_costs_one_query_more_however_many_lines(
    client, shop, policy, reasons, django_capture_on_commit_callbacks, django_assert_num_queries, lines
):
    order = portal_order(shop, lines=lines)
    give_variants(order)
    Product.objects.filter(order_lines__order=order).update(variant_group="TRAIL", price="300.00")
    sign_in(client, django_capture_on_commit_callbacks, order)

    with django_assert_num_queries(START_PAGE_QUERIES + 1):
        response = client.get(start_url(order))

    assert response.content.decode().count('class="variant-select"') == lines


def _submission(client, order, reasons, django_capture_on_commit_callbacks, **choice):
    sign_in(client, django_capture_on_commit_callbacks, order)
    lines = list(order.lines.order_by("pk"))
    data = {f"quantity_{lines[0].pk}": 1, f"quantity_{lines[1].pk}": 1, "reason": reasons["changed_mind"].pk}
    data.update(choice)
    review = client.post(start_url(order), data)
    assert review.status_code == 200
    # Not the merchant's first return nor exchange: their number counters are there.
    for prefix in ("RT", "EX"):
        TicketNumberCounter.objects.create(merchant=order.merchant, prefix=prefix, last_value=41)
    return lines, review


def test_an_exchange_with_variants_costs_one_query_more_than_a_refund(
    client, shop, policy, reasons, django_capture_on_commit_callbacks, django_assert_num_queries, png_upload
):
    order = portal_order(shop, lines=2)
    variants = give_variants(order)
    lines, review = _submission(
        client,
        order,
        reasons,
        django_capture_on_commit_callbacks,
        resolution="exchange",
        **{f"variant_{order.lines.get(line_number='1').pk}": variants["43"].pk},
    )

    with django_assert_num_queries(SUBMISSION_QUERIES + 1):
        response = confirm(client, order, review, photos=[png_upload()])

    assert response.status_code == 302
    assert ReturnLine.objects.get(order_line=lines[0]).exchange_sku == "TRAIL-43"


def test_a_refund_with_a_variant_left_in_the_form_costs_what_a_refund_costs(
    client, shop, policy, reasons, django_capture_on_commit_callbacks, django_assert_num_queries, png_upload
):
    order = portal_order(shop, lines=2)
    variants = give_variants(order)
    _lines, review = _submission(
        client,
        order,
        reasons,
        django_capture_on_commit_callbacks,
        resolution="refund",
        **{f"variant_{order.lines.get(line_number='1').pk}": variants["43"].pk},
    )

    with django_assert_num_queries(SUBMISSION_QUERIES):
        response = confirm(client, order, review, photos=[png_upload()])

    assert response.status_code == 302
    assert OrderLine.objects.filter(order=order, quantity_requested=1).count() == 2


def test_an_exchange_of_the_same_items_costs_what_a_refund_costs(
    client, shop, policy, reasons, django_capture_on_commit_callbacks, django_assert_num_queries, png_upload
):
    order = portal_order(shop, lines=2)
    give_variants(order)
    _lines, review = _submission(client, order, reasons, django_capture_on_commit_callbacks, resolution="exchange")

    with django_assert_num_queries(SUBMISSION_QUERIES):
        response = confirm(client, order, review, photos=[png_upload()])

    assert response.status_code == 302
    assert list(ReturnLine.objects.values_list("exchange_sku", flat=True)) == ["", ""]


def test_change_my_choices_brings_the_variant_back(signed_in, order, shoes, reasons):
    variants = give_variants(order)
    review = choose_exchange(signed_in, order, {shoes: 1}, reasons["changed_mind"], {shoes: variants["red"]})

    body = change_choices(signed_in, order, review).content.decode()

    assert re.search(rf'<option value="{variants["red"].pk}" selected>Size: 42, Colour: red', body)
