"""The staff dashboard's pages and actions, as an agent uses them."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from aftersales.models import Customer, Membership
from aftersales.selectors import SESSION_MERCHANT_KEY
from aftersales.tests.builders import flash_messages
from aftersales.tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    OrderFactory,
    StoreFactory,
    UserFactory,
)
from tickets.models import (
    TRANSITIONS,
    Attachment,
    Message,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketPriority,
    TicketStatus,
)
from tickets.selectors import QUEUE_PAGE_SIZE
from tickets.services import (
    ticket_assign,
    ticket_change_status,
    ticket_customer_message,
    ticket_note,
    ticket_reply,
)
from tickets.tests.factories import TeamFactory, TicketFactory
from tickets.views.dashboard import decode_queue_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def _snapshot(ticket: Ticket) -> dict:
    ticket.refresh_from_db()
    return {
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee_id,
        "team": ticket.team_id,
        "tags": sorted(ticket.tags.values_list("name", flat=True)),
        "events": TicketEvent.objects.filter(ticket=ticket).count(),
        "messages": Message.objects.filter(ticket=ticket).count(),
        "attachments": Attachment.objects.filter(ticket=ticket).count(),
    }


def _queue_numbers(response) -> list[str]:
    return [ticket.number for ticket in response.context["tickets"]]


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("dashboard:queue", {}),
        ("dashboard:ticket_new", {}),
        ("dashboard:ticket", {"number": "SUP-000001"}),
        ("dashboard:attachment", {"pk": 1}),
    ],
)
def test_every_page_sends_an_anonymous_visitor_to_the_login(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('dashboard:login')}?next={url}"


@pytest.mark.parametrize("name", ["reply", "note", "assign", "status", "priority", "tags"])
def test_every_action_sends_an_anonymous_visitor_to_the_login_and_changes_nothing(client, make_ticket, name):
    ticket = make_ticket()
    before = _snapshot(ticket)

    response = client.post(
        reverse(f"dashboard:ticket_{name}", kwargs={"number": ticket.number}),
        {"body": "x", "status": "open", "priority": "40", "tags": "x"},
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dashboard:login"))
    assert _snapshot(ticket) == before


def test_the_login_page_renders_and_logs_a_staff_member_in(client, agent):
    page = client.get(reverse("dashboard:login"))
    assert page.status_code == 200
    assert b'name="username"' in page.content
    assert b'class="language-switcher"' in page.content

    response = client.post(reverse("dashboard:login"), {"username": agent.username, "password": "pass-word-123"})

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:queue")
    assert client.get(reverse("dashboard:queue")).status_code == 200


def test_logout_takes_a_post_and_ends_the_session(agent_client):
    assert agent_client.get(reverse("dashboard:logout")).status_code == 405

    response = agent_client.post(reverse("dashboard:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:login")
    assert agent_client.get(reverse("dashboard:queue")).status_code == 302


def test_staff_without_an_active_membership_see_the_no_access_page(client, merchant):
    lapsed = MembershipFactory(merchant=merchant, is_active=False).user
    client.force_login(lapsed)

    response = client.get(reverse("dashboard:queue"))

    assert response.status_code == 403
    assert "dashboard/no_access.html" in [t.name for t in response.templates]
    assert b"No merchant access" in response.content
    assert client.get(reverse("dashboard:ticket_new")).status_code == 403


def test_the_header_shows_the_merchant_the_user_and_the_role(agent_client, agent, merchant):
    response = agent_client.get(reverse("dashboard:queue"))

    html = response.content.decode()
    assert merchant.name in html
    assert str(agent) in html
    assert "Agent" in html
    assert 'id="merchant-select"' not in html  # one merchant: no switcher


# --- the queue ------------------------------------------------------------------------------------


def test_the_queue_lists_active_tickets_most_urgent_then_oldest_first(agent_client, merchant):
    now = timezone.now()
    old_normal = TicketFactory(merchant=merchant, priority=TicketPriority.NORMAL)
    new_urgent = TicketFactory(merchant=merchant, priority=TicketPriority.URGENT)
    new_normal = TicketFactory(merchant=merchant, priority=TicketPriority.NORMAL)
    TicketFactory(merchant=merchant, status=TicketStatus.RESOLVED, priority=TicketPriority.URGENT)
    Ticket.objects.filter(pk=old_normal.pk).update(created_at=now - timedelta(days=3))
    Ticket.objects.filter(pk=new_normal.pk).update(created_at=now - timedelta(hours=1))
    Ticket.objects.filter(pk=new_urgent.pk).update(created_at=now - timedelta(minutes=5))

    response = agent_client.get(reverse("dashboard:queue"))

    assert response.status_code == 200
    assert _queue_numbers(response) == [new_urgent.number, old_normal.number, new_normal.number]
    assert response.context["next_cursor"] is None
    assert response.context["previous_cursor"] is None
    assert b"3\xc2\xa0days" in response.content  # the age column


def test_the_queue_escapes_what_customers_and_staff_typed(agent_client, merchant):
    customer = CustomerFactory(merchant=merchant, name='<img src=x onerror="alert(1)">')
    TicketFactory(merchant=merchant, customer=customer, subject="<script>alert('subject')</script>")

    html = agent_client.get(reverse("dashboard:queue")).content.decode()

    assert "<script>alert('subject')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;subject&#x27;)&lt;/script&gt;" in html
    assert '<img src=x onerror="alert(1)">' not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


@pytest.fixture
def queue_tickets(merchant, agent, order):
    colleague = MembershipFactory(merchant=merchant).user
    vip = CustomerFactory(merchant=merchant, name="Li Lei", email="lilei@example.com", phone="+8613912345678")
    return {
        "colleague": colleague,
        "repair": TicketFactory(merchant=merchant, kind=TicketKind.REPAIR, number="RP-000001", assignee=agent),
        "return": TicketFactory(
            merchant=merchant, kind=TicketKind.RETURN, number="RT-000001", assignee=colleague, order=order
        ),
        "urgent": TicketFactory(merchant=merchant, number="SUP-000001", priority=TicketPriority.URGENT, customer=vip),
        "waiting": TicketFactory(merchant=merchant, number="SUP-000002", status=TicketStatus.WAITING_CUSTOMER),
        "closed": TicketFactory(merchant=merchant, number="SUP-000003", status=TicketStatus.CLOSED),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["SUP-000001", "RP-000001", "RT-000001", "SUP-000002"]),
        ({"kind": "repair"}, ["RP-000001"]),
        ({"status": "waiting_customer"}, ["SUP-000002"]),
        ({"status": "closed"}, ["SUP-000003"]),
        ({"status": "all"}, ["SUP-000001", "RP-000001", "RT-000001", "SUP-000002", "SUP-000003"]),
        ({"assignee": "me"}, ["RP-000001"]),
        ({"assignee": "none"}, ["SUP-000001", "SUP-000002"]),
        ({"priority": "40"}, ["SUP-000001"]),
        ({"q": "rt-000001"}, ["RT-000001"]),
        ({"q": "lilei@example.com"}, ["SUP-000001"]),
        ({"q": "13912345678"}, ["SUP-000001"]),
        ({"q": "li lei"}, ["SUP-000001"]),
        ({"kind": "nonsense", "priority": "x"}, ["SUP-000001", "RP-000001", "RT-000001", "SUP-000002"]),
    ],
)
def test_the_queue_filters(agent_client, queue_tickets, params, expected):
    response = agent_client.get(reverse("dashboard:queue"), params)

    assert response.status_code == 200
    assert _queue_numbers(response) == expected


def test_the_queue_filters_by_a_colleague_and_by_order_number(agent_client, queue_tickets, order):
    by_colleague = agent_client.get(reverse("dashboard:queue"), {"assignee": str(queue_tickets["colleague"].pk)})
    by_order = agent_client.get(reverse("dashboard:queue"), {"q": order.external_number})

    assert _queue_numbers(by_colleague) == ["RT-000001"]
    assert _queue_numbers(by_order) == ["RT-000001"]


def test_the_queue_pages_by_keyset_forwards_and_back(agent_client, merchant):
    now = timezone.now()
    tickets = [
        TicketFactory(merchant=merchant, priority=(TicketPriority.HIGH, TicketPriority.LOW)[i % 2]) for i in range(120)
    ]
    # Two tickets share an instant, so the id breaks the tie.
    for i, ticket in enumerate(tickets):
        Ticket.objects.filter(pk=ticket.pk).update(created_at=now - timedelta(minutes=200 - (i // 2) * 2))
    expected = list(
        Ticket.objects.filter(merchant=merchant)
        .order_by("-priority", "created_at", "id")
        .values_list("number", flat=True)
    )

    first = agent_client.get(reverse("dashboard:queue"))
    second = agent_client.get(reverse("dashboard:queue"), {"after": first.context["next_cursor"]})
    third = agent_client.get(reverse("dashboard:queue"), {"after": second.context["next_cursor"]})
    back = agent_client.get(reverse("dashboard:queue"), {"before": third.context["previous_cursor"]})
    back_to_first = agent_client.get(reverse("dashboard:queue"), {"before": back.context["previous_cursor"]})

    assert _queue_numbers(first) + _queue_numbers(second) + _queue_numbers(third) == expected
    assert [len(_queue_numbers(page)) for page in (first, second, third)] == [QUEUE_PAGE_SIZE, QUEUE_PAGE_SIZE, 20]
    assert first.context["previous_cursor"] is None
    assert third.context["next_cursor"] is None
    assert _queue_numbers(back) == _queue_numbers(second)
    assert _queue_numbers(back_to_first) == _queue_numbers(first)
    assert back_to_first.context["previous_cursor"] is None


def test_the_queue_pager_keeps_the_filters(agent_client, merchant):
    for _ in range(QUEUE_PAGE_SIZE + 1):
        TicketFactory(merchant=merchant, kind=TicketKind.REPAIR)
    TicketFactory(merchant=merchant, kind=TicketKind.RETURN)

    first = agent_client.get(reverse("dashboard:queue"), {"kind": "repair"})
    html = first.content.decode()
    second = agent_client.get(reverse("dashboard:queue"), {"kind": "repair", "after": first.context["next_cursor"]})

    assert f"?kind=repair&amp;after={first.context['next_cursor']}" in html
    assert len(_queue_numbers(second)) == 1
    assert Ticket.objects.get(number=_queue_numbers(second)[0]).kind == TicketKind.REPAIR


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WzEsMiwzXQ", "WzIwLCIyMDI1LTAxLTAxVDAwOjAwOjAwIiwxXQ"])
def test_a_cursor_that_is_not_one_shows_the_first_page(agent_client, merchant, cursor):
    ticket = TicketFactory(merchant=merchant)

    response = agent_client.get(reverse("dashboard:queue"), {"after": cursor})

    assert decode_queue_key(cursor) is None
    assert response.status_code == 200
    assert _queue_numbers(response) == [ticket.number]


def _fill_queue(merchant, count: int, assignee) -> None:
    store = StoreFactory(merchant=merchant)
    for i in range(count):
        order = OrderFactory(merchant=merchant, store=store)
        TicketFactory(
            merchant=merchant,
            customer=order.customer,
            order=order,
            assignee=assignee if i % 2 else None,
            priority=TicketPriority.values[i % 4],
        )


# session, user, the memberships (the one worked under and the switcher's list, one query), the staff
# filter, one page, the saved views (their counts are one more statement when there are any), the
# teams a view may be shared with
QUEUE_QUERIES = 7


@pytest.mark.parametrize("count", [10, 100])
def test_the_queue_costs_the_same_queries_at_10_and_at_100_tickets(
    agent_client, merchant, agent, count, django_assert_num_queries
):
    _fill_queue(merchant, count, agent)

    with django_assert_num_queries(QUEUE_QUERIES):
        response = agent_client.get(reverse("dashboard:queue"), {"status": "all"})

    assert response.status_code == 200
    assert len(response.context["tickets"]) == min(count, QUEUE_PAGE_SIZE)


# --- one ticket -----------------------------------------------------------------------------------


def test_the_ticket_page_shows_the_whole_timeline_with_internal_notes_set_apart(
    agent_client, agent, merchant, make_ticket, order, png_upload, pdf_upload
):
    team = TeamFactory(merchant=merchant, name="Returns desk")
    ticket = make_ticket(files=[png_upload("broken.png")])
    ticket_reply(ticket=ticket, actor=agent, body="Sorry to hear that. A new pole is on its way.")
    ticket_note(ticket=ticket, actor=agent, body="Supplier batch 42 again.", files=[pdf_upload()])
    ticket_assign(ticket=ticket, actor=agent, assignee=agent, team=team)
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.WAITING_CUSTOMER)
    earlier = TicketFactory(merchant=merchant, customer=order.customer, subject="Zip stuck")

    response = agent_client.get(reverse("dashboard:ticket", kwargs={"number": ticket.number.lower()}))

    assert response.status_code == 200
    html = response.content.decode()
    assert [event.verb for event in response.context["timeline"]] == [
        "created",
        "reply",
        "status_changed",
        "note",
        "assigned",
        "status_changed",
    ]
    assert "One pole broke on the first night." in html
    assert "A new pole is on its way." in html
    assert html.count("event--message event--internal") == 1  # the note, styled apart
    assert "event event--assigned event--internal" in html
    assert "Supplier batch 42 again." in html
    image, pdf = Attachment.objects.filter(ticket=ticket).order_by("id")
    assert f'<img src="{reverse("dashboard:attachment", kwargs={"pk": image.pk})}"' in html
    assert reverse("dashboard:attachment", kwargs={"pk": pdf.pk}) in html
    assert "assigned the ticket to" in html
    assert "Returns desk" in html
    assert "changed the status from Open to Waiting on customer" in html
    assert response.context["other_tickets"] == [earlier]
    assert order.external_number in html
    assert [line.line_number for line in response.context["order_lines"]] == ["1", "2"]
    assert response.context["order_total"] == sum(
        (line.paid_amount for line in order.lines.all()), order.shipping_amount
    )


def test_the_status_menu_offers_only_the_allowed_targets(agent_client, make_ticket):
    ticket = make_ticket()

    response = agent_client.get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))

    offered = {value for value, _label in response.context["status_targets"]}
    assert offered == set(TRANSITIONS[TicketStatus.NEW])
    menu = re.search(
        r'<select name="status" id="status_status" required>(.*?)</select>', response.content.decode(), re.S
    )
    assert set(re.findall(r'<option value="(\w+)">', menu.group(1))) == set(TRANSITIONS[TicketStatus.NEW])


def test_a_missing_ticket_is_404(agent_client):
    assert agent_client.get(reverse("dashboard:ticket", kwargs={"number": "SUP-999999"})).status_code == 404


def test_a_reply_reaches_the_customer_and_sets_the_status_after(agent_client, agent, make_ticket, png_upload):
    ticket = make_ticket()

    response = agent_client.post(
        reverse("dashboard:ticket_reply", kwargs={"number": ticket.number}),
        {"body": "Could you send a photo of the pole?", "status": "waiting_customer", "files": [png_upload()]},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("dashboard:ticket", kwargs={"number": ticket.number}), 302)]
    assert flash_messages(response) == ["Your reply was sent to the customer."]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_CUSTOMER
    assert ticket.first_responded_at is not None
    reply = Message.objects.get(ticket=ticket, kind=Message.Kind.REPLY)
    assert (reply.body, reply.author_user_id) == ("Could you send a photo of the pole?", agent.pk)
    assert Attachment.objects.get(message=reply).content_type == "image/png"
    assert list(ticket.events.order_by("id").values_list("verb", "is_public")) == [
        ("created", True),
        ("reply", True),
        ("status_changed", True),
    ]


def test_an_empty_reply_is_refused_and_changes_nothing(agent_client, make_ticket):
    ticket = make_ticket()
    before = _snapshot(ticket)

    response = agent_client.post(reverse("dashboard:ticket_reply", kwargs={"number": ticket.number}), {"body": ""})

    assert response.status_code == 400
    assert response.context["reply_form"].errors == {"body": ["This field is required."]}
    assert _snapshot(ticket) == before


def test_a_reply_with_a_file_that_lies_about_its_type_is_refused_with_the_domain_message(agent_client, make_ticket):
    ticket = make_ticket()
    before = _snapshot(ticket)
    fake = SimpleUploadedFile("photo.png", b"MZ not a picture", content_type="image/png")

    response = agent_client.post(
        reverse("dashboard:ticket_reply", kwargs={"number": ticket.number}),
        {"body": "See attached", "files": [fake]},
        follow=True,
    )

    assert flash_messages(response) == ["photo.png is not the kind of file its name says."]
    assert _snapshot(ticket) == before


def test_a_reply_to_a_closed_ticket_is_refused_and_changes_nothing(agent_client, agent, make_ticket):
    ticket = make_ticket()
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.RESOLVED)
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.CLOSED)
    before = _snapshot(ticket)

    response = agent_client.post(
        reverse("dashboard:ticket_reply", kwargs={"number": ticket.number}), {"body": "One more thing"}, follow=True
    )

    assert flash_messages(response) == ["This ticket is Closed; it takes no more replies."]
    assert _snapshot(ticket) == before


def test_an_internal_note_stays_internal(agent_client, agent, make_ticket, pdf_upload):
    ticket = make_ticket()

    response = agent_client.post(
        reverse("dashboard:ticket_note", kwargs={"number": ticket.number}),
        {"body": "Customer called twice already.", "files": [pdf_upload()]},
        follow=True,
    )

    assert flash_messages(response) == ["Internal note added."]
    note = Message.objects.get(ticket=ticket, kind=Message.Kind.NOTE)
    assert (note.body, note.author_user_id) == ("Customer called twice already.", agent.pk)
    assert Attachment.objects.get(message=note).content_type == "application/pdf"
    event = ticket.events.get(verb="note")
    assert event.is_public is False
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_assign_sets_the_assignee_and_the_team(agent_client, agent, merchant, make_ticket):
    ticket = make_ticket()
    colleague = MembershipFactory(merchant=merchant).user
    team = TeamFactory(merchant=merchant)

    response = agent_client.post(
        reverse("dashboard:ticket_assign", kwargs={"number": ticket.number}),
        {"assignee": str(colleague.pk), "team": str(team.pk)},
        follow=True,
    )

    assert flash_messages(response) == ["Assignment saved."]
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.team_id) == (colleague.pk, team.pk)
    event = ticket.events.get(verb="assigned")
    assert event.data == {"from": None, "to": colleague.pk, "to_name": str(colleague), "team": team.name}


def test_assign_can_clear_the_assignee(agent_client, agent, make_ticket):
    ticket = make_ticket(assignee=agent)

    agent_client.post(reverse("dashboard:ticket_assign", kwargs={"number": ticket.number}), {"assignee": ""})

    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.team_id) == (None, None)


def test_assign_refuses_someone_who_is_not_on_the_staff(agent_client, make_ticket):
    ticket = make_ticket()
    outsider = UserFactory()
    before = _snapshot(ticket)

    response = agent_client.post(
        reverse("dashboard:ticket_assign", kwargs={"number": ticket.number}), {"assignee": str(outsider.pk)}
    )

    assert response.status_code == 400
    assert response.context["assign_form"].errors == {"assignee": ["Pick a member of this merchant's staff."]}
    assert _snapshot(ticket) == before


def test_an_allowed_status_change_is_made_with_its_note(agent_client, agent, make_ticket):
    ticket = make_ticket()

    response = agent_client.post(
        reverse("dashboard:ticket_status", kwargs={"number": ticket.number}),
        {"status": "waiting_third_party", "note": "Asked the carrier"},
        follow=True,
    )

    assert flash_messages(response) == ["Status changed."]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_THIRD_PARTY
    event = ticket.events.get(verb="status_changed")
    assert (event.data, event.actor_user_id) == (
        {"from": "new", "to": "waiting_third_party", "note": "Asked the carrier"},
        agent.pk,
    )
    assert "Asked the carrier" in response.content.decode()


def test_a_refused_transition_shows_the_message_and_changes_nothing(agent_client, make_ticket):
    ticket = make_ticket()
    before = _snapshot(ticket)

    response = agent_client.post(
        reverse("dashboard:ticket_status", kwargs={"number": ticket.number}), {"status": "closed"}, follow=True
    )

    assert response.redirect_chain == [(reverse("dashboard:ticket", kwargs={"number": ticket.number}), 302)]
    assert flash_messages(response) == ["A ticket that is New cannot become Closed."]
    assert _snapshot(ticket) == before


def test_priority_changes_with_an_event(agent_client, make_ticket):
    ticket = make_ticket()

    response = agent_client.post(
        reverse("dashboard:ticket_priority", kwargs={"number": ticket.number}), {"priority": "40"}, follow=True
    )

    assert flash_messages(response) == ["Priority changed."]
    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.URGENT
    assert ticket.events.get(verb="priority_changed").data == {"from": 20, "to": 40}


def test_tags_are_set_from_a_comma_separated_list(agent_client, make_ticket):
    ticket = make_ticket()

    response = agent_client.post(
        reverse("dashboard:ticket_tags", kwargs={"number": ticket.number}),
        {"tags": "defect, batch-42，defect, "},
        follow=True,
    )

    assert flash_messages(response) == ["Tags saved."]
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["batch-42", "defect"]
    assert ticket.events.get(verb="tags_changed").data == {"from": [], "to": ["batch-42", "defect"]}
    assert 'value="batch-42, defect"' in response.content.decode()


# --- a ticket typed in by staff -------------------------------------------------------------------


def test_the_new_ticket_page_renders(agent_client):
    response = agent_client.get(reverse("dashboard:ticket_new"))

    assert response.status_code == 200
    assert {value for value, _label in response.context["form"].fields["channel"].choices} == {
        "phone",
        "email",
        "staff",
    }


def test_a_phone_call_opens_a_ticket_for_a_new_customer_on_a_known_order(agent_client, agent, merchant, order):
    response = agent_client.post(
        reverse("dashboard:ticket_new"),
        {
            "kind": "repair",
            "channel": "phone",
            "priority": "30",
            "subject": "Stove does not ignite",
            "body": "Caller says the igniter clicks but no flame.",
            "customer_phone": "139 0000 1111",
            "customer_name": "Wang Fang",
            "order_number": order.external_number,
            "assign_to_me": "on",
        },
        follow=True,
    )

    ticket = Ticket.objects.get(merchant=merchant, subject="Stove does not ignite")
    assert response.redirect_chain == [(reverse("dashboard:ticket", kwargs={"number": ticket.number}), 302)]
    assert flash_messages(response) == [f"Ticket {ticket.number} opened."]
    assert ticket.number == "RP-000001"
    assert (ticket.kind, ticket.channel, ticket.priority, ticket.status) == ("repair", "phone", 30, "new")
    assert (ticket.order_id, ticket.assignee_id) == (order.pk, agent.pk)
    customer = Customer.objects.get(merchant=merchant, phone="+8613900001111")
    assert (ticket.customer_id, customer.name) == (customer.pk, "Wang Fang")
    created = ticket.events.get()
    assert (created.verb, created.actor_user_id, created.data["channel"]) == ("created", agent.pk, "phone")
    assert ticket.messages.get().body == "Caller says the igniter clicks but no flame."


def test_a_new_ticket_finds_a_known_customer_by_email(agent_client, merchant, order):
    agent_client.post(
        reverse("dashboard:ticket_new"),
        {
            "kind": "inquiry",
            "channel": "email",
            "priority": "20",
            "subject": "Size chart",
            "body": "Which size fits 180 cm?",
            "customer_email": order.customer.email.upper(),
        },
    )

    ticket = Ticket.objects.get(merchant=merchant, subject="Size chart")
    assert (ticket.customer_id, ticket.order_id, ticket.assignee_id) == (order.customer_id, None, None)
    assert Customer.objects.filter(merchant=merchant).count() == 1


def test_a_new_ticket_takes_the_customer_of_the_order_when_no_contact_is_given(agent_client, merchant, order):
    agent_client.post(
        reverse("dashboard:ticket_new"),
        {
            "kind": "return",
            "channel": "staff",
            "priority": "20",
            "subject": "Wrong colour",
            "body": "Ordered green, got red.",
            "order_number": order.external_number,
        },
    )

    ticket = Ticket.objects.get(merchant=merchant, subject="Wrong colour")
    assert (ticket.customer_id, ticket.order_id, ticket.store_id) == (order.customer_id, order.pk, order.store_id)


def test_a_new_ticket_with_an_unknown_order_number_or_no_customer_is_refused(agent_client, merchant):
    unknown_order = agent_client.post(
        reverse("dashboard:ticket_new"),
        {"kind": "return", "channel": "phone", "priority": "20", "subject": "x", "body": "y", "order_number": "404"},
    )
    no_customer = agent_client.post(
        reverse("dashboard:ticket_new"),
        {"kind": "return", "channel": "phone", "priority": "20", "subject": "x", "body": "y"},
    )
    bad_phone = agent_client.post(
        reverse("dashboard:ticket_new"),
        {"kind": "return", "channel": "phone", "priority": "20", "subject": "x", "body": "y", "customer_phone": "12"},
    )

    assert unknown_order.status_code == 400
    assert unknown_order.context["form"].errors == {"order_number": ["No order with this number."]}
    assert no_customer.context["form"].non_field_errors() == [
        "Give the customer's e-mail or phone, or the order number to take the customer from."
    ]
    assert bad_phone.context["form"].errors == {"customer_phone": ["This is not a valid phone number."]}
    assert Ticket.objects.filter(merchant=merchant).count() == 0


def test_a_new_ticket_asks_for_the_store_when_two_stores_share_an_order_number(agent_client, merchant, order):
    twin = OrderFactory(merchant=merchant, external_number=order.external_number)

    ambiguous = agent_client.post(
        reverse("dashboard:ticket_new"),
        {
            "kind": "return",
            "channel": "phone",
            "priority": "20",
            "subject": "x",
            "body": "y",
            "order_number": order.external_number,
        },
    )
    picked = agent_client.post(
        reverse("dashboard:ticket_new"),
        {
            "kind": "return",
            "channel": "phone",
            "priority": "20",
            "subject": "Twin",
            "body": "y",
            "order_number": order.external_number,
            "store": str(twin.store_id),
        },
    )

    assert ambiguous.context["form"].errors == {
        "store": ["Several stores have an order with this number: pick the store."]
    }
    assert picked.status_code == 302
    assert Ticket.objects.get(merchant=merchant, subject="Twin").order_id == twin.pk


def test_a_refused_new_ticket_leaves_no_customer_behind(agent_client, merchant):
    fake = SimpleUploadedFile("scan.pdf", b"not a pdf at all", content_type="application/pdf")

    response = agent_client.post(
        reverse("dashboard:ticket_new"),
        {
            "kind": "support",
            "channel": "phone",
            "priority": "20",
            "subject": "x",
            "body": "y",
            "customer_email": "new@example.com",
            "files": [fake],
        },
    )

    assert response.status_code == 400
    assert flash_messages(response) == ["scan.pdf is not the kind of file its name says."]
    assert Customer.objects.filter(merchant=merchant, email="new@example.com").exists() is False
    assert Ticket.objects.filter(merchant=merchant).count() == 0


# --- attachments ----------------------------------------------------------------------------------


def test_an_image_attachment_opens_inline_with_its_type(agent_client, make_ticket, png_upload):
    ticket = make_ticket(files=[png_upload("pole.png")])
    attachment = Attachment.objects.get(ticket=ticket)

    response = agent_client.get(reverse("dashboard:attachment", kwargs={"pk": attachment.pk}))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="pole.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == attachment.file.open("rb").read()


def test_any_other_attachment_downloads(agent_client, agent, make_ticket, pdf_upload, pdf_bytes):
    ticket = make_ticket()
    ticket_note(ticket=ticket, actor=agent, body="Invoice", files=[pdf_upload("发票.pdf")])
    attachment = Attachment.objects.get(ticket=ticket)

    response = agent_client.get(reverse("dashboard:attachment", kwargs={"pk": attachment.pk}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == pdf_bytes


def test_a_missing_attachment_is_404(agent_client):
    assert agent_client.get(reverse("dashboard:attachment", kwargs={"pk": 999999})).status_code == 404


# --- the merchant switcher ------------------------------------------------------------------------


def test_the_switcher_moves_a_user_between_their_merchants(client, agent, merchant):
    other = MerchantFactory(name="Zeta Outdoor")
    MembershipFactory(merchant=other, user=agent, role=Membership.Role.SUPERVISOR)
    theirs = TicketFactory(merchant=other)
    ours = TicketFactory(merchant=merchant)
    client.force_login(agent)
    assert _queue_numbers(client.get(reverse("dashboard:queue"))) == [ours.number]

    response = client.post(reverse("dashboard:switch_merchant"), {"merchant": str(other.pk)}, follow=True)

    assert client.session[SESSION_MERCHANT_KEY] == other.pk
    assert flash_messages(response) == ["You are now working for Zeta Outdoor."]
    assert _queue_numbers(response) == [theirs.number]
    html = response.content.decode()
    assert 'id="merchant-select"' in html
    assert "Supervisor" in html


# session, user, memberships (with the switcher's); the ticket with what its boxes list beside it (its
# tags and the merchant's, staff, teams, macros, support settings, the customer's other cases, links,
# possible duplicates); order lines; the timers (SLA clocks, my reminder, a pending close; a ticket
# without an SLA policy has no pauses or calendars to read); the timeline with each message's attachments
TICKET_PAGE_QUERIES = 7


@pytest.mark.parametrize("replies", [1, 8])
def test_the_ticket_page_costs_the_same_queries_however_long_the_timeline(
    agent_client, agent, make_ticket, replies, django_assert_num_queries, png_upload
):
    ticket = make_ticket(files=[png_upload()])
    for i in range(replies):
        ticket_reply(ticket=ticket, actor=agent, body=f"Reply {i}", files=[png_upload(f"r{i}.png")])
        ticket_note(ticket=ticket, actor=agent, body=f"Note {i}")
    ticket_assign(ticket=ticket, actor=agent, assignee=agent)

    with django_assert_num_queries(TICKET_PAGE_QUERIES):
        response = agent_client.get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))

    assert response.status_code == 200
    assert len(response.context["timeline"]) == 1 + 2 * replies + 1 + 1  # created, replies and notes, open, assigned


def test_the_ticket_page_of_a_twenty_message_conversation_reads_at_most_eight_queries(
    agent_client, agent, make_ticket, django_assert_max_num_queries, png_upload
):
    # Given a conversation of 20 messages after the opening one (the customer's, replies, internal
    # notes), a third of them with a file, as the bench's ticket page has
    ticket = make_ticket(files=[png_upload("opening.png")])
    files = 1
    for index in range(20):
        body = f"Message {index + 1} <b>of</b> the conversation"
        attached = [png_upload(f"m{index + 1}.png")] if index % 3 == 0 else []
        files += len(attached)
        match index % 4:
            case 0 | 2:
                ticket_customer_message(ticket=ticket, customer=ticket.customer, body=body, files=attached)
            case 1:
                ticket_reply(ticket=ticket, actor=agent, body=body, files=attached)
            case _:
                ticket_note(ticket=ticket, actor=agent, body=body, files=attached)

    # When an agent opens its page
    with django_assert_max_num_queries(8):
        response = agent_client.get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))

    # Then every message and every file is on it, in order, the bodies escaped
    assert response.status_code == 200
    page = response.content.decode()
    positions = [page.index(f"Message {index + 1} &lt;b&gt;of&lt;/b&gt; the conversation<") for index in range(20)]
    assert positions == sorted(positions)
    assert "<b>of</b>" not in page
    assert page.count('class="attachments__name"') == files == 8
    assert [f"m{index + 1}.png" in page for index in range(20)] == [index % 3 == 0 for index in range(20)]
