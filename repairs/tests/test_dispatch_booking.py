"""Booking windows for on-site repairs: which windows are offered, the slot hold under a lock, the
last place raced by two customers, rescheduling and cancelling by either side, the reminder."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.exceptions import ApplicationError
from aftersales.models import Deadline, Notification
from aftersales.services.deadlines import deadlines_sweep
from aftersales.tests.factories import CustomerFactory, MerchantFactory
from repairs.models import DispatchPolicy, RepairStatus, TechnicianTimeOff, Visit, VisitParty, VisitStatus
from repairs.selectors.dispatch import ServiceNeed, available_slots, qualified_technicians
from repairs.services.dispatch import (
    SlotTaken,
    visit_book,
    visit_cancel,
    visit_check_in,
    visit_check_out,
    visit_no_show,
    visit_reschedule,
    visit_set_off,
)
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar
from repairs.timers import VISIT_REMINDER
from tickets.models import TicketEvent

# Monday 1 June 2026, 09:00 in Shanghai
NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
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


@pytest.fixture
def calendar(shop):
    return working_calendar(shop)


@pytest.fixture
def technician(shop, calendar):
    return TechnicianFactory(merchant=shop, calendar=calendar)


def test_windows_are_offered_for_fourteen_days_from_the_booking_lead_on(clock, technician):
    # given: one technician working 8-18 every day; the lead is 4 hours, so today starts at 14:00

    # when
    slots = available_slots(technician.merchant, NEED, now=NOW)

    # then: today 14-16 and 16-18, then five windows on each of the 13 following days
    assert len(slots) == 2 + 13 * 5
    assert (slots[0].start, slots[0].end) == (shanghai(1, 14), shanghai(1, 16))
    assert (slots[2].start, slots[2].end) == (shanghai(2, 8), shanghai(2, 10))
    assert slots[-1].start == shanghai(14, 16)


def test_no_window_is_offered_where_nobody_qualified_serves_the_address(clock, technician, shop):
    # given: the only technician serves 200001 and knows taps
    elsewhere = ServiceNeed(postal_code="310000", district="Xihu", skills={"taps": 1})
    boilers = ServiceNeed(postal_code="200001", district="Huangpu", skills={"boilers": 1})
    expert = ServiceNeed(postal_code="200001", district="Huangpu", skills={"taps": 3})

    # then
    assert available_slots(shop, elsewhere, now=NOW) == []
    assert available_slots(shop, boilers, now=NOW) == []
    assert available_slots(shop, expert, now=NOW) == []
    # a district served counts as much as a postal code
    technician.areas = ["Xihu"]
    technician.save()
    assert len(available_slots(shop, elsewhere, now=NOW)) == 67


def test_a_skill_level_counts_only_as_a_number_and_is_compared_as_a_number(shop, calendar):
    # given: taps held at 10, at 2.5, and as a string, a boolean, a list, an object and null
    ten = TechnicianFactory(merchant=shop, calendar=calendar, skills={"taps": 10, "boilers": 2})
    half = TechnicianFactory(merchant=shop, calendar=calendar, skills={"taps": 2.5})
    for held in ("3", True, [3], {"level": 3}, None):
        TechnicianFactory(merchant=shop, calendar=calendar, skills={"taps": held, "boilers": 3})

    def qualified(**skills):
        need = ServiceNeed(postal_code="200001", district="Huangpu", skills=skills)
        return [technician.technician_id for technician in qualified_technicians(shop, need)]

    # then: only numbers count, and 10 is above 9 (as text "10" would sort below "9")
    assert qualified(taps=1) == [ten.pk, half.pk]
    assert qualified(taps=2) == [ten.pk, half.pk]
    assert qualified(taps=3) == [ten.pk]
    assert qualified(taps=9) == [ten.pk]
    assert qualified(taps=11) == []
    # every skill asked must be held at its level
    assert qualified(taps=1, boilers=2) == [ten.pk]
    assert qualified(taps=1, boilers=3) == []
    assert qualified(fridges=1) == []
    assert qualified() == [ten.pk, half.pk, *range(half.pk + 1, half.pk + 6)]


def test_qualified_technicians_are_picked_without_reading_their_skills(shop, calendar):
    # given
    technician = TechnicianFactory(merchant=shop, calendar=calendar, skills={"taps": 2})

    # when
    with CaptureQueriesContext(connection) as captured:
        qualified = qualified_technicians(shop, NEED)

    # then: one query, whose columns are the id, the calendar and the capacity, not the skills
    assert [t.technician_id for t in qualified] == [technician.pk]
    assert len(captured.captured_queries) == 1
    columns = captured.captured_queries[0]["sql"].split(" FROM ")[0]
    assert "skills" not in columns
    assert "calendar_id" in columns


def test_another_merchants_technicians_are_never_offered(clock, technician):
    # given: a second shop with no technician of its own
    other = MerchantFactory(slug="other-shop", timezone="Asia/Shanghai")

    # then
    assert available_slots(other, NEED, now=NOW) == []


def test_a_full_window_a_full_day_and_time_off_are_not_offered(clock, shop, technician):
    # given: one visit per window; the technician is away on the 3rd and fully booked on the 4th
    DispatchPolicy.objects.create(merchant=shop, visits_per_window=1)
    repair = OnSiteRepairFactory(merchant=shop)
    visit_book(repair=repair, window_start=shanghai(2, 10))
    TechnicianTimeOff.objects.create(
        technician=technician, starts_on=NOW.date() + timedelta(days=2), ends_on=NOW.date() + timedelta(days=2)
    )
    technician.daily_capacity = 1
    technician.save()
    visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(4, 8))

    # when
    starts = {slot.start for slot in available_slots(shop, NEED, now=NOW)}

    # then: the 2nd is full once its 10:00 visit is booked (capacity 1), the 3rd away, the 4th full
    assert not any(shanghai(2, 0) <= start < shanghai(5, 0) for start in starts)
    assert shanghai(5, 8) in starts
    assert len(starts) == 2 + 10 * 5


def test_slot_availability_takes_the_same_number_of_queries_for_one_or_many_technicians(clock, shop, calendar):
    # given
    TechnicianFactory(merchant=shop, calendar=calendar)
    with CaptureQueriesContext(connection) as one:
        available_slots(shop, NEED, now=NOW)
    for _ in range(5):
        technician = TechnicianFactory(merchant=shop, calendar=working_calendar(shop, name=f"Own {_}"))
        TechnicianTimeOff.objects.create(technician=technician, starts_on=NOW.date(), ends_on=NOW.date())
    visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(2, 10))

    # when
    with CaptureQueriesContext(connection) as many:
        available_slots(shop, NEED, now=NOW)

    # then
    # the policy, the technicians, the default calendar, the calendars with their hours and
    # special days folded in, the full windows, the full days (load counters), time off
    assert len(one.captured_queries) == 7
    assert len(many.captured_queries) == 7


def test_booking_holds_a_place_schedules_the_repair_and_starts_the_reminder(
    clock, shop, technician, django_capture_on_commit_callbacks
):
    # given
    repair = OnSiteRepairFactory(merchant=shop)

    # when
    with django_capture_on_commit_callbacks():
        visit = visit_book(repair=repair, window_start=shanghai(3, 10), actor_customer=repair.customer)

    # then
    visit.refresh_from_db()
    repair.refresh_from_db()
    assert (visit.technician_id, visit.status, visit.window_end) == (technician.pk, VisitStatus.BOOKED, shanghai(3, 12))
    assert repair.status == RepairStatus.SCHEDULED
    assert len(visit.confirmation_code) == 6
    event = TicketEvent.objects.get(ticket=repair.ticket, verb="visit_booked")
    assert event.is_public
    assert event.actor_customer_id == repair.customer_id
    reminder = Deadline.objects.get(ticket=repair.ticket, kind=VISIT_REMINDER)
    assert (reminder.key, reminder.due_at, reminder.state) == (str(visit.pk), shanghai(2, 10), "pending")
    sent = Notification.objects.filter(ticket=repair.ticket, template="repair_visit_booked")
    assert sorted(sent.values_list("channel", flat=True)) == ["email", "sms"]


def test_the_reminder_goes_out_the_day_before_through_the_sweep(clock, shop, technician):
    # given
    repair = OnSiteRepairFactory(merchant=shop)
    visit = visit_book(repair=repair, window_start=shanghai(3, 10))

    # when: a minute after the reminder is due
    clock.move_to(shanghai(2, 10) + timedelta(minutes=1))
    deadlines_sweep()

    # then
    assert (
        Notification.objects.filter(ticket=repair.ticket, template="repair_visit_reminder", channel="email").count()
        == 1
    )
    assert TicketEvent.objects.filter(ticket=repair.ticket, verb="visit_reminded").count() == 1
    assert Deadline.objects.get(ticket=repair.ticket, kind=VISIT_REMINDER, key=str(visit.pk)).state == "fired"


def test_a_cancelled_visit_is_not_reminded(clock, shop, technician):
    # given
    repair = OnSiteRepairFactory(merchant=shop)
    visit = visit_book(repair=repair, window_start=shanghai(3, 10))
    visit_cancel(visit=visit, actor_customer=repair.customer, reason="Away that day")

    # when
    clock.move_to(shanghai(2, 10) + timedelta(minutes=1))
    deadlines_sweep()

    # then
    assert not Notification.objects.filter(ticket=repair.ticket, template="repair_visit_reminder").exists()
    visit.refresh_from_db()
    assert (visit.status, visit.cancelled_by) == (VisitStatus.CANCELLED, VisitParty.CUSTOMER)


def test_booking_a_full_window_is_refused_with_the_next_free_windows_and_nothing_written(clock, shop, technician):
    # given: one place per window, taken
    DispatchPolicy.objects.create(merchant=shop, visits_per_window=1)
    visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(3, 10))
    late = OnSiteRepairFactory(merchant=shop)

    # when
    with pytest.raises(SlotTaken) as refusal:
        visit_book(repair=late, window_start=shanghai(3, 10), actor_customer=late.customer)

    # then
    assert refusal.value.code == "slot_taken"
    assert refusal.value.extra["next_slots"] == [
        shanghai(1, 14).isoformat(),
        shanghai(1, 16).isoformat(),
        shanghai(2, 8).isoformat(),
    ]
    late.refresh_from_db()
    assert late.status == RepairStatus.IN_WARRANTY
    assert not Visit.objects.filter(repair=late).exists()
    assert not TicketEvent.objects.filter(ticket=late.ticket).exists()


@pytest.mark.xdist_group("races")
@pytest.mark.django_db(transaction=True)
def test_two_customers_racing_for_the_last_place_get_one_booking():
    # given: one technician, one place per window
    with time_machine.travel(NOW, tick=False):
        shop = MerchantFactory(slug="race-shop", timezone="Asia/Shanghai")
        DispatchPolicy.objects.create(merchant=shop, visits_per_window=1)
        TechnicianFactory(merchant=shop, calendar=working_calendar(shop))
        repairs = [OnSiteRepairFactory(merchant=shop) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def book(repair):
        try:
            with time_machine.travel(NOW, tick=False):
                barrier.wait(timeout=30)
                visit_book(repair=repair, window_start=shanghai(3, 10), actor_customer=repair.customer)
            outcomes.append("ok")
        except ApplicationError as refusal:
            outcomes.append(refusal.code)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=book, args=(repair,)) for repair in repairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert sorted(outcomes) == ["ok", "slot_taken"]
    assert Visit.objects.filter(status=VisitStatus.BOOKED, window_start=shanghai(3, 10)).count() == 1
    assert sorted(r.status for r in type(repairs[0]).objects.filter(pk__in=[r.pk for r in repairs])) == [
        RepairStatus.IN_WARRANTY,
        RepairStatus.SCHEDULED,
    ]


def test_a_customer_moves_a_visit_to_another_window(clock, shop, technician):
    # given
    repair = OnSiteRepairFactory(merchant=shop)
    visit = visit_book(repair=repair, window_start=shanghai(3, 10))

    # when
    moved = visit_reschedule(visit=visit, window_start=shanghai(4, 14), actor_customer=repair.customer)

    # then
    visit.refresh_from_db()
    assert (visit.status, visit.cancelled_by) == (VisitStatus.CANCELLED, VisitParty.CUSTOMER)
    assert (moved.window_start, moved.status, moved.reschedules, moved.rescheduled_from_id) == (
        shanghai(4, 14),
        VisitStatus.BOOKED,
        1,
        visit.pk,
    )
    reminders = dict(Deadline.objects.filter(ticket=repair.ticket, kind=VISIT_REMINDER).values_list("key", "state"))
    assert reminders == {str(visit.pk): "cancelled", str(moved.pk): "pending"}


def test_a_customer_cannot_move_a_visit_inside_the_merchants_cutoff_and_nothing_changes(clock, shop, technician):
    # given: the cutoff is 12 hours; the visit is at 14:00 tomorrow, and it is now 03:00 tomorrow
    repair = OnSiteRepairFactory(merchant=shop)
    visit = visit_book(repair=repair, window_start=shanghai(2, 14))
    clock.move_to(shanghai(2, 3))

    # when
    with pytest.raises(ApplicationError) as refusal:
        visit_reschedule(visit=visit, window_start=shanghai(5, 14), actor_customer=repair.customer)

    # then
    assert refusal.value.code == "too_late_to_change"
    visit.refresh_from_db()
    assert (visit.status, visit.window_start) == (VisitStatus.BOOKED, shanghai(2, 14))
    assert Visit.objects.filter(repair=repair).count() == 1


def test_a_customer_cannot_book_a_window_of_another_customers_repair(clock, shop, technician):
    repair = OnSiteRepairFactory(merchant=shop)
    stranger = CustomerFactory(merchant=shop)
    with pytest.raises(ApplicationError) as refusal:
        visit_book(repair=repair, window_start=shanghai(3, 10), actor_customer=stranger)
    assert refusal.value.code == "permission_denied"
    assert not Visit.objects.filter(repair=repair).exists()


def test_the_technician_sets_off_checks_in_and_checks_out_with_the_customers_code(clock, shop, technician):
    # given
    repair = OnSiteRepairFactory(merchant=shop)
    visit = visit_book(repair=repair, window_start=shanghai(1, 14))
    clock.move_to(shanghai(1, 13))

    # when: on the way (the address is 2.1 km from home: about 5.5 minutes at 30 km/h × 1.3)
    visit = visit_set_off(visit=visit, actor=technician.user)

    # then
    assert visit.status == VisitStatus.ON_THE_WAY
    assert timedelta(minutes=5) < visit.expected_arrival - shanghai(1, 13) < timedelta(minutes=6)
    on_the_way = Notification.objects.get(ticket=repair.ticket, template="repair_visit_on_the_way", channel="sms")
    assert on_the_way.context["arrival"] == "2026-06-01 13:05"
    assert on_the_way.context["code"] == visit.confirmation_code

    # when: arrived, then done, confirmed by the wrong code first
    clock.move_to(shanghai(1, 13) + timedelta(minutes=7))
    visit = visit_check_in(visit=visit, actor=technician.user)
    repair.refresh_from_db()
    assert repair.status == RepairStatus.ON_SITE
    with pytest.raises(ApplicationError) as refusal:
        visit_check_out(visit=visit, actor=technician.user, confirmation_code="000000x")
    assert refusal.value.code == "confirmation_wrong"
    clock.move_to(shanghai(1, 14))
    visit = visit_check_out(
        visit=visit, actor=technician.user, confirmation_code=visit.confirmation_code, work_note="Washer refitted."
    )

    # then
    visit.refresh_from_db()
    assert (visit.status, visit.checked_in_at, visit.checked_out_at, visit.work_note) == (
        VisitStatus.COMPLETED,
        shanghai(1, 13) + timedelta(minutes=7),
        shanghai(1, 14),
        "Washer refitted.",
    )


def test_another_technician_cannot_work_someone_elses_visit(clock, shop, technician, calendar):
    # given
    visit = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(1, 14))
    colleague = TechnicianFactory(merchant=shop, calendar=calendar)

    # when
    with pytest.raises(ApplicationError) as refusal:
        visit_check_in(visit=visit, actor=colleague.user)

    # then
    assert refusal.value.code == "permission_denied"
    visit.refresh_from_db()
    assert (visit.status, visit.checked_in_at) == (VisitStatus.BOOKED, None)


def test_no_shows_are_recorded_for_either_side(clock, shop, technician):
    # given: two visits of today's afternoon
    first = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(1, 14))
    second_repair = OnSiteRepairFactory(merchant=shop)
    second = visit_book(repair=second_repair, window_start=shanghai(1, 16))

    # when: the technician finds nobody at the first; the second customer waited in vain
    visit_no_show(visit=first, party=VisitParty.CUSTOMER, actor=technician.user)
    with pytest.raises(ApplicationError) as too_early:
        visit_no_show(visit=second, party=VisitParty.MERCHANT, customer=second_repair.customer)
    clock.move_to(shanghai(1, 18) + timedelta(minutes=1))
    visit_no_show(visit=second, party=VisitParty.MERCHANT, customer=second_repair.customer)

    # then
    assert too_early.value.code == "window_not_over"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (VisitStatus.CUSTOMER_NO_SHOW, VisitStatus.TECHNICIAN_NO_SHOW)
    assert TicketEvent.objects.filter(verb="visit_no_show").count() == 2
