"""The queue's tools: one change for many tickets through the services of one (one event per
ticket; a refusal leaves that ticket as it was, the others change, and the page names it), and
saved views, the member's own or shared with a team they are on, each with its count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.models import Membership
from aftersales.tests.builders import flash_messages
from aftersales.tests.factories import CustomerFactory, MembershipFactory, OrderFactory
from tickets.models import SavedView, Ticket, TicketEvent, TicketPriority, TicketStatus
from tickets.selectors import saved_views as saved_views_selectors
from tickets.selectors import saved_views_counted
from tickets.services import ticket_change_status, ticket_set_tags
from tickets.tests.factories import TeamFactory, TicketFactory

pytestmark = pytest.mark.usefixtures("private_storage")


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def three(make_ticket):
    return [make_ticket(subject=f"Case {i}") for i in range(3)]


def bulk(client, numbers, back="", **data):
    return client.post(
        reverse("dashboard:queue_bulk"), {"tickets": numbers, "back": back or reverse("dashboard:queue"), **data}
    )


def events(ticket, verb) -> int:
    return TicketEvent.objects.filter(ticket=ticket, verb=verb).count()


# --- bulk changes ---------------------------------------------------------------------------------


def test_assigning_three_tickets_assigns_each_with_one_event(agent_client, agent, three):
    response = bulk(agent_client, [t.number for t in three], action="assign", assignee=str(agent.pk))

    assert response.status_code == 302
    for ticket in three:
        ticket.refresh_from_db()
        assert ticket.assignee_id == agent.pk
        assert events(ticket, "assigned") == 1
    assert flash_messages(agent_client.get(response["Location"])) == ["3 tickets changed."]


def test_a_refused_ticket_stays_as_it_was_and_the_others_change(agent_client, agent, three):
    # Given one of three tickets already cancelled (a cancelled ticket cannot be resolved)
    first, cancelled, third = three
    ticket_change_status(ticket=cancelled, actor=agent, status=TicketStatus.CANCELLED)
    cancelled.refresh_from_db()
    before = (cancelled.status, TicketEvent.objects.filter(ticket=cancelled).count())

    # When the three are set to resolved at once
    response = bulk(agent_client, [t.number for t in three], action="status", status=TicketStatus.RESOLVED)

    # Then two are resolved, each with its one status event; the cancelled one is untouched
    assert [Ticket.objects.get(pk=t.pk).status for t in (first, third)] == ["resolved", "resolved"]
    cancelled.refresh_from_db()
    assert (cancelled.status, TicketEvent.objects.filter(ticket=cancelled).count()) == before
    assert flash_messages(agent_client.get(response["Location"])) == [
        "2 tickets changed.",
        f"{cancelled.number} was not changed: A ticket that is Cancelled cannot become Resolved.",
    ]


def test_priority_and_a_tag_are_set_on_each_and_a_tag_keeps_the_tags_there(agent_client, agent, three):
    ticket_set_tags(ticket=three[0], actor=agent, names=["vip"])

    bulk(agent_client, [t.number for t in three], action="priority", priority=str(TicketPriority.URGENT))
    bulk(agent_client, [t.number for t in three], action="tag", tag="damaged-box")

    assert [Ticket.objects.get(pk=t.pk).priority for t in three] == [TicketPriority.URGENT] * 3
    assert sorted(three[0].tags.values_list("name", flat=True)) == ["damaged-box", "vip"]
    assert [list(t.tags.values_list("name", flat=True)) for t in three[1:]] == [["damaged-box"], ["damaged-box"]]
    assert [events(t, "tags_changed") for t in three] == [2, 1, 1]


def test_another_merchants_ticket_is_not_found_and_not_changed(agent_client, agent, three):
    other_order = OrderFactory()
    other = Ticket.objects.create(
        merchant=other_order.merchant, customer=other_order.customer, number="SUP-777777", subject="x", kind="support"
    )

    priority_before = other.priority

    response = bulk(agent_client, [three[0].number, other.number], action="priority", priority="40")

    other.refresh_from_db()
    assert other.priority == priority_before
    assert TicketEvent.objects.filter(ticket=other).count() == 0
    assert flash_messages(agent_client.get(response["Location"])) == [
        "1 ticket changed.",
        "SUP-777777 was not changed: No such ticket.",
    ]


def test_nothing_selected_or_nothing_chosen_changes_nothing(agent_client, three):
    before = TicketEvent.objects.count()

    nothing = flash_messages(agent_client.get(bulk(agent_client, [], action="priority", priority="40")["Location"]))
    no_tag = flash_messages(agent_client.get(bulk(agent_client, [three[0].number], action="tag", tag=" ")["Location"]))

    assert TicketEvent.objects.count() == before
    assert nothing == ["Select at least one ticket."]
    assert no_tag == ["Enter the tag to add."]


def test_the_queue_comes_back_with_its_filters_and_never_elsewhere(agent_client, three):
    filtered = reverse("dashboard:queue") + "?status=all&kind=support"

    kept = bulk(agent_client, [three[0].number], back=filtered, action="priority", priority="30")
    elsewhere = bulk(
        agent_client, [three[0].number], back="https://evil.example.com/", action="priority", priority="20"
    )

    assert kept["Location"] == filtered
    assert elsewhere["Location"] == reverse("dashboard:queue")


def test_the_queue_offers_a_box_per_ticket_for_the_bulk_form(agent_client, three):
    page = agent_client.get(reverse("dashboard:queue")).content.decode()

    for ticket in three:
        assert f'name="tickets" value="{ticket.number}" form="queue-bulk"' in page
    assert 'id="queue-bulk"' in page


# --- saved views ----------------------------------------------------------------------------------


def save_view(client, name, team=None, **filters):
    data = {"name": name, "back": reverse("dashboard:queue"), **filters}
    if team is not None:
        data["team"] = str(team.pk)
    return client.post(reverse("dashboard:saved_view_create"), data)


def test_a_saved_view_shows_on_the_queue_with_its_count_and_opens_its_filters(agent_client, agent, three):
    ticket_change_status(ticket=three[0], actor=agent, status=TicketStatus.WAITING_CUSTOMER)

    save_view(agent_client, "Waiting on the customer", status="waiting_customer")

    view = SavedView.objects.get()
    assert (view.owner_id, view.filters, view.team_id) == (agent.pk, {"status": "waiting_customer"}, None)
    page = agent_client.get(reverse("dashboard:queue")).content.decode()
    assert "Waiting on the customer" in page
    assert '<span class="badge saved-views__count">1</span>' in page
    assert f"status=waiting_customer&amp;view={view.pk}" in page


def test_a_view_shared_with_a_team_is_seen_by_its_members_only(client, agent, merchant, three):
    team = TeamFactory(merchant=merchant)
    team.members.add(agent)
    teammate = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    team.members.add(teammate)
    outsider = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    stranger = MembershipFactory(role=Membership.Role.AGENT).user
    client.force_login(agent)
    save_view(client, "Team urgent", team=team, priority=str(TicketPriority.URGENT))

    seen = {}
    for user in (teammate, outsider, stranger):
        client.force_login(user)
        seen[user.pk] = "Team urgent" in client.get(reverse("dashboard:queue")).content.decode()

    assert seen == {teammate.pk: True, outsider.pk: False, stranger.pk: False}


def test_a_view_is_shared_only_with_a_team_the_member_is_on(agent_client, merchant):
    team = TeamFactory(merchant=merchant)

    response = save_view(agent_client, "Theirs", team=team)

    assert SavedView.objects.count() == 0
    assert flash_messages(agent_client.get(response["Location"])) == [
        "Select a valid choice. That choice is not one of the available choices."
    ]


def test_only_the_owner_deletes_a_view(client, agent, merchant):
    team = TeamFactory(merchant=merchant)
    team.members.add(agent)
    teammate = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    team.members.add(teammate)
    client.force_login(agent)
    save_view(client, "Shared", team=team)
    view = SavedView.objects.get()

    client.force_login(teammate)
    refused = client.post(reverse("dashboard:saved_view_delete", args=[view.pk]))
    client.force_login(agent)
    deleted = client.post(reverse("dashboard:saved_view_delete", args=[view.pk]))

    assert refused.status_code == 404
    assert deleted.status_code == 302
    assert SavedView.objects.count() == 0


def test_every_view_is_counted_in_one_statement(agent_client, agent, three):
    for name, status in (("Open", "open"), ("New", "new"), ("All", "all")):
        save_view(agent_client, name, status=status)
    with CaptureQueriesContext(connection) as one_view_less:
        agent_client.get(reverse("dashboard:queue"))
    save_view(agent_client, "Resolved", status="resolved")

    with CaptureQueriesContext(connection) as queries:
        page = agent_client.get(reverse("dashboard:queue")).content.decode()

    assert len(queries.captured_queries) == len(one_view_less.captured_queries)
    assert '<span class="badge saved-views__count">3</span>' in page  # "New" and "All" hold the three


def test_the_filters_apply_on_change_and_keep_a_button_without_javascript(agent_client):
    page = agent_client.get(reverse("dashboard:queue")).content.decode()

    assert "data-apply-on-change" in page
    assert "data-filter-button" in page
    assert "js/queue.js" in page


def test_each_view_counts_exactly_its_tickets_whether_or_not_one_view_holds_every_ticket(agent, merchant, three):
    # Given the three tickets, one resolved and one waiting on the customer, and views of them
    ticket_change_status(ticket=three[0], actor=agent, status=TicketStatus.RESOLVED)
    ticket_change_status(ticket=three[1], actor=agent, status=TicketStatus.WAITING_CUSTOMER)
    membership = Membership.objects.get(merchant=merchant, user=agent)
    views = {
        name: SavedView.objects.create(merchant=merchant, owner=agent, name=name, filters=filters)
        for name, filters in (
            ("Active", {}),
            ("Waiting", {"status": "waiting_customer"}),
            ("Resolved", {"status": "resolved"}),
            ("Mine", {"assignee": "me"}),
        )
    }

    # When the views are counted, then with a view of every ticket added
    counted = {shown.view.name: shown.count for shown in saved_views_counted(membership)}
    SavedView.objects.create(merchant=merchant, owner=agent, name="All", filters={"status": "all"})
    with_all = {shown.view.name: shown.count for shown in saved_views_counted(membership)}

    # Then each count is exactly the tickets its filters hold, either way
    assert counted == {"Active": 2, "Waiting": 1, "Resolved": 1, "Mine": 0}
    assert with_all == {**counted, "All": 3}
    assert set(views) < set(with_all)


def test_the_boxes_of_the_bulk_form_are_labelled_in_the_pages_language(agent_client, three):
    # Given a member reading the queue in Chinese
    agent_client.cookies["aftersales_language"] = "zh-hans"

    # When the queue is read
    page = agent_client.get(reverse("dashboard:queue")).content.decode()

    # Then each ticket's box is labelled in Chinese (its words were never in the catalogs before)
    for ticket in three:
        assert f'aria-label="选择 {ticket.number}"' in page
    assert "Select " not in page


def test_a_views_count_stops_at_the_limit_and_says_there_are_more(agent, merchant, three, monkeypatch):
    # Given views of every ticket (three) and of the new ones, counted exactly up to two
    monkeypatch.setattr(saved_views_selectors, "SAVED_VIEW_COUNT_LIMIT", 2)
    ticket_change_status(ticket=three[0], actor=agent, status=TicketStatus.RESOLVED)
    membership = Membership.objects.get(merchant=merchant, user=agent)
    SavedView.objects.create(merchant=merchant, owner=agent, name="All", filters={"status": "all"})
    SavedView.objects.create(merchant=merchant, owner=agent, name="Resolved", filters={"status": "resolved"})

    # When the views are counted
    counted = {shown.view.name: (shown.count, shown.more) for shown in saved_views_counted(membership)}

    # Then the view of three shows two and more; the view of one shows one
    assert counted == {"All": (2, True), "Resolved": (1, False)}


def test_the_queue_shows_a_count_past_the_limit_with_a_plus(agent_client, agent, merchant, three, monkeypatch):
    monkeypatch.setattr(saved_views_selectors, "SAVED_VIEW_COUNT_LIMIT", 2)
    SavedView.objects.create(merchant=merchant, owner=agent, name="All", filters={"status": "all"})

    page = agent_client.get(reverse("dashboard:queue")).content.decode()

    assert '<span class="badge saved-views__count">2+</span>' in page


def test_each_views_count_reads_at_most_one_ticket_past_the_limit(agent, merchant, three, monkeypatch):
    # Given two views that hold every ticket (three), counted exactly up to one
    monkeypatch.setattr(saved_views_selectors, "SAVED_VIEW_COUNT_LIMIT", 1)
    membership = Membership.objects.get(merchant=merchant, user=agent)
    SavedView.objects.create(merchant=merchant, owner=agent, name="All", filters={"status": "all"})
    SavedView.objects.create(merchant=merchant, owner=agent, name="Active", filters={})

    # When they are counted
    with CaptureQueriesContext(connection) as queries:
        saved_views_counted(membership)

    # Then one statement counts both, and no step of its plan reads more than two tickets
    # (the whole merchant's tickets were read once per load before, ~20,000 rows at 1,000,000 tickets)
    assert len(queries.captured_queries) == 2  # the views, then every count
    counting = queries.captured_queries[1]["sql"]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {counting}")
        plan = cursor.fetchone()[0][0]["Plan"]
    ticket_reads = [node for node in _plan_nodes(plan) if node.get("Relation Name") == "tickets_ticket"]
    assert len(ticket_reads) == 2
    assert [node["Actual Rows"] for node in ticket_reads] == [2, 2]


def _plan_nodes(node):
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def test_the_same_views_of_two_merchants_each_count_their_own_tickets(agent, merchant, three):
    # Given a view searching for the customer of the three tickets, and the same view kept by a
    # member of another merchant, whose customer has the same e-mail and one ticket
    email = three[0].customer.email
    other = MembershipFactory(role=Membership.Role.AGENT)
    other_customer = CustomerFactory(merchant=other.merchant, email=email)
    TicketFactory(merchant=other.merchant, customer=other_customer)
    for member in (Membership.objects.get(merchant=merchant, user=agent), other):
        SavedView.objects.create(merchant=member.merchant, owner=member.user, name="Hers", filters={"q": email})

    # When each member's views are counted (one statement, compiled once for both)
    counted = [
        [(shown.view.name, shown.count) for shown in saved_views_counted(member)]
        for member in (Membership.objects.get(merchant=merchant, user=agent), other)
    ]

    # Then each counts the tickets of its own merchant's customer
    assert counted == [[("Hers", 3)], [("Hers", 1)]]
