"""A repair's deadlines on the timers engine.

- ``repair.quote_expiry`` (customer): a quote not answered by its validity expires; the device goes
  back unrepaired (with the inspection fee where the policy sets one).
- ``repair.auto_close`` (customer): a repair returned and not confirmed closes by itself.
"""

from datetime import datetime, timedelta

from aftersales.models import Deadline
from aftersales.services.deadlines import deadline_cancel, deadline_meet, deadline_schedule
from repairs.deadline_kinds import AUTO_CLOSE as AUTO_CLOSE
from repairs.deadline_kinds import QUOTE_EXPIRY as QUOTE_EXPIRY
from repairs.models import RepairOrder, RepairPolicy, RepairQuote


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
