from datetime import UTC, date, datetime

import pytest

from aftersales.business_time import CalendarSpec
from aftersales.exceptions import InvalidInput
from aftersales.models import CalendarDay
from aftersales.services.calendars import calendar_create_default, calendar_import_china_schedule
from aftersales.tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def calendar():
    return calendar_create_default(merchant=MerchantFactory())


def test_the_default_calendar_is_weekdays_nine_to_six_with_a_lunch_break(calendar):
    spec = CalendarSpec.from_calendar(calendar)

    assert spec.weekly == dict.fromkeys(range(5), ((540, 720), (780, 1080)))
    assert calendar_create_default(merchant=calendar.merchant).pk == calendar.pk


def test_china_2026_schedule_adds_its_holidays_and_make_up_days(calendar):
    result = calendar_import_china_schedule(calendar=calendar, year=2026)

    assert (result.holidays, result.working_days) == (33, 6)
    national_day = CalendarDay.objects.get(calendar=calendar, date=date(2026, 10, 1))
    assert (national_day.kind, national_day.name) == ("holiday", "National Day")
    assert CalendarDay.objects.get(calendar=calendar, date=date(2026, 10, 10)).kind == "working_day"


def test_the_import_never_overrides_what_the_merchant_set(calendar):
    CalendarDay.objects.create(calendar=calendar, date=date(2026, 10, 8), kind="working_day", name="We open early")
    calendar_import_china_schedule(calendar=calendar, year=2026)

    again = calendar_import_china_schedule(calendar=calendar, year=2026)

    assert (again.holidays, again.working_days) == (0, 0)
    assert CalendarDay.objects.get(calendar=calendar, date=date(2026, 10, 8)).name == "We open early"


def test_an_unpublished_year_is_refused_and_adds_nothing(calendar):
    with pytest.raises(InvalidInput) as refusal:
        calendar_import_china_schedule(calendar=calendar, year=2040)

    assert refusal.value.code == "schedule_unknown"
    assert CalendarDay.objects.count() == 0


def test_a_deadline_across_the_national_day_week_skips_it_and_counts_the_make_up_saturday(calendar):
    calendar_import_china_schedule(calendar=calendar, year=2026)
    spec = CalendarSpec.from_calendar(calendar)
    # Wednesday 30 September 2026, 17:00 Shanghai; 8 business hours = 480 minutes.
    start = datetime(2026, 9, 30, 9, 0, tzinfo=UTC)

    due = spec.add_minutes(start, 480)

    # 60 minutes on the 30th; 1–7 October are holidays; Thursday 8th and Friday 9th are working days
    # anyway — 420 minutes later is the 8th at 17:00.
    assert due == datetime(2026, 10, 8, 9, 0, tzinfo=UTC)
    # And 16 business hours reach into Saturday 10th, a make-up working day.
    assert spec.add_minutes(start, 60 + 480 + 480 + 60) == datetime(2026, 10, 10, 2, 0, tzinfo=UTC)
