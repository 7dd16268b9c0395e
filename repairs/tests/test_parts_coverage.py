"""A part fitted from the van is paid as the repair's warranty says: warranty where the coverage
holds; after a diagnosis voids it, only the part the customer's approved quote lists, and fitting
it adds no second line."""

from decimal import Decimal

import pytest

from aftersales.exceptions import TransitionNotAllowed
from repairs.models import PartStock, QuoteStatus, RepairLine, RepairQuote, RepairStatus, StockMovement
from repairs.selectors import customer_pays, customer_total
from repairs.services import part_reservation_consume, part_reserve, part_use
from repairs.tests.factories import PartStockFactory, RepairOrderFactory
from tickets.models import TicketEvent

COVERED = {"coverages": [{"kind": "parts", "component": "", "covered": True}]}
VOIDED = {**COVERED, "voided_by_diagnosis": "DMG"}


@pytest.fixture
def stock(world):
    return PartStockFactory(
        merchant=world.merchant, on_hand=2, part__price=Decimal("60.00"), part__cost=Decimal("30.00")
    )


def _quote(repair, part, status, quantity=Decimal("1")):
    quote = RepairQuote.objects.create(
        merchant=repair.merchant,
        repair_order=repair,
        status=status,
        tax_rate=Decimal("0.1300"),
        subtotal=Decimal("60.00") * quantity,
        tax_amount=Decimal("7.80") * quantity,
        total=Decimal("67.80") * quantity,
        valid_until=repair.requested_at,
    )
    return RepairLine.objects.create(
        merchant=repair.merchant,
        repair_order=repair,
        quote=quote,
        kind="part",
        part=part,
        description=str(part),
        quantity=quantity,
        unit_price=Decimal("60.00"),
        unit_cost=Decimal("30.00"),
        coverage="customer",
    )


def test_a_covered_part_is_a_warranty_line(world, stock):
    repair = RepairOrderFactory(merchant=world.merchant, status=RepairStatus.DIAGNOSING, eligibility=COVERED)

    line = part_use(repair_order=repair, stock=stock, quantity=1, actor=world.technician)

    assert (line.coverage, line.unit_price, line.unit_cost) == ("warranty", Decimal("60.00"), Decimal("30.00"))
    assert PartStock.objects.get(pk=stock.pk).on_hand == 1
    movement = StockMovement.objects.get(stock=stock)
    assert (movement.kind, movement.quantity, movement.on_hand_after, movement.note) == (
        "used",
        -1,
        1,
        repair.ticket.number,
    )


@pytest.mark.parametrize("quote_status", [None, QuoteStatus.SENT, QuoteStatus.DECLINED])
def test_a_part_the_voided_warranty_does_not_pay_without_an_approved_quote_is_refused_and_nothing_changes(
    world, stock, quote_status
):
    repair = RepairOrderFactory(merchant=world.merchant, status=RepairStatus.IN_REPAIR, eligibility=VOIDED)
    if quote_status:
        _quote(repair, stock.part, quote_status)
    events = TicketEvent.objects.filter(ticket=repair.ticket).count()
    lines = RepairLine.objects.filter(repair_order=repair).count()

    with pytest.raises(TransitionNotAllowed) as refused:
        part_use(repair_order=repair, stock=stock, quantity=1, actor=world.technician)

    assert refused.value.code == "part_not_covered"
    assert PartStock.objects.get(pk=stock.pk).on_hand == 2
    assert RepairLine.objects.filter(repair_order=repair).count() == lines
    assert TicketEvent.objects.filter(ticket=repair.ticket).count() == events
    assert StockMovement.objects.count() == 0


def test_the_part_an_approved_quote_lists_is_fitted_on_that_quotes_line(world, stock):
    repair = RepairOrderFactory(merchant=world.merchant, status=RepairStatus.IN_REPAIR, eligibility=VOIDED)
    quoted = _quote(repair, stock.part, QuoteStatus.APPROVED)

    line = part_use(repair_order=repair, stock=stock, quantity=1, actor=world.technician)

    assert line.pk == quoted.pk
    assert list(RepairLine.objects.filter(repair_order=repair).values_list("pk", flat=True)) == [quoted.pk]
    assert PartStock.objects.get(pk=stock.pk).on_hand == 1
    event = TicketEvent.objects.filter(ticket=repair.ticket).order_by("-pk").first()
    assert (event.verb, event.data["coverage"], event.data["quantity"]) == ("repair_parts_used", "customer", 1)
    assert customer_total(repair) == Decimal("60.00")
    assert customer_pays(repair) == Decimal("67.80")


def test_more_than_the_quote_lists_is_refused(world, stock):
    repair = RepairOrderFactory(merchant=world.merchant, status=RepairStatus.IN_REPAIR, eligibility=VOIDED)
    _quote(repair, stock.part, QuoteStatus.APPROVED)

    with pytest.raises(TransitionNotAllowed):
        part_use(repair_order=repair, stock=stock, quantity=2, actor=world.technician)

    assert PartStock.objects.get(pk=stock.pk).on_hand == 2


def test_a_waiting_quote_counts_nothing_towards_what_the_customer_pays(world, stock):
    repair = RepairOrderFactory(merchant=world.merchant, status=RepairStatus.QUOTED, eligibility=VOIDED)
    _quote(repair, stock.part, QuoteStatus.SENT)

    assert (customer_total(repair), customer_pays(repair)) == (Decimal("60.00"), Decimal("0.00"))


def test_reserved_parts_the_voided_warranty_does_not_pay_are_refused_without_a_quote_and_nothing_moves(world, stock):
    # Given parts reserved for a repair whose warranty a diagnosis voided, and no approved quote
    repair = RepairOrderFactory(merchant=world.merchant, status=RepairStatus.IN_REPAIR, eligibility=VOIDED)
    reservation = part_reserve(repair_order=repair, stock=stock, quantity=1, actor=world.technician)
    events = TicketEvent.objects.filter(ticket=repair.ticket).count()

    # When the technician says they were fitted, as warranty (the default)
    with pytest.raises(TransitionNotAllowed) as refused:
        part_reservation_consume(reservation=reservation, actor=world.technician)

    # Then it is refused and the stock, the reservation, the lines and the timeline are as they were
    assert refused.value.code == "part_not_covered"
    stock.refresh_from_db()
    reservation.refresh_from_db()
    assert (stock.on_hand, stock.reserved, reservation.state) == (2, 1, "reserved")
    assert RepairLine.objects.filter(repair_order=repair).count() == 0
    assert TicketEvent.objects.filter(ticket=repair.ticket).count() == events
    assert not StockMovement.objects.filter(kind="used").exists()


def test_reserved_parts_an_approved_quote_lists_are_consumed_onto_that_quotes_line(world, stock):
    repair = RepairOrderFactory(merchant=world.merchant, status=RepairStatus.IN_REPAIR, eligibility=VOIDED)
    quoted = _quote(repair, stock.part, QuoteStatus.APPROVED)
    reservation = part_reserve(repair_order=repair, stock=stock, quantity=1, actor=world.technician)

    line = part_reservation_consume(reservation=reservation, actor=world.technician)

    stock.refresh_from_db()
    assert line.pk == quoted.pk
    assert list(RepairLine.objects.filter(repair_order=repair).values_list("pk", flat=True)) == [quoted.pk]
    assert (stock.on_hand, stock.reserved) == (1, 0)
    assert customer_pays(repair) == Decimal("67.80")
