from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales.business_time import CalendarSpec
from aftersales.models import BusinessCalendar, CalendarDay, WorkingHours
from aftersales.tests.factories import MerchantFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
NINE_TO_SIX_WITH_LUNCH = ((9 * 60, 12 * 60), (13 * 60, 18 * 60))


def office(tz=SHANGHAI, **kwargs) -> CalendarSpec:
    return CalendarSpec(tz=tz, weekly=dict.fromkeys(range(5), NINE_TO_SIX_WITH_LUNCH), **kwargs)


def local(tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=tz)


def test_minutes_inside_one_range_are_plain_minutes():
    # Monday 2026-11-23, 10:00 Shanghai.
    assert office().add_minutes(local(SHANGHAI, 2026, 11, 23, 10), 30) == local(SHANGHAI, 2026, 11, 23, 10, 30)


def test_the_lunch_break_does_not_count():
    assert office().add_minutes(local(SHANGHAI, 2026, 11, 23, 11, 30), 60) == local(SHANGHAI, 2026, 11, 23, 13, 30)


def test_the_last_minute_of_the_day_ends_at_closing_time_not_the_next_morning():
    assert office().add_minutes(local(SHANGHAI, 2026, 11, 23, 17, 59), 1) == local(SHANGHAI, 2026, 11, 23, 18)


def test_one_minute_past_closing_time_carries_to_the_next_morning():
    assert office().add_minutes(local(SHANGHAI, 2026, 11, 23, 17, 59), 2) == local(SHANGHAI, 2026, 11, 24, 9, 1)


def test_friday_evening_carries_over_the_weekend():
    friday_evening = local(SHANGHAI, 2026, 11, 27, 17, 0)
    assert office().add_minutes(friday_evening, 120) == local(SHANGHAI, 2026, 11, 30, 10, 0)


def test_a_start_outside_hours_counts_from_the_next_opening():
    saturday = local(SHANGHAI, 2026, 11, 28, 15, 0)
    assert office().add_minutes(saturday, 0.5) == local(SHANGHAI, 2026, 11, 30, 9, 0, 30)


def test_a_holiday_is_skipped():
    spec = office(holidays=frozenset({date(2026, 11, 24)}))
    assert spec.add_minutes(local(SHANGHAI, 2026, 11, 23, 17, 0), 120) == local(SHANGHAI, 2026, 11, 25, 10, 0)


def test_a_make_up_working_saturday_counts_with_the_hours_of_its_weekday():
    # 调休: Saturday 2026-11-28 is worked as a Monday.
    spec = office(extra_working_days={date(2026, 11, 28): 0})
    assert spec.add_minutes(local(SHANGHAI, 2026, 11, 27, 17, 0), 120) == local(SHANGHAI, 2026, 11, 28, 10, 0)


def test_between_measures_only_business_minutes():
    spec = office()
    start, end = local(SHANGHAI, 2026, 11, 27, 17, 0), local(SHANGHAI, 2026, 11, 30, 10, 0)
    assert spec.minutes_between(start, end) == 120
    assert spec.minutes_between(end, start) == 0


def test_add_and_between_agree():
    spec = office(holidays=frozenset({date(2026, 12, 1)}))
    start = local(SHANGHAI, 2026, 11, 26, 11, 17)
    for minutes in (1, 59, 480, 481, 2000, 9999):
        assert spec.minutes_between(start, spec.add_minutes(start, minutes)) == minutes


def test_a_range_across_the_spring_dst_change_is_as_long_as_the_wall_clock_says():
    new_york = ZoneInfo("America/New_York")
    # 2026-03-08: clocks go from 02:00 to 03:00. A 00:00–06:00 Sunday range lasts five hours.
    spec = CalendarSpec(tz=new_york, weekly={6: ((0, 360),)})
    start = local(new_york, 2026, 3, 8, 0, 0)
    assert spec.between(start, local(new_york, 2026, 3, 8, 6, 0)) == timedelta(hours=5)
    assert spec.add_minutes(start, 4 * 60) == local(new_york, 2026, 3, 8, 5, 0)
    assert spec.add_minutes(start, 4 * 60).astimezone(UTC) == datetime(2026, 3, 8, 9, 0, tzinfo=UTC)


def test_nine_to_five_across_the_autumn_dst_change_keeps_local_opening_hours():
    berlin = ZoneInfo("Europe/Berlin")
    spec = CalendarSpec(tz=berlin, weekly=dict.fromkeys(range(7), ((9 * 60, 17 * 60),)))
    # 2026-10-25 03:00 CEST → 02:00 CET. Saturday 16:00 + 2 h → Sunday 10:00 local.
    result = spec.add_minutes(local(berlin, 2026, 10, 24, 16, 0), 120)
    assert result == local(berlin, 2026, 10, 25, 10, 0)
    assert result.astimezone(UTC) == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)


def test_a_calendar_without_working_time_refuses_rather_than_looping():
    spec = CalendarSpec(tz=SHANGHAI, weekly={})
    with pytest.raises(ValueError, match="no working time"):
        spec.add_minutes(local(SHANGHAI, 2026, 11, 23, 10), 1)


def test_always_open_is_wall_clock_time():
    start = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert CalendarSpec.always_open().add_minutes(start, 90) == start + timedelta(minutes=90)


@pytest.mark.django_db
def test_a_spec_loads_from_the_merchants_calendar():
    calendar = BusinessCalendar.objects.create(merchant=MerchantFactory(), name="Service desk")
    for weekday in range(5):
        WorkingHours.objects.create(calendar=calendar, weekday=weekday, start_minute=540, end_minute=720)
        WorkingHours.objects.create(calendar=calendar, weekday=weekday, start_minute=780, end_minute=1080)
    CalendarDay.objects.create(calendar=calendar, date=date(2026, 11, 24), kind="holiday", name="Closed")
    CalendarDay.objects.create(calendar=calendar, date=date(2026, 11, 28), kind="working_day", works_as=2)

    spec = CalendarSpec.from_calendar(calendar)

    assert spec == office(holidays=frozenset({date(2026, 11, 24)}), extra_working_days={date(2026, 11, 28): 2})
