"""Macros: one service call, one event, the reply in the customer's language, usage counted."""

import pytest

from aftersales.exceptions import InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Notification
from tickets.models import Macro, Message, TicketEvent, TicketPriority, TicketStatus
from tickets.services import ticket_change_status
from tickets.services.macros import macro_apply, macro_save
from tickets.tests.factories import MacroFactory
from tickets.verbs import RoutingVerb

pytestmark = pytest.mark.django_db

REPLY_ZH = "{customer_name}您好，您的工单{ticket_number}（订单{order_number}）已处理。{agent_name}"
REPLY_EN = "Hello {customer_name}, your request {ticket_number} (order {order_number}) is sorted. {agent_name}"


@pytest.fixture
def macro(merchant, supervisor):
    return MacroFactory(
        merchant=merchant,
        name="Sorted",
        reply_zh_hans=REPLY_ZH,
        reply_en=REPLY_EN,
        set_status=TicketStatus.RESOLVED,
        set_priority=TicketPriority.LOW,
        add_tags=["sorted", "pole"],
        assign_to_actor=True,
        internal_note="Replacement pole sent from stock.",
    )


def _events(ticket):
    return list(ticket.events.order_by("id").values_list("verb", flat=True))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", "{name}您好，您的工单{number}（订单{order}）已处理。Alice Agent"),
        ("en", "Hello {name}, your request {number} (order {order}) is sorted. Alice Agent"),
    ],
)
def test_a_macro_applies_every_action_with_one_event_in_the_customers_language(
    make_ticket, macro, agent, order, language, expected
):
    # Given a customer writing in one of the two languages
    order.customer.language = language
    order.customer.save()
    agent.first_name, agent.last_name = "Alice", "Agent"
    agent.save()
    ticket = make_ticket()
    events_before = _events(ticket)

    # When an agent applies the macro
    macro_apply(macro=macro, ticket=ticket, actor=agent)

    # Then the reply went out in the customer's language with its placeholders filled
    ticket.refresh_from_db()
    reply = ticket.messages.get(kind=Message.Kind.REPLY)
    assert reply.body == expected.format(name=order.customer.name, number=ticket.number, order=order.external_number)
    # …and everything else changed, recorded in exactly one new event
    assert ticket.status == TicketStatus.RESOLVED
    assert ticket.priority == TicketPriority.LOW
    assert ticket.assignee == agent
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["pole", "sorted"]
    note = ticket.messages.get(kind=Message.Kind.NOTE)
    assert note.body == "Replacement pole sent from stock."
    assert _events(ticket) == [*events_before, RoutingVerb.MACRO_APPLIED]
    event = ticket.events.get(verb=RoutingVerb.MACRO_APPLIED)
    assert event.message == reply
    assert event.is_public
    assert event.data["status"] == {"from": TicketStatus.NEW, "to": TicketStatus.RESOLVED}
    assert event.data["reply_language"] == language
    assert ticket.first_responded_at is not None
    macro.refresh_from_db()
    assert macro.usage_count == 1
    reply_notifications = Notification.objects.filter(ticket=ticket, template="ticket_reply")
    # one per channel the customer has (e-mail and SMS), each in the customer's language
    assert sorted(reply_notifications.values_list("channel", "language")) == [("email", language), ("sms", language)]


def test_a_refused_macro_changes_nothing(make_ticket, macro, agent):
    # Given an open ticket, and a macro whose status ("new") no ticket can go back to
    ticket = make_ticket()
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.OPEN)
    ticket.refresh_from_db()
    macro.set_status = TicketStatus.NEW
    macro.save()
    before = (_events(ticket), ticket.messages.count(), ticket.priority, list(ticket.tags.all()))

    with pytest.raises(TransitionNotAllowed):
        macro_apply(macro=macro, ticket=ticket, actor=agent)

    ticket.refresh_from_db()
    assert (_events(ticket), ticket.messages.count(), ticket.priority, list(ticket.tags.all())) == before
    macro.refresh_from_db()
    assert macro.usage_count == 0


def test_a_closed_ticket_takes_no_macro(make_ticket, macro, agent):
    ticket = make_ticket()
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.CANCELLED)
    count = ticket.events.count()

    with pytest.raises(TransitionNotAllowed):
        macro_apply(macro=macro, ticket=ticket, actor=agent)

    assert ticket.events.count() == count


def test_a_personal_macro_is_its_owners_alone(make_ticket, merchant, agent, supervisor):
    mine = MacroFactory(merchant=merchant, owner=agent, set_priority=TicketPriority.HIGH)
    ticket = make_ticket()

    with pytest.raises(PermissionRefused):
        macro_apply(macro=mine, ticket=ticket, actor=supervisor)
    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.NORMAL

    macro_apply(macro=mine, ticket=ticket, actor=agent)
    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.HIGH


def test_another_merchants_macro_cannot_be_applied(make_ticket, agent):
    foreign = MacroFactory(set_priority=TicketPriority.HIGH)
    ticket = make_ticket()

    with pytest.raises(InvalidInput):
        macro_apply(macro=foreign, ticket=ticket, actor=agent)

    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.NORMAL
    assert Macro.objects.get(pk=foreign.pk).usage_count == 0


def test_shared_macros_are_written_by_supervisors_and_need_both_languages(merchant, agent, supervisor):
    with pytest.raises(PermissionRefused):
        macro_save(macro=Macro(merchant=merchant, name="Shared", set_priority=TicketPriority.HIGH), actor=agent)
    with pytest.raises(InvalidInput) as missing:
        macro_save(macro=Macro(merchant=merchant, name="Half", reply_en="Hello"), actor=supervisor)
    assert missing.value.code == "reply_language_missing"
    with pytest.raises(InvalidInput) as empty:
        macro_save(macro=Macro(merchant=merchant, name="Nothing"), actor=supervisor)
    assert empty.value.code == "empty_macro"
    assert not Macro.objects.filter(merchant=merchant).exists()

    personal = macro_save(
        macro=Macro(merchant=merchant, name="Mine", owner=agent, reply_en="Hi", reply_zh_hans="你好"), actor=agent
    )
    shared = macro_save(
        macro=Macro(merchant=merchant, name="Mine", reply_en="Hi", reply_zh_hans="你好"), actor=supervisor
    )
    assert (personal.is_shared, shared.is_shared) == (False, True)


def test_an_unknown_placeholder_is_left_as_written(make_ticket, merchant, agent, order):
    order.customer.language = "en"
    order.customer.save()
    macro = MacroFactory(merchant=merchant, reply_en="Dear {customer}, {0} {ticket_number.x}", reply_zh_hans="你好")
    ticket = make_ticket()

    macro_apply(macro=macro, ticket=ticket, actor=agent)

    assert ticket.messages.get(kind=Message.Kind.REPLY).body == "Dear {customer}, {0} {ticket_number.x}"
    assert ticket.events.filter(verb=TicketEvent.Verb.STATUS_CHANGED).count() == 0
