"""The load counters behind slot availability: kept by every visit change in its transaction, equal
to a count of the visits themselves, and giving the same windows as counting from scratch."""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftersales.exceptions import ApplicationError
from aftersales.models import CalendarDay, Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from repairs.models import (
    ACTIVE_VISIT_STATUSES,
    DispatchPolicy,
    TechnicianDayLoad,
    TechnicianTimeOff,
    TechnicianWindowLoad,
    Visit,
    VisitParty,
    VisitStatus,
)
from repairs.selectors.dispatch import ServiceNeed, available_slots
from repairs.services.dispatch import (
    SlotTaken,
    visit_assign,
    visit_book,
    visit_cancel,
    visit_check_in,
    visit_check_out,
    visit_no_show,
    visit_reschedule,
)
from repairs.services.visit_load import technician_loads_rebuild
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar

# Monday 1 June 2026, 09:00 in Shanghai
NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEED = ServiceNeed(postal_code="200001", district="Huangpu", skills={"taps": 1})


def shanghai(day, hour):
    return datetime(2026, 6, day, tzinfo=UTC) + timedelta(hours=hour - 8)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def shop(db):
    return MerchantFactory(name="Tap & Co", slug="tap-co", timezone="Asia/Shanghai")


def counters(shop):
    windows = {
        (t, w): v
        for t, w, v in TechnicianWindowLoad.objects.filter(merchant=shop, visits__gt=0).values_list(
            "technician_id", "window_start", "visits"
        )
    }
    days = {
        (t, d): v
        for t, d, v in TechnicianDayLoad.objects.filter(merchant=shop, visits__gt=0).values_list(
            "technician_id", "day", "visits"
        )
    }
    return windows, days


def counted_from_visits(shop):
    windows = Counter()
    days = Counter()
    for t, start in Visit.objects.filter(
        merchant=shop, status__in=ACTIVE_VISIT_STATUSES, technician__isnull=False
    ).values_list("technician_id", "window_start"):
        windows[t, start] += 1
        days[t, start.astimezone(SHANGHAI).date()] += 1
    return dict(windows), dict(days)


def test_a_cancellation_frees_the_window_it_held(clock, shop):
    # given: one place per window, taken
    DispatchPolicy.objects.create(merchant=shop, visits_per_window=1)
    technician = TechnicianFactory(merchant=shop, calendar=working_calendar(shop))
    visit = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(3, 10))
    assert shanghai(3, 10) not in [slot.start for slot in available_slots(shop, NEED, now=NOW)]
    assert TechnicianWindowLoad.objects.get(technician=technician, window_start=shanghai(3, 10)).visits == 1
    assert TechnicianDayLoad.objects.get(technician=technician, day=shanghai(3, 10).date()).visits == 1

    # when
    visit_cancel(visit=visit, reason="Fixed it myself")

    # then
    assert shanghai(3, 10) in [slot.start for slot in available_slots(shop, NEED, now=NOW)]
    assert TechnicianWindowLoad.objects.get(technician=technician, window_start=shanghai(3, 10)).visits == 0
    assert TechnicianDayLoad.objects.get(technician=technician, day=shanghai(3, 10).date()).visits == 0


def test_a_refused_booking_leaves_the_counters_as_they_were(clock, shop):
    # given
    DispatchPolicy.objects.create(merchant=shop, visits_per_window=1)
    technician = TechnicianFactory(merchant=shop, calendar=working_calendar(shop))
    visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(3, 10))
    before = counters(shop)

    # when
    with pytest.raises(SlotTaken):
        visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(3, 10))

    # then
    assert (
        counters(shop)
        == before
        == ({(technician.pk, shanghai(3, 10)): 1}, {(technician.pk, shanghai(3, 10).date()): 1})
    )
    assert TechnicianWindowLoad.objects.filter(merchant=shop).count() == 1


def test_a_holiday_of_the_technicians_calendar_offers_no_window(clock, shop):
    # given
    calendar = working_calendar(shop)
    TechnicianFactory(merchant=shop, calendar=calendar)
    CalendarDay.objects.create(calendar=calendar, date=shanghai(5, 10).date(), kind=CalendarDay.Kind.HOLIDAY)

    # when
    starts = [slot.start for slot in available_slots(shop, NEED, now=NOW)]

    # then
    assert [s for s in starts if s.astimezone(SHANGHAI).date() == shanghai(5, 10).date()] == []
    assert len(starts) == 2 + 12 * 5


def test_the_rebuild_recounts_visits_written_without_the_services(clock, shop):
    # given: visits loaded in bulk (as the bench does), with no counter rows
    technician = TechnicianFactory(merchant=shop, calendar=working_calendar(shop))
    for hour in (8, 8, 10):
        Visit.objects.create(
            merchant=shop,
            repair=OnSiteRepairFactory(merchant=shop),
            technician=technician,
            window_start=shanghai(2, hour),
            window_end=shanghai(2, hour + 2),
        )
    Visit.objects.create(
        merchant=shop,
        repair=OnSiteRepairFactory(merchant=shop),
        technician=technician,
        status=VisitStatus.CANCELLED,
        window_start=shanghai(2, 12),
        window_end=shanghai(2, 14),
    )

    # when
    written = technician_loads_rebuild(merchant=shop)

    # then
    assert written == 2
    assert counters(shop) == (
        {(technician.pk, shanghai(2, 8)): 2, (technician.pk, shanghai(2, 10)): 1},
        {(technician.pk, shanghai(2, 8).date()): 3},
    )
    # the 8-10 window is full at the default two visits per window
    assert shanghai(2, 8) not in [slot.start for slot in available_slots(shop, NEED, now=NOW)]


@pytest.mark.parametrize("seed", [3, 17])
def test_counters_and_availability_equal_a_count_from_scratch_after_random_visit_changes(clock, shop, seed):
    # given: four technicians with different calendars, areas, skills, capacities and time off
    rng = random.Random(seed)
    DispatchPolicy.objects.create(merchant=shop, visits_per_window=2, booking_lead_hours=0)
    weekdays = working_calendar(shop, name="Weekdays", weekdays=range(5))
    early = working_calendar(shop, name="Early", start_hour=6, end_hour=14)
    everyday = working_calendar(shop, name="Every day")
    CalendarDay.objects.create(calendar=everyday, date=shanghai(4, 10).date(), kind=CalendarDay.Kind.HOLIDAY)
    technicians = [
        TechnicianFactory(merchant=shop, calendar=weekdays, daily_capacity=3),
        TechnicianFactory(merchant=shop, calendar=early, areas=["200001", "Xihu"], daily_capacity=2),
        TechnicianFactory(merchant=shop, calendar=everyday, skills={"taps": 1, "boilers": 2}, daily_capacity=4),
        TechnicianFactory(merchant=shop, calendar=None, areas=[], skills={"taps": 3}),
    ]
    TechnicianTimeOff.objects.create(
        technician=technicians[0], starts_on=shanghai(3, 10).date(), ends_on=shanghai(4, 10).date()
    )
    supervisor = UserFactory()
    MembershipFactory(merchant=shop, user=supervisor, role=Membership.Role.SUPERVISOR)
    hours = (6, 8, 10, 12, 14, 16)

    # when: a hundred random bookings, moves, cancellations, reassignments, visits and no-shows
    refused = 0
    for _ in range(100):
        live = list(Visit.objects.filter(merchant=shop, status=VisitStatus.BOOKED).order_by("pk"))
        action = rng.choice(("book",) * 6 + ("move", "cancel", "assign", "assign", "work", "no_show"))
        try:
            if action == "book" or not live:
                visit_book(
                    repair=OnSiteRepairFactory(merchant=shop),
                    window_start=shanghai(rng.randint(1, 8), rng.choice(hours)),
                )
            elif action == "move":
                visit_reschedule(visit=rng.choice(live), window_start=shanghai(rng.randint(2, 8), rng.choice(hours)))
            elif action == "cancel":
                visit_cancel(visit=rng.choice(live), actor_user=supervisor)
            elif action == "assign":
                visit_assign(visit=rng.choice(live), actor=supervisor, technician=rng.choice([*technicians, None]))
            elif action == "work":
                visit = visit_check_in(visit=rng.choice(live), actor=supervisor)
                if rng.random() < 0.5:
                    visit_check_out(visit=visit, actor=supervisor, confirmation_code=visit.confirmation_code)
            else:
                visit_no_show(visit=rng.choice(live), party=VisitParty.CUSTOMER, actor=supervisor)
        except ApplicationError:
            refused += 1

    # then: the counters are the visits counted, and every need gets the same windows either way
    # (a sanity check that the walk held many places, not only refusals: 32 and 36 of them)
    assert Visit.objects.filter(merchant=shop, status__in=ACTIVE_VISIT_STATUSES).count() > 20
    assert refused < 20
    assert counters(shop) == counted_from_visits(shop)
    needs = [
        NEED,
        ServiceNeed(postal_code="310000", district="Xihu", skills={"taps": 1}),
        ServiceNeed(postal_code="200001", district="Huangpu", skills={"boilers": 1}),
        ServiceNeed(postal_code="200001", district="Huangpu", skills={"taps": 3}),
    ]
    for need in needs:
        assert available_slots(shop, need, now=NOW) == available_slots(shop, need, now=NOW, from_visits=True)
