from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from aftersales.exceptions import InvalidInput
from aftersales.models import BusinessCalendar, Deadline, DeadlinePause, Membership, Notification, WorkingHours
from aftersales.services.deadlines import deadlines_sweep
from aftersales.tests.factories import MembershipFactory, OrderFactory
from tickets.models import SlaBreach, SlaPolicy, Ticket, TicketChannel, TicketEvent, TicketKind, TicketStatus
from tickets.services import (
    ticket_assign,
    ticket_change_status,
    ticket_create,
    ticket_customer_message,
    ticket_reminder_set,
    ticket_reply,
)
from tickets.sla import sla_policy_for
from tickets.sla_selectors import sla_attainment, sla_breaches_page, ticket_sla_clocks
from tickets.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

# Monday 2026-11-23 10:00 in Shanghai (02:00 UTC); the desk works 09:00–18:00 on weekdays.
MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def shanghai(day, hour, minute=0) -> datetime:
    return datetime(2026, 11, day, hour - 8, minute, tzinfo=UTC)


@pytest.fixture
def order():
    return OrderFactory()


@pytest.fixture
def merchant(order):
    calendar = BusinessCalendar.objects.create(merchant=order.merchant, name="Desk")
    for weekday in range(5):
        WorkingHours.objects.create(calendar=calendar, weekday=weekday, start_minute=9 * 60, end_minute=18 * 60)
    return order.merchant


@pytest.fixture
def agent(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user


@pytest.fixture
def supervisor(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.SUPERVISOR).user


@pytest.fixture
def policy(merchant):
    return SlaPolicy.objects.create(
        merchant=merchant,
        name="Standard",
        position=10,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=1080,
        warning_percent=75,
    )


def _create(order, **overrides):
    values = {
        "merchant": order.merchant,
        "kind": TicketKind.SUPPORT,
        "subject": "Zip is stuck",
        "body": "The tent's zip does not move.",
        "customer": order.customer,
        "channel": TicketChannel.PORTAL,
        "order": order,
    }
    values.update(overrides)
    return ticket_create(**values)


def _clocks(ticket) -> dict[str, tuple[str, datetime | None]]:
    return {d.kind: (d.state, d.due_at) for d in Deadline.objects.filter(ticket=ticket)}


def test_the_first_matching_policy_by_position_applies(merchant, order):
    SlaPolicy.objects.create(merchant=merchant, name="Everything", position=20, first_response_minutes=240)
    vip = SlaPolicy.objects.create(
        merchant=merchant, name="VIP complaints", position=5, match_kinds=["complaint"], match_customer_tiers=["vip"]
    )
    order.customer.tier = "vip"
    order.customer.save()

    complaint = Ticket(merchant=merchant, kind="complaint", priority=20, channel="portal", customer=order.customer)
    support = Ticket(merchant=merchant, kind="support", priority=20, channel="portal", customer=order.customer)

    assert sla_policy_for(complaint) == vip
    assert sla_policy_for(support).name == "Everything"


def test_no_policy_means_no_clocks(order, merchant):
    ticket = _create(order)

    assert Deadline.objects.filter(ticket=ticket).count() == 0
    assert Ticket.objects.get(pk=ticket.pk).next_deadline_at is None


@time_machine.travel(MONDAY_10, tick=False)
def test_creation_starts_first_response_and_resolution_on_business_time(order, policy):
    ticket = _create(order)

    assert _clocks(ticket) == {
        "sla.first_response": ("pending", shanghai(23, 11)),
        "sla.resolution": ("pending", shanghai(25, 10)),
    }
    ticket.refresh_from_db()
    assert (ticket.sla_policy_id, ticket.next_deadline_at) == (policy.pk, shanghai(23, 11))
    first = Deadline.objects.get(ticket=ticket, kind="sla.first_response")
    assert first.warn_at == shanghai(23, 10, 45)


def test_reply_meets_first_response_and_a_customer_message_starts_next_response(order, policy, agent):
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = _create(order)
    with time_machine.travel(MONDAY_10 + timedelta(minutes=20), tick=False):
        ticket_reply(ticket=ticket, actor=agent, body="Try some wax on the zip.")
    with time_machine.travel(MONDAY_10 + timedelta(minutes=40), tick=False):
        ticket_customer_message(ticket=ticket, customer=order.customer, body="Still stuck.")

    assert _clocks(ticket) == {
        "sla.first_response": ("met", shanghai(23, 11)),
        "sla.next_response": ("pending", shanghai(23, 12, 40)),
        "sla.resolution": ("pending", shanghai(25, 10)),
    }
    with time_machine.travel(MONDAY_10 + timedelta(minutes=50), tick=False):
        ticket_reply(ticket=ticket, actor=agent, body="We will send a new tent.")
    assert _clocks(ticket)["sla.next_response"][0] == "met"


def test_waiting_on_the_customer_pauses_and_their_answer_resumes_with_the_time_left(order, policy, agent):
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = _create(order)
    with time_machine.travel(MONDAY_10 + timedelta(minutes=30), tick=False):
        ticket_reply(ticket=ticket, actor=agent, body="A photo please?", status=TicketStatus.WAITING_CUSTOMER)

    resolution = Deadline.objects.get(ticket=ticket, kind="sla.resolution")
    assert (resolution.state, resolution.remaining_seconds) == ("paused", (1080 - 30) * 60)
    assert Ticket.objects.get(pk=ticket.pk).next_deadline_at is None

    # The customer answers on Wednesday at 09:00: 1,050 business minutes from then.
    with time_machine.travel(shanghai(25, 9), tick=False):
        ticket_customer_message(ticket=ticket, customer=order.customer, body="Here it is.")

    resolution.refresh_from_db()
    assert (resolution.state, resolution.due_at) == ("pending", shanghai(26, 17, 30))
    pause = DeadlinePause.objects.get(deadline=resolution)
    assert (pause.paused_at, pause.resumed_at, pause.reason) == (
        MONDAY_10 + timedelta(minutes=30),
        shanghai(25, 9),
        "waiting_customer",
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_resolving_meets_reopening_restarts_and_closing_cancels(order, policy, agent):
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = _create(order)
        ticket_reply(ticket=ticket, actor=agent, body="Done.", status=TicketStatus.RESOLVED)
    assert _clocks(ticket)["sla.resolution"][0] == "met"

    with time_machine.travel(shanghai(23, 14), tick=False):
        ticket_customer_message(ticket=ticket, customer=order.customer, body="It broke again.")
    reopened = Deadline.objects.get(ticket=ticket, kind="sla.resolution", state="pending")
    assert reopened.due_at == shanghai(25, 14)

    with time_machine.travel(shanghai(23, 15), tick=False):
        ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.CANCELLED)
    assert Deadline.objects.filter(ticket=ticket, state__in=["pending", "paused"]).count() == 0
    assert Ticket.objects.get(pk=ticket.pk).next_deadline_at is None


def test_a_breach_escalates_records_notifies_and_reassigns_end_to_end(order, policy, agent, supervisor, merchant):
    tier_two = TeamFactory(merchant=merchant, name="Tier 2")
    policy.breach_assignee = supervisor
    policy.breach_team = tier_two
    policy.save()
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = _create(order)
        ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    Notification.objects.all().delete()

    with time_machine.travel(shanghai(23, 10, 45), tick=False):
        warned = deadlines_sweep()
    with time_machine.travel(shanghai(23, 11) + timedelta(seconds=20), tick=False):
        breached = deadlines_sweep()

    assert (warned.warned, breached.fired) == (1, 1)
    ticket.refresh_from_db()
    assert (ticket.escalation_level, ticket.assignee_id, ticket.team_id) == (1, supervisor.pk, tier_two.pk)
    breach = SlaBreach.objects.get()
    assert (breach.ticket_id, breach.policy_id, breach.target, breach.target_minutes, breach.due_at) == (
        ticket.pk,
        policy.pk,
        "first_response",
        60,
        shanghai(23, 11),
    )
    # The breach happened when the deadline passed, not when the sweep got round to it.
    assert breach.breached_at == shanghai(23, 11)
    assert list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("verb", flat=True))[-3:] == [
        "sla_warning",
        "sla_breached",
        "assigned",
    ]
    assert sorted(Notification.objects.values_list("template", "recipient")) == [
        ("sla_breached", supervisor.email),
        ("sla_warning", agent.email),
    ]

    with time_machine.travel(shanghai(23, 13, 30), tick=False):
        ticket_reply(ticket=ticket, actor=supervisor, body="Sorry for the wait.")
    breach.refresh_from_db()
    # Late by 11:00 → 13:30 on the desk's calendar.
    assert (breach.met_at, breach.late_minutes) == (shanghai(23, 13, 30), 150)


def test_a_sweep_running_seven_minutes_late_records_the_due_minute_as_the_breach_time(order, policy, merchant):
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = _create(order)

    with time_machine.travel(shanghai(23, 11, 7), tick=False):
        assert deadlines_sweep().fired == 1

    breach = SlaBreach.objects.get()
    assert (breach.due_at, breach.breached_at, breach.met_at, breach.late_minutes) == (
        shanghai(23, 11),
        shanghai(23, 11),
        None,
        None,
    )
    event = TicketEvent.objects.get(ticket=ticket, verb="sla_breached")
    assert event.data["due_at"] == shanghai(23, 11).isoformat()
    # The ticket's clock ended at the due minute, having run its sixty minutes, not sixty-seven.
    with time_machine.travel(shanghai(23, 11, 7), tick=False):
        clock = next(c for c in ticket_sla_clocks(ticket=ticket) if c.target == "first_response")
    assert (clock.outcome, clock.ended_at, clock.elapsed_minutes, clock.late_minutes) == (
        "breached",
        shanghai(23, 11),
        60,
        7,
    )
    # A report up to 11:05 counts the breach; one from 11:05 on does not.
    before = sla_attainment(merchant=merchant, start=MONDAY_10, end=shanghai(23, 11, 5))
    after = sla_attainment(merchant=merchant, start=shanghai(23, 11, 5), end=shanghai(23, 12))
    assert [(row.target, row.ended, row.met, row.breached) for row in before.totals] == [
        ("first_response", 1, 0, 1),
        ("next_response", 0, 0, 0),
        ("resolution", 0, 0, 0),
    ]
    assert [(row.target, row.ended, row.met, row.breached) for row in after.totals] == [
        ("first_response", 0, 0, 0),
        ("next_response", 0, 0, 0),
        ("resolution", 0, 0, 0),
    ]
    # The list of breaches of the day the deadline passed shows it under the due minute.
    page = sla_breaches_page(merchant=merchant, start=MONDAY_10, end=shanghai(23, 11, 5))
    assert [(b.pk, b.breached_at) for b in page.breaches] == [(breach.pk, shanghai(23, 11))]


def test_a_reminder_comes_due_once_for_the_person_who_set_it(order, agent):
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = _create(order)
        ticket_reminder_set(ticket=ticket, actor=agent, remind_at=MONDAY_10 + timedelta(hours=2), note="Call back")
    assert Ticket.objects.get(pk=ticket.pk).next_deadline_at == MONDAY_10 + timedelta(hours=2)
    Notification.objects.all().delete()

    with time_machine.travel(MONDAY_10 + timedelta(hours=2, seconds=5), tick=False):
        assert deadlines_sweep().fired == 1
        assert deadlines_sweep().fired == 0

    assert list(Notification.objects.values_list("template", "recipient")) == [("reminder_due", agent.email)]
    event = TicketEvent.objects.get(ticket=ticket, verb="reminder_due")
    deadline = Deadline.objects.get(ticket=ticket, kind="reminder.staff")
    assert event.data == {"deadline": deadline.pk, "user": agent.pk, "note": "Call back"}


def test_a_reminder_in_the_past_is_refused(order, agent):
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = _create(order)
        with pytest.raises(InvalidInput):
            ticket_reminder_set(ticket=ticket, actor=agent, remind_at=MONDAY_10 - timedelta(minutes=1))

    assert Deadline.objects.filter(ticket=ticket).count() == 0
    assert TicketEvent.objects.filter(ticket=ticket, verb="reminder_set").count() == 0
