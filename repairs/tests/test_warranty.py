"""Eligibility with reasons per coverage, at the edges, in the merchant's time zone."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from repairs.models import ExtendedWarranty, RegistrationSource
from repairs.selectors import unit_eligibility
from repairs.tests.factories import WarrantyCoverageFactory, WarrantyTermFactory
from repairs.warranty import CoverageSpec, add_months, coverage_ends_at, eligibility

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECOND = timedelta(seconds=1)
# Labour (6 months) of a tap delivered on 10 March, 10:00 Shanghai: covered to the end of 10 September.
LABOUR_ENDS = datetime(2026, 9, 11, 0, 0, tzinfo=SHANGHAI)


def test_months_are_added_with_the_day_clamped_to_the_month():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_a_coverage_ends_at_local_midnight_after_its_last_day_whatever_the_utc_hour_of_delivery():
    # Delivered at 23:30 UTC on 9 March: 07:30 on 10 March in Shanghai.
    delivered = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)

    assert coverage_ends_at(delivered, 6, SHANGHAI) == LABOUR_ENDS


def test_the_registration_comes_from_the_delivered_order_intake_with_its_serial(world):
    registration = world.registration

    assert registration.source == RegistrationSource.DELIVERY
    assert registration.order_line == world.line
    assert registration.customer == world.customer
    assert registration.delivered_at == world.order.delivered_at


def test_split_coverage_answers_each_coverage_with_its_own_end(world):
    with time_machine.travel(datetime(2026, 10, 1, 12, 0, tzinfo=SHANGHAI), tick=False):
        answer = unit_eligibility(product=world.product, registration=world.registration, at=datetime.now(UTC))

    by_key = {a.key: a for a in answer.eligibility.answers}
    assert by_key["parts"].covered is True
    assert by_key["parts"].message == "In warranty until the end of 2027-03-10."
    assert by_key["labour"].covered is False
    assert by_key["labour"].reason == "expired"
    assert by_key["labour"].message == "Out of warranty since 2026-09-11."
    assert by_key["travel"].covered is False
    assert by_key["component:cartridge"].covered is True
    assert by_key["component:cartridge"].ends_at == datetime(2031, 3, 11, 0, 0, tzinfo=SHANGHAI)
    assert answer.in_warranty is False


@pytest.mark.parametrize(
    ("instant", "covered"),
    [(LABOUR_ENDS - SECOND, True), (LABOUR_ENDS, False)],
    ids=["last-second-covered", "first-second-out"],
)
def test_labour_covers_until_the_last_second_of_its_last_day_in_shanghai(world, instant, covered):
    with time_machine.travel(instant, tick=False):
        answer = unit_eligibility(product=world.product, registration=world.registration, at=datetime.now(UTC))

    assert answer.eligibility.covers("labour") is covered
    assert answer.eligibility.covers("parts") is True


def test_an_exclusion_of_the_term_takes_every_coverage_away_and_names_itself(world):
    with time_machine.travel(datetime(2026, 4, 1, tzinfo=SHANGHAI), tick=False):
        answer = unit_eligibility(
            product=world.product,
            registration=world.registration,
            at=datetime.now(UTC),
            exclusions_found=("liquid",),
        )

    assert answer.eligibility.any_covered is False
    assert {a.reason for a in answer.eligibility.answers} == {"excluded"}
    assert answer.eligibility.answers[0].message == "Not covered: Liquid damage."
    assert answer.eligibility.exclusions == ("liquid",)


def test_an_exclusion_the_term_does_not_list_changes_nothing(world):
    answer = unit_eligibility(
        product=world.product,
        registration=world.registration,
        at=datetime(2026, 4, 1, tzinfo=SHANGHAI),
        exclusions_found=("consumables",),
    )

    assert answer.eligibility.covers("parts") is True
    assert answer.eligibility.exclusions == ()


def test_an_extended_warranty_bought_on_the_line_adds_its_months_after_the_base(world):
    extended = WarrantyTermFactory(
        merchant=world.merchant, name="Labour +12", category="appliances", is_extended=True, price="99.00"
    )
    WarrantyCoverageFactory(term=extended, kind="labour", months=12)
    ExtendedWarranty.objects.create(merchant=world.merchant, order_line=world.line, term=extended, price_paid="99.00")
    last_second = datetime(2027, 9, 11, 0, 0, tzinfo=SHANGHAI) - SECOND

    covered = unit_eligibility(product=world.product, registration=world.registration, at=last_second)
    out = unit_eligibility(product=world.product, registration=world.registration, at=last_second + SECOND)

    assert covered.eligibility.covers("labour") is True
    assert out.eligibility.covers("labour") is False


def test_a_unit_without_a_start_date_is_not_covered_and_says_why():
    answer = eligibility(
        starts_at=None,
        zone=SHANGHAI,
        coverages=[CoverageSpec(kind="parts", months=12)],
        term_exclusions=[],
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )

    assert answer.answers[0].covered is False
    assert answer.answers[0].reason == "not_started"


def test_the_goodwill_limit_follows_the_role_of_who_asks(world):
    agent = world.agent.memberships.get()
    supervisor = world.supervisor.memberships.get()
    technician = world.technician.memberships.get()
    at = datetime(2026, 4, 1, tzinfo=UTC)

    limits = [
        unit_eligibility(product=world.product, registration=world.registration, at=at, membership=m).goodwill_limit
        for m in (agent, supervisor, technician)
    ]

    assert [str(limit) for limit in limits] == ["100.00", "500.00", "0"]
