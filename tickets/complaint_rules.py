"""The rules of complaint handling that need no database: who may grant how much, and the
statutory clocks counted in working days on the merchant's business calendar. Pure."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from aftersales.business_time import CalendarSpec
from aftersales.models import Membership

# The regulator decides whether it accepts a complaint within 7 working days of receiving it
# (市场监督管理部门处理投诉举报办法, art. 19), and a mediation ends within 45 days of acceptance
# (art. 32).
ACCEPTANCE_WORKING_DAYS = 7
MEDIATION_DAYS = 45
# Without a business calendar, a working day is Monday to Friday.
MAX_DAYS_SCANNED = 366 * 2


def approval_limit(role: str, *, agent_limit: Decimal, supervisor_limit: Decimal) -> Decimal | None:
    """The largest compensation a role approves alone; None: no limit (a merchant admin)."""
    if role == Membership.Role.MERCHANT_ADMIN:
        return None
    if role == Membership.Role.SUPERVISOR:
        return supervisor_limit
    if role == Membership.Role.AGENT:
        return agent_limit
    return Decimal(0)


def may_approve(role: str, amount: Decimal, *, agent_limit: Decimal, supervisor_limit: Decimal) -> bool:
    limit = approval_limit(role, agent_limit=agent_limit, supervisor_limit=supervisor_limit)
    return limit is None or amount <= limit


def is_working_day(spec: CalendarSpec | None, day: date) -> bool:
    if spec is None:
        return day.weekday() < 5
    return bool(spec.ranges_on(day))


def add_working_days(spec: CalendarSpec | None, start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (start itself not counted)."""
    day = start
    counted = 0
    for _ in range(MAX_DAYS_SCANNED):
        if counted >= days:
            return day
        day += timedelta(days=1)
        if is_working_day(spec, day):
            counted += 1
    raise ValueError("no working days in the calendar")


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The last instant of ``day`` in ``zone``: the next local midnight."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def acceptance_due(spec: CalendarSpec | None, received_on: date, zone: ZoneInfo) -> datetime:
    return end_of_day(add_working_days(spec, received_on, ACCEPTANCE_WORKING_DAYS), zone)


def mediation_due(accepted_on: date, zone: ZoneInfo) -> datetime:
    return end_of_day(accepted_on + timedelta(days=MEDIATION_DAYS), zone)
