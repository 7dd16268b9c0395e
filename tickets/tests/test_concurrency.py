"""Races on PostgreSQL: each thread has its own connection and its own transaction."""

import threading

import pytest
from django.db import connection

from aftersales.tests.factories import OrderFactory
from tickets.models import Ticket, TicketChannel, TicketKind, TicketNumberCounter
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db(transaction=True)


def _race(workers: int, action) -> list[BaseException]:
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            action(index)
        except BaseException as exc:  # noqa: BLE001 — collected and asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_many_simultaneous_creations_get_distinct_consecutive_numbers():
    order = OrderFactory()
    workers = 16

    errors = _race(
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

    errors = _race(
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
