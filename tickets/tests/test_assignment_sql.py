"""Auto-assignment's written-out SQL (``tickets.assignment_sql``) and the pool's batch path: the
statements match the models, the single path runs in four statements, and a batch hands out
tickets exactly as the single path would, within capacity and the merchant's own tickets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales import bulk
from aftersales.exceptions import InvalidInput
from aftersales.models import Membership, Notification
from aftersales.tests.factories import CustomerFactory, MembershipFactory, MerchantFactory
from tickets import assignment_sql
from tickets.models import AgentStatus, AssignmentStrategy, TeamAssignment, Ticket, TicketEvent, TicketKind
from tickets.services.assignment import (
    calendar_cache_clear,
    team_assign_pool,
    ticket_auto_assign,
    tickets_auto_assign_batch,
)
from tickets.tests.factories import AgentProfileFactory, TeamAssignmentFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_calendars():
    calendar_cache_clear()


def _agent(merchant, team, **profile):
    user = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    team.members.add(user)
    AgentProfileFactory(merchant=merchant, user=user, status=AgentStatus.AVAILABLE, **profile)
    return user


def _waiting(make_ticket, team, count, **overrides):
    """Tickets in the team's pool, opened while its auto-assignment was off."""
    TeamAssignment.objects.filter(team=team).update(auto_assign=False)
    tickets = [make_ticket(team=team, **overrides) for _ in range(count)]
    TeamAssignment.objects.filter(team=team).update(auto_assign=True)
    return tickets


def test_the_event_statement_writes_every_column_of_an_event():
    columns = {field.column for field in TicketEvent._meta.concrete_fields}
    assert columns == set(assignment_sql.EVENT_VALUES)


def test_a_single_assignment_takes_four_statements_and_writes_the_event_in_them(make_ticket, merchant):
    team = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=team, kind_weights={TicketKind.COMPLAINT: 3})
    agent = _agent(merchant, team, capacity=10)
    agent.email = ""  # no notification row: only the assignment's own statements are counted
    agent.save(update_fields=["email"])
    # Without an order: a ticket about an order reads its product categories first.
    [ticket] = _waiting(make_ticket, team, 1, kind=TicketKind.COMPLAINT, order=None)
    ticket_auto_assign(ticket=Ticket(pk=ticket.pk))  # the statements are prepared on first use

    [second] = _waiting(make_ticket, team, 1, kind=TicketKind.COMPLAINT, order=None)
    with CaptureQueriesContext(connection) as queries:
        ticket_auto_assign(ticket=Ticket(pk=second.pk))

    # the ticket's and the team's lock together, the candidates, the agent's lock, the assignment
    # (the savepoint is the test's transaction around the service's)
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert [sql.split("(")[0] for sql in statements] == [
        "EXECUTE tickets_assign_ticket_policy",
        "EXECUTE tickets_assign_candidates_ll",
        "EXECUTE tickets_assign_agent",
        "EXECUTE tickets_assign",
    ]
    second.refresh_from_db()
    assert second.assignee == agent
    event = second.events.get(verb=TicketEvent.Verb.ASSIGNED)
    assert event.data == {
        "from": None,
        "to": agent.pk,
        "to_name": str(agent),
        "team": team.name,
        "auto": AssignmentStrategy.LEAST_LOADED,
        "load": 6,
        "capacity": 10,
    }
    assert (event.merchant_id, event.actor_user_id, event.is_public) == (merchant.pk, None, False)


def test_the_ticket_and_its_team_s_policy_are_locked_by_one_statement(make_ticket, merchant):
    # Given a waiting ticket of a team with a policy
    team = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=team)
    [ticket] = _waiting(make_ticket, team, 1)

    # When the combined lock is taken in a transaction
    with connection.cursor() as cursor:
        cursor.execute("SELECT txid_current()")
        assignment_sql.execute(
            cursor, "tickets_assign_ticket_policy", assignment_sql.ticket_policy_lock_sql(), {"ticket": ticket.pk}
        )
        [row] = cursor.fetchall()
        # Then both rows are locked by this transaction (FOR UPDATE: xmax is ours), and the row
        # ends with the policy's columns
        cursor.execute(
            "SELECT (SELECT xmax FROM tickets_ticket WHERE id = %s)::text::bigint, "
            "(SELECT xmax FROM tickets_teamassignment WHERE team_id = %s)::text::bigint, txid_current()",
            [ticket.pk, team.pk],
        )
        ticket_lock, policy_lock, own = cursor.fetchone()
    assert ticket_lock == policy_lock == own
    assert row[-5:-3] == (team.assignment.pk, merchant.pk)


def test_auto_assign_reads_the_ticket_with_its_team_customer_and_merchant(make_ticket, merchant):
    # Given a waiting ticket and an agent with room
    team = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=team)
    agent = _agent(merchant, team, capacity=10)
    [ticket] = _waiting(make_ticket, team, 1)

    # When it is auto-assigned
    returned = ticket_auto_assign(ticket=Ticket(pk=ticket.pk))

    # Then the ticket returned is the stored one, with its relations read in the same statement
    stored = Ticket.objects.select_related("merchant").get(pk=ticket.pk)
    with CaptureQueriesContext(connection) as queries:
        assert (returned.pk, returned.number, returned.assignee_id) == (ticket.pk, ticket.number, agent.pk)
        assert (returned.team, returned.customer, returned.merchant) == (team, ticket.customer, merchant)
        assert returned.merchant.customer_channels == stored.merchant.customer_channels
        assert (returned.kind, returned.status, returned.created_at) == (stored.kind, stored.status, stored.created_at)
    assert queries.captured_queries == []


def test_auto_assign_of_a_ticket_whose_team_has_no_policy_leaves_it_in_the_pool(make_ticket, merchant):
    # Given a ticket in a team that has no assignment policy, and an agent of that team
    team = TeamFactory(merchant=merchant)
    _agent(merchant, team, capacity=10)
    ticket = make_ticket(team=team)
    events = ticket.events.count()

    # When it is auto-assigned
    returned = ticket_auto_assign(ticket=Ticket(pk=ticket.pk))

    # Then nothing changed
    ticket.refresh_from_db()
    assert (returned.pk, returned.assignee_id, ticket.assignee_id) == (ticket.pk, None, None)
    assert ticket.events.count() == events


def test_auto_assign_of_a_ticket_without_a_team_is_refused_and_changes_nothing(make_ticket, merchant):
    # Given a ticket in no team
    ticket = make_ticket()
    assert ticket.team_id is None
    events = ticket.events.count()

    # When it is auto-assigned, then it is refused
    with pytest.raises(InvalidInput) as refusal:
        ticket_auto_assign(ticket=Ticket(pk=ticket.pk))

    assert refusal.value.code == "no_team"
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.team_id, ticket.events.count()) == (None, None, events)


def test_prepared_statements_are_prepared_again_on_a_new_connection(make_ticket, merchant):
    team = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=team)
    agent = _agent(merchant, team, capacity=10)
    first, second = _waiting(make_ticket, team, 2)
    ticket_auto_assign(ticket=Ticket(pk=first.pk))
    # A new session knows none of them: drop this one's (as a replaced connection would). Only the
    # assignment's own: DEALLOCATE ALL would also take the compiled reads' statements of this
    # worker's connection (aftersales.compiled), which later tests on it still count on.
    raw = connection.connection
    with connection.cursor() as cursor:
        for name in assignment_sql._prepared[(id(raw), raw.info.backend_pid)]:
            cursor.execute(f"DEALLOCATE {name}")
    assignment_sql._prepared.clear()

    ticket_auto_assign(ticket=Ticket(pk=second.pk))

    assert [Ticket.objects.get(pk=t.pk).assignee for t in (first, second)] == [agent, agent]


def test_inside_gathered_inserts_the_event_is_gathered_too(make_ticket, merchant):
    team = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=team)
    _agent(merchant, team, capacity=10)
    [ticket] = _waiting(make_ticket, team, 1)

    with bulk.bulk_inserts():
        ticket_auto_assign(ticket=Ticket(pk=ticket.pk))
        assert not ticket.events.filter(verb=TicketEvent.Verb.ASSIGNED).exists()

    assert ticket.events.filter(verb=TicketEvent.Verb.ASSIGNED).count() == 1


def test_a_full_agent_is_passed_over_without_a_trace(make_ticket, merchant):
    # Given two agents, the first (by round robin) already full
    team = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=team, strategy=AssignmentStrategy.ROUND_ROBIN)
    full = _agent(merchant, team, capacity=1)
    other = _agent(merchant, team, capacity=5)
    [mine] = _waiting(make_ticket, team, 1)
    Ticket.objects.filter(pk=mine.pk).update(assignee=full)
    [ticket] = _waiting(make_ticket, team, 1)

    ticket_auto_assign(ticket=Ticket(pk=ticket.pk))

    ticket.refresh_from_db()
    assert ticket.assignee == other
    assert full.agent_profiles.get().last_assigned_at is None


@pytest.mark.parametrize("strategy", [AssignmentStrategy.ROUND_ROBIN, AssignmentStrategy.LEAST_LOADED])
def test_a_batch_hands_out_tickets_as_the_single_path_does(make_ticket, merchant, strategy):
    # Given two teams alike, each with three agents of different capacities and one busy agent
    def desk():
        team = TeamFactory(merchant=merchant)
        TeamAssignmentFactory(team=team, strategy=strategy, kind_weights={TicketKind.COMPLAINT: 2})
        agents = [_agent(merchant, team, capacity=capacity) for capacity in (3, 4, 6)]
        [busy] = _waiting(make_ticket, team, 1)
        Ticket.objects.filter(pk=busy.pk).update(assignee=agents[2])
        kinds = [TicketKind.SUPPORT, TicketKind.COMPLAINT, TicketKind.SUPPORT] * 4
        waiting = [_waiting(make_ticket, team, 1, kind=kind)[0] for kind in kinds]
        return team, agents, waiting

    _single_team, single_agents, single_waiting = desk()
    batch_team, batch_agents, batch_waiting = desk()

    # When one team's pool is assigned ticket by ticket and the other's in one batch
    for ticket in single_waiting:
        ticket_auto_assign(ticket=Ticket(pk=ticket.pk))
    went = tickets_auto_assign_batch(team=batch_team, ticket_ids=[t.pk for t in batch_waiting])

    # Then the same agents get the same tickets, and the same ones wait
    def who(tickets, agents):
        names = {agent.pk: index for index, agent in enumerate(agents)}
        return [names.get(Ticket.objects.get(pk=t.pk).assignee_id) for t in tickets]

    assert who(batch_waiting, batch_agents) == who(single_waiting, single_agents)
    assert len(went) == sum(1 for index in who(batch_waiting, batch_agents) if index is not None)
    assert None in who(batch_waiting, batch_agents)  # 13 slots, 16 weighted tickets
    # And each assignment has its event, with the same load and capacity
    single_events = [
        {k: v for k, v in e.data.items() if k in ("load", "capacity", "auto")}
        for t in single_waiting
        for e in TicketEvent.objects.filter(ticket=t, verb=TicketEvent.Verb.ASSIGNED)
    ]
    batch_events = [
        {k: v for k, v in e.data.items() if k in ("load", "capacity", "auto")}
        for t in batch_waiting
        for e in TicketEvent.objects.filter(ticket=t, verb=TicketEvent.Verb.ASSIGNED)
    ]
    assert batch_events == single_events
    assert Notification.objects.filter(ticket__in=batch_waiting, template="ticket_assigned").count() == len(went)


def test_a_batch_skips_a_ticket_nobody_may_take_and_goes_on(make_ticket, merchant):
    team = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=team)
    agent = _agent(merchant, team, capacity=5, kinds=[TicketKind.SUPPORT])
    complaint, support = (
        _waiting(make_ticket, team, 1, kind=TicketKind.COMPLAINT)[0],
        _waiting(make_ticket, team, 1)[0],
    )

    went = tickets_auto_assign_batch(team=team, ticket_ids=[complaint.pk, support.pk])

    assert went == [support.pk]
    assert [Ticket.objects.get(pk=t.pk).assignee_id for t in (complaint, support)] == [None, agent.pk]
    assert not complaint.events.filter(verb=TicketEvent.Verb.ASSIGNED).exists()


def test_a_batch_touches_only_its_teams_waiting_tickets(make_ticket, merchant):
    # Given a waiting ticket of this team, one of another merchant's team, and one already assigned
    team = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=team)
    agent = _agent(merchant, team, capacity=5)
    [mine] = _waiting(make_ticket, team, 1)
    [taken] = _waiting(make_ticket, team, 1)
    other_agent = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    Ticket.objects.filter(pk=taken.pk).update(assignee=other_agent)
    other_merchant = MerchantFactory()
    other_team = TeamFactory(merchant=other_merchant)
    TeamAssignmentFactory(team=other_team)
    foreign = Ticket.objects.create(
        merchant=other_merchant,
        number="SUP-999999",
        kind=TicketKind.SUPPORT,
        subject="Not yours",
        team=other_team,
        customer=CustomerFactory(merchant=other_merchant),
    )

    went = tickets_auto_assign_batch(team=team, ticket_ids=[foreign.pk, taken.pk, mine.pk])

    assert went == [mine.pk]
    assert Ticket.objects.get(pk=foreign.pk).assignee_id is None
    assert Ticket.objects.get(pk=taken.pk).assignee_id == other_agent.pk
    assert Ticket.objects.get(pk=mine.pk).assignee_id == agent.pk
    assert not TicketEvent.objects.filter(ticket__in=[foreign, taken], verb=TicketEvent.Verb.ASSIGNED).exists()


def test_the_pool_drains_in_batches_up_to_capacity(make_ticket, merchant, monkeypatch):
    from tickets.services import assignment

    monkeypatch.setattr(assignment, "POOL_BATCH", 2)
    team = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=team)
    first, second = _agent(merchant, team, capacity=2), _agent(merchant, team, capacity=1)
    waiting = _waiting(make_ticket, team, 5)

    assert team_assign_pool(team=team) == 3

    assignees = [Ticket.objects.get(pk=t.pk).assignee for t in waiting]
    assert sorted(a.pk for a in assignees if a) == sorted([first.pk, first.pk, second.pk])
    assert assignees[3:] == [None, None]


def test_a_batch_hands_its_notices_to_the_worker_as_one_task_at_commit(
    make_ticket, merchant, django_capture_on_commit_callbacks
):
    team = TeamFactory(merchant=merchant)
    TeamAssignmentFactory(team=team)
    _agent(merchant, team, capacity=5)
    waiting = _waiting(make_ticket, team, 3)

    with django_capture_on_commit_callbacks() as callbacks:
        went = tickets_auto_assign_batch(team=team, ticket_ids=[t.pk for t in waiting])

    assert len(went) == 3
    notices = Notification.objects.filter(ticket__in=waiting, template="ticket_assigned")
    [callback] = callbacks
    assert sorted(callback.args[-1]) == sorted(notices.values_list("pk", flat=True))
    assert notices.count() == 3
