"""Template filters of the returns pages."""

from datetime import UTC, datetime

import pytest

from returns.templatetags.returns_tags import utc_offset


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Asia/Shanghai", "UTC+8"),
        ("Asia/Kolkata", "UTC+5:30"),
        ("America/Sao_Paulo", "UTC-3"),
        ("Europe/Berlin", "UTC+1"),  # winter; UTC+2 in summer
        ("UTC", "UTC+0"),
    ],
)
def test_a_deadlines_zone_is_said_as_its_offset_from_utc(zone, expected):
    assert utc_offset(datetime(2026, 12, 6, 12, 0, tzinfo=UTC), zone) == expected


def test_the_offset_is_the_one_in_force_on_the_day():
    assert utc_offset(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "Europe/Berlin") == "UTC+2"
