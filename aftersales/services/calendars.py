"""Business calendars: the official Chinese holiday schedule as a starting point the merchant edits."""

from dataclasses import dataclass
from datetime import date

import chinese_calendar
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput
from aftersales.models import BusinessCalendar, CalendarDay, Merchant, Weekday


@dataclass(frozen=True)
class HolidayImport:
    holidays: int
    working_days: int


def calendar_import_china_schedule(*, calendar: BusinessCalendar, year: int) -> HolidayImport:
    """Add the State Council's holidays and make-up working days (调休) of ``year``.

    Dates the merchant already set are left as they are: the import fills gaps, never overrides.
    """
    start, end = date(year, 1, 1), date(year, 12, 31)
    try:
        holidays = chinese_calendar.get_holidays(start, end, include_weekends=False)
        working_weekends = [day for day in chinese_calendar.get_workdays(start, end) if day.weekday() >= 5]
    except NotImplementedError as exc:
        raise InvalidInput(
            _("The official schedule for %(year)s is not published in this version yet.") % {"year": year},
            code="schedule_unknown",
        ) from exc
    created_holidays = created_days = 0
    with transaction.atomic():
        for day in holidays:
            _on, name = chinese_calendar.get_holiday_detail(day)
            _row, created = CalendarDay.objects.get_or_create(
                calendar=calendar,
                date=day,
                defaults={"kind": CalendarDay.Kind.HOLIDAY, "name": name or ""},
            )
            created_holidays += created
        for day in working_weekends:
            _row, created = CalendarDay.objects.get_or_create(
                calendar=calendar,
                date=day,
                defaults={
                    "kind": CalendarDay.Kind.WORKING_DAY,
                    "name": _("Make-up working day"),
                    "works_as": Weekday.MONDAY,
                },
            )
            created_days += created
    return HolidayImport(holidays=created_holidays, working_days=created_days)


def calendar_create_default(*, merchant: Merchant, name: str = "") -> BusinessCalendar:
    """A merchant's default calendar: Monday to Friday, 09:00–12:00 and 13:00–18:00."""
    with transaction.atomic():
        calendar, created = BusinessCalendar.objects.get_or_create(
            merchant=merchant,
            team=None,
            is_resource=False,
            defaults={"name": name or _("Office hours"), "timezone": merchant.timezone},
        )
        if created:
            calendar.working_hours.bulk_create(
                [
                    calendar.working_hours.model(calendar=calendar, weekday=weekday, start_minute=start, end_minute=end)
                    for weekday in range(5)
                    for start, end in ((9 * 60, 12 * 60), (13 * 60, 18 * 60))
                ]
            )
    return calendar
