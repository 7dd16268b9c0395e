"""三包 as a legal floor: the 7- and 15-day edges in Shanghai, free repair in warranty, and two
failed repairs of the same fault; snapshotted on the repair, and binding on staff."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftersales.exceptions import TransitionNotAllowed
from repairs.models import RepairOrder, RepairStatus
from repairs.sanbao import SanbaoRule, sanbao_floor
from repairs.services import (
    LineInput,
    repair_device_receive,
    repair_diagnose,
    repair_diagnosis_start,
    repair_quote_send,
    repair_start,
    repair_triage,
)
from repairs.tests.builders import DELIVERED, request_repair
from repairs.tests.factories import DiagnosisCodeFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECOND = timedelta(seconds=1)
# Delivered on 10 March (Shanghai): day 7 is 17 March, day 15 is 25 March.
END_OF_DAY_7 = datetime(2026, 3, 18, 0, 0, tzinfo=SHANGHAI)
END_OF_DAY_15 = datetime(2026, 3, 26, 0, 0, tzinfo=SHANGHAI)


def _floor(at, *, in_warranty=True, failed=0, marked=True):
    return sanbao_floor(
        category_marked=marked,
        delivered_at=DELIVERED,
        at=at,
        zone=SHANGHAI,
        in_warranty=in_warranty,
        failed_repairs_of_fault=failed,
    )


@pytest.mark.parametrize(
    ("at", "rule", "remedies"),
    [
        (END_OF_DAY_7 - SECOND, SanbaoRule.RETURN_PERIOD, ("return", "exchange", "repair")),
        (END_OF_DAY_7, SanbaoRule.EXCHANGE_PERIOD, ("exchange", "repair")),
        (END_OF_DAY_15 - SECOND, SanbaoRule.EXCHANGE_PERIOD, ("exchange", "repair")),
        (END_OF_DAY_15, SanbaoRule.FREE_REPAIR, ("repair",)),
    ],
    ids=["day-7-last-second", "day-8-first-second", "day-15-last-second", "day-16-first-second"],
)
def test_the_floor_changes_at_local_midnight_after_day_7_and_day_15(at, rule, remedies):
    floor = _floor(at)

    assert floor.rule == rule
    assert floor.remedies == remedies
    assert floor.free_repair is True


def test_two_failed_repairs_of_the_fault_within_warranty_give_exchange_or_return():
    at = datetime(2026, 6, 1, tzinfo=SHANGHAI)

    once = _floor(at, failed=1)
    twice = _floor(at, failed=2)

    assert once.rule == SanbaoRule.FREE_REPAIR
    assert twice.rule == SanbaoRule.REPEAT_FAILURE
    assert twice.remedies == ("exchange", "return")


def test_out_of_warranty_or_an_unmarked_category_the_floor_gives_nothing():
    late = _floor(datetime(2027, 6, 1, tzinfo=SHANGHAI), in_warranty=False)
    unmarked = _floor(datetime(2026, 3, 12, tzinfo=SHANGHAI), marked=False)

    assert late.rule == SanbaoRule.EXPIRED
    assert late.applies is False
    assert unmarked.rule == SanbaoRule.NOT_APPLICABLE
    assert unmarked.remedies == ()


def test_the_rule_in_force_is_snapshotted_on_the_repair_when_it_is_requested(world):
    with time_machine.travel(END_OF_DAY_7 - SECOND, tick=False):
        repair = request_repair(world, remedy="return")

    assert repair.legal_floor == {
        "rule": "return_7_days",
        "remedies": ["return", "exchange", "repair"],
        "free_repair": True,
        "day": 7,
    }


def test_staff_cannot_repair_a_unit_whose_customer_chose_an_exchange_the_floor_gives(world):
    with time_machine.travel(datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        repair = request_repair(world, remedy="exchange")
        repair_triage(repair_order=repair, actor=world.agent)
        repair_device_receive(repair_order=repair, actor=world.technician)
        repair_diagnosis_start(repair_order=repair, actor=world.technician)
        repair_diagnose(repair_order=repair, actor=world.technician, code=DiagnosisCodeFactory(merchant=world.merchant))

        with pytest.raises(TransitionNotAllowed) as refused:
            repair_start(repair_order=repair, actor=world.technician)

    assert refused.value.code == "legal_floor_remedy"
    assert RepairOrder.objects.get(pk=repair.pk).status == RepairStatus.DIAGNOSING


def test_staff_cannot_charge_for_a_repair_the_floor_makes_free(world):
    with time_machine.travel(datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        repair = request_repair(world)

        with pytest.raises(TransitionNotAllowed) as refused:
            repair_triage(repair_order=repair, actor=world.agent, outcome=RepairStatus.OUT_OF_WARRANTY)

    assert refused.value.code == "legal_floor_free_repair"
    repair.refresh_from_db()
    assert repair.status == RepairStatus.REQUESTED
    assert repair.decided_at is None


def test_user_damage_found_at_diagnosis_makes_the_repair_quotable_despite_the_floor(world):
    damage = DiagnosisCodeFactory(
        merchant=world.merchant, code="USER", name="Dropped", responsibility="customer", voids_warranty=True
    )
    with time_machine.travel(datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        repair = request_repair(world)
        repair_triage(repair_order=repair, actor=world.agent)
        repair_device_receive(repair_order=repair, actor=world.technician)
        repair_diagnosis_start(repair_order=repair, actor=world.technician)
        repair_diagnose(repair_order=repair, actor=world.technician, code=damage)

        with pytest.raises(TransitionNotAllowed):
            repair_start(repair_order=repair, actor=world.technician)
        quote = repair_quote_send(
            repair_order=repair,
            actor=world.agent,
            lines=[LineInput(kind="labour", description="Replace the body", unit_price=Decimal("200.00"))],
        )

    assert quote.total == Decimal("226.00")
    assert RepairOrder.objects.get(pk=repair.pk).status == RepairStatus.QUOTED
