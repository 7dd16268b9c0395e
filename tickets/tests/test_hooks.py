"""The hub's status listeners: called inside the status change, in order; a listener that refuses
refuses the change, and nothing of it is written."""

import pytest

from aftersales.exceptions import TransitionNotAllowed
from tickets import hooks
from tickets.models import Ticket, TicketEvent, TicketStatus
from tickets.services import ticket_change_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    calls: list[tuple[str, str, str]] = []

    def record(*, ticket, previous, status):
        calls.append((ticket.number, previous, status))

    hooks.register_status_listener("test-record", record)
    yield calls
    hooks.unregister_status_listener("test-record")


def test_a_listener_hears_each_status_change_with_where_it_came_from(make_ticket, agent, listener):
    ticket = make_ticket()

    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.OPEN)
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.RESOLVED)

    assert listener == [(ticket.number, "new", "open"), (ticket.number, "open", "resolved")]


def test_a_listener_that_refuses_leaves_the_ticket_as_it_was(make_ticket, agent):
    ticket = make_ticket()
    events_before = TicketEvent.objects.filter(ticket=ticket).count()

    def refuse(*, ticket, previous, status):
        raise TransitionNotAllowed("not now", code="listener_refused")

    hooks.register_status_listener("test-refuse", refuse)
    try:
        with pytest.raises(TransitionNotAllowed):
            ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.RESOLVED)
    finally:
        hooks.unregister_status_listener("test-refuse")

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.status, ticket.resolved_at) == (TicketStatus.NEW, None)
    assert TicketEvent.objects.filter(ticket=ticket).count() == events_before


def test_a_name_taken_by_another_listener_is_refused():
    def other(*, ticket, previous, status):
        return None

    with pytest.raises(ValueError, match="'feedback' is already registered"):
        hooks.register_status_listener("feedback", other)
    assert hooks.registered_status_listeners() == ["feedback"]
