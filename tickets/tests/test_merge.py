"""Merging duplicates (every message and event kept, in time order) and linking tickets."""

import pytest
import time_machine
from django.utils import timezone

from aftersales.exceptions import Conflict, InvalidInput, TransitionNotAllowed
from aftersales.models import Deadline, Notification
from aftersales.tests.factories import CustomerFactory
from tickets.models import SlaPolicy, TicketLink, TicketLinkKind, TicketStatus
from tickets.selectors.routing import possible_duplicates, ticket_links
from tickets.services import ticket_change_status, ticket_customer_message, ticket_note, ticket_reply
from tickets.services.merge import ticket_link, ticket_merge, ticket_unlink
from tickets.verbs import RoutingVerb

pytestmark = pytest.mark.django_db


def test_merge_keeps_every_message_attachment_and_event_in_time_order(make_ticket, agent, order, png_upload):
    # Given two tickets of one customer, written to in turns
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        target = make_ticket(subject="Pole snapped")
    with time_machine.travel(start.replace(microsecond=0) + timezone.timedelta(minutes=1), tick=False):
        source = make_ticket(subject="Pole broke", files=[png_upload()])
    with time_machine.travel(start + timezone.timedelta(minutes=2), tick=False):
        ticket_reply(ticket=target, actor=agent, body="Sorry to hear that")
    with time_machine.travel(start + timezone.timedelta(minutes=3), tick=False):
        ticket_customer_message(ticket=source, customer=order.customer, body="Photo attached")
    with time_machine.travel(start + timezone.timedelta(minutes=4), tick=False):
        ticket_note(ticket=source, actor=agent, body="Same as the other one")
    target_events, source_events = target.events.count(), source.events.count()
    target_messages, source_messages = target.messages.count(), source.messages.count()
    assert (target_messages, source_messages) == (2, 3)

    # When the agent merges the second into the first
    with time_machine.travel(start + timezone.timedelta(minutes=5), tick=False):
        ticket_merge(source=source, target=target, actor=agent)

    # Then the target holds every message, attachment and event, in time order
    assert target.messages.count() == 5
    assert source.messages.count() == 0
    assert target.attachments.count() == 1
    assert target.events.count() == target_events + source_events + 1
    timeline = list(target.events.order_by("created_at", "id").values_list("verb", flat=True))
    assert timeline == [
        "created",
        "created",
        "reply",
        "status_changed",  # the reply opened the target
        "customer_message",
        "note",
        RoutingVerb.MERGED_FROM,
    ]
    merged_from = target.events.get(verb=RoutingVerb.MERGED_FROM)
    assert (merged_from.data["messages"], merged_from.data["events"], merged_from.data["attachments"]) == (3, 3, 1)
    # …and the source is closed with a pointer to the target
    source.refresh_from_db()
    assert source.status == TicketStatus.CLOSED
    assert list(source.events.values_list("verb", "data")) == [
        (RoutingVerb.MERGED_INTO, {"into": target.number, "into_id": target.pk})
    ]
    assert TicketLink.objects.get(kind=TicketLinkKind.MERGED_INTO).target == target
    # …and the customer was told
    assert Notification.objects.filter(ticket=target, template="ticket_merged").count() == 2


def test_merge_cancels_the_merged_tickets_clocks(make_ticket, merchant, agent):
    SlaPolicy.objects.create(merchant=merchant, name="Default", position=1, first_response_minutes=60)
    target, source = make_ticket(), make_ticket()
    assert source.deadlines.filter(state=Deadline.State.PENDING).count() == 1

    ticket_merge(source=source, target=target, actor=agent)

    assert source.deadlines.filter(state__in=Deadline.OPEN_STATES).count() == 0
    assert target.deadlines.filter(state=Deadline.State.PENDING).count() == 1


def test_merge_refuses_other_customers_closed_tickets_and_twice(make_ticket, agent, order, merchant):
    target, source = make_ticket(), make_ticket()
    stranger = make_ticket(customer=CustomerFactory(merchant=merchant), order=None)
    cancelled = make_ticket()
    ticket_change_status(ticket=cancelled, actor=agent, status=TicketStatus.CANCELLED)
    counts = (target.events.count(), source.events.count(), target.messages.count())

    with pytest.raises(InvalidInput):
        ticket_merge(source=stranger, target=target, actor=agent)
    with pytest.raises(TransitionNotAllowed):
        ticket_merge(source=cancelled, target=target, actor=agent)
    with pytest.raises(InvalidInput):
        ticket_merge(source=target, target=target, actor=agent)
    assert (target.events.count(), source.events.count(), target.messages.count()) == counts

    ticket_merge(source=source, target=target, actor=agent)
    with pytest.raises(TransitionNotAllowed):
        ticket_merge(source=source, target=target, actor=agent)
    assert TicketLink.objects.count() == 1


def test_link_related_and_parent_child_shows_on_both_tickets(make_ticket, agent):
    parent, child, other = make_ticket(), make_ticket(), make_ticket()

    ticket_link(ticket=child, other=parent, kind="parent", actor=agent)
    ticket_link(ticket=parent, other=other, kind="related", actor=agent)

    assert [(side, t) for side, _link, t in ticket_links(ticket=child)] == [("parent", parent)]
    assert sorted((side, t.pk) for side, _link, t in ticket_links(ticket=parent)) == sorted(
        [("child", child.pk), ("related", other.pk)]
    )
    assert child.events.filter(verb=RoutingVerb.LINKED).get().data == {"kind": "parent", "other": parent.number}
    assert parent.events.filter(verb=RoutingVerb.LINKED).count() == 2

    with pytest.raises(Conflict):
        ticket_link(ticket=other, other=parent, kind="related", actor=agent)
    with pytest.raises(InvalidInput) as cycle:
        ticket_link(ticket=parent, other=child, kind="parent", actor=agent)
    assert cycle.value.code == "link_cycle"
    with pytest.raises(Conflict):
        ticket_link(ticket=child, other=other, kind="parent", actor=agent)  # one parent only
    assert TicketLink.objects.count() == 2

    ticket_unlink(link=TicketLink.objects.get(kind="related"), actor=agent)
    assert TicketLink.objects.count() == 1
    assert other.events.filter(verb=RoutingVerb.UNLINKED).count() == 1


def test_possible_duplicates_same_customer_order_kind_open_within_the_window(make_ticket, agent, order, merchant):
    start = timezone.now()
    with time_machine.travel(start - timezone.timedelta(days=8)):
        make_ticket()  # too old
    with time_machine.travel(start - timezone.timedelta(days=6)):
        recent = make_ticket()
    resolved = make_ticket()
    ticket_change_status(ticket=resolved, actor=agent, status=TicketStatus.RESOLVED)
    make_ticket(kind="complaint")
    make_ticket(order=None)

    new = make_ticket()

    assert possible_duplicates(ticket=new) == [recent]
