"""A wall-clock duration reads in days once it passes a day ("5 days 12 h", not "132 h 21 min"),
in both languages; a business duration stays in hours, since a business day is not 24 hours."""

import pytest
from django.utils import translation

from tickets.templatetags.sla_tags import business_duration, calendar_duration

FIVE_DAYS_TWELVE_HOURS = (5 * 24 + 12) * 60 + 21  # 132 h 21 min


@pytest.mark.parametrize(
    ("minutes", "english", "chinese"),
    [
        (FIVE_DAYS_TWELVE_HOURS, "5 days 12 h", "5 天 12 小时"),
        (24 * 60, "1 day", "1 天"),
        (24 * 60 + 59, "1 day", "1 天"),
        (24 * 60 - 1, "23 h 59 min", "23 小时 59 分钟"),
        (42, "42 min", "42 分钟"),
    ],
)
def test_a_wall_clock_duration_reads_in_days_past_a_day(minutes, english, chinese):
    with translation.override("en"):
        assert calendar_duration(minutes) == english
    with translation.override("zh-hans"):
        assert calendar_duration(minutes) == chinese


def test_a_missing_duration_is_a_dash_and_a_business_duration_stays_in_hours():
    assert calendar_duration(None) == "—"
    with translation.override("en"):
        assert business_duration(FIVE_DAYS_TWELVE_HOURS) == "132 h 21 min"
