"""Builders for feedback's tests: tickets placed at given local times, their timeline facts,
and delivered orders with defect claims, written as rows (the rollups read rows, so the test
arranges exactly the rows it means)."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from aftersales.models import Deadline, Merchant, Order, OrderLine, Product
from aftersales.tests.factories import CustomerFactory, OrderFactory
from returns.models import Refund, RefundState, ReturnLine, ReturnReason, ReturnRequest, ReturnStatus
from tickets.models import Message, Ticket, TicketEvent, TicketKind
from tickets.tests.factories import TicketFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def ticket_at(merchant: Merchant, created_at: datetime, **fields) -> Ticket:
    """A ticket created at ``created_at`` with the given timestamps (rows, not the services)."""
    fields.setdefault("customer", CustomerFactory.create(merchant=merchant))
    fields.setdefault("kind", TicketKind.SUPPORT)
    ticket = TicketFactory.create(merchant=merchant, **fields)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created_at)
    ticket.refresh_from_db()
    return ticket


def reply(ticket: Ticket, at: datetime) -> Message:
    message = Message.objects.create(merchant=ticket.merchant, ticket=ticket, kind=Message.Kind.REPLY, body="Done.")
    Message.objects.filter(pk=message.pk).update(created_at=at)
    return message


def reopen(ticket: Ticket, at: datetime) -> TicketEvent:
    event = TicketEvent.objects.create(
        merchant=ticket.merchant,
        ticket=ticket,
        verb=TicketEvent.Verb.STATUS_CHANGED,
        data={"from": "resolved", "to": "open"},
    )
    TicketEvent.objects.filter(pk=event.pk).update(created_at=at)
    return event


def sla_clock(ticket: Ticket, target: str, *, due_at: datetime, met_at: datetime | None) -> Deadline:
    return Deadline.objects.create(
        merchant=ticket.merchant,
        ticket=ticket,
        kind=f"sla.{target}",
        state=Deadline.State.MET if met_at else Deadline.State.FIRED,
        started_at=ticket.created_at,
        due_at=due_at,
        met_at=met_at,
        fired_at=None if met_at else due_at,
    )


def delivered(merchant: Merchant, product: Product, units: int, at: datetime) -> OrderLine:
    order = OrderFactory.create(merchant=merchant, placed_at=at - timedelta(days=2), delivered_at=at)
    return OrderLine.objects.create(
        merchant=merchant,
        order=order,
        line_number="1",
        product=product,
        sku=product.sku,
        name=product.name,
        quantity=units,
        unit_price=Decimal("100.00"),
    )


def claim(
    line: OrderLine,
    reason: ReturnReason,
    units: int,
    at: datetime,
    *,
    status: str = ReturnStatus.SUBMITTED,
    paid_at: datetime | None = None,
) -> ReturnRequest:
    """A return of ``units`` of the line, submitted at ``at``; with ``paid_at``, refunded then."""
    order: Order = line.order
    ticket = ticket_at(line.merchant, at, kind=TicketKind.RETURN, customer=order.customer, order=order)
    request = ReturnRequest.objects.create(
        merchant=line.merchant,
        ticket=ticket,
        order=order,
        customer=order.customer,
        status=status,
        resolution="refund",
        reason=reason,
        submitted_at=at,
    )
    ReturnLine.objects.create(
        return_request=request,
        order_line=line,
        quantity=units,
        unit_refund_amount=Decimal("100.00"),
        window_ends_at=at + timedelta(days=7),
    )
    if paid_at is not None:
        Refund.objects.create(
            merchant=line.merchant,
            return_request=request,
            method="original_payment",
            amount=Decimal("100.00") * units,
            currency="CNY",
            state=RefundState.PAID,
            paid_at=paid_at,
        )
    return request
