"""A return's deadlines on the timers engine: when each starts, and what happens when it passes.

- ``return.merchant_response`` (staff): a request left unanswered is approved, as marketplaces rule.
- ``return.customer_ship`` (customer): a reminder before; the approved return expires after.
- ``return.confirm_receipt`` (staff): a parcel received and not inspected in time is accepted as
  requested and settled.
- ``return.revise`` (customer): after a rejection, the customer may revise or ask for escalation
  until then; after it the rejection is final.

Durations come from the merchant's ``ReturnPolicy`` (wall-clock time). A deadline is met only
when its thing happens before it is due; a late action leaves it to fire, and its handler,
finding the return moved on, does nothing but leave the breach on the record.

The services start, meet and cancel these deadlines through this module; what happens when one
falls due is in ``returns.handlers``, registered by the app's ``ready()``; the clocks a page shows
are read by ``returns.selectors``.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from aftersales.models import Deadline
from aftersales.services.deadlines import deadline_cancel, deadline_meet, deadline_schedule

# The kinds live in a pure module (the selectors read them); they stay reachable here as timers.KIND.
from returns.deadline_kinds import CONFIRM_RECEIPT as CONFIRM_RECEIPT
from returns.deadline_kinds import CUSTOMER_FACING_KINDS as CUSTOMER_FACING_KINDS
from returns.deadline_kinds import CUSTOMER_SHIP as CUSTOMER_SHIP
from returns.deadline_kinds import MERCHANT_RESPONSE as MERCHANT_RESPONSE
from returns.deadline_kinds import RETURN_TIMER_KINDS as RETURN_TIMER_KINDS
from returns.deadline_kinds import REVISE as REVISE
from returns.deadline_kinds import TIMER_LABELS as TIMER_LABELS
from returns.models import ReturnPolicy, ReturnRequest
from tickets.models import Ticket


def local_time(ticket: Ticket, instant: datetime) -> str:
    zone = ZoneInfo(ticket.merchant.timezone)
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M}"


def _payload(return_request: ReturnRequest) -> dict:
    return {"return_request": return_request.pk}


# --- starters the services call inside their transaction ----------------------------------------


def start_merchant_response(
    return_request: ReturnRequest, policy: ReturnPolicy, *, at: datetime, new_ticket: bool = False
) -> Deadline:
    """``new_ticket``: the return's case was opened in this transaction (it has no such clock yet)."""
    return deadline_schedule(
        ticket=return_request.ticket,
        kind=MERCHANT_RESPONSE,
        due_at=at + timedelta(hours=policy.merchant_response_hours),
        payload=_payload(return_request),
        start=at,
        new_ticket=new_ticket,
    )


def start_customer_ship(return_request: ReturnRequest, policy: ReturnPolicy, *, at: datetime) -> Deadline:
    due_at = at + timedelta(days=policy.ship_by_days)
    warn_at = due_at - timedelta(days=policy.ship_reminder_days) if policy.ship_reminder_days else None
    return deadline_schedule(
        ticket=return_request.ticket,
        kind=CUSTOMER_SHIP,
        due_at=due_at,
        warn_at=warn_at if warn_at and warn_at > at else None,
        payload=_payload(return_request),
        start=at,
    )


def start_confirm_receipt(return_request: ReturnRequest, policy: ReturnPolicy, *, at: datetime) -> Deadline:
    return deadline_schedule(
        ticket=return_request.ticket,
        kind=CONFIRM_RECEIPT,
        due_at=at + timedelta(hours=policy.confirm_receipt_hours),
        payload=_payload(return_request),
        start=at,
    )


def start_revise(return_request: ReturnRequest, policy: ReturnPolicy, *, at: datetime) -> Deadline:
    return deadline_schedule(
        ticket=return_request.ticket,
        kind=REVISE,
        due_at=at + timedelta(hours=policy.revise_hours),
        payload=_payload(return_request),
        start=at,
    )


def meet(ticket: Ticket, kind: str, *, at: datetime | None = None) -> Deadline | None:
    """Meet the open deadline if it is not yet due; a due one is left for the sweep to fire."""
    at = at or timezone.now()
    return deadline_meet(ticket=ticket, kind=kind, at=at) if is_open(ticket, kind, at=at) else None


def cancel_all(ticket: Ticket, *, at: datetime | None = None) -> None:
    at = at or timezone.now()
    for kind in RETURN_TIMER_KINDS:
        deadline_cancel(ticket=ticket, kind=kind, at=at)


def is_open(ticket: Ticket, kind: str, *, at: datetime | None = None) -> bool:
    """Whether the deadline of this kind is pending and not yet due."""
    at = at or timezone.now()
    return Deadline.objects.filter(ticket=ticket, kind=kind, state=Deadline.State.PENDING, due_at__gt=at).exists()
