import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aftersales.exceptions import InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Notification
from aftersales.tests.factories import CustomerFactory, MembershipFactory, OrderFactory, UserFactory
from tickets.models import TRANSITIONS, Attachment, Message, Ticket, TicketEvent, TicketKind, TicketStatus
from tickets.services import (
    ticket_assign,
    ticket_change_priority,
    ticket_change_status,
    ticket_customer_message,
    ticket_link_order,
    ticket_note,
    ticket_reply,
    ticket_set_tags,
)
from tickets.tests.factories import TeamFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _snapshot(ticket: Ticket) -> dict:
    ticket.refresh_from_db()
    return {
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee_id,
        "resolved_at": ticket.resolved_at,
        "events": TicketEvent.objects.filter(ticket=ticket).count(),
        "messages": Message.objects.filter(ticket=ticket).count(),
        "notifications": Notification.objects.filter(ticket=ticket).count(),
    }


def test_create_opens_a_numbered_case_with_its_first_message_event_and_acknowledgement(make_ticket, order, png_upload):
    ticket = make_ticket(files=[png_upload()])

    assert ticket.number == "SUP-000001"
    assert ticket.status == TicketStatus.NEW
    assert ticket.store_id == order.store_id
    events = list(ticket.events.all())
    assert [(e.verb, e.is_public, e.actor_customer_id) for e in events] == [("created", True, order.customer_id)]
    message = ticket.messages.get()
    assert (message.kind, message.body, message.author_customer_id) == (
        Message.Kind.CUSTOMER,
        "One pole broke on the first night.",
        order.customer_id,
    )
    assert events[0].message_id == message.pk
    attachment = Attachment.objects.get(ticket=ticket)
    assert (attachment.content_type, attachment.message_id, len(attachment.sha256)) == ("image/png", message.pk, 64)
    assert sorted(Notification.objects.filter(ticket=ticket).values_list("channel", "template", "recipient")) == [
        ("email", "ticket_created", order.customer.email),
        ("sms", "ticket_created", order.customer.phone),
    ]


def test_numbers_count_per_merchant_and_prefix(make_ticket, order):
    first = make_ticket()
    second = make_ticket()
    complaint = make_ticket(kind=TicketKind.COMPLAINT)
    other_merchant_order = OrderFactory()
    elsewhere = make_ticket(merchant=other_merchant_order.merchant, customer=other_merchant_order.customer, order=None)

    assert [first.number, second.number, complaint.number, elsewhere.number] == [
        "SUP-000001",
        "SUP-000002",
        "CP-000001",
        "SUP-000001",
    ]


def test_create_refuses_an_order_of_another_merchant_and_writes_nothing(make_ticket):
    foreign_order = OrderFactory()

    with pytest.raises(InvalidInput) as refusal:
        make_ticket(order=foreign_order)

    assert refusal.value.code == "unknown_order"
    assert Ticket.objects.count() == 0
    assert Message.objects.count() == 0
    assert TicketEvent.objects.count() == 0


def test_create_refuses_a_customer_opening_a_case_on_someone_elses_order(make_ticket, merchant):
    stranger = CustomerFactory(merchant=merchant)

    with pytest.raises(InvalidInput) as refusal:
        make_ticket(customer=stranger)

    assert refusal.value.code == "order_not_customers"
    assert Ticket.objects.count() == 0


def test_create_refuses_a_file_whose_content_is_not_what_its_name_says(make_ticket):
    fake_photo = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not really a jpeg" + b"\0" * 200)

    with pytest.raises(InvalidInput) as refusal:
        make_ticket(files=[fake_photo])

    assert refusal.value.code == "attachment_mismatch"
    assert Ticket.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_create_refuses_an_executable_renamed_to_png(make_ticket):
    renamed = SimpleUploadedFile("photo.png", b"MZ\x90\x00" + b"\0" * 300)

    with pytest.raises(InvalidInput) as refusal:
        make_ticket(files=[renamed])

    assert refusal.value.code == "attachment_mismatch"
    assert Attachment.objects.count() == 0


@pytest.mark.parametrize(
    ("source", "target"),
    [(source, target) for source, targets in TRANSITIONS.items() for target in sorted(targets)],
)
def test_every_allowed_transition_works_and_is_recorded(merchant, agent, source, target):
    ticket = TicketFactory(merchant=merchant, status=source)

    ticket_change_status(ticket=ticket, actor=agent, status=target, note="because")

    ticket.refresh_from_db()
    assert ticket.status == target
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.verb, event.data, event.actor_user_id, event.is_public) == (
        "status_changed",
        {"from": source, "to": target, "note": "because"},
        agent.pk,
        True,
    )
    assert (ticket.resolved_at is not None) == (target == TicketStatus.RESOLVED)
    assert (ticket.closed_at is not None) == (target == TicketStatus.CLOSED)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (source, target)
        for source, targets in TRANSITIONS.items()
        for target in TicketStatus.values
        if target not in targets
    ],
)
def test_every_other_transition_is_refused_and_changes_nothing(merchant, agent, source, target):
    ticket = TicketFactory(merchant=merchant, status=source)
    before = _snapshot(ticket)

    with pytest.raises(TransitionNotAllowed):
        ticket_change_status(ticket=ticket, actor=agent, status=target)

    assert _snapshot(ticket) == before


def test_reply_opens_a_new_ticket_records_first_response_and_tells_the_customer(make_ticket, agent):
    ticket = make_ticket()

    ticket_reply(ticket=ticket, actor=agent, body="A new pole is on its way.")

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.first_responded_at is not None
    assert list(ticket.events.values_list("verb", flat=True)) == ["created", "reply", "status_changed"]
    assert Notification.objects.filter(ticket=ticket, template="ticket_reply").count() == 2  # e-mail and SMS


def test_reply_can_hand_the_move_to_the_customer(make_ticket, agent):
    ticket = make_ticket()

    ticket_reply(ticket=ticket, actor=agent, body="Could you send a photo?", status=TicketStatus.WAITING_CUSTOMER)

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_CUSTOMER


def test_second_reply_keeps_the_first_response_time(make_ticket, agent):
    ticket = make_ticket()
    ticket_reply(ticket=ticket, actor=agent, body="First")
    first = Ticket.objects.get(pk=ticket.pk).first_responded_at

    ticket_reply(ticket=ticket, actor=agent, body="Second")

    assert Ticket.objects.get(pk=ticket.pk).first_responded_at == first


def test_reply_on_a_closed_ticket_is_refused_and_changes_nothing(make_ticket, agent):
    ticket = make_ticket()
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.RESOLVED)
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.CLOSED)
    before = _snapshot(ticket)

    with pytest.raises(TransitionNotAllowed):
        ticket_reply(ticket=ticket, actor=agent, body="Hello?")

    assert _snapshot(ticket) == before


def test_staff_of_another_merchant_cannot_reply_and_nothing_is_written(make_ticket):
    ticket = make_ticket()
    outsider = MembershipFactory().user
    before = _snapshot(ticket)

    with pytest.raises(PermissionRefused):
        ticket_reply(ticket=ticket, actor=outsider, body="Hi")

    assert _snapshot(ticket) == before


def test_internal_note_is_not_public_and_does_not_notify_the_customer(make_ticket, agent):
    ticket = make_ticket()

    message = ticket_note(ticket=ticket, actor=agent, body="Customer called twice already.")

    assert message.kind == Message.Kind.NOTE
    event = TicketEvent.objects.get(ticket=ticket, verb="note")
    assert event.is_public is False
    assert Notification.objects.filter(ticket=ticket, template="ticket_reply").count() == 0
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


@pytest.mark.parametrize("waiting", [TicketStatus.WAITING_CUSTOMER, TicketStatus.RESOLVED])
def test_customer_message_hands_the_move_back_to_staff(make_ticket, agent, order, waiting):
    ticket = make_ticket()
    ticket_change_status(ticket=ticket, actor=agent, status=waiting)

    ticket_customer_message(ticket=ticket, customer=order.customer, body="Here is the photo.")

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.resolved_at is None
    assert ticket.last_customer_message_at is not None


def test_customer_message_on_a_cancelled_ticket_is_refused(make_ticket, agent, order):
    ticket = make_ticket()
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.CANCELLED)
    before = _snapshot(ticket)

    with pytest.raises(TransitionNotAllowed) as refusal:
        ticket_customer_message(ticket=ticket, customer=order.customer, body="Still broken")

    assert refusal.value.code == "ticket_closed"
    assert _snapshot(ticket) == before


def test_customer_cannot_write_on_another_customers_ticket(make_ticket, merchant):
    ticket = make_ticket()
    before = _snapshot(ticket)

    with pytest.raises(PermissionRefused):
        ticket_customer_message(ticket=ticket, customer=CustomerFactory(merchant=merchant), body="Hi")

    assert _snapshot(ticket) == before


def test_customer_message_notifies_the_assignee(make_ticket, agent, order):
    ticket = make_ticket()
    ticket_assign(ticket=ticket, actor=agent, assignee=agent)

    ticket_customer_message(ticket=ticket, customer=order.customer, body="Any news?")

    assert list(
        Notification.objects.filter(ticket=ticket, template="ticket_customer_message").values_list(
            "recipient", flat=True
        )
    ) == [agent.email]


def test_assign_to_a_colleague_with_a_team_records_and_notifies(make_ticket, agent, supervisor, merchant):
    ticket = make_ticket()
    team = TeamFactory(merchant=merchant, name="Tier 2")

    ticket_assign(ticket=ticket, actor=supervisor, assignee=agent, team=team)

    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.team_id) == (agent.pk, team.pk)
    event = TicketEvent.objects.get(ticket=ticket, verb="assigned")
    assert event.data == {"from": None, "to": agent.pk, "to_name": str(agent), "team": "Tier 2"}
    assert Notification.objects.filter(ticket=ticket, template="ticket_assigned", recipient=agent.email).count() == 1


def test_assign_to_someone_outside_the_merchant_is_refused(make_ticket, agent):
    ticket = make_ticket()
    before = _snapshot(ticket)

    with pytest.raises(PermissionRefused):
        ticket_assign(ticket=ticket, actor=agent, assignee=UserFactory())

    assert _snapshot(ticket) == before


def test_assign_to_a_team_of_another_merchant_is_refused(make_ticket, agent):
    ticket = make_ticket()
    before = _snapshot(ticket)

    with pytest.raises(InvalidInput):
        ticket_assign(ticket=ticket, actor=agent, assignee=agent, team=TeamFactory())

    assert _snapshot(ticket) == before


def test_priority_change_is_recorded_once(make_ticket, agent):
    ticket = make_ticket()

    ticket_change_priority(ticket=ticket, actor=agent, priority=40)
    ticket_change_priority(ticket=ticket, actor=agent, priority=40)

    ticket.refresh_from_db()
    assert ticket.priority == 40
    assert list(TicketEvent.objects.filter(ticket=ticket, verb="priority_changed").values_list("data", flat=True)) == [
        {"from": 20, "to": 40}
    ]


def test_link_order_sets_lines_and_store(merchant, agent):
    ticket = TicketFactory(merchant=merchant)
    order = OrderFactory(merchant=merchant)
    from aftersales.tests.factories import OrderLineFactory

    line = OrderLineFactory(order=order)

    ticket_link_order(ticket=ticket, actor=agent, order=order, order_lines=[line])

    ticket.refresh_from_db()
    assert (ticket.order_id, ticket.store_id) == (order.pk, order.store_id)
    assert list(ticket.order_lines.all()) == [line]
    assert TicketEvent.objects.get(ticket=ticket).data == {"order": order.external_number, "lines": [line.line_number]}


def test_tags_are_merchant_scoped_and_recorded(make_ticket, agent):
    ticket = make_ticket()

    ticket_set_tags(ticket=ticket, actor=agent, names=["vip ", "fragile", "vip"])

    assert sorted(ticket.tags.values_list("name", flat=True)) == ["fragile", "vip"]
    assert {tag.merchant_id for tag in ticket.tags.all()} == {ticket.merchant_id}
    assert TicketEvent.objects.get(ticket=ticket, verb="tags_changed").data == {
        "from": [],
        "to": ["fragile", "vip"],
    }


def test_empty_reply_is_refused(make_ticket, agent):
    ticket = make_ticket()
    before = _snapshot(ticket)

    with pytest.raises(InvalidInput) as refusal:
        ticket_reply(ticket=ticket, actor=agent, body="   ")

    assert refusal.value.code == "empty_message"
    assert _snapshot(ticket) == before
