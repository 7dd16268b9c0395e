"""Business-time arithmetic: add business minutes to an instant, measure them between two.

A calendar is loaded once into a ``CalendarSpec`` (two queries) and then works in memory. Each
local working range is turned into an aware UTC interval day by day, so midnight, weekends,
holidays, make-up working days and DST changes all fall out of the same walk: a range that
crosses a DST change is as long as the clock on the wall says it was.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    # Only the type: this module stays pure, the caller loads the calendar.
    from aftersales.models import BusinessCalendar

# A calendar with no working minute would make "add N minutes" walk forever; we stop after this.
MAX_DAYS_AHEAD = 3 * 366

Range = tuple[int, int]  # minutes from local midnight, end exclusive, 0 ≤ start < end ≤ 1440


@dataclass(frozen=True)
class CalendarSpec:
    tz: ZoneInfo
    weekly: dict[int, tuple[Range, ...]]
    holidays: frozenset[date] = frozenset()
    extra_working_days: dict[date, int] = field(default_factory=dict)

    @classmethod
    def always_open(cls) -> "CalendarSpec":
        """Wall-clock time: every minute counts."""
        return cls(tz=ZoneInfo("UTC"), weekly=dict.fromkeys(range(7), ((0, 1440),)))

    @classmethod
    def from_calendar(cls, calendar: "BusinessCalendar") -> "CalendarSpec":
        weekly: dict[int, list[Range]] = {}
        for weekday, start, end in calendar.working_hours.order_by("weekday", "start_minute").values_list(
            "weekday", "start_minute", "end_minute"
        ):
            weekly.setdefault(weekday, []).append((start, end))
        holidays: set[date] = set()
        extra: dict[date, int] = {}
        for day, kind, works_as in calendar.days.values_list("date", "kind", "works_as"):
            if kind == "holiday":
                holidays.add(day)
            else:
                extra[day] = works_as
        return cls(
            tz=ZoneInfo(calendar.timezone),
            weekly={day: _merge(ranges) for day, ranges in weekly.items()},
            holidays=frozenset(holidays),
            extra_working_days=extra,
        )

    def ranges_on(self, day: date) -> tuple[Range, ...]:
        if day in self.extra_working_days:
            return self.weekly.get(self.extra_working_days[day], ())
        if day in self.holidays:
            return ()
        return self.weekly.get(day.weekday(), ())

    def _local(self, day: date, minute: int) -> datetime:
        if minute == 1440:
            day, minute = day + timedelta(days=1), 0
        return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.tz).astimezone(UTC)

    def intervals_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (UTC) that end after ``instant``, in order, clipped to start at it."""
        instant = instant.astimezone(UTC)
        day = instant.astimezone(self.tz).date() - timedelta(days=1)  # a range may start the day before
        for _ in range(MAX_DAYS_AHEAD + 2):
            for start_minute, end_minute in self.ranges_on(day):
                start, end = self._local(day, start_minute), self._local(day, end_minute)
                if end > instant:
                    yield max(start, instant), end
            day += timedelta(days=1)

    def add(self, instant: datetime, duration: timedelta) -> datetime:
        """The instant when ``duration`` of business time has passed since ``instant``."""
        if duration <= timedelta(0):
            return instant
        left = duration
        for start, end in self.intervals_from(instant):
            if end - start >= left:
                return start + left
            left -= end - start
        raise ValueError("the calendar has no working time in the next three years")

    def add_minutes(self, instant: datetime, minutes: int | float) -> datetime:
        return self.add(instant, timedelta(minutes=minutes))

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (zero when ``end`` is not after ``start``)."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        for interval_start, interval_end in self.intervals_from(start):
            if interval_start >= end:
                break
            total += min(interval_end, end) - interval_start
        return total

    def minutes_between(self, start: datetime, end: datetime) -> int:
        return int(self.between(start, end).total_seconds() // 60)


def _merge(ranges: list[Range]) -> tuple[Range, ...]:
    merged: list[Range] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)
