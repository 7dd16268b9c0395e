"""Dispatch's deadlines on the timers engine.

- ``repair.visit_reminder`` (customer-facing, one per visit, keyed by the visit): due the day
  before the visit, at the same time of day as its window; the customer is reminded unless the
  visit was moved or cancelled in the meantime (then the deadline was cancelled with it).
"""

from datetime import datetime, timedelta

from aftersales.models import Deadline
from aftersales.services.deadlines import deadline_cancel, deadline_schedule
from repairs.models import Visit

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
