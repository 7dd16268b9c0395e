"""The case API: reading, opening and working tickets with an API key or a staff session."""

import itertools

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from aftersales.models import ApiKey, Customer, Membership, User
from aftersales.services.api_keys import api_key_actor
from aftersales.tests.factories import CustomerFactory, MembershipFactory, MerchantFactory, api_key_for
from tickets.api.filters import TicketFilter
from tickets.api.serializers import TicketOutputSerializer
from tickets.models import Attachment, Message, Ticket, TicketChannel, TicketEvent, TicketKind, TicketStatus
from tickets.selectors import tickets_for_api, tickets_listed_for_api
from tickets.services import ticket_change_status
from tickets.tests.factories import TagFactory, TeamFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_key(merchant):
    key, full_key = api_key_for(merchant, name="Shop sync")
    return key, full_key


@pytest.fixture
def client(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key[1]}")
    return client


@pytest.fixture
def staff_client(agent):
    client = APIClient()
    client.force_login(agent)
    return client


def _url(name, ticket=None):
    return reverse(f"api:{name}", kwargs={"number": ticket.number}) if ticket else reverse(f"api:{name}")


def _counts(ticket):
    return ticket.events.count(), ticket.messages.count()


# --- list ----------------------------------------------------------------------------------------


def test_the_list_shows_the_merchants_tickets_newest_first(client, make_ticket):
    # Given three tickets opened one after the other
    first, second, third = make_ticket(subject="one"), make_ticket(subject="two"), make_ticket(subject="three")

    # When the integration lists tickets
    response = client.get(_url("ticket-list"))

    # Then it sees all three, newest first, with their customer and order
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["number"] for row in rows] == [third.number, second.number, first.number]
    assert rows[0]["customer"]["id"] == third.customer_id
    assert rows[0]["order"]["number"] == third.order.external_number
    assert rows[0]["status"] == TicketStatus.NEW


def test_the_list_pages_by_cursor(client, make_ticket):
    tickets = [make_ticket(subject=f"case {n}") for n in range(3)]

    page_one = client.get(_url("ticket-list"), {"page_size": 2}).json()
    page_two = client.get(page_one["next"]).json()

    assert [row["number"] for row in page_one["results"]] == [tickets[2].number, tickets[1].number]
    assert [row["number"] for row in page_two["results"]] == [tickets[0].number]
    assert page_two["next"] is None


def test_the_list_filters_by_kind_status_priority_assignee_customer_order_and_q(
    client, make_ticket, agent, order, merchant
):
    support = make_ticket(kind=TicketKind.SUPPORT)
    other_customer = CustomerFactory(merchant=merchant, email="li.lei@example.com", name="Li Lei")
    complaint = make_ticket(kind=TicketKind.COMPLAINT, customer=other_customer, order=None, priority=40)
    ticket_change_status(ticket=complaint, actor=agent, status=TicketStatus.OPEN)
    Ticket.objects.filter(pk=support.pk).update(assignee=agent)

    def numbers(**params):
        response = client.get(_url("ticket-list"), params)
        assert response.status_code == 200
        return [row["number"] for row in response.json()["results"]]

    assert numbers(kind="complaint") == [complaint.number]
    assert numbers(status=["new", "waiting_customer"]) == [support.number]
    assert numbers(priority=40) == [complaint.number]
    assert numbers(assignee=agent.pk) == [support.number]
    assert numbers(unassigned="true") == [complaint.number]
    assert numbers(customer=other_customer.pk) == [complaint.number]
    assert numbers(order_number=order.external_number) == [support.number]
    assert numbers(q="li.lei@example.com") == [complaint.number]
    assert numbers(q=support.number.lower()) == [support.number]


@pytest.mark.parametrize("count", [10, 100])
@pytest.mark.parametrize(
    ("caller", "queries"),
    [
        ("api_key", 3),  # the key; the tickets with customer, order, store, assignee, team; their tags
        ("staff", 5),  # the session, the user, the membership; then the same two
    ],
)
def test_the_list_costs_the_same_queries_at_10_and_at_100_tickets(
    client, staff_client, api_key, merchant, agent, count, caller, queries, django_assert_num_queries
):
    # Given tickets with assignees, teams, orders and tags, and a key used a moment ago
    team = TeamFactory(merchant=merchant)
    tags = TagFactory.create_batch(2, merchant=merchant)
    for ticket in TicketFactory.create_batch(count, merchant=merchant, assignee=agent, team=team):
        ticket.tags.set(tags)
    ApiKey.objects.filter(pk=api_key[0].pk).update(last_used_at=timezone.now())
    caller_client = client if caller == "api_key" else staff_client

    # When a page of 100 is listed
    with django_assert_num_queries(queries):
        response = caller_client.get(_url("ticket-list"), {"page_size": 100})

    assert response.status_code == 200
    assert len(response.json()["results"]) == count
    assert response.json()["results"][0]["tags"] == sorted(tag.name for tag in tags)
    assert response.json()["results"][0]["assignee"]["id"] == agent.pk


def test_a_list_that_names_no_filter_builds_no_filterset_and_one_that_does_is_filtered(client, merchant, monkeypatch):
    # Given an open and a resolved ticket, and the filterset counting its uses
    open_ticket = TicketFactory(merchant=merchant, status=TicketStatus.OPEN)
    resolved = TicketFactory(merchant=merchant, status=TicketStatus.RESOLVED)
    built = []
    original = TicketFilter.__init__

    def counting_init(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(TicketFilter, "__init__", counting_init)

    # When the list is read with no filter (a cursor's page size is not one), every ticket, no filterset
    response = client.get(_url("ticket-list"), {"page_size": 10})
    assert response.status_code == 200
    assert {row["number"] for row in response.json()["results"]} == {open_ticket.number, resolved.number}
    assert built == []

    # When it names a filter, the filterset filters; a bad value is the API's 400
    response = client.get(_url("ticket-list"), {"status": TicketStatus.RESOLVED})
    assert [row["number"] for row in response.json()["results"]] == [resolved.number]
    assert client.get(_url("ticket-list"), {"created_after": "yesterday"}).status_code == 400
    assert len(built) == 2


def test_a_technician_lists_only_the_repairs_assigned_to_them(merchant, make_ticket):
    technician = MembershipFactory(merchant=merchant, role=Membership.Role.TECHNICIAN).user
    mine = make_ticket(kind=TicketKind.REPAIR, assignee=technician)
    make_ticket(kind=TicketKind.REPAIR)
    make_ticket(kind=TicketKind.SUPPORT, assignee=technician)
    client = APIClient()
    client.force_login(technician)

    response = client.get(_url("ticket-list"))

    assert [row["number"] for row in response.json()["results"]] == [mine.number]


# --- create --------------------------------------------------------------------------------------


def test_opening_a_ticket_for_a_known_customer_and_order_lines(client, api_key, order):
    line = order.lines.get(line_number="2")

    response = client.post(
        _url("ticket-list"),
        {
            "kind": "return",
            "subject": "Wrong size",
            "body": "The mat is too short.",
            "customer": order.customer_id,
            "order": order.pk,
            "order_lines": [line.pk],
            "priority": 30,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get(number=response.json()["number"])
    assert (ticket.kind, ticket.channel, ticket.priority, ticket.status) == ("return", TicketChannel.API, 30, "new")
    assert (ticket.customer_id, ticket.order_id, ticket.store_id) == (order.customer_id, order.pk, order.store_id)
    assert list(ticket.order_lines.all()) == [line]
    assert ticket.messages.get().body == "The mat is too short."
    event = ticket.events.get()
    assert (event.verb, event.actor_user.username) == (TicketEvent.Verb.CREATED, f"api-{api_key[0].prefix}")
    assert response.json()["order_lines"][0]["line_number"] == "2"
    assert [entry["verb"] for entry in response.json()["timeline"]] == ["created"]


def test_opening_a_ticket_by_phone_creates_the_customer(client, merchant):
    response = client.post(
        _url("ticket-list"),
        {
            "kind": "inquiry",
            "subject": "Opening hours",
            "body": "When are you open?",
            "customer_phone": "138 0000 1111",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    customer = Customer.objects.get(merchant=merchant, phone="+8613800001111")
    assert Ticket.objects.get(number=response.json()["number"]).customer == customer


def test_opening_a_ticket_with_only_an_order_uses_the_orders_customer(client, order):
    response = client.post(
        _url("ticket-list"),
        {"kind": "support", "subject": "Help", "body": "It rattles.", "order": order.pk},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["customer"]["id"] == order.customer_id


def test_opening_a_ticket_with_a_line_of_another_order_is_refused_and_writes_nothing(client, order, merchant):
    from aftersales.tests.factories import OrderLineFactory

    stranger_line = OrderLineFactory(order__merchant=merchant)

    response = client.post(
        _url("ticket-list"),
        {"kind": "return", "subject": "x", "body": "y", "order": order.pk, "order_lines": [stranger_line.pk]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "lines_not_on_order"
    assert Ticket.objects.count() == 0


def test_a_customer_made_up_by_contact_is_not_kept_when_the_ticket_is_refused(client, merchant):
    from django.core.files.uploadedfile import SimpleUploadedFile

    # Given a request for a new customer whose file is not what its name says
    response = client.post(
        _url("ticket-list"),
        {
            "kind": "support",
            "subject": "Broken",
            "body": "See photo",
            "customer_email": "new.buyer@example.com",
            "attachments": [SimpleUploadedFile("photo.jpg", b"not a jpeg at all")],
        },
        format="multipart",
    )

    # Then the ticket is refused, and the customer it would have created does not remain
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "attachment_mismatch"
    assert Ticket.objects.count() == 0
    assert not Customer.objects.filter(merchant=merchant, email="new.buyer@example.com").exists()


def test_opening_a_ticket_without_any_customer_is_refused(client):
    response = client.post(_url("ticket-list"), {"kind": "support", "subject": "x", "body": "y"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert Ticket.objects.count() == 0


# --- detail and messages -------------------------------------------------------------------------


def test_the_detail_shows_order_tags_and_the_whole_timeline_with_notes(client, make_ticket, agent):
    ticket = make_ticket()
    client.post(_url("ticket-messages", ticket), {"kind": "note", "body": "Check stock first."}, format="json")
    client.post(_url("ticket-tags", ticket), {"tags": ["vip"]}, format="json")

    response = client.get(_url("ticket-detail", ticket))

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == ticket.number
    assert body["order"]["number"] == ticket.order.external_number
    assert body["order"]["store"]["id"] == ticket.order.store_id
    assert body["tags"] == ["vip"]
    assert [(entry["verb"], entry["is_public"]) for entry in body["timeline"]] == [
        ("created", True),
        ("note", False),
        ("tags_changed", False),
    ]


def test_the_detail_finds_a_ticket_by_its_number_in_any_case(client, make_ticket):
    ticket = make_ticket()

    response = client.get(reverse("api:ticket-detail", kwargs={"number": ticket.number.lower()}))

    assert response.status_code == 200
    assert response.json()["number"] == ticket.number


def test_messages_list_includes_internal_notes(client, make_ticket):
    ticket = make_ticket()
    client.post(_url("ticket-messages", ticket), {"kind": "note", "body": "Internal."}, format="json")
    client.post(_url("ticket-messages", ticket), {"kind": "reply", "body": "We are on it."}, format="json")

    response = client.get(_url("ticket-messages", ticket))

    assert response.status_code == 200
    assert [(row["kind"], row["is_public"]) for row in response.json()["results"]] == [
        ("customer", True),
        ("note", False),
        ("reply", True),
    ]


def test_a_reply_opens_a_new_ticket_and_adds_one_message_and_one_event_each(client, make_ticket):
    ticket = make_ticket()
    events, messages = _counts(ticket)

    response = client.post(_url("ticket-messages", ticket), {"kind": "reply", "body": "Sending a new pole."})

    assert response.status_code == 201
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.first_responded_at is not None
    assert _counts(ticket) == (events + 2, messages + 1)  # the reply, and the status change
    assert response.json()["kind"] == "reply"
    assert response.json()["author_user"]["username"].startswith("api-")


def test_a_reply_can_set_the_status_it_leaves_the_ticket_in(staff_client, make_ticket, agent):
    ticket = make_ticket()

    response = staff_client.post(
        _url("ticket-messages", ticket),
        {"kind": "reply", "body": "Can you send a photo?", "status": "waiting_customer"},
        format="json",
    )

    assert response.status_code == 201
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_CUSTOMER
    assert Message.objects.get(pk=response.json()["id"]).author_user == agent


def test_a_note_changes_no_status_and_adds_one_message_and_one_event(client, make_ticket):
    ticket = make_ticket()
    events, messages = _counts(ticket)

    response = client.post(_url("ticket-messages", ticket), {"kind": "note", "body": "Call the carrier."})

    assert response.status_code == 201
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW
    assert _counts(ticket) == (events + 1, messages + 1)
    assert response.json()["is_public"] is False


def test_a_note_with_a_status_is_refused(client, make_ticket):
    ticket = make_ticket()
    events, messages = _counts(ticket)

    response = client.post(
        _url("ticket-messages", ticket), {"kind": "note", "body": "x", "status": "open"}, format="json"
    )

    assert response.status_code == 400
    assert _counts(ticket) == (events, messages)


def test_a_reply_on_a_closed_ticket_is_refused_with_409_and_nothing_changes(client, make_ticket, agent):
    ticket = make_ticket()
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.CANCELLED)
    events, messages = _counts(ticket)

    response = client.post(_url("ticket-messages", ticket), {"kind": "reply", "body": "Hello?"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "transition_not_allowed"
    assert _counts(ticket) == (events, messages)


def test_a_reply_with_a_photo_as_multipart_stores_the_attachment(client, make_ticket, png_upload):
    ticket = make_ticket()

    response = client.post(
        _url("ticket-messages", ticket),
        {"kind": "reply", "body": "Here is the label.", "attachments": [png_upload("label.png")]},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    attachment = Attachment.objects.get(ticket=ticket)
    assert (attachment.original_name, attachment.content_type, attachment.message_id) == (
        "label.png",
        "image/png",
        response.json()["id"],
    )
    assert response.json()["attachments"][0]["original_name"] == "label.png"


def test_a_file_that_is_not_what_its_name_says_is_refused_and_nothing_is_written(client, make_ticket):
    from django.core.files.uploadedfile import SimpleUploadedFile

    ticket = make_ticket()
    events, messages = _counts(ticket)

    response = client.post(
        _url("ticket-messages", ticket),
        {"kind": "reply", "body": "x", "attachments": [SimpleUploadedFile("evil.png", b"MZ not a png")]},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "attachment_mismatch"
    assert _counts(ticket) == (events, messages)
    assert Attachment.objects.count() == 0


# --- actions -------------------------------------------------------------------------------------


def test_assign_sets_assignee_and_team_and_appends_one_event(client, make_ticket, agent, merchant):
    ticket = make_ticket()
    team = TeamFactory(merchant=merchant)
    events, messages = _counts(ticket)

    response = client.post(_url("ticket-assign", ticket), {"assignee": agent.pk, "team": team.pk}, format="json")

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.team_id, ticket.status) == (agent.pk, team.pk, TicketStatus.NEW)
    assert _counts(ticket) == (events + 1, messages)
    assert response.json()["assignee"]["id"] == agent.pk
    assert response.json()["team"] == {"id": team.pk, "name": team.name}


def test_assign_to_null_unassigns(client, make_ticket, agent):
    ticket = make_ticket(assignee=agent)

    response = client.post(_url("ticket-assign", ticket), {"assignee": None}, format="json")

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee_id is None
    assert response.json()["assignee"] is None


def test_assign_to_someone_who_is_not_staff_is_refused_and_nothing_changes(client, make_ticket):
    ticket = make_ticket()
    events, _messages = _counts(ticket)
    outsider = MembershipFactory().user  # staff of another merchant

    response = client.post(_url("ticket-assign", ticket), {"assignee": outsider.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_assignee"
    ticket.refresh_from_db()
    assert ticket.assignee_id is None
    assert ticket.events.count() == events


def test_status_change_moves_the_ticket_and_records_the_note(client, make_ticket):
    ticket = make_ticket()
    events, messages = _counts(ticket)

    response = client.post(
        _url("ticket-status", ticket), {"status": "resolved", "note": "Replaced under warranty."}, format="json"
    )

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert ticket.resolved_at is not None
    assert _counts(ticket) == (events + 1, messages)
    event = ticket.events.latest("id")
    assert event.data == {"from": "new", "to": "resolved", "note": "Replaced under warranty."}
    assert response.json()["status"] == "resolved"


def test_a_status_change_the_table_does_not_allow_is_409_and_changes_nothing(client, make_ticket, agent):
    ticket = make_ticket()
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.CANCELLED)
    ticket.refresh_from_db()
    events, messages = _counts(ticket)
    changed_at = ticket.status_changed_at

    response = client.post(_url("ticket-status", ticket), {"status": "open"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "transition_not_allowed"
    assert response.json()["error"]["details"] == {"from": "cancelled", "to": "open"}
    ticket.refresh_from_db()
    assert (ticket.status, ticket.status_changed_at) == (TicketStatus.CANCELLED, changed_at)
    assert _counts(ticket) == (events, messages)


def test_an_unknown_status_is_400_and_changes_nothing(client, make_ticket):
    ticket = make_ticket()
    events, _messages = _counts(ticket)

    response = client.post(_url("ticket-status", ticket), {"status": "exploded"}, format="json")

    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW
    assert ticket.events.count() == events


def test_priority_change_sets_the_priority_and_appends_one_event(client, make_ticket):
    ticket = make_ticket()
    events, messages = _counts(ticket)

    response = client.post(_url("ticket-priority", ticket), {"priority": 40}, format="json")

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.priority == 40
    assert _counts(ticket) == (events + 1, messages)
    assert ticket.events.latest("id").data == {"from": 20, "to": 40}


def test_an_unknown_priority_is_400(client, make_ticket):
    ticket = make_ticket()

    response = client.post(_url("ticket-priority", ticket), {"priority": 99}, format="json")

    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.priority == 20


def test_tags_replace_the_set_and_append_one_event(client, make_ticket, merchant):
    ticket = make_ticket()
    ticket.tags.set([TagFactory(merchant=merchant, name="old")])
    events, messages = _counts(ticket)

    response = client.post(_url("ticket-tags", ticket), {"tags": ["vip", "fragile", "vip"]}, format="json")

    assert response.status_code == 200
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["fragile", "vip"]
    assert _counts(ticket) == (events + 1, messages)
    assert response.json()["tags"] == ["fragile", "vip"]


# --- who acts ------------------------------------------------------------------------------------


def test_an_api_key_acts_as_one_integration_user_that_cannot_log_in(client, api_key, make_ticket, merchant):
    ticket = make_ticket()

    client.post(_url("ticket-priority", ticket), {"priority": 30}, format="json")
    client.post(_url("ticket-messages", ticket), {"kind": "note", "body": "Synced."}, format="json")

    actor = User.objects.get(username=f"api-{api_key[0].prefix}")
    assert not actor.has_usable_password()
    assert Membership.objects.get(user=actor).merchant == merchant
    assert Membership.objects.get(user=actor).role == Membership.Role.AGENT
    assert set(ticket.events.exclude(verb="created").values_list("actor_user", flat=True)) == {actor.pk}
    assert api_key_actor(api_key=api_key[0]) == actor


def test_a_key_never_takes_over_a_person_account_that_has_its_user_name(client, api_key, make_ticket):
    person = User.objects.create_user(username=f"api-{api_key[0].prefix}", password="pass-word-123")
    ticket = make_ticket()
    events, messages = _counts(ticket)

    response = client.post(_url("ticket-messages", ticket), {"kind": "note", "body": "x"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "api_actor_taken"
    assert not Membership.objects.filter(user=person).exists()
    assert _counts(ticket) == (events, messages)


def test_a_key_whose_integration_membership_was_deactivated_cannot_write(client, api_key, make_ticket):
    ticket = make_ticket()
    actor = api_key_actor(api_key=api_key[0])
    Membership.objects.filter(user=actor).update(is_active=False)
    events, messages = _counts(ticket)

    reply = client.post(_url("ticket-messages", ticket), {"kind": "reply", "body": "Hi"}, format="json")
    read = client.get(_url("ticket-detail", ticket))

    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "permission_denied"
    assert _counts(ticket) == (events, messages)
    assert read.status_code == 200


def test_a_revoked_key_gets_401(api_key, make_ticket):
    from aftersales.services.api_keys import api_key_revoke

    ticket = make_ticket()
    api_key_revoke(api_key=api_key[0])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key[1]}")

    listed = client.get(_url("ticket-list"))
    written = client.post(_url("ticket-status", ticket), {"status": "open"}, format="json")

    assert (listed.status_code, written.status_code) == (401, 401)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_without_credentials_the_api_answers_401(make_ticket):
    response = APIClient().get(_url("ticket-list"))

    assert response.status_code == 401


def test_a_staff_action_is_recorded_under_the_staff_member(staff_client, make_ticket, agent):
    ticket = make_ticket()

    response = staff_client.post(_url("ticket-priority", ticket), {"priority": 10}, format="json")

    assert response.status_code == 200
    assert ticket.events.latest("id").actor_user == agent
    assert not User.objects.filter(username__startswith="api-").exists()


def test_the_ticket_summary_writes_what_drf_writes_field_for_field(
    merchant, agent, make_ticket, django_assert_num_queries
):
    # Given tickets with and without each related row, in two time zones
    bare = TicketFactory(merchant=merchant, subject="Bare")
    full = make_ticket()
    full.assignee = agent
    full.team = TeamFactory(merchant=merchant, name="Desk")
    full.first_responded_at = timezone.now()
    full.next_deadline_at = timezone.now()
    full.save()
    full.tags.add(TagFactory(merchant=merchant, name="b-tag"), TagFactory(merchant=merchant, name="a-tag"))
    for zone, read in itertools.product(("UTC", "Asia/Shanghai"), (tickets_for_api, tickets_listed_for_api)):
        with timezone.override(zone):
            # (the list's read brings only the columns the summary shows: DRF's way reads no more)
            tickets = list(read(merchant=merchant).filter(pk__in=[bare.pk, full.pk]).order_by("pk"))
            serializer = TicketOutputSerializer(tickets, many=True)

            # When the list is written the fast way, and DRF's way (neither reads a deferred column)
            with django_assert_num_queries(0):
                fast = serializer.data
                drf = [serializers.ModelSerializer.to_representation(serializer.child, ticket) for ticket in tickets]

            # Then they are the same, key for key and in the same order
            assert [list(row.items()) for row in fast] == [list(row.items()) for row in drf]
    assert fast[1]["tags"] == ["a-tag", "b-tag"]
    assert fast[1]["assignee"]["id"] == agent.pk
    assert fast[0]["order"] is None
    assert fast[0]["assignee"] is None
    assert fast[0]["team"] is None


def test_the_list_written_from_plain_rows_is_what_drf_writes_field_for_field(merchant, agent, make_ticket, client):
    # Given tickets with and without each related row, one with two tags, and an assignee known
    # only by a username, in the list of an API key's merchant
    bare = TicketFactory(merchant=merchant, subject="Bare")
    full = make_ticket()
    full.assignee = agent
    full.team = TeamFactory(merchant=merchant, name="Desk")
    full.first_responded_at = timezone.now()
    full.next_deadline_at = timezone.now()
    full.save()
    full.tags.add(TagFactory(merchant=merchant, name="b-tag"), TagFactory(merchant=merchant, name="a-tag"))
    nameless = User.objects.create_user(username="no-name")
    MembershipFactory(merchant=merchant, user=nameless)
    third = make_ticket()
    third.assignee = nameless
    third.save()
    for zone in ("UTC", "Asia/Shanghai"):
        with timezone.override(zone):
            # When each ticket is written DRF's way, and the list is read through the API (in the
            # same zone: the request ends by leaving the zone to the settings')
            serializer = TicketOutputSerializer()
            drf = [
                serializers.ModelSerializer.to_representation(serializer, ticket)
                for ticket in tickets_for_api(merchant=merchant).order_by("-created_at", "-id")
            ]
            listed = client.get(_url("ticket-list")).json()["results"]

            # Then the page is the same, key for key and in the same order
            assert [list(row.items()) for row in listed] == [list(row.items()) for row in drf]
    assert [row["number"] for row in listed] == [third.number, full.number, bare.number]
    assert listed[0]["assignee"] == {"id": nameless.pk, "username": "no-name", "name": "no-name"}
    assert listed[1]["tags"] == ["a-tag", "b-tag"]
    assert listed[1]["assignee"]["name"] == str(agent)
    assert listed[2]["tags"] == []
    assert (listed[2]["order"], listed[2]["assignee"], listed[2]["team"]) == (None, None, None)


def test_the_list_lists_only_the_tags_of_its_own_tickets(merchant, make_ticket, client):
    # Given a ticket of this merchant and one of another merchant, each tagged
    mine = make_ticket()
    mine.tags.add(TagFactory(merchant=merchant, name="mine"))
    other_merchant = MerchantFactory()
    theirs = TicketFactory(merchant=other_merchant)
    theirs.tags.add(TagFactory(merchant=other_merchant, name="theirs"))

    # When the API key's merchant lists its tickets
    listed = client.get(_url("ticket-list")).json()["results"]

    # Then it sees its own ticket with its own tag, and nothing of the other merchant
    assert [(row["number"], row["tags"]) for row in listed] == [(mine.number, ["mine"])]
