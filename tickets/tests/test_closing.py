"""The reopen window and pending close, through the real timers sweep."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from aftersales.exceptions import InvalidInput, TransitionNotAllowed
from aftersales.models import Deadline
from aftersales.services.deadlines import deadlines_sweep
from aftersales.tests.builders import sign_in
from tickets.models import SupportSettings, Ticket, TicketLink, TicketLinkKind, TicketStatus
from tickets.services import ticket_change_status, ticket_customer_message
from tickets.services.closing import PENDING_CLOSE_KIND, ticket_pending_close, ticket_pending_close_cancel
from tickets.services.macros import macro_apply
from tickets.services.merge import ticket_merge
from tickets.tests.factories import MacroFactory
from tickets.verbs import RoutingVerb

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(make_ticket, agent, merchant):
    SupportSettings.objects.create(merchant=merchant, reopen_window_days=3)
    ticket = make_ticket()
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.RESOLVED)
    ticket.refresh_from_db()
    return ticket


def test_a_customer_message_within_the_reopen_window_reopens(resolved, order):
    with time_machine.travel(resolved.resolved_at + timedelta(days=3), tick=False):
        message = ticket_customer_message(ticket=resolved, customer=order.customer, body="Broken again")

    resolved.refresh_from_db()
    assert message.ticket_id == resolved.pk
    assert resolved.status == TicketStatus.OPEN
    assert Ticket.objects.count() == 1


def test_a_customer_message_after_the_window_opens_a_linked_follow_up(resolved, order):
    with time_machine.travel(resolved.resolved_at + timedelta(days=3, seconds=1), tick=False):
        message = ticket_customer_message(ticket=resolved, customer=order.customer, body="Broken again")

    resolved.refresh_from_db()
    follow_up = message.ticket
    assert resolved.status == TicketStatus.RESOLVED
    assert follow_up.pk != resolved.pk
    assert (follow_up.kind, follow_up.customer, follow_up.order, follow_up.status) == (
        resolved.kind,
        order.customer,
        order,
        TicketStatus.NEW,
    )
    assert message.body == "Broken again"
    link = TicketLink.objects.get()
    assert (link.source, link.target, link.kind) == (resolved, follow_up, TicketLinkKind.FOLLOW_UP)
    assert resolved.events.filter(verb=RoutingVerb.FOLLOW_UP_OPENED).get().data == {"other": follow_up.number}
    assert follow_up.events.filter(verb=RoutingVerb.FOLLOW_UP_OF).get().data == {"other": resolved.number}


def test_pending_close_closes_the_ticket_through_a_real_sweep(make_ticket, agent, merchant):
    SupportSettings.objects.create(merchant=merchant, pending_close_days=2)
    ticket = make_ticket()
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        ticket_pending_close(ticket=ticket, actor=agent)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_CUSTOMER

    # One second before its time, the sweep leaves it
    with time_machine.travel(start + timedelta(days=2, seconds=-1), tick=False):
        deadlines_sweep()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_CUSTOMER

    # At its time, the sweep closes it
    with time_machine.travel(start + timedelta(days=2), tick=False):
        deadlines_sweep()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    assert ticket.closed_at == start + timedelta(days=2)
    assert ticket.events.filter(verb=RoutingVerb.AUTO_CLOSED).count() == 1
    assert ticket.deadlines.get(kind=PENDING_CLOSE_KIND).state == Deadline.State.FIRED


def test_a_customer_answer_cancels_the_pending_close(make_ticket, agent, order):
    ticket = make_ticket()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ticket_pending_close(ticket=ticket, actor=agent, days=1)
        ticket_customer_message(ticket=ticket, customer=order.customer, body="Wait, still broken")

    with time_machine.travel(start + timedelta(days=2), tick=False):
        deadlines_sweep()

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.deadlines.get(kind=PENDING_CLOSE_KIND).state == Deadline.State.CANCELLED
    assert ticket.events.filter(verb=RoutingVerb.PENDING_CLOSE_CANCELLED).count() == 1


def test_an_agent_moving_the_ticket_on_voids_the_pending_close(make_ticket, agent):
    ticket = make_ticket()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ticket_pending_close(ticket=ticket, actor=agent, days=1)
        ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.OPEN)
    with time_machine.travel(start + timedelta(days=1), tick=False):
        deadlines_sweep()

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert not ticket.events.filter(verb=RoutingVerb.AUTO_CLOSED).exists()


def test_pending_close_refusals_change_nothing(make_ticket, agent):
    ticket = make_ticket()
    with pytest.raises(InvalidInput):
        ticket_pending_close(ticket=ticket, actor=agent, days=0)
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.CANCELLED)
    with pytest.raises(TransitionNotAllowed):
        ticket_pending_close(ticket=ticket, actor=agent, days=1)
    assert not ticket.deadlines.filter(kind=PENDING_CLOSE_KIND).exists()
    assert ticket_pending_close_cancel(ticket=ticket, actor=agent) is False


def test_a_late_message_on_a_closed_ticket_opens_a_follow_up(make_ticket, agent, order):
    ticket = make_ticket()
    ticket_pending_close(ticket=ticket, actor=agent, days=1)
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1), tick=False):
        deadlines_sweep()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED

    message = ticket_customer_message(ticket=ticket, customer=order.customer, body="Hello again")

    assert message.ticket_id != ticket.pk
    assert TicketLink.objects.filter(source=ticket, target=message.ticket, kind=TicketLinkKind.FOLLOW_UP).exists()


def test_a_late_portal_message_lands_on_the_follow_up_and_the_old_request_points_to_it(
    client, resolved, order, django_capture_on_commit_callbacks
):
    with time_machine.travel(resolved.resolved_at + timedelta(days=4), tick=False):
        sign_in(client, django_capture_on_commit_callbacks, order)  # a portal grant lasts a day
        response = client.post(
            reverse("portal:ticket", args=[order.merchant.slug, resolved.number]), {"body": "Broken again"}
        )
    follow_up = Ticket.objects.exclude(pk=resolved.pk).get()
    assert response["Location"] == reverse("portal:ticket", args=[order.merchant.slug, follow_up.number]) + "#latest"
    assert follow_up.messages.get().body == "Broken again"
    page = client.get(reverse("portal:ticket", args=[order.merchant.slug, resolved.number])).content.decode()
    assert f'href="{reverse("portal:ticket", args=[order.merchant.slug, follow_up.number])}"' in page


def test_the_portal_shows_a_macro_reply_and_where_a_merged_request_continues(
    client, make_ticket, order, agent, merchant, django_capture_on_commit_callbacks
):
    keep, merged = make_ticket(), make_ticket()
    macro = MacroFactory(merchant=merchant, reply_en="We are on it.", reply_zh_hans="我们正在处理。")
    macro_apply(macro=macro, ticket=keep, actor=agent)
    ticket_merge(source=merged, target=keep, actor=agent)
    sign_in(client, django_capture_on_commit_callbacks, order)

    kept_page = client.get(reverse("portal:ticket", args=[merchant.slug, keep.number])).content.decode()
    merged_page = client.get(reverse("portal:ticket", args=[merchant.slug, merged.number])).content.decode()

    assert "We are on it." in kept_page
    assert f'href="{reverse("portal:ticket", args=[merchant.slug, keep.number])}"' in merged_page
