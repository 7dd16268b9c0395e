"""The technicians' calendars and the dispatch policy slot availability keeps per process
(``calendar_specs``, ``dispatch_policy_kept``, through ``aftersales.config_cache``): read once,
read again after any committed change of a calendar, its hours, its special days or the policy,
in this process at once and in another within a second, and never a rolled-back change.

"Another process" is played as in ``aftersales/tests/test_config_cache.py``: this one forgetting
what it keeps; all a second process shares with the first is the database and the versions' cache.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from aftersales import config_cache
from aftersales.config_cache import VERSION_TRUST_SECONDS, config_forget_process
from aftersales.models import BusinessCalendar, CalendarDay, WorkingHours
from aftersales.tests.factories import MerchantFactory
from repairs.models import DispatchPolicy, TechnicianProfile
from repairs.selectors.dispatch import ServiceNeed, available_slots
from repairs.tests.dispatch_factories import TechnicianFactory, working_calendar

# Committed rows: what one process commits is what the other one reads.
pytestmark = [pytest.mark.django_db(transaction=True)]

# Monday 1 June 2026, 09:00 in Shanghai; the lead is 4 hours, so today starts at 14:00
NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
NEED = ServiceNeed(postal_code="200001", district="Huangpu", skills={"taps": 1})
# 8-18 every day: today 14-16 and 16-18, then five windows on each of the 13 following days
EVERY_DAY = 2 + 13 * 5


@pytest.fixture(autouse=True)
def _a_fresh_process():
    config_forget_process()
    with time_machine.travel(NOW, tick=False):
        yield
    config_forget_process()


@pytest.fixture
def shop():
    return MerchantFactory(name="Tap & Co", slug="tap-co", timezone="Asia/Shanghai")


@pytest.fixture
def calendar(shop):
    calendar = working_calendar(shop)
    TechnicianFactory(merchant=shop, calendar=calendar)
    return calendar


def _slots(shop):
    return len(available_slots(shop, NEED, now=NOW))


def _first_slot(shop):
    return available_slots(shop, NEED, now=NOW)[0].start


# 14:00 and 13:00 on 1 June in Shanghai
TWO_PM, ONE_PM = datetime(2026, 6, 1, 6, 0, tzinfo=UTC), datetime(2026, 6, 1, 5, 0, tzinfo=UTC)


def _calendar_queries(captured):
    return [query["sql"] for query in captured.captured_queries if "aftersales_businesscalendar" in query["sql"]]


def test_the_calendars_are_read_once_then_kept(shop, calendar):
    # given: a first read, which reads the merchant's calendars
    with CaptureQueriesContext(connection) as first:
        assert _slots(shop) == EVERY_DAY
    assert len(_calendar_queries(first)) == 2

    # when
    with CaptureQueriesContext(connection) as second:
        assert _slots(shop) == EVERY_DAY

    # then: the technicians, the full windows, the full days, time off; no calendar, no policy
    assert _calendar_queries(second) == []
    assert not any("repairs_dispatchpolicy" in query["sql"] for query in second.captured_queries)
    assert len(second.captured_queries) == 4


def test_a_committed_policy_change_is_read_by_the_next_read(shop, calendar):
    # given: the policy is kept (the defaults: a lead of 4 hours, today from 13:00)
    assert (_slots(shop), _first_slot(shop)) == (EVERY_DAY, TWO_PM)
    policy = DispatchPolicy.objects.create(merchant=shop, booking_lead_hours=0)
    # (a lead of none: today from 09:00, the four windows from 10:00 on)
    assert (_slots(shop), _first_slot(shop)) == (EVERY_DAY + 2, TWO_PM - timedelta(hours=4))

    # when
    policy.booking_lead_hours = 30
    policy.save()

    # then: nothing before 15:00 tomorrow (its 16-18 window, then the 12 days after), here and in
    # a fresh process
    assert (_slots(shop), _first_slot(shop)) == (1 + 12 * 5, TWO_PM + timedelta(hours=26))
    config_forget_process()
    assert (_slots(shop), _first_slot(shop)) == (1 + 12 * 5, TWO_PM + timedelta(hours=26))


def _sunday_off(calendar):
    WorkingHours.objects.filter(calendar=calendar, weekday=6).delete()


def _short_days(calendar):
    WorkingHours.objects.filter(calendar=calendar).update(end_minute=12 * 60)


def _one_more_range(calendar):
    WorkingHours.objects.create(calendar=calendar, weekday=0, start_minute=19 * 60, end_minute=21 * 60)


def _holiday(calendar):
    CalendarDay.objects.create(calendar=calendar, date=date(2026, 6, 3), kind=CalendarDay.Kind.HOLIDAY)


def _holiday_saved(calendar):
    day = CalendarDay(calendar=calendar, date=date(2026, 6, 3), kind=CalendarDay.Kind.HOLIDAY)
    day.save()


def _zone(calendar):
    calendar.timezone = "Asia/Tokyo"
    calendar.save()


@pytest.mark.parametrize(
    ("change", "slots_after", "first_after"),
    [
        # Sundays 7 and 14 June lose their five windows each
        (_sunday_off, EVERY_DAY - 10, TWO_PM),
        # 8-12: two windows a day; today none after 13:00 local (the lead)
        (_short_days, 13 * 2, TWO_PM + timedelta(hours=18)),
        # Mondays 1 and 8 June gain 19-21
        (_one_more_range, EVERY_DAY + 2, TWO_PM),
        # Wednesday 3 June is a holiday
        (_holiday, EVERY_DAY - 5, TWO_PM),
        (_holiday_saved, EVERY_DAY - 5, TWO_PM),
        # 8-18 in Tokyo is 7-17 in Shanghai: as many windows, an hour earlier (today from 13:00)
        (_zone, EVERY_DAY, ONE_PM),
    ],
)
def test_a_committed_calendar_change_is_read_by_the_next_read(shop, calendar, change, slots_after, first_after):
    # given: the calendars are kept
    assert (_slots(shop), _first_slot(shop)) == (EVERY_DAY, TWO_PM)

    # when
    change(calendar)

    # then: this process reads them again at once, and a fresh process reads the same
    assert (_slots(shop), _first_slot(shop)) == (slots_after, first_after)
    config_forget_process()
    assert (_slots(shop), _first_slot(shop)) == (slots_after, first_after)


def test_another_process_sees_a_calendar_change_within_a_second(shop, calendar, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(config_cache.time, "monotonic", lambda: now[0])
    config_forget_process()  # what the fixtures' writes left was filed at the real clock
    # given: a second process that has just read and kept the calendars
    assert _slots(shop) == EVERY_DAY
    other_values, other_versions = dict(config_cache._values), dict(config_cache._versions)

    # when: the first process commits a holiday
    config_forget_process()
    _holiday(calendar)
    assert _slots(shop) == EVERY_DAY - 5

    # then: the second process may serve what it kept for less than a second, then reads it again
    config_forget_process()
    config_cache._values.update(other_values)
    config_cache._versions.update(other_versions)
    now[0] += VERSION_TRUST_SECONDS / 2
    assert _slots(shop) == EVERY_DAY
    now[0] += VERSION_TRUST_SECONDS / 2
    assert _slots(shop) == EVERY_DAY - 5


def test_a_rolled_back_calendar_change_is_never_kept_nor_served(shop, calendar):
    # given
    assert _slots(shop) == EVERY_DAY
    seen_inside = []

    # when: a transaction shortens the days, reads availability (its own write), then rolls back
    def change_then_fail():
        with transaction.atomic():
            _short_days(calendar)
            seen_inside.append(_slots(shop))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_then_fail()

    # then: neither this process nor another serves the rolled-back hours
    assert seen_inside == [13 * 2]
    assert _slots(shop) == EVERY_DAY
    config_forget_process()
    assert _slots(shop) == EVERY_DAY


def test_one_merchants_calendar_change_leaves_anothers_kept_calendars_alone(shop, calendar):
    # given: a second shop whose calendars are kept too
    other = MerchantFactory(slug="other-shop", timezone="Asia/Shanghai")
    TechnicianFactory(merchant=other, calendar=working_calendar(other))
    assert _slots(shop) == EVERY_DAY
    assert _slots(other) == EVERY_DAY

    # when
    _holiday(calendar)

    # then: the shop reads its calendars again, the other shop reads none
    assert _slots(shop) == EVERY_DAY - 5
    with CaptureQueriesContext(connection) as captured:
        assert _slots(other) == EVERY_DAY
    assert _calendar_queries(captured) == []


def test_a_new_default_calendar_is_read_for_a_technician_without_a_calendar(shop, calendar):
    # given: a technician working by the merchant's default calendar, which it has not set: the
    # office week, 9-18 Monday to Friday (four windows), today 14-16 and 16-18
    TechnicianProfile.objects.filter(merchant=shop).update(calendar=None)
    assert _slots(shop) == 2 + 9 * 4

    # when: the merchant sets its default calendar, 10-18 on Saturdays only
    default = BusinessCalendar.objects.create(merchant=shop, name="Office", timezone="Asia/Shanghai")
    WorkingHours.objects.create(calendar=default, weekday=5, start_minute=10 * 60, end_minute=18 * 60)

    # then: Saturdays 6 and 13 June, four windows each
    assert _slots(shop) == 2 * 4


def test_a_technician_moved_to_another_calendar_is_read_with_it(shop, calendar):
    # given: the calendars are kept, among them a weekdays-only one nobody works by yet
    weekdays = working_calendar(shop, name="Weekdays", weekdays=range(5))
    assert _slots(shop) == EVERY_DAY

    # when: the technician (not a calendar) changes
    TechnicianProfile.objects.filter(merchant=shop).update(calendar=weekdays)

    # then: weekends 6-7 and 13-14 June are gone
    assert _slots(shop) == EVERY_DAY - 4 * 5
