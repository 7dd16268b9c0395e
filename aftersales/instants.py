"""Times that come from outside (a query string, a cursor, a form) before they reach the database."""

from datetime import UTC, datetime


def instant_in_utc(value: datetime) -> datetime | None:
    """An aware time moved to UTC, or None when it is naive or falls off the calendar once moved
    (year 9999 with a negative offset, year 1 with a positive one). In UTC, PostgreSQL never sees
    an offset it rejects (-20:26, +16:00): Python accepts any offset under a day, PostgreSQL 15:59."""
    if value.tzinfo is None or value.utcoffset() is None:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
