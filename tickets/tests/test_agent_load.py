"""The agents' load counters (``AgentLoad``) that auto-assignment reads: they always equal a
recount of the agents' active tickets, whatever moved the tickets."""

import random

import pytest
from django.db import connection
from django.db.models import Count

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory
from tickets.models import ACTIVE_STATUSES, AgentLoad, AgentStatus, Ticket, TicketKind, TicketStatus
from tickets.services import ticket_assign, ticket_change_status
from tickets.services.assignment import agent_set_status
from tickets.services.merge import ticket_merge
from tickets.tests.factories import AgentProfileFactory, TeamAssignmentFactory, TeamFactory

pytestmark = pytest.mark.django_db


def _counters(merchant) -> dict[tuple[int, str], int]:
    return {
        (user_id, kind): count
        for user_id, kind, count in AgentLoad.objects.filter(merchant=merchant, open_count__gt=0).values_list(
            "user_id", "kind", "open_count"
        )
    }


def _recount(merchant) -> dict[tuple[int, str], int]:
    return {
        (user_id, kind): count
        for user_id, kind, count in Ticket.objects.filter(
            merchant=merchant, assignee__isnull=False, status__in=ACTIVE_STATUSES
        )
        .values_list("assignee_id", "kind")
        .annotate(n=Count("id"))
        .order_by()
    }


def test_the_trigger_counts_exactly_the_active_statuses():
    # The trigger's status list is written out in migration 0009; it must stay ACTIVE_STATUSES.
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'tickets_agentload_follow'")
        (source,) = cursor.fetchone()
    listed = "(" + ", ".join(f"'{status}'" for status in ACTIVE_STATUSES) + ")"
    assert source.count(listed) == 2
    for status in TicketStatus.values:
        assert (f"'{status}'" in source) == (status in ACTIVE_STATUSES)


def test_counters_follow_assign_reassign_unassign_and_close(make_ticket, merchant, supervisor):
    first = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    second = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    support = make_ticket()
    complaint = make_ticket(kind=TicketKind.COMPLAINT)

    ticket_assign(ticket=support, actor=supervisor, assignee=first)
    ticket_assign(ticket=complaint, actor=supervisor, assignee=first)
    assert _counters(merchant) == {(first.pk, TicketKind.SUPPORT): 1, (first.pk, TicketKind.COMPLAINT): 1}

    ticket_assign(ticket=complaint, actor=supervisor, assignee=second)
    assert _counters(merchant) == {(first.pk, TicketKind.SUPPORT): 1, (second.pk, TicketKind.COMPLAINT): 1}

    ticket_change_status(ticket=support, actor=supervisor, status=TicketStatus.RESOLVED)
    ticket_assign(ticket=complaint, actor=supervisor, assignee=None)
    assert _counters(merchant) == {}
    assert AgentLoad.objects.filter(merchant=merchant).count() == 3  # rows stay, at zero

    ticket_change_status(ticket=support, actor=supervisor, status=TicketStatus.OPEN)  # reopened
    assert _counters(merchant) == {(first.pk, TicketKind.SUPPORT): 1}

    Ticket.objects.filter(pk=support.pk).delete()
    assert _counters(merchant) == {}


def test_counters_equal_the_recount_after_a_random_sequence_of_changes(make_ticket, merchant, supervisor):
    # Given a team with auto-assignment and four agents, and a seeded random sequence of the ways a
    # ticket enters or leaves an agent's load
    rng = random.Random(12)
    team = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=team, kind_weights={TicketKind.COMPLAINT: 2})
    agents = []
    for _ in range(4):
        user = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
        team.members.add(user)
        AgentProfileFactory(merchant=merchant, user=user, capacity=6, status=AgentStatus.AVAILABLE)
        agents.append(user)
    tickets = [make_ticket(kind=rng.choice([TicketKind.SUPPORT, TicketKind.COMPLAINT]), team=team) for _ in range(6)]
    assert any(ticket.assignee_id for ticket in tickets)  # auto-assigned at creation
    operations: list[str] = []

    # When 120 of them run
    for _step in range(120):
        ticket = Ticket.objects.get(pk=rng.choice(tickets).pk)
        operation = rng.choice(["assign", "unassign", "resolve", "reopen", "wait", "merge", "kind", "new", "away"])
        operations.append(operation)
        if operation == "assign" and ticket.is_active:
            ticket_assign(ticket=ticket, actor=supervisor, assignee=rng.choice(agents), team=team)
        elif operation == "unassign" and ticket.is_active:
            ticket_assign(ticket=ticket, actor=supervisor, assignee=None, team=team)
        elif operation == "resolve" and ticket.is_active:
            ticket_change_status(ticket=ticket, actor=supervisor, status=TicketStatus.RESOLVED)
        elif operation == "reopen" and ticket.status == TicketStatus.RESOLVED:
            ticket_change_status(ticket=ticket, actor=supervisor, status=TicketStatus.OPEN)
        elif operation == "wait" and ticket.is_active and ticket.status != TicketStatus.WAITING_CUSTOMER:
            ticket_change_status(ticket=ticket, actor=supervisor, status=TicketStatus.WAITING_CUSTOMER)
        elif operation == "merge" and ticket.is_active:
            others = [t for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets]) if t.is_active and t != ticket]
            if others:
                ticket_merge(source=ticket, target=rng.choice(others), actor=supervisor)
        elif operation == "kind":
            # No service changes a kind today; a bulk update must still be counted.
            Ticket.objects.filter(pk=ticket.pk).update(
                kind=TicketKind.COMPLAINT if ticket.kind == TicketKind.SUPPORT else TicketKind.SUPPORT
            )
        elif operation == "new":
            tickets.append(make_ticket(team=team))
        elif operation == "away":
            agent = rng.choice(agents)
            agent_set_status(merchant=merchant, agent=agent, actor=supervisor, status=AgentStatus.AWAY, hand_back=True)
            agent_set_status(merchant=merchant, agent=agent, actor=supervisor, status=AgentStatus.AVAILABLE)
        # Then after every step the counters equal the recount
        assert _counters(merchant) == _recount(merchant), operations

    assert set(operations) == {"assign", "unassign", "resolve", "reopen", "wait", "merge", "kind", "new", "away"}
    assert sum(_recount(merchant).values()) > 0


def test_the_rows_every_assignment_rewrites_leave_room_for_hot_updates():
    # Migration 0014: the counters and the profiles are stored half full, so an assignment's
    # update of them can stay on its page.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN ('tickets_agentload', 'tickets_agentprofile')"
        )
        options = dict(cursor.fetchall())

    assert options == {"tickets_agentload": ["fillfactor=50"], "tickets_agentprofile": ["fillfactor=50"]}
