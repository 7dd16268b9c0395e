"""Drive a case to the states feedback's tests start from: resolved (and swept, so its survey
went out), and answered through the link's page."""

from dataclasses import dataclass
from datetime import datetime

import time_machine

from aftersales.models import Customer, Membership, Merchant, Order, User
from aftersales.services.deadlines import SweepResult, deadlines_sweep
from aftersales.tests.factories import MembershipFactory, OrderFactory, OrderLineFactory
from feedback.links import survey_token
from feedback.models import Survey
from tickets.models import Team, Ticket, TicketChannel, TicketKind, TicketStatus
from tickets.services import ticket_assign, ticket_change_status, ticket_create
from tickets.tests.factories import TeamFactory


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


def race(count: int, attempt) -> list[str]:
    """Run ``attempt()`` in ``count`` threads at once, each on its own connection; each outcome is
    "ok" or the refusal's code, sorted."""
    import threading

    from django.db import connection

    from aftersales.exceptions import ApplicationError

    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            attempt()
            outcome = "ok"
        except ApplicationError as refusal:
            outcome = refusal.code
        except Exception as error:  # noqa: BLE001 — an unexpected error is an outcome the test shows
            outcome = f"error: {error!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return sorted(outcomes)
