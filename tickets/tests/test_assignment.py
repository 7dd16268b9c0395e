"""Auto-assignment within a team: round robin, least loaded under capacity (weighted by kind),
skills, shifts, presence, and the hand-back to the pool."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftersales.exceptions import PermissionRefused
from aftersales.models import BusinessCalendar, Membership, WorkingHours
from aftersales.tests.factories import MembershipFactory
from tickets.models import AgentProfile, AgentStatus, AssignmentStrategy, TicketKind, TicketStatus
from tickets.services import ticket_change_status
from tickets.services.assignment import agent_set_status, calendar_cache_clear, team_assign_pool, ticket_auto_assign
from tickets.tests.factories import AgentProfileFactory, RoutingRuleFactory, TeamAssignmentFactory, TeamFactory
from tickets.verbs import RoutingVerb

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_calendars():
    # Shift calendars are cached per process for a minute; each test starts from the database.
    calendar_cache_clear()


@pytest.fixture
def team(merchant):
    team = TeamFactory(merchant=merchant, name="Support")
    RoutingRuleFactory(merchant=merchant, position=10, set_team=team)
    return team


def _agent(merchant, team, **profile):
    user = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    team.members.add(user)
    AgentProfileFactory(merchant=merchant, user=user, **profile)
    return user


def test_round_robin_takes_turns_among_available_agents(make_ticket, merchant, team):
    TeamAssignmentFactory(team=team, strategy=AssignmentStrategy.ROUND_ROBIN)
    first, second, third = (_agent(merchant, team, capacity=10) for _ in range(3))

    assignees = [make_ticket().assignee for _ in range(6)]

    assert assignees == [first, second, third, first, second, third]


def test_least_loaded_fills_the_emptiest_agent_and_never_passes_capacity(make_ticket, merchant, team):
    # Given an agent with 3 open tickets of a capacity of 4, and one who just came online
    TeamAssignmentFactory(team=team, strategy=AssignmentStrategy.LEAST_LOADED)
    busy = _agent(merchant, team, capacity=4)
    idle = _agent(merchant, team, capacity=4, status=AgentStatus.OFFLINE)
    assert [make_ticket().assignee for _ in range(3)] == [busy, busy, busy]
    agent_set_status(merchant=merchant, agent=idle, actor=idle, status=AgentStatus.AVAILABLE)

    # When six more tickets come in
    assignees = [make_ticket().assignee for _ in range(6)]

    # Then the idle agent fills up to a tie, the tie goes to who waited longest, and the ninth
    # ticket (8 slots) waits in the team's pool
    assert assignees == [idle, idle, idle, busy, idle, None]
    assert busy.assigned_tickets.count() == 4
    assert idle.assigned_tickets.count() == 4


def test_capacity_is_weighted_by_kind(make_ticket, merchant, team):
    TeamAssignmentFactory(team=team, kind_weights={TicketKind.COMPLAINT: 3})
    agent = _agent(merchant, team, capacity=4)

    complaint = make_ticket(kind=TicketKind.COMPLAINT)
    support = make_ticket()
    second_complaint = make_ticket(kind=TicketKind.COMPLAINT)

    assert complaint.assignee == agent
    assert support.assignee == agent  # 3 + 1 = 4
    assert second_complaint.assignee is None  # 4 + 3 > 4
    event = complaint.events.get(verb="assigned")
    assert (event.data["load"], event.data["capacity"], event.data["auto"]) == (3, 4, "least_loaded")


def test_only_available_agents_get_tickets(make_ticket, merchant, team):
    TeamAssignmentFactory(team=team)
    _agent(merchant, team, status=AgentStatus.AWAY)
    _agent(merchant, team, status=AgentStatus.OFFLINE)
    available = _agent(merchant, team)

    assert [make_ticket().assignee for _ in range(2)] == [available, available]


def test_skills_language_kind_and_product_category(make_ticket, merchant, team, order):
    TeamAssignmentFactory(team=team)
    order.customer.language = "zh-hans"
    order.customer.save()
    category = order.lines.first().product.category  # "apparel"
    english_only = _agent(merchant, team, languages=["en"])
    returns_only = _agent(merchant, team, kinds=[TicketKind.RETURN])
    electronics = _agent(merchant, team, product_categories=["electronics"])
    chinese_apparel = _agent(merchant, team, languages=["zh-hans"], product_categories=[category, "shoes"])

    tickets = [make_ticket() for _ in range(3)]

    assert {t.assignee for t in tickets} == {chinese_apparel}
    assert not english_only.assigned_tickets.exists()
    assert not returns_only.assigned_tickets.exists()
    assert not electronics.assigned_tickets.exists()


def test_only_agents_on_shift_by_their_calendar(make_ticket, merchant, team):
    TeamAssignmentFactory(team=team)
    day_shift = BusinessCalendar.objects.create(merchant=merchant, name="Day", timezone="Asia/Shanghai", team=None)
    night_shift = BusinessCalendar.objects.create(merchant=merchant, name="Night", timezone="Asia/Shanghai", team=team)
    for weekday in range(7):
        WorkingHours.objects.create(calendar=day_shift, weekday=weekday, start_minute=9 * 60, end_minute=18 * 60)
        WorkingHours.objects.create(calendar=night_shift, weekday=weekday, start_minute=18 * 60, end_minute=24 * 60)
    day_agent = _agent(merchant, team, shift_calendar=day_shift)
    team_shift_agent = _agent(merchant, team)  # no calendar of their own: the team's (night)

    shanghai = ZoneInfo("Asia/Shanghai")
    with time_machine.travel(datetime(2026, 3, 4, 17, 59, 59, tzinfo=shanghai), tick=False):
        at_five = make_ticket()
    with time_machine.travel(datetime(2026, 3, 4, 18, 0, tzinfo=shanghai), tick=False):
        at_six = make_ticket()
    with time_machine.travel(datetime(2026, 3, 5, 3, 0, tzinfo=shanghai), tick=False):
        at_three_am = make_ticket()

    assert at_five.assignee == day_agent
    assert at_six.assignee == team_shift_agent
    assert at_three_am.assignee is None


def test_no_auto_assignment_without_a_team_policy_or_when_switched_off(make_ticket, merchant, team):
    _agent(merchant, team)
    without_policy = make_ticket()
    TeamAssignmentFactory(team=team, auto_assign=False)
    switched_off = make_ticket()

    assert without_policy.assignee is None
    assert switched_off.assignee is None


def test_going_away_hands_tickets_back_to_the_pool_and_the_pool_to_others(make_ticket, merchant, team):
    TeamAssignmentFactory(team=team, strategy=AssignmentStrategy.ROUND_ROBIN)
    leaving = _agent(merchant, team, capacity=10)
    staying_user = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    team.members.add(staying_user)
    AgentProfileFactory(merchant=merchant, user=staying_user, capacity=10, status=AgentStatus.OFFLINE)
    tickets = [make_ticket() for _ in range(3)]
    assert {t.assignee for t in tickets} == {leaving}

    agent_set_status(merchant=merchant, agent=staying_user, actor=staying_user, status=AgentStatus.AVAILABLE)
    agent_set_status(merchant=merchant, agent=leaving, actor=leaving, status=AgentStatus.AWAY, hand_back=True)

    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.assignee == staying_user
        assert ticket.events.filter(verb=RoutingVerb.AGENT_RELEASED).count() == 1
    assert AgentProfile.objects.get(merchant=merchant, user=leaving).status == AgentStatus.AWAY


def test_going_away_without_hand_back_keeps_the_tickets(make_ticket, merchant, team):
    TeamAssignmentFactory(team=team)
    agent = _agent(merchant, team)
    ticket = make_ticket()

    agent_set_status(merchant=merchant, agent=agent, actor=agent, status=AgentStatus.OFFLINE)

    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_an_agent_cannot_set_another_agents_status_but_a_supervisor_can(merchant, team, supervisor):
    one = _agent(merchant, team)
    other = _agent(merchant, team)

    with pytest.raises(PermissionRefused):
        agent_set_status(merchant=merchant, agent=other, actor=one, status=AgentStatus.OFFLINE)
    assert AgentProfile.objects.get(user=other).status == AgentStatus.AVAILABLE

    agent_set_status(merchant=merchant, agent=other, actor=supervisor, status=AgentStatus.OFFLINE)
    assert AgentProfile.objects.get(user=other).status == AgentStatus.OFFLINE


def test_the_pool_is_assigned_when_room_frees_up(make_ticket, merchant, team, supervisor):
    TeamAssignmentFactory(team=team)
    agent = _agent(merchant, team, capacity=1)
    first = make_ticket()
    waiting = make_ticket()
    assert (first.assignee, waiting.assignee) == (agent, None)

    ticket_change_status(ticket=first, actor=agent, status=TicketStatus.RESOLVED)
    assigned = team_assign_pool(team=team)

    waiting.refresh_from_db()
    assert assigned == 1
    assert waiting.assignee == agent
    # Asking again for an assigned ticket changes nothing
    ticket_auto_assign(ticket=waiting, actor=supervisor)
    assert waiting.events.filter(verb="assigned").count() == 1


def test_an_agent_coming_online_takes_the_teams_waiting_tickets(make_ticket, merchant, team):
    TeamAssignmentFactory(team=team)
    agent = _agent(merchant, team, capacity=2, status=AgentStatus.OFFLINE)
    waiting = [make_ticket() for _ in range(3)]
    assert [t.assignee for t in waiting] == [None, None, None]

    agent_set_status(merchant=merchant, agent=agent, actor=agent, status=AgentStatus.AVAILABLE)

    assigned = [t.pk for t in waiting if type(t).objects.get(pk=t.pk).assignee_id == agent.pk]
    assert assigned == [waiting[0].pk, waiting[1].pk]
