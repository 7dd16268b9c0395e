"""Parts stock under its CHECK constraints: reserved, used, put back; two technicians taking the
last part get one part and one clear refusal."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from aftersales.exceptions import Conflict
from repairs.models import LocationKind, PartStock, RepairLine, RepairStatus, ReservationState
from repairs.services import (
    part_reservation_release,
    part_reserve,
    part_stock_receive,
    part_use,
)
from repairs.tests.builders import build_world, race
from repairs.tests.factories import PartFactory, PartStockFactory, RepairOrderFactory, StockLocationFactory


@pytest.mark.django_db
def test_the_database_refuses_negative_stock_and_more_reserved_than_on_hand():
    stock = PartStockFactory(on_hand=1, reserved=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        PartStock.objects.filter(pk=stock.pk).update(on_hand=F("on_hand") - 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        PartStock.objects.filter(pk=stock.pk).update(reserved=2)

    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (1, 1)


def test_a_van_holds_parts_for_its_driver_and_receiving_adds_to_its_stock(world):
    van = StockLocationFactory(merchant=world.merchant, name="Van 1", kind=LocationKind.VAN, holder=world.technician)
    part = PartFactory(merchant=world.merchant)

    part_stock_receive(location=van, part=part, quantity=4, actor=world.technician)
    stock = part_stock_receive(location=van, part=part, quantity=2, actor=world.technician)

    assert (stock.on_hand, stock.reserved) == (6, 0)


def test_reserved_parts_nobody_else_can_take_and_unused_ones_go_back(world):
    stock = PartStockFactory(merchant=world.merchant, on_hand=2)
    first = RepairOrderFactory(merchant=world.merchant, status=RepairStatus.DIAGNOSING)
    second = RepairOrderFactory(merchant=world.merchant, status=RepairStatus.DIAGNOSING)
    reservation = part_reserve(repair_order=first, stock=stock, quantity=2, actor=world.technician)

    with pytest.raises(Conflict) as refused:
        part_reserve(repair_order=second, stock=stock, quantity=1, actor=world.technician)
    part_reservation_release(reservation=reservation, actor=world.technician)
    part_reserve(repair_order=second, stock=stock, quantity=1, actor=world.technician)

    assert refused.value.code == "out_of_stock"
    assert refused.value.extra == {"available": 0}
    reservation.refresh_from_db()
    assert reservation.state == ReservationState.RELEASED
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (2, 1)


def test_a_part_used_from_the_van_becomes_a_line_at_its_price_and_cost(world):
    stock = PartStockFactory(
        merchant=world.merchant, on_hand=1, part__price=Decimal("8.00"), part__cost=Decimal("3.00")
    )
    repair = RepairOrderFactory(merchant=world.merchant, status=RepairStatus.ON_SITE)

    line = part_use(repair_order=repair, stock=stock, quantity=1, actor=world.technician)

    assert (line.kind, line.unit_price, line.unit_cost, line.coverage) == (
        "part",
        Decimal("8.00"),
        Decimal("3.00"),
        "warranty",
    )
    stock.refresh_from_db()
    assert stock.on_hand == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("races")
def test_two_technicians_taking_the_last_part_get_one_part_and_one_refusal():
    world = build_world(slug="race-parts")
    stock = PartStockFactory(merchant=world.merchant, on_hand=1)
    repairs = [RepairOrderFactory(merchant=world.merchant, status=RepairStatus.ON_SITE) for _ in range(2)]
    attempts = iter(repairs)
    lock = threading.Lock()

    def take():
        with lock:
            repair = next(attempts)
        part_use(repair_order=repair, stock=stock, quantity=1, actor=world.technician)

    outcomes = race(2, take)

    assert outcomes == ["ok", "out_of_stock"]
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (0, 0)
    assert RepairLine.objects.filter(part=stock.part).count() == 1
