"""A repair's deadlines on the timers engine.

- ``repair.quote_expiry`` (customer): a quote not answered by its validity expires; the device goes
  back unrepaired (with the inspection fee where the policy sets one).
- ``repair.auto_close`` (customer): a repair returned and not confirmed closes by itself.
- ``repair.visit_reminder`` (customer-facing, one per visit, keyed by the visit): due the day
  before the visit, at the same time of day as its window; the customer is reminded unless the
  visit was moved or cancelled in the meantime (then the deadline was cancelled with it).
"""

from datetime import datetime, timedelta

from aftersales.models import Deadline
from aftersales.services.deadlines import deadline_cancel, deadline_meet, deadline_schedule
from repairs.deadline_kinds import AUTO_CLOSE as AUTO_CLOSE
from repairs.deadline_kinds import QUOTE_EXPIRY as QUOTE_EXPIRY
from repairs.models import RepairOrder, RepairPolicy, RepairQuote, Visit


def start_quote_expiry(repair_order: RepairOrder, quote: RepairQuote, *, at: datetime) -> Deadline:
    return deadline_schedule(
        ticket=repair_order.ticket,
        kind=QUOTE_EXPIRY,
        due_at=quote.valid_until,
        payload={"repair_order": repair_order.pk, "quote": quote.pk},
        start=at,
    )


def start_auto_close(repair_order: RepairOrder, policy: RepairPolicy, *, at: datetime) -> Deadline:
    return deadline_schedule(
        ticket=repair_order.ticket,
        kind=AUTO_CLOSE,
        due_at=at + timedelta(days=policy.auto_close_days),
        payload={"repair_order": repair_order.pk},
        start=at,
    )


def meet(repair_order: RepairOrder, kind: str, *, at: datetime) -> None:
    deadline_meet(ticket=repair_order.ticket, kind=kind, at=at)


def cancel_all(repair_order: RepairOrder, *, at: datetime) -> None:
    for kind in (QUOTE_EXPIRY, AUTO_CLOSE):
        deadline_cancel(ticket=repair_order.ticket, kind=kind, at=at)


VISIT_REMINDER = "repair.visit_reminder"


def visit_reminder_start(visit: Visit, *, now: datetime) -> Deadline | None:
    due_at = visit.window_start - timedelta(days=1)
    if due_at <= now:
        return None
    return deadline_schedule(
        ticket=visit.repair.ticket,
        kind=VISIT_REMINDER,
        key=str(visit.pk),
        due_at=due_at,
        payload={"visit": visit.pk},
        start=now,
    )


def visit_reminder_cancel(visit: Visit) -> Deadline | None:
    return deadline_cancel(ticket=visit.repair.ticket, kind=VISIT_REMINDER, key=str(visit.pk))
