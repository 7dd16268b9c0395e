"""Races on PostgreSQL: each thread has its own connection and its own transaction."""

import pytest

from aftersales.tests.factories import OrderFactory
from aftersales.tests.races import race_errors
from tickets.models import Ticket, TicketChannel, TicketKind, TicketNumberCounter
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_many_simultaneous_creations_get_distinct_consecutive_numbers():
    order = OrderFactory()
    workers = 16

    errors = race_errors(
        workers,
        lambda i: ticket_create(
            merchant=order.merchant,
            kind=TicketKind.SUPPORT,
            subject=f"Request {i}",
            body="Hello",
            customer=order.customer,
            channel=TicketChannel.API,
            order=order,
        ),
    )

    assert errors == []
    numbers = sorted(Ticket.objects.filter(merchant=order.merchant).values_list("number", flat=True))
    assert numbers == [f"SUP-{n:06d}" for n in range(1, workers + 1)]
    assert TicketNumberCounter.objects.get(merchant=order.merchant, prefix="SUP").last_value == workers


def test_the_first_creations_of_a_merchant_race_on_the_counter_row_and_all_succeed():
    # No counter row exists yet: every thread tries to create it at once.
    order = OrderFactory()
    assert TicketNumberCounter.objects.count() == 0

    errors = race_errors(
        8,
        lambda i: ticket_create(
            merchant=order.merchant,
            kind=TicketKind.COMPLAINT,
            subject=f"Complaint {i}",
            body="Late delivery",
            customer=order.customer,
            channel=TicketChannel.API,
        ),
    )

    assert errors == []
    assert Ticket.objects.filter(merchant=order.merchant).values("number").distinct().count() == 8
    assert TicketNumberCounter.objects.filter(merchant=order.merchant).count() == 1
