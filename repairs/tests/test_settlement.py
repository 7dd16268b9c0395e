"""Unrepairable, or 三包's repeat rule: replaced or refunded through the returns ledgers, with the
order line's counters to show it — never a money path of repairs' own."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftersales.exceptions import TransitionNotAllowed
from aftersales.models import OrderLine
from repairs.models import RegistrationStatus, RepairOrder, RepairStatus, WarrantyRegistration
from repairs.services import (
    repair_device_receive,
    repair_diagnose,
    repair_diagnosis_start,
    repair_settle,
    repair_triage,
)
from repairs.tests.builders import request_repair
from repairs.tests.factories import DiagnosisCodeFactory
from returns.models import Refund, ReplacementShipment, ReturnRequest
from tickets.models import TicketStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTHS_ON = datetime(2026, 8, 10, 10, 0, tzinfo=SHANGHAI)


def _diagnosed(world):
    repair = request_repair(world)
    repair_triage(repair_order=repair, actor=world.agent)
    repair_device_receive(repair_order=repair, actor=world.technician)
    repair_diagnosis_start(repair_order=repair, actor=world.technician)
    repair_diagnose(repair_order=repair, actor=world.technician, code=DiagnosisCodeFactory(merchant=world.merchant))
    return repair


def _counters(line) -> dict[str, int]:
    line = OrderLine.objects.get(pk=line.pk)
    return {name: getattr(line, name) for name in OrderLine.COUNTERS}


def test_an_unrepairable_unit_is_refunded_through_a_return_on_the_same_order_line(world):
    with time_machine.travel(MONTHS_ON, tick=False):
        repair = _diagnosed(world)

        repair = repair_settle(repair_order=repair, actor=world.supervisor, remedy="return", unrepairable=True)

    assert repair.status == RepairStatus.REFUNDED
    assert repair.ticket.status == TicketStatus.RESOLVED
    return_request = ReturnRequest.objects.get(pk=repair.settlement_return_id)
    assert return_request.lines.get().order_line_id == world.line.pk
    refund = Refund.objects.get(return_request=return_request)
    assert refund.amount == Decimal("899.00")
    assert _counters(world.line) == {
        "quantity_requested": 1,
        "quantity_received": 1,
        "quantity_accepted": 0,
        "quantity_refunded": 1,
        "quantity_exchanged": 0,
        "quantity_written_off": 0,
    }


def test_an_unrepairable_unit_is_exchanged_and_the_replacement_serial_carries_the_warranty(world):
    with time_machine.travel(MONTHS_ON, tick=False):
        repair = _diagnosed(world)

        repair = repair_settle(
            repair_order=repair,
            actor=world.supervisor,
            remedy="exchange",
            unrepairable=True,
            carrier="SF",
            tracking_number="SF998877",
            new_serial_number="TAP-0500",
        )

    assert repair.status == RepairStatus.REPLACED
    shipment = ReplacementShipment.objects.get(return_request_id=repair.settlement_return_id)
    assert (shipment.quantity, shipment.tracking_number) == (1, "SF998877")
    counters = _counters(world.line)
    assert (counters["quantity_exchanged"], counters["quantity_refunded"]) == (1, 0)
    old = WarrantyRegistration.objects.get(pk=world.registration.pk)
    assert old.status == RegistrationStatus.REPLACED
    assert old.replaced_by.serial_number == "TAP-0500"
    assert old.replaced_by.coverage_starts_at == world.order.delivered_at


def test_a_repairable_unit_past_the_floor_is_not_refunded_and_nothing_changes(world):
    with time_machine.travel(MONTHS_ON, tick=False):
        repair = _diagnosed(world)

        with pytest.raises(TransitionNotAllowed) as refused:
            repair_settle(repair_order=repair, actor=world.supervisor, remedy="return")

    assert refused.value.code == "remedy_not_owed"
    assert RepairOrder.objects.get(pk=repair.pk).status == RepairStatus.DIAGNOSING
    assert not ReturnRequest.objects.filter(merchant=world.merchant).exists()
    assert _counters(world.line)["quantity_requested"] == 0


def test_within_seven_days_the_floor_lets_the_customer_have_their_money_back(world):
    with time_machine.travel(datetime(2026, 3, 15, 10, 0, tzinfo=SHANGHAI), tick=False):
        repair = _diagnosed(world)

        repair = repair_settle(repair_order=repair, actor=world.agent, remedy="return")

    assert repair.status == RepairStatus.REFUNDED
    assert _counters(world.line)["quantity_refunded"] == 1
