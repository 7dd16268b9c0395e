"""Auto-assignment races on PostgreSQL: each thread has its own connection and transaction."""

import pytest

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, OrderFactory
from aftersales.tests.races import race_errors
from tickets.models import AgentStatus, AssignmentStrategy, TeamAssignment, Ticket, TicketChannel, TicketKind
from tickets.services import ticket_create
from tickets.services.assignment import ticket_auto_assign, tickets_auto_assign_batch
from tickets.tests.factories import AgentProfileFactory, TeamAssignmentFactory, TeamFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("races")]


def _team_of_agents(merchant, strategy, capacities):
    team = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=team, strategy=strategy)
    agents = []
    for capacity in capacities:
        user = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
        team.members.add(user)
        AgentProfileFactory(merchant=merchant, user=user, capacity=capacity, status=AgentStatus.AVAILABLE)
        agents.append(user)
    return team, agents


def _waiting_tickets(order, team, count):
    """Tickets in the team's pool, created while its auto-assignment was off."""
    TeamAssignment.objects.filter(team=team).update(auto_assign=False)
    tickets = [
        ticket_create(
            merchant=order.merchant,
            kind=TicketKind.SUPPORT,
            subject=f"Waiting {i}",
            body="Hello",
            customer=order.customer,
            channel=TicketChannel.API,
            team=team,
        )
        for i in range(count)
    ]
    TeamAssignment.objects.filter(team=team).update(auto_assign=True)
    return tickets


@pytest.mark.parametrize("strategy", [AssignmentStrategy.LEAST_LOADED, AssignmentStrategy.ROUND_ROBIN])
def test_concurrent_assignments_never_push_an_agent_over_capacity(strategy):
    # Given a team of three agents with 5 slots in all, and 12 tickets in its pool
    order = OrderFactory()
    team, agents = _team_of_agents(order.merchant, strategy, [1, 2, 2])
    waiting = _waiting_tickets(order, team, 12)

    # When all 12 are auto-assigned at the same instant
    errors = race_errors(12, lambda i: ticket_auto_assign(ticket=waiting[i]))

    # Then every slot is filled once and the rest still wait in the pool
    assert errors == []
    counts = [Ticket.objects.filter(assignee=agent).count() for agent in agents]
    assert counts == [1, 2, 2]
    assert Ticket.objects.filter(merchant=order.merchant, team=team, assignee__isnull=True).count() == 7


def test_an_agent_in_two_teams_is_not_overfilled_through_both():
    # Given one agent in two teams with two slots, and tickets waiting in both teams' pools
    order = OrderFactory()
    merchant = order.merchant
    first, [agent] = _team_of_agents(merchant, AssignmentStrategy.LEAST_LOADED, [2])
    second = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=second)
    second.members.add(agent)
    pairs = zip(_waiting_tickets(order, first, 4), _waiting_tickets(order, second, 4), strict=True)
    waiting = [ticket for pair in pairs for ticket in pair]

    # When both pools are assigned at once, ticket by ticket, from eight threads
    errors = race_errors(8, lambda i: ticket_auto_assign(ticket=waiting[i]))

    # Then the agent has exactly two
    assert errors == []
    assert Ticket.objects.filter(assignee=agent).count() == 2


def test_batches_and_single_assignments_at_once_never_overfill_an_agent():
    # Given two agents in two teams (5 slots in all), 8 tickets waiting in each team's pool
    order = OrderFactory()
    merchant = order.merchant
    first, agents = _team_of_agents(merchant, AssignmentStrategy.LEAST_LOADED, [2, 3])
    second = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=second, strategy=AssignmentStrategy.ROUND_ROBIN)
    for agent in agents:
        second.members.add(agent)
    first_pool = _waiting_tickets(order, first, 8)
    second_pool = _waiting_tickets(order, second, 8)

    # When the first team's pool is drained in batches of two from four threads while the second
    # team's tickets are assigned one by one from four more
    def act(index: int) -> None:
        if index < 4:
            tickets_auto_assign_batch(team=first, ticket_ids=[t.pk for t in first_pool[index * 2 : index * 2 + 2]])
        else:
            for ticket in second_pool[(index - 4) * 2 : (index - 4) * 2 + 2]:
                ticket_auto_assign(ticket=ticket)

    errors = race_errors(8, act)

    # Then every slot is filled once, no more
    assert errors == []
    assert [Ticket.objects.filter(assignee=agent).count() for agent in agents] == [2, 3]
    assert Ticket.objects.filter(merchant=merchant, assignee__isnull=True).count() == 16 - 5
