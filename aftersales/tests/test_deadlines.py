from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from aftersales import timers
from aftersales.models import BusinessCalendar, CalendarDay, Deadline, DeadlinePause, WorkingHours
from aftersales.services.deadlines import (
    deadline_cancel,
    deadline_meet,
    deadline_pause,
    deadline_resume,
    deadline_retry,
    deadline_schedule,
    deadlines_sweep,
)
from tickets.models import TicketEvent
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

# Monday 2026-11-23 10:00 in Shanghai.
MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
KIND = "test.record"
FAILING = "test.failing"


def _record(deadline, verb="test_fired"):
    TicketEvent.objects.create(
        merchant_id=deadline.merchant_id, ticket=deadline.ticket, verb=verb, data={"deadline": deadline.pk}
    )


def _fail(deadline):
    _record(deadline, "should_roll_back")
    raise RuntimeError("carrier API down")


timers.register(KIND, on_due=_record, on_warning=lambda d: _record(d, "test_warned"))
timers.register(FAILING, on_due=_fail)


@pytest.fixture
def calendar():
    ticket_merchant = TicketFactory().merchant
    calendar = BusinessCalendar.objects.create(merchant=ticket_merchant, name="Desk")
    for weekday in range(5):
        WorkingHours.objects.create(calendar=calendar, weekday=weekday, start_minute=9 * 60, end_minute=18 * 60)
    return calendar


@pytest.fixture
def ticket(calendar):
    return TicketFactory(merchant=calendar.merchant)


def test_schedule_computes_due_and_warning_once_on_the_business_calendar(ticket, calendar):
    deadline = deadline_schedule(
        ticket=ticket, kind=KIND, business_minutes=600, calendar=calendar, warn_percent=80, start=MONDAY_10
    )

    # 600 business minutes from Monday 10:00 (9 h days): 480 on Monday, 120 on Tuesday → 11:00.
    # The warning at 80 % = 480 minutes falls on Monday's closing time, not Tuesday's opening.
    assert deadline.due_at == datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    assert deadline.warn_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert deadline.next_fire_at == deadline.warn_at
    assert (deadline.state, deadline.target_minutes) == ("pending", 600)


def test_scheduling_again_restarts_the_one_open_deadline(ticket):
    first = deadline_schedule(ticket=ticket, kind=KIND, due_at=MONDAY_10 + timedelta(hours=1))
    second = deadline_schedule(ticket=ticket, kind=KIND, due_at=MONDAY_10 + timedelta(hours=5))

    assert second.pk == first.pk
    assert Deadline.objects.filter(ticket=ticket).count() == 1
    assert Deadline.objects.get().due_at == MONDAY_10 + timedelta(hours=5)


def test_pause_keeps_the_business_time_left_and_resume_counts_it_from_then(ticket, calendar):
    deadline_schedule(ticket=ticket, kind=KIND, business_minutes=120, calendar=calendar, start=MONDAY_10)

    paused = deadline_pause(ticket=ticket, kind=KIND, reason="waiting_customer", at=MONDAY_10 + timedelta(minutes=30))
    assert (paused.state, paused.remaining_seconds, paused.next_fire_at) == ("paused", 90 * 60, None)

    # Resumed Friday 17:30: 30 minutes that day, 60 more on Monday from 09:00.
    friday_1730 = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    resumed = deadline_resume(ticket=ticket, kind=KIND, at=friday_1730)

    assert resumed.state == "pending"
    assert resumed.due_at == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert resumed.remaining_seconds is None
    pause = DeadlinePause.objects.get(deadline=resumed)
    assert (pause.paused_at, pause.resumed_at, pause.reason) == (
        MONDAY_10 + timedelta(minutes=30),
        friday_1730,
        "waiting_customer",
    )


def test_pausing_twice_is_one_pause(ticket):
    deadline_schedule(ticket=ticket, kind=KIND, due_at=MONDAY_10 + timedelta(hours=2), start=MONDAY_10)
    deadline_pause(ticket=ticket, kind=KIND, at=MONDAY_10)
    deadline_pause(ticket=ticket, kind=KIND, at=MONDAY_10 + timedelta(minutes=5))

    assert DeadlinePause.objects.count() == 1
    assert Deadline.objects.get().remaining_seconds == 7200


def test_a_pause_across_a_holiday_does_not_spend_the_holiday(ticket, calendar):
    CalendarDay.objects.create(calendar=calendar, date=date(2026, 11, 24), kind="holiday")
    deadline_schedule(ticket=ticket, kind=KIND, business_minutes=60, calendar=calendar, start=MONDAY_10)
    deadline_pause(ticket=ticket, kind=KIND, at=MONDAY_10)

    resumed = deadline_resume(ticket=ticket, kind=KIND, at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC))  # Mon 17:30

    # 30 minutes on Monday, the holiday Tuesday skipped, 30 more on Wednesday.
    assert resumed.due_at == datetime(2026, 11, 25, 1, 30, tzinfo=UTC)


def test_meet_and_cancel_close_the_clock(ticket):
    deadline_schedule(ticket=ticket, kind=KIND, due_at=MONDAY_10)
    deadline_schedule(ticket=ticket, kind="test.other", due_at=MONDAY_10)

    met = deadline_meet(ticket=ticket, kind=KIND, at=MONDAY_10 - timedelta(minutes=1))
    cancelled = deadline_cancel(ticket=ticket, kind="test.other")

    assert (met.state, met.met_at, met.next_fire_at) == ("met", MONDAY_10 - timedelta(minutes=1), None)
    assert cancelled.state == "cancelled"
    assert deadline_meet(ticket=ticket, kind=KIND) is None
    # A closed deadline leaves room for a new one of the same kind.
    assert deadline_schedule(ticket=ticket, kind=KIND, due_at=MONDAY_10).pk != met.pk


def test_sweep_fires_what_is_due_once_and_leaves_the_rest(ticket):
    due = deadline_schedule(ticket=ticket, kind=KIND, key="a", due_at=MONDAY_10)
    later = deadline_schedule(ticket=ticket, kind=KIND, key="b", due_at=MONDAY_10 + timedelta(hours=1))

    with time_machine.travel(MONDAY_10 + timedelta(seconds=1), tick=False):
        first = deadlines_sweep()
        second = deadlines_sweep()

    assert (first.fired, second.fired) == (1, 0)
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.state, due.fired_at, due.next_fire_at) == ("fired", MONDAY_10 + timedelta(seconds=1), None)
    assert later.state == "pending"
    assert list(TicketEvent.objects.values_list("verb", "data")) == [("test_fired", {"deadline": due.pk})]


def test_sweep_warns_first_then_fires(ticket):
    deadline = deadline_schedule(
        ticket=ticket, kind=KIND, due_at=MONDAY_10 + timedelta(hours=1), warn_at=MONDAY_10, start=MONDAY_10
    )

    with time_machine.travel(MONDAY_10 + timedelta(minutes=1), tick=False):
        warned = deadlines_sweep()
    with time_machine.travel(MONDAY_10 + timedelta(minutes=2), tick=False):
        quiet = deadlines_sweep()
    with time_machine.travel(MONDAY_10 + timedelta(hours=1), tick=False):
        fired = deadlines_sweep()

    assert (warned.warned, quiet.handled, fired.fired) == (1, 0, 1)
    assert list(TicketEvent.objects.order_by("id").values_list("verb", flat=True)) == ["test_warned", "test_fired"]
    deadline.refresh_from_db()
    assert deadline.warned_at == MONDAY_10 + timedelta(minutes=1)


def test_a_warning_whose_due_time_has_also_passed_just_fires(ticket):
    deadline_schedule(ticket=ticket, kind=KIND, due_at=MONDAY_10, warn_at=MONDAY_10 - timedelta(hours=1))

    with time_machine.travel(MONDAY_10 + timedelta(minutes=1), tick=False):
        result = deadlines_sweep()

    assert (result.warned, result.fired) == (0, 1)
    assert list(TicketEvent.objects.values_list("verb", flat=True)) == ["test_fired"]


def test_a_failing_handler_is_retried_with_backoff_then_parked_and_the_others_fire(ticket, settings):
    settings.DEADLINE_MAX_ATTEMPTS = 3
    failing = deadline_schedule(ticket=ticket, kind=FAILING, due_at=MONDAY_10)
    fine = deadline_schedule(ticket=ticket, kind=KIND, due_at=MONDAY_10)

    now = MONDAY_10 + timedelta(seconds=1)
    with time_machine.travel(now, tick=False):
        first = deadlines_sweep()
    failing.refresh_from_db()
    assert (first.fired, first.retried) == (1, 1)
    assert (failing.state, failing.attempts, failing.next_fire_at) == ("pending", 1, now + timedelta(seconds=15))
    assert failing.last_error == "RuntimeError: carrier API down"

    for _ in range(2):
        now = failing.next_fire_at
        with time_machine.travel(now, tick=False):
            deadlines_sweep()
        failing.refresh_from_db()

    assert (failing.state, failing.attempts, failing.next_fire_at) == ("failed", 3, None)
    fine.refresh_from_db()
    assert fine.state == "fired"
    # The failing handler's own writes were rolled back every time.
    assert list(TicketEvent.objects.values_list("verb", flat=True)) == ["test_fired"]

    retried = deadline_retry(deadline=failing)
    assert (retried.state, retried.attempts) == ("pending", 0)


def test_an_unregistered_kind_is_retried_not_lost(ticket):
    deadline = deadline_schedule(ticket=ticket, kind="nobody.handles.this", due_at=MONDAY_10)

    with time_machine.travel(MONDAY_10, tick=False):
        result = deadlines_sweep()

    deadline.refresh_from_db()
    assert (result.retried, deadline.state, deadline.attempts) == (1, "pending", 1)
    assert "no handler is registered" in deadline.last_error


def test_the_sweep_loops_batch_after_batch_until_nothing_is_due(ticket):
    for i in range(7):
        deadline_schedule(ticket=ticket, kind=KIND, key=str(i), due_at=MONDAY_10)

    with time_machine.travel(MONDAY_10, tick=False):
        result = deadlines_sweep(batch_size=3)

    assert (result.fired, result.batches) == (7, 3)
    assert Deadline.objects.filter(state="fired").count() == 7


CUSTOMER_KIND = "test.customer_reminder"
timers.register(
    CUSTOMER_KIND,
    on_warning=lambda d: _record(d, "customer_reminded"),
    on_due=lambda d: _record(d, "customer_request_expired"),
    staff_facing=False,
)


def test_a_customer_timer_reminds_before_and_acts_at_expiry_without_touching_the_staff_queue(ticket):
    deadline_schedule(
        ticket=ticket,
        kind=CUSTOMER_KIND,
        due_at=MONDAY_10 + timedelta(days=3),
        warn_at=MONDAY_10 + timedelta(days=2),
        start=MONDAY_10,
    )
    ticket.refresh_from_db()
    assert ticket.next_deadline_at is None

    with time_machine.travel(MONDAY_10 + timedelta(days=2, seconds=1), tick=False):
        assert deadlines_sweep().warned == 1
    with time_machine.travel(MONDAY_10 + timedelta(days=3, seconds=1), tick=False):
        assert deadlines_sweep().fired == 1

    assert list(TicketEvent.objects.order_by("id").values_list("verb", flat=True)) == [
        "customer_reminded",
        "customer_request_expired",
    ]


def test_the_next_deadline_of_a_ticket_follows_its_staff_timers(ticket):
    deadline_schedule(ticket=ticket, kind=KIND, key="late", due_at=MONDAY_10 + timedelta(hours=5))
    deadline_schedule(ticket=ticket, kind=KIND, key="soon", due_at=MONDAY_10 + timedelta(hours=1))
    ticket.refresh_from_db()
    assert ticket.next_deadline_at == MONDAY_10 + timedelta(hours=1)

    with time_machine.travel(MONDAY_10 + timedelta(hours=1), tick=False):
        deadlines_sweep()
    ticket.refresh_from_db()
    assert ticket.next_deadline_at == MONDAY_10 + timedelta(hours=5)

    deadline_cancel(ticket=ticket, kind=KIND, key="late")
    ticket.refresh_from_db()
    assert ticket.next_deadline_at is None
