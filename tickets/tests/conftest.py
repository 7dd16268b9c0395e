"""Fixtures of the case hub's tests: an order with two lines, its merchant's staff, and a case
opened on it the way the portal opens one."""

import pytest

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, OrderFactory, OrderLineFactory
from tickets.models import TicketChannel, TicketKind
from tickets.services import ticket_create


@pytest.fixture
def order(db):
    order = OrderFactory()
    OrderLineFactory(order=order, line_number="1")
    OrderLineFactory(order=order, line_number="2", quantity=1)
    return order


@pytest.fixture
def merchant(order):
    return order.merchant


@pytest.fixture
def agent(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user


@pytest.fixture
def supervisor(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.SUPERVISOR).user


@pytest.fixture
def make_ticket(order):
    """Open a case the way the portal does, so it has its first message and event."""

    def make(**overrides):
        values = {
            "merchant": order.merchant,
            "kind": TicketKind.SUPPORT,
            "subject": "The tent pole snapped",
            "body": "One pole broke on the first night.",
            "customer": order.customer,
            "channel": TicketChannel.PORTAL,
            "order": order,
        }
        values.update(overrides)
        return ticket_create(**values)

    return make
