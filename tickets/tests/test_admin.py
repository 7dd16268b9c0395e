"""The back office changes a case through the services the dashboard calls, with the operator as
actor: the change is on the timeline (``via: admin``), the people it concerns are told, and a
refused change leaves nothing behind."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from aftersales.exceptions import PermissionRefused
from aftersales.models import Membership, Notification
from aftersales.services.staff import VIA_ADMIN
from aftersales.tests.factories import MembershipFactory, UserFactory
from tickets.models import TicketEvent, TicketPriority
from tickets.services import ticket_assign, ticket_change_priority, ticket_set_tags
from tickets.tests.factories import TagFactory, TeamFactory

pytestmark = pytest.mark.django_db

Verb = TicketEvent.Verb


def _change_url(ticket) -> str:
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def _post(client, ticket, **changes):
    """The change form as the browser posts it: the ticket's current values, then ``changes``."""
    page = client.get(_change_url(ticket))
    data = {
        "priority": ticket.priority,
        "assignee": ticket.assignee_id or "",
        "team": ticket.team_id or "",
        "tags": [tag.pk for tag in ticket.tags.all()],
    }
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[management.add_prefix(name)] = management.initial.get(name, field.initial)
    data.update(changes)
    return client.post(_change_url(ticket), data)


def _assigned_mails(user):
    return list(
        Notification.objects.filter(recipient_user=user, template="ticket_assigned").values_list(
            "recipient", "context__assigned_by"
        )
    )


def test_assigning_from_the_admin_tells_the_assignee_and_records_the_operator(
    admin_client, admin_user, make_ticket, agent, merchant
):
    # Given an unassigned ticket and a team of its merchant
    ticket = make_ticket()
    team = TeamFactory(merchant=merchant)
    events_before = ticket.events.count()

    # When the operator assigns the agent and the team in the admin
    response = _post(admin_client, ticket, assignee=agent.pk, team=team.pk)

    # Then the ticket is assigned, the timeline says the operator did it through the admin,
    # and the agent is told, as from the dashboard
    assert response.status_code == 302, response.context["adminform"].form.errors
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.team_id) == (agent.pk, team.pk)
    assert ticket.events.count() == events_before + 1
    event = ticket.events.last()
    assert (event.verb, event.actor_user, event.data) == (
        Verb.ASSIGNED,
        admin_user,
        {"from": None, "to": agent.pk, "to_name": str(agent), "team": team.name, "via": "admin"},
    )
    assert _assigned_mails(agent) == [(agent.email, str(admin_user))]


def test_priority_and_tags_from_the_admin_go_through_their_services(admin_client, admin_user, make_ticket, merchant):
    # Given a ticket and a tag of its merchant
    ticket = make_ticket()
    tag = TagFactory(merchant=merchant, name="warranty")
    events_before = ticket.events.count()

    # When the operator raises the priority and tags it
    response = _post(admin_client, ticket, priority=TicketPriority.HIGH, tags=[tag.pk])

    # Then both changed, each with its own event by the operator through the admin
    assert response.status_code == 302, response.context["adminform"].form.errors
    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.HIGH
    assert list(ticket.tags.values_list("name", flat=True)) == ["warranty"]
    events = list(ticket.events.order_by("pk")[events_before:].values_list("verb", "actor_user", "data"))
    assert events == [
        (
            Verb.PRIORITY_CHANGED,
            admin_user.pk,
            {"from": TicketPriority.NORMAL, "to": TicketPriority.HIGH, "via": "admin"},
        ),
        (Verb.TAGS_CHANGED, admin_user.pk, {"from": [], "to": ["warranty"], "via": "admin"}),
    ]


def test_a_change_the_service_refuses_rolls_back_the_whole_save(admin_client, make_ticket, merchant):
    # Given a ticket and a staff member whose account was switched off (the membership still active)
    ticket = make_ticket()
    gone = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    events_before = ticket.events.count()
    notifications_before = Notification.objects.count()

    # When the operator raises the priority and assigns them in one save
    response = _post(admin_client, ticket, priority=TicketPriority.URGENT, assignee=gone.pk)

    # Then the page comes back with the refusal, and neither change nor any event or mail was made
    assert response.status_code == 302
    assert response["Location"] == _change_url(ticket)
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "You are not a member of this merchant's staff."
    ]
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee_id) == (TicketPriority.NORMAL, None)
    assert ticket.events.count() == events_before
    assert Notification.objects.count() == notifications_before
    assert _assigned_mails(gone) == []


def test_via_admin_needs_an_operator_who_may_change_tickets(make_ticket, agent):
    # Given a ticket and a back-office user without the permission to change tickets
    ticket = make_ticket()
    clerk = UserFactory(is_staff=True)
    events_before = ticket.events.count()

    # When that user assigns, reprioritises or tags through the admin channel
    for change in (
        lambda: ticket_assign(ticket=ticket, actor=clerk, assignee=agent, via=VIA_ADMIN),
        lambda: ticket_change_priority(ticket=ticket, actor=clerk, priority=TicketPriority.URGENT, via=VIA_ADMIN),
        lambda: ticket_set_tags(ticket=ticket, actor=clerk, names=["x"], via=VIA_ADMIN),
    ):
        with pytest.raises(PermissionRefused):
            change()

    # Then nothing changed
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.priority, ticket.tags.count()) == (None, TicketPriority.NORMAL, 0)
    assert ticket.events.count() == events_before


def test_an_operator_outside_the_admin_is_not_staff_of_the_merchant(make_ticket, admin_user, agent):
    # Given a superuser who is no member of the ticket's merchant
    ticket = make_ticket()

    # When they assign through the dashboard's channel, then the service refuses as for anyone else
    with pytest.raises(PermissionRefused):
        ticket_assign(ticket=ticket, actor=admin_user, assignee=agent)
    ticket.refresh_from_db()
    assert ticket.assignee_id is None
