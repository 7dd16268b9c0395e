"""Exchanging an item for another variant (another size or colour): the variants a line may have,
the customer's wish snapshotted on the return with its price difference, and the difference
settled — a dearer variant paid before its replacement ships, a cheaper one refunded once it has."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Notification, Order, OrderLine, Product
from aftersales.tests.factories import OrderLineFactory, ProductFactory
from returns.models import (
    ExecutionState,
    Refund,
    RefundExecution,
    RefundLine,
    RefundState,
    ReplacementShipment,
    ReturnRequest,
    ReturnStatus,
)
from returns.selectors import exchange_variants_for
from returns.services import (
    exchange_difference_confirm_paid,
    exchange_difference_refund_pay,
    exchange_ship,
    refund_confirm_manual,
    refund_void,
    return_request_cancel,
)
from returns.tests.builders import drive, exchange, make_world, nothing_written, received, variant_shop
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


def settled(return_request: ReturnRequest) -> tuple:
    """What shipping a replacement changes."""
    fresh = ReturnRequest.objects.get(pk=return_request.pk)
    return (
        fresh.status,
        ReplacementShipment.objects.filter(return_request=fresh).count(),
        Refund.objects.filter(return_request=fresh).count(),
        list(OrderLine.objects.filter(order_id=fresh.order_id).order_by("pk").values_list("quantity_exchanged")),
        TicketEvent.objects.filter(ticket_id=fresh.ticket_id).count(),
    )


# --- the variants a line may be exchanged for ----------------------------------------------------


def test_every_line_gets_its_variants_in_one_query_with_exact_differences(django_assert_num_queries):
    # Given the jacket line, a second jacket line bought at a discount (3 × 100.00 less 10.00:
    # 96.666… a unit, paid to the cent as 96.67) and the socks
    shop = variant_shop()
    discounted = OrderLineFactory(
        order=shop.world.order,
        line_number="3",
        product=Product.objects.get(sku="JKT-L"),
        quantity=3,
        unit_price=Decimal("100.00"),
        discount_amount=Decimal("10.00"),
    )
    lines = list(
        OrderLine.objects.filter(pk__in=[shop.jacket.pk, shop.socks.pk, discounted.pk])
        .select_related("product", "order")
        .order_by("pk")
    )

    # When the variants are read
    with django_assert_num_queries(1):
        offered = exchange_variants_for(merchant=shop.world.merchant, lines=lines)

    # Then each line is offered the on-sale, priced variants of its group but itself, in their order
    def shown(line):
        return [(variant.product.sku, variant.difference_per_unit, variant.label) for variant in offered[line.pk]]

    assert shown(shop.jacket) == [
        ("JKT-S", Decimal("0.00"), "Size: S, Colour: black"),
        ("JKT-M-RED", Decimal("-15.00"), "Size: M, Colour: red"),
        ("JKT-L", Decimal("20.00"), "Size: L, Colour: black"),
    ]
    assert shown(discounted) == [
        ("JKT-S", Decimal("3.33"), "Size: S, Colour: black"),
        ("JKT-M-RED", Decimal("-11.67"), "Size: M, Colour: red"),
        (shop.jacket.sku, Decimal("3.33"), "Size: M, Colour: black"),
    ]
    assert shown(shop.socks) == []


def test_lines_without_a_variant_group_cost_no_query(django_assert_num_queries):
    shop = variant_shop()

    with django_assert_num_queries(0):
        offered = exchange_variants_for(merchant=shop.world.merchant, lines=[shop.socks])

    assert offered == {shop.socks.pk: []}


def test_an_order_paid_in_another_currency_is_offered_no_variant(django_assert_num_queries):
    shop = variant_shop()
    Order.objects.filter(pk=shop.world.order.pk).update(currency="USD")
    line = OrderLine.objects.select_related("product", "order").get(pk=shop.jacket.pk)

    with django_assert_num_queries(0):
        offered = exchange_variants_for(merchant=shop.world.merchant, lines=[line])

    assert offered == {line.pk: []}


# --- the wish, snapshotted when the return is created --------------------------------------------


def test_an_exchange_for_a_dearer_size_records_the_variant_its_price_and_what_is_owed():
    shop = variant_shop()

    return_request = exchange(shop, {shop.jacket: shop.large}, quantities=(2, 1))

    jacket_line, socks_line = return_request.lines.order_by("pk")
    assert (
        jacket_line.exchange_product,
        jacket_line.exchange_sku,
        jacket_line.exchange_unit_price,
        jacket_line.price_difference_per_unit,
        jacket_line.price_difference,
    ) == (shop.large, "JKT-L", Decimal("120.00"), Decimal("20.00"), Decimal("40.00"))
    assert (socks_line.exchange_product, socks_line.exchange_sku, socks_line.price_difference_per_unit) == (
        None,
        "",
        None,
    )
    assert return_request.exchange_difference_due == Decimal("40.00")
    assert return_request.exchange_difference_unpaid
    submitted = TicketEvent.objects.get(ticket=return_request.ticket, verb="return_submitted")
    assert submitted.data["exchange"] == {str(shop.jacket.pk): {"sku": "JKT-L", "difference_per_unit": "20.00"}}
    assert submitted.data["difference_due"] == "40.00"

    # and a later price change does not change what the customer was promised
    Product.objects.filter(pk=shop.large.pk).update(price="150.00")
    jacket_line.refresh_from_db()
    assert (jacket_line.exchange_unit_price, jacket_line.price_difference_per_unit) == (
        Decimal("120.00"),
        Decimal("20.00"),
    )


def test_an_exchange_for_a_cheaper_colour_owes_nothing_and_records_the_refund_to_come():
    shop = variant_shop()

    return_request = exchange(shop, {shop.jacket: shop.red})

    line = return_request.lines.get()
    assert (line.exchange_sku, line.price_difference_per_unit, line.price_difference) == (
        "JKT-M-RED",
        Decimal("-15.00"),
        Decimal("-30.00"),
    )
    assert return_request.exchange_difference_due == Decimal("0.00")
    assert not return_request.exchange_difference_unpaid


def test_an_exchange_without_a_variant_sends_the_same_item():
    shop = variant_shop()

    return_request = exchange(shop, {})

    line = return_request.lines.get()
    assert (line.exchange_product, line.exchange_sku, line.exchange_unit_price, line.price_difference_per_unit) == (
        None,
        "",
        None,
        None,
    )
    assert return_request.exchange_difference_due == Decimal("0.00")


@pytest.mark.parametrize(
    ("wish", "resolution", "code"),
    [
        ("sold_out", "exchange", "exchange_variant_not_on_sale"),
        ("no_price", "exchange", "exchange_variant_not_on_sale"),
        ("same", "exchange", "exchange_variant_same_product"),
        ("other_group", "exchange", "exchange_variant_not_a_variant"),
        ("other_merchant", "exchange", "exchange_variant_not_a_variant"),
        ("large", "refund", "exchange_variant_not_exchange"),
        ("large_for_socks_not_returned", "exchange", "line_not_in_return"),
    ],
)
def test_a_variant_that_cannot_be_sent_is_refused_and_nothing_is_written(wish, resolution, code):
    shop = variant_shop()
    other_group = ProductFactory(merchant=shop.world.merchant, variant_group="PANTS", price=Decimal("80.00"))
    wishes = {
        "sold_out": {shop.jacket: shop.sold_out},
        "no_price": {shop.jacket: Product.objects.get(sku="JKT-NOPRICE")},
        "same": {shop.jacket: shop.jacket.product},
        "other_group": {shop.jacket: other_group},
        "other_merchant": {shop.jacket: Product.objects.get(sku="JKT-XS")},
        "large": {shop.jacket: shop.large},
        "large_for_socks_not_returned": {shop.socks: shop.large},
    }[wish]
    before = nothing_written()

    with pytest.raises(InvalidInput) as refusal:
        exchange(shop, wishes, resolution=resolution)

    assert refusal.value.code == code
    assert refusal.value.extra["field"] == "exchange_products"
    assert nothing_written() == before


def test_socks_without_a_variant_group_cannot_be_exchanged_for_a_jacket():
    shop = variant_shop()
    before = nothing_written()

    with pytest.raises(InvalidInput) as refusal:
        exchange(shop, {shop.socks: shop.large}, quantities=(0, 1))

    assert refusal.value.code == "exchange_variant_not_a_variant"
    assert nothing_written() == before


# --- a dearer variant: paid before the replacement ships ------------------------------------------


def test_the_replacement_is_refused_until_the_difference_is_paid_then_ships_the_variant_asked_for():
    # Given a received exchange of 2 jackets for size L: 40.00 owed
    shop = variant_shop()
    world = shop.world
    return_request = received(shop, {shop.jacket: shop.large})
    before = settled(return_request)

    # When the warehouse ships before the customer paid, it is refused and nothing changes
    with pytest.raises(Conflict) as refusal:
        exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")
    assert refusal.value.code == "exchange_difference_unpaid"
    assert "40.00 CNY" in refusal.value.message
    assert settled(return_request) == before

    # When an agent confirms the payment
    confirmed = exchange_difference_confirm_paid(return_request=return_request, actor=world.agent, reference="PAY-7")

    # then it is recorded, on the public timeline, and the customer is told
    assert (confirmed.exchange_difference_reference, confirmed.exchange_difference_confirmed_by) == (
        "PAY-7",
        world.agent,
    )
    assert confirmed.exchange_difference_paid_at is not None
    event = TicketEvent.objects.get(ticket=return_request.ticket, verb="exchange_difference_paid")
    assert (event.is_public, event.data) == (True, {"amount": "40.00", "currency": "CNY", "reference": "PAY-7"})
    told = Notification.objects.filter(template="return_exchange_difference_paid").order_by("channel")
    assert [(row.channel, row.recipient, row.context["amount"]) for row in told] == [
        ("email", world.customer.email, "40.00"),
        ("sms", world.customer.phone, "40.00"),
    ]

    # and the replacement ships the size asked for, and the exchange completes with no refund
    shipments = exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")
    assert [(s.sku, s.product_id, s.quantity) for s in shipments] == [("JKT-L", shop.large.pk, 2)]
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.COMPLETED
    assert Refund.objects.count() == 0


def test_staff_may_still_send_another_sku_and_it_is_matched_to_the_merchants_product():
    shop = variant_shop()
    world = shop.world
    return_request = received(shop, {shop.jacket: shop.small})

    shipments = exchange_ship(
        return_request=return_request,
        actor=world.warehouse,
        lines=[(shop.jacket, 1, "JKT-M-RED")],
        carrier="SF",
        tracking_number="SF1",
    )
    more = exchange_ship(
        return_request=return_request,
        actor=world.warehouse,
        lines=[(shop.jacket, 1, "NOT-IN-CATALOGUE")],
        carrier="SF",
        tracking_number="SF2",
    )

    assert [(s.sku, s.product_id) for s in [*shipments, *more]] == [
        ("JKT-M-RED", shop.red.pk),
        ("NOT-IN-CATALOGUE", None),
    ]
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.COMPLETED


def test_only_staff_who_may_refund_confirm_a_payment_and_nothing_changes_otherwise():
    shop = variant_shop()
    world = shop.world
    return_request = received(shop, {shop.jacket: shop.large})
    events = TicketEvent.objects.count()

    with pytest.raises(PermissionRefused) as refused_role:
        exchange_difference_confirm_paid(return_request=return_request, actor=world.warehouse, reference="PAY-1")
    with pytest.raises(InvalidInput) as no_reference:
        exchange_difference_confirm_paid(return_request=return_request, actor=world.agent, reference="  ")
    stranger = make_world().agent
    with pytest.raises(PermissionRefused):
        exchange_difference_confirm_paid(return_request=return_request, actor=stranger, reference="PAY-1")

    assert (refused_role.value.code, no_reference.value.code) == ("role_cannot_confirm_payment", "reference_required")
    fresh = ReturnRequest.objects.get(pk=return_request.pk)
    assert (fresh.exchange_difference_paid_at, fresh.exchange_difference_reference) == (None, "")
    assert TicketEvent.objects.count() == events
    assert not Notification.objects.filter(template="return_exchange_difference_paid").exists()


def test_confirming_the_same_payment_again_changes_nothing_and_another_reference_is_refused():
    shop = variant_shop()
    world = shop.world
    return_request = drive(world, exchange(shop, {shop.jacket: shop.large}), "approved")
    first = exchange_difference_confirm_paid(return_request=return_request, actor=world.agent, reference="PAY-1")

    again = exchange_difference_confirm_paid(return_request=return_request, actor=world.supervisor, reference="PAY-1")
    with pytest.raises(Conflict) as refusal:
        exchange_difference_confirm_paid(return_request=return_request, actor=world.agent, reference="PAY-2")

    assert refusal.value.code == "already_confirmed"
    assert (again.exchange_difference_paid_at, again.exchange_difference_confirmed_by) == (
        first.exchange_difference_paid_at,
        world.agent,
    )
    assert TicketEvent.objects.filter(verb="exchange_difference_paid").count() == 1
    # once on each of the customer's channels (e-mail and SMS), not again
    assert Notification.objects.filter(template="return_exchange_difference_paid").count() == 2


def test_nothing_is_owed_on_a_cheaper_exchange_nor_taken_on_a_cancelled_one():
    shop = variant_shop()
    world = shop.world
    cheaper = exchange(shop, {shop.jacket: shop.red}, quantities=(1, 0))
    dearer = exchange(shop, {shop.jacket: shop.large}, quantities=(1, 0))
    return_request_cancel(return_request=dearer, customer=world.customer)

    with pytest.raises(Conflict) as nothing_owed:
        exchange_difference_confirm_paid(return_request=cheaper, actor=world.agent, reference="PAY-1")
    with pytest.raises(TransitionNotAllowed) as closed:
        exchange_difference_confirm_paid(return_request=dearer, actor=world.agent, reference="PAY-1")

    assert (nothing_owed.value.code, closed.value.code) == ("no_difference_due", "return_closed")
    assert not ReturnRequest.objects.filter(exchange_difference_paid_at__isnull=False).exists()


# --- a cheaper variant: refunded once its replacement ships --------------------------------------


def test_a_cheaper_variant_is_refunded_exactly_once_even_when_the_parcel_is_recorded_again():
    # Given a received exchange of 2 jackets for the red one, 15.00 cheaper each
    shop = variant_shop()
    world = shop.world
    return_request = received(shop, {shop.jacket: shop.red})

    # When the warehouse (which may not refund) ships the replacement
    shipments = exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")

    # then 30.00 is granted as a price adjustment (no units) and sent to the manual adapter
    refund = Refund.objects.get()
    assert (refund.amount, refund.shipping_amount, refund.granted_by, refund.state) == (
        Decimal("30.00"),
        Decimal("0.00"),
        None,
        RefundState.GRANTED,
    )
    assert list(RefundLine.objects.values_list("order_line_id", "quantity", "amount")) == [
        (shop.jacket.pk, 0, Decimal("30.00"))
    ]
    execution = RefundExecution.objects.get()
    assert (execution.refund, execution.state) == (refund, ExecutionState.PENDING)
    assert [(s.sku, s.product_id) for s in shipments] == [("JKT-M-RED", shop.red.pk)]
    shipped = TicketEvent.objects.get(ticket=return_request.ticket, verb="replacement_shipped")
    assert (shipped.data["difference_refund"], shipped.data["difference_refunded"]) == (refund.pk, "30.00")
    assert OrderLine.objects.get(pk=shop.jacket.pk).quantity_refunded == 0
    # the exchange waits for the payout
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.SETTLING

    # When the same parcel is recorded again
    replay = exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")

    # then nothing more is granted or paid
    assert [s.pk for s in replay] == [s.pk for s in shipments]
    assert (Refund.objects.count(), RefundExecution.objects.count(), ReplacementShipment.objects.count()) == (1, 1, 1)

    # and once staff confirm the payout the exchange is complete
    refund_confirm_manual(execution=execution, actor=world.agent, reference="BO-1")
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.COMPLETED


def test_a_cheaper_variant_shipped_in_two_parcels_is_refunded_per_parcel_and_never_beyond():
    shop = variant_shop()
    world = shop.world
    return_request = received(shop, {shop.jacket: shop.red})

    for tracking in ("SF1", "SF2"):
        exchange_ship(
            return_request=return_request,
            actor=world.warehouse,
            lines=[(shop.jacket, 1, "")],
            carrier="SF",
            tracking_number=tracking,
        )

    assert sorted(Refund.objects.values_list("amount", flat=True)) == [Decimal("15.00"), Decimal("15.00")]
    assert RefundLine.objects.aggregate(total=Sum("amount"))["total"] == Decimal("30.00")
    with pytest.raises(Conflict) as refusal:
        exchange_ship(
            return_request=return_request,
            actor=world.warehouse,
            lines=[(shop.jacket, 1, "")],
            carrier="SF",
            tracking_number="SF3",
        )
    assert refusal.value.code == "units_exceed_return"
    assert Refund.objects.count() == 2


def test_the_difference_refund_never_refunds_the_orders_shipping():
    # Given an order with shipping, returned for the merchant's fault (which refunds shipping)
    shop = variant_shop()
    world = shop.world
    Order.objects.filter(pk=world.order.pk).update(shipping_amount=Decimal("12.00"))
    world.reason.responsibility = "merchant"
    world.reason.save()
    return_request = received(shop, {shop.jacket: shop.red}, quantities=(1, 0))

    exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")

    assert list(Refund.objects.values_list("amount", "shipping_amount")) == [(Decimal("15.00"), Decimal("0.00"))]


def test_another_shops_products_in_a_group_of_the_same_name_are_never_offered():
    # Given another merchant whose jacket is in a group also named "JKT", with its own size L
    shop = variant_shop()
    other = make_world()
    Product.objects.filter(pk=other.lines[0].product_id).update(variant_group="JKT", price="100.00")
    ProductFactory(merchant=other.merchant, sku="OTHER-JKT-L", variant_group="JKT", price=Decimal("110.00"))
    line = OrderLine.objects.select_related("product", "order").get(pk=other.lines[0].pk)

    # When its line's variants are read
    offered = exchange_variants_for(merchant=other.merchant, lines=[line])

    # then only its own product is offered, none of the first shop's
    assert [(variant.product.sku, variant.difference_per_unit) for variant in offered[line.pk]] == [
        ("OTHER-JKT-L", Decimal("10.00"))
    ]
    assert shop.large.merchant_id != other.merchant.pk


def test_the_difference_is_not_taken_before_the_shop_approves_the_exchange():
    shop = variant_shop()
    world = shop.world
    return_request = exchange(shop, {shop.jacket: shop.large})

    with pytest.raises(TransitionNotAllowed):
        exchange_difference_confirm_paid(return_request=return_request, actor=world.agent, reference="PAY-1")

    fresh = ReturnRequest.objects.get(pk=return_request.pk)
    assert (fresh.exchange_difference_paid_at, fresh.exchange_difference_reference) == (None, "")
    assert not TicketEvent.objects.filter(verb="exchange_difference_paid").exists()


@pytest.mark.parametrize("who", ["customer", "staff"])
def test_an_exchange_whose_difference_is_paid_cannot_be_cancelled_and_nothing_changes(who):
    shop = variant_shop()
    world = shop.world
    return_request = drive(world, exchange(shop, {shop.jacket: shop.large}), "approved")
    exchange_difference_confirm_paid(return_request=return_request, actor=world.agent, reference="PAY-1")
    party = {"customer": world.customer} if who == "customer" else {"actor": world.agent}

    with pytest.raises(TransitionNotAllowed) as refusal:
        return_request_cancel(return_request=return_request, **party)

    assert refusal.value.code == "difference_paid"
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.APPROVED
    assert OrderLine.objects.get(pk=shop.jacket.pk).quantity_requested == 2
    assert not TicketEvent.objects.filter(verb="return_cancelled").exists()


def test_voiding_the_cheaper_variants_pending_refund_completes_the_exchange():
    # Given an exchange for the cheaper red jacket, shipped, its 30.00 difference waiting on a payout
    shop = variant_shop()
    world = shop.world
    return_request = received(shop, {shop.jacket: shop.red})
    exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")
    refund = Refund.objects.get()

    # When a supervisor voids that refund (the shop refunded it another way)
    refund_void(refund=refund, actor=world.supervisor, reason="Paid back in cash at the store")

    # Then nothing else is left to settle: the exchange completes instead of waiting for ever
    assert Refund.objects.get().state == RefundState.VOIDED
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.COMPLETED
    # and recording the parcel again pays nothing
    exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")
    assert exchange_difference_refund_pay(shipments=list(ReplacementShipment.objects.all())) is None
    assert RefundExecution.objects.filter(refund=refund).count() == 1
