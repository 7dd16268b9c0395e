"""Repairs from request to close through the services: who pays each line, the ticket moving with
the repair, quotes approved, declined and expired by the real sweep, the repeat-visit guarantee."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftersales.exceptions import PermissionRefused, TransitionNotAllowed
from aftersales.models import Deadline, Notification
from aftersales.services.deadlines import deadlines_sweep
from repairs.models import (
    LineCoverage,
    QuoteStatus,
    RepairLine,
    RepairMode,
    RepairOrder,
    RepairStatus,
    ReservationState,
)
from repairs.selectors import customer_total, warranty_cost
from repairs.services import (
    LineInput,
    part_reservation_consume,
    part_reserve,
    repair_cancel,
    repair_collected,
    repair_confirm,
    repair_device_receive,
    repair_diagnose,
    repair_diagnosis_start,
    repair_line_add,
    repair_qc,
    repair_quote_approve,
    repair_quote_decline,
    repair_quote_send,
    repair_ship_back,
    repair_start,
    repair_triage,
)
from repairs.tests.builders import request_repair
from repairs.tests.factories import DiagnosisCodeFactory, PartStockFactory, ServiceCentreFactory
from tickets.models import TicketEvent, TicketStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A month after delivery: past 三包's 15 days, parts and labour in warranty.
A_MONTH_ON = datetime(2026, 4, 10, 10, 0, tzinfo=SHANGHAI)
# Ten months on: parts in warranty, labour (6 months) not.
TEN_MONTHS_ON = datetime(2027, 1, 10, 10, 0, tzinfo=SHANGHAI)
# Two years on: only the cartridge (60 months) is covered.
TWO_YEARS_ON = datetime(2028, 3, 20, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def month_on():
    with time_machine.travel(A_MONTH_ON, tick=False) as traveller:
        yield traveller


def _status(repair) -> str:
    return RepairOrder.objects.get(pk=repair.pk).status


def _ticket_status(repair) -> str:
    return RepairOrder.objects.get(pk=repair.pk).ticket.status


def _verbs(repair) -> list[str]:
    return list(TicketEvent.objects.filter(ticket_id=repair.ticket_id).order_by("pk").values_list("verb", flat=True))


def _work_to_diagnosis(world, repair, code=None):
    repair_device_receive(repair_order=repair, actor=world.technician)
    repair_diagnosis_start(repair_order=repair, actor=world.technician)
    repair_diagnose(
        repair_order=repair, actor=world.technician, code=code or DiagnosisCodeFactory(merchant=world.merchant)
    )


@pytest.mark.usefixtures("month_on")
def test_a_mail_in_repair_in_warranty_runs_from_request_to_close_free_of_charge(world):
    stock = PartStockFactory(
        merchant=world.merchant, on_hand=3, part__cost=Decimal("3.00"), part__price=Decimal("8.00")
    )
    repair = request_repair(world)
    assert _status(repair) == RepairStatus.REQUESTED
    assert _ticket_status(repair) == TicketStatus.NEW

    repair_triage(repair_order=repair, actor=world.agent)
    assert _status(repair) == RepairStatus.AWAITING_DEVICE
    assert _ticket_status(repair) == TicketStatus.WAITING_CUSTOMER

    _work_to_diagnosis(world, repair)
    reservation = part_reserve(repair_order=repair, stock=stock, quantity=1, actor=world.technician)
    part_reservation_consume(reservation=reservation, actor=world.technician)
    repair_line_add(
        repair_order=repair,
        actor=world.technician,
        kind="labour",
        description="Refit the washer",
        unit_price=Decimal("60.00"),
        coverage=LineCoverage.WARRANTY,
    )
    repair_start(repair_order=repair, actor=world.technician)
    repair_qc(repair_order=repair, actor=world.technician, passed=False, note="Still drips")
    assert _status(repair) == RepairStatus.IN_REPAIR
    repair_qc(repair_order=repair, actor=world.technician, passed=True)
    assert _status(repair) == RepairStatus.READY
    repair_ship_back(repair_order=repair, actor=world.technician, carrier="SF", tracking_number="SF123456")
    assert _ticket_status(repair) == TicketStatus.RESOLVED
    repair_confirm(repair_order=repair, customer=world.customer)

    repair = RepairOrder.objects.get(pk=repair.pk)
    assert repair.status == RepairStatus.CLOSED
    assert repair.ticket.status == TicketStatus.CLOSED
    assert repair.qc_failures == 1
    assert repair.return_tracking_number == "SF123456"
    assert warranty_cost(repair) == Decimal("63.00")  # the washer at cost 3.00 + labour 60.00
    assert customer_total(repair) == Decimal("0.00")
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (2, 0)
    assert _verbs(repair).count("repair_qc_failed") == 1
    assert "repair_confirmed" in _verbs(repair)
    assert Deadline.objects.get(ticket_id=repair.ticket_id, kind="repair.auto_close").state == Deadline.State.MET


def test_labour_out_of_warranty_cannot_go_on_the_warranty_while_parts_still_can(world):
    # 三包 would make the whole repair free within the warranty period: not a marked category here.
    world.policy.sanbao_categories = []
    world.policy.save()
    stock = PartStockFactory(merchant=world.merchant, on_hand=1)
    with time_machine.travel(TEN_MONTHS_ON, tick=False):
        repair = request_repair(world)
        repair_triage(
            repair_order=repair, actor=world.supervisor, outcome=RepairStatus.GOODWILL, goodwill_amount=Decimal("60")
        )
        _work_to_diagnosis(world, repair)

        with pytest.raises(TransitionNotAllowed) as refused:
            repair_line_add(
                repair_order=repair,
                actor=world.technician,
                kind="labour",
                description="Labour",
                unit_price=Decimal("60.00"),
                coverage=LineCoverage.WARRANTY,
            )
        part_line = part_reservation_consume(
            reservation=part_reserve(repair_order=repair, stock=stock, quantity=1, actor=world.technician),
            actor=world.technician,
        )
        goodwill = repair_line_add(
            repair_order=repair,
            actor=world.technician,
            kind="labour",
            description="Labour",
            unit_price=Decimal("60.00"),
            coverage=LineCoverage.GOODWILL,
        )

    assert refused.value.code == "not_covered"
    assert part_line.coverage == LineCoverage.WARRANTY
    assert goodwill.coverage == LineCoverage.GOODWILL
    assert RepairLine.objects.filter(repair_order=repair).count() == 2


def test_an_agent_cannot_grant_goodwill_above_their_limit_and_nothing_changes(world):
    with time_machine.travel(TWO_YEARS_ON, tick=False):
        repair = request_repair(world)

        with pytest.raises(PermissionRefused) as refused:
            repair_triage(
                repair_order=repair, actor=world.agent, outcome=RepairStatus.GOODWILL, goodwill_amount=Decimal("100.01")
            )

    assert refused.value.code == "goodwill_over_limit"
    assert _status(repair) == RepairStatus.REQUESTED
    assert _verbs(repair) == ["created", "repair_requested"]


def _quoted(world, instant=TWO_YEARS_ON):
    with time_machine.travel(instant, tick=False):
        repair = request_repair(world)
        repair_triage(repair_order=repair, actor=world.agent)
        assert _status(repair) == RepairStatus.OUT_OF_WARRANTY
        quote = repair_quote_send(
            repair_order=repair,
            actor=world.agent,
            lines=[
                LineInput(kind="labour", description="Replace the valve", unit_price=Decimal("120.00")),
                LineInput(kind="travel", description="Courier both ways", unit_price=Decimal("30.00")),
            ],
        )
    return repair, quote


def test_a_quote_adds_tax_and_waits_for_the_customer_who_approves_it(world):
    repair, quote = _quoted(world)
    assert (quote.subtotal, quote.tax_amount, quote.total) == (Decimal("150.00"), Decimal("19.50"), Decimal("169.50"))
    assert _ticket_status(repair) == TicketStatus.WAITING_CUSTOMER

    with time_machine.travel(TWO_YEARS_ON + timedelta(days=1), tick=False):
        repair_quote_approve(repair_order=repair, customer=world.customer)

    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    assert _status(repair) == RepairStatus.AWAITING_DEVICE
    assert customer_total(RepairOrder.objects.get(pk=repair.pk)) == Decimal("150.00")
    assert Deadline.objects.get(ticket_id=repair.ticket_id, kind="repair.quote_expiry").state == Deadline.State.MET


def test_another_customer_cannot_approve_the_quote(world):
    from aftersales.tests.factories import CustomerFactory

    repair, quote = _quoted(world)
    with pytest.raises(PermissionRefused):
        repair_quote_approve(repair_order=repair, customer=CustomerFactory(merchant=world.merchant))

    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert _status(repair) == RepairStatus.QUOTED


def test_a_quote_left_unanswered_expires_at_its_validity_through_the_real_sweep(world):
    repair, quote = _quoted(world)
    due = quote.valid_until
    assert due == TWO_YEARS_ON + timedelta(days=7)

    with time_machine.travel(due - timedelta(seconds=1), tick=False):
        quiet = deadlines_sweep()
    with time_machine.travel(due, tick=False):
        fired = deadlines_sweep()

    assert quiet.handled == 0
    assert fired.handled == 1
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.EXPIRED
    # The device never came in: nothing to send back, the repair closes.
    assert _status(repair) == RepairStatus.CLOSED
    assert _ticket_status(repair) == TicketStatus.CLOSED
    assert "repair_quote_expired" in _verbs(repair)


def test_a_quote_declined_with_the_device_in_hand_sends_it_back_unrepaired_with_the_inspection_fee(world):
    damage = DiagnosisCodeFactory(merchant=world.merchant, code="LIQ", responsibility="customer", voids_warranty=True)
    with time_machine.travel(A_MONTH_ON, tick=False):
        repair = request_repair(world)
        repair_triage(repair_order=repair, actor=world.agent)
        _work_to_diagnosis(world, repair, code=damage)
        repair_quote_send(
            repair_order=repair,
            actor=world.agent,
            lines=[LineInput(kind="labour", description="New body", unit_price=Decimal("300.00"))],
        )
        repair_quote_decline(repair_order=repair, customer=world.customer, reason="Too dear")

    repair = RepairOrder.objects.get(pk=repair.pk)
    assert repair.status == RepairStatus.READY
    fee = RepairLine.objects.get(repair_order=repair, kind="fee")
    assert (fee.unit_price, fee.coverage) == (Decimal("50.00"), LineCoverage.CUSTOMER)


def test_a_quote_approved_after_diagnosis_goes_straight_to_the_repair(world):
    damage = DiagnosisCodeFactory(merchant=world.merchant, code="DROP", responsibility="customer", voids_warranty=True)
    with time_machine.travel(A_MONTH_ON, tick=False):
        repair = request_repair(world)
        repair_triage(repair_order=repair, actor=world.agent)
        _work_to_diagnosis(world, repair, code=damage)
        repair_quote_send(
            repair_order=repair,
            actor=world.agent,
            lines=[LineInput(kind="labour", description="New body", unit_price=Decimal("300.00"))],
        )
        repair_quote_approve(repair_order=repair, customer=world.customer)

    assert _status(repair) == RepairStatus.IN_REPAIR


def test_the_same_serial_back_within_the_revisit_window_opens_as_a_free_repeat_flagged_on_both(world):
    centre = ServiceCentreFactory(merchant=world.merchant)
    with time_machine.travel(TWO_YEARS_ON, tick=False) as traveller:
        first = request_repair(world, mode=RepairMode.SERVICE_CENTRE, service_centre=centre)
        repair_triage(
            repair_order=first, actor=world.supervisor, outcome=RepairStatus.GOODWILL, goodwill_amount=Decimal("0")
        )
        _work_to_diagnosis(world, first)
        repair_start(repair_order=first, actor=world.technician)
        repair_qc(repair_order=first, actor=world.technician, passed=True)
        repair_collected(repair_order=first, actor=world.technician)
        traveller.shift(timedelta(days=6, hours=23))

        second = request_repair(world, mode=RepairMode.SERVICE_CENTRE, service_centre=centre)
        repair_triage(repair_order=second, actor=world.agent)

    first.refresh_from_db()
    second.refresh_from_db()
    assert second.repeat_of == first
    assert first.has_repeat is True
    assert second.status == RepairStatus.AWAITING_DEVICE  # free: in warranty as a repeat
    assert second.eligibility["free_as_repeat"] is True
    assert "repair_repeat_flagged" in _verbs(first)


def test_the_same_serial_back_after_the_window_is_a_new_repair(world):
    centre = ServiceCentreFactory(merchant=world.merchant)
    with time_machine.travel(TWO_YEARS_ON, tick=False) as traveller:
        first = request_repair(world, mode=RepairMode.SERVICE_CENTRE, service_centre=centre)
        repair_triage(
            repair_order=first, actor=world.supervisor, outcome=RepairStatus.GOODWILL, goodwill_amount=Decimal("0")
        )
        _work_to_diagnosis(world, first)
        repair_start(repair_order=first, actor=world.technician)
        repair_qc(repair_order=first, actor=world.technician, passed=True)
        repair_collected(repair_order=first, actor=world.technician)
        traveller.shift(timedelta(days=7, seconds=1))

        second = request_repair(world, mode=RepairMode.SERVICE_CENTRE, service_centre=centre)

    assert second.repeat_of is None
    first.refresh_from_db()
    assert first.has_repeat is False


def test_two_failed_repairs_of_the_same_fault_in_warranty_bring_the_exchange_or_return_floor(world):
    code = DiagnosisCodeFactory(merchant=world.merchant, code="LEAK")
    with time_machine.travel(A_MONTH_ON, tick=False) as traveller:
        for _attempt in range(2):
            repair = request_repair(world)
            repair_triage(repair_order=repair, actor=world.agent)
            _work_to_diagnosis(world, repair, code=code)
            repair_start(repair_order=repair, actor=world.technician)
            repair_qc(repair_order=repair, actor=world.technician, passed=True)
            repair_ship_back(repair_order=repair, actor=world.technician, carrier="SF", tracking_number="SF1")
            repair_confirm(repair_order=repair, customer=world.customer)
            traveller.shift(timedelta(days=20))
        third = request_repair(world, remedy="exchange")
        repair_triage(repair_order=third, actor=world.agent)
        _work_to_diagnosis(world, third, code=code)

        with pytest.raises(TransitionNotAllowed) as refused:
            repair_start(repair_order=third, actor=world.technician)

    third.refresh_from_db()
    assert RepairOrder.objects.filter(serial_number=third.serial_number, repair_failed=True).count() == 2
    assert third.legal_floor["rule"] == "repeat_failure"
    assert third.legal_floor["remedies"] == ["exchange", "return"]
    assert refused.value.code == "legal_floor_remedy"


def test_cancelling_puts_reserved_parts_back_and_stops_the_clocks(world, month_on):
    stock = PartStockFactory(merchant=world.merchant, on_hand=2)
    repair = request_repair(world)
    repair_triage(repair_order=repair, actor=world.agent)
    repair_device_receive(repair_order=repair, actor=world.technician)
    reservation = part_reserve(repair_order=repair, stock=stock, quantity=2, actor=world.technician)

    repair_cancel(repair_order=repair, customer=world.customer, reason="Bought a new one")

    stock.refresh_from_db()
    reservation.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (2, 0)
    assert reservation.state == ReservationState.RELEASED
    assert _status(repair) == RepairStatus.CANCELLED
    assert _ticket_status(repair) == TicketStatus.CANCELLED


def test_a_repair_in_repair_cannot_be_cancelled_and_nothing_changes(world, month_on):
    repair = request_repair(world)
    repair_triage(repair_order=repair, actor=world.agent)
    _work_to_diagnosis(world, repair)
    repair_start(repair_order=repair, actor=world.technician)
    events = _verbs(repair)

    with pytest.raises(TransitionNotAllowed):
        repair_cancel(repair_order=repair, customer=world.customer)

    assert _status(repair) == RepairStatus.IN_REPAIR
    assert _verbs(repair) == events


def test_the_customer_is_told_at_each_step_on_their_channels(world, month_on):
    repair = request_repair(world)
    repair_triage(repair_order=repair, actor=world.agent)

    templates = list(
        Notification.objects.filter(ticket_id=repair.ticket_id, recipient=world.customer.email)
        .order_by("pk")
        .values_list("template", flat=True)
    )
    assert templates == ["ticket_created", "repair_requested", "repair_send_device"]
