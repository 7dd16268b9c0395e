"""Builders for feedback's tests. Reports: tickets placed at given local times, their timeline facts,
and delivered orders with defect claims, written as rows (the rollups read rows, so the test
arranges exactly the rows it means). Surveys: a case driven to resolved (and swept, so its survey
went out), and answered through the link's page."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine

from aftersales.models import Customer, Deadline, Membership, Merchant, Order, OrderLine, Product, User
from aftersales.services.deadlines import SweepResult, deadlines_sweep
from aftersales.tests.factories import CustomerFactory, MembershipFactory, OrderFactory, OrderLineFactory
from aftersales.tests.races import race  # noqa: F401 — the feedback tests race through this module
from feedback.links import survey_token
from feedback.models import Survey
from returns.models import Refund, RefundState, ReturnLine, ReturnReason, ReturnRequest, ReturnStatus
from tickets.models import Message, Team, Ticket, TicketChannel, TicketEvent, TicketKind, TicketStatus
from tickets.services import ticket_assign, ticket_change_status, ticket_create
from tickets.tests.factories import TeamFactory, TicketFactory

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


@dataclass
class World:
    merchant: Merchant
    order: Order
    customer: Customer
    agent: User
    other_agent: User
    supervisor: User
    team: Team


def make_world(**merchant_fields: object) -> World:
    order = OrderFactory.create(**{f"merchant__{name}": value for name, value in merchant_fields.items()})
    OrderLineFactory.create(order=order, line_number="1")
    merchant = order.merchant
    team = TeamFactory.create(merchant=merchant, name="Front line")
    return World(
        merchant=merchant,
        order=order,
        customer=order.customer,
        agent=MembershipFactory.create(merchant=merchant, role=Membership.Role.AGENT).user,
        other_agent=MembershipFactory.create(merchant=merchant, role=Membership.Role.AGENT).user,
        supervisor=MembershipFactory.create(merchant=merchant, role=Membership.Role.SUPERVISOR).user,
        team=team,
    )


def open_case(world: World, *, kind: str = TicketKind.SUPPORT, assign: bool = True) -> Ticket:
    ticket = ticket_create(
        merchant=world.merchant,
        kind=kind,
        subject="The tent pole snapped",
        body="One pole broke on the first night.",
        customer=world.customer,
        channel=TicketChannel.PORTAL,
        order=world.order,
    )
    if assign:
        ticket = ticket_assign(ticket=ticket, actor=world.supervisor, assignee=world.agent, team=world.team)
    return ticket


def resolve(world: World, ticket: Ticket, *, at: datetime | None = None) -> Ticket:
    if at is None:
        return ticket_change_status(ticket=ticket, actor=world.agent, status=TicketStatus.RESOLVED)
    with time_machine.travel(at, tick=False):
        return ticket_change_status(ticket=ticket, actor=world.agent, status=TicketStatus.RESOLVED)


def sweep_at(instant: datetime) -> SweepResult:
    with time_machine.travel(instant, tick=False):
        return deadlines_sweep()


def link_path(survey: Survey) -> str:
    from django.urls import reverse

    token = survey_token(survey_id=survey.pk, nonce=str(survey.nonce))
    return reverse("portal:survey", kwargs={"merchant_slug": survey.merchant.slug, "token": token})
