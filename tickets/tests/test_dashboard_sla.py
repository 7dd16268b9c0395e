"""SLA on the staff dashboard: countdowns in the queue and its deadline sort, the ticket's clocks,
"remind me", and the SLA report."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from aftersales.models import BusinessCalendar, Deadline, Membership, WorkingHours
from aftersales.services.deadlines import deadline_schedule, deadlines_sweep
from aftersales.tests.builders import flash_messages
from aftersales.tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    OrderFactory,
    StoreFactory,
)
from tickets.deadline_kinds import REMINDER_KIND
from tickets.models import SlaBreach, SlaPolicy, Ticket, TicketChannel, TicketEvent, TicketKind, TicketStatus
from tickets.selectors import QUEUE_PAGE_SIZE, QueueKey, QueueSort
from tickets.services import (
    ticket_change_status,
    ticket_create,
    ticket_customer_message,
    ticket_reminder_set,
    ticket_reply,
)
from tickets.sla_selectors import sla_breaches_page
from tickets.tests.factories import TicketFactory
from tickets.views.dashboard import decode_breach_key, decode_queue_key, encode_breach_key, encode_queue_key

pytestmark = pytest.mark.django_db


def shanghai(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """An instant in November 2026, given on a Shanghai wall clock (UTC+8, no DST)."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=8)


# Monday 2026-11-23; the desk works 09:00–18:00 Shanghai time on weekdays.
MONDAY_10 = shanghai(23, 10)


def travel(instant: datetime):
    return time_machine.travel(instant, tick=False)


@pytest.fixture
def desk(merchant):
    calendar = BusinessCalendar.objects.create(merchant=merchant, name="Desk")
    for weekday in range(5):
        WorkingHours.objects.create(calendar=calendar, weekday=weekday, start_minute=9 * 60, end_minute=18 * 60)
    return calendar


@pytest.fixture
def policy(merchant, desk):
    return SlaPolicy.objects.create(
        merchant=merchant,
        name="Standard",
        position=10,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=1080,
        warning_percent=75,
    )


def _create(on_order, **overrides) -> Ticket:
    """A case opened the way the portal opens one, on the order unless told otherwise."""
    values = {
        "merchant": on_order.merchant,
        "kind": TicketKind.SUPPORT,
        "subject": "The tent pole snapped",
        "body": "One pole broke on the first night.",
        "customer": on_order.customer,
        "channel": TicketChannel.PORTAL,
        "order": on_order,
    }
    values.update(overrides)
    return ticket_create(**values)


def _login(client, user):
    client.force_login(user)
    return client


def _queue_numbers(response) -> list[str]:
    return [ticket.number for ticket in response.context["tickets"]]


def _row(html: str, number: str) -> str:
    rows = re.findall(r'<tr class="queue__row.*?</tr>', html, re.S)
    found = [row for row in rows if f">{number}</a>" in row]
    assert len(found) == 1, number
    return found[0]


def _countdown(html: str, number: str) -> tuple[str, str, str]:
    """(state, badge, text) of the countdown in the ticket's queue row."""
    row = _row(html, number)
    state = re.search(r'class="countdown countdown--(\w+)"', row)
    badge = re.search(r'class="countdown__badge">([^<]*)<', row)
    text = re.search(r'<time class="countdown__text"[^>]*>([^<]*)</time>', row)
    assert state is not None
    assert badge is not None
    assert text is not None
    return state.group(1), badge.group(1), text.group(1)


# --- the queue's countdowns -----------------------------------------------------------------------


def test_the_queue_shows_each_next_deadline_as_a_countdown_in_its_state(client, agent, order, policy):
    with travel(shanghai(23, 10)):
        escalated = _create(order, subject="Answered nobody")  # first response due 11:00
    with travel(shanghai(23, 10, 5)):
        overdue = _create(order, subject="Just overdue")  # due 11:05, warning 10:50
    with travel(shanghai(23, 10, 20)):
        warning = _create(order, subject="Due soon")  # due 11:20, warning 11:05
    with travel(shanghai(23, 11)):
        on_track = _create(order, subject="On track")  # due 12:00, warning 11:45
    with travel(shanghai(23, 11, 0, 30)):
        swept = deadlines_sweep()  # breaches the first; warns the second, whose due time is yet to come
    assert (swept.fired, swept.warned) == (1, 1)

    with travel(shanghai(23, 11, 10)):
        response = _login(client, agent).get(reverse("dashboard:queue"))

    html = response.content.decode()
    assert response.status_code == 200
    # Breached for good: escalated, though its next deadline (resolution, Wednesday 10:00) is ahead.
    assert _countdown(html, escalated.number) == ("breached", "Breached", "in 1 d 22 h")
    assert _countdown(html, overdue.number) == ("breached", "Breached", "5 min overdue")
    assert _countdown(html, warning.number) == ("warning", "Due soon", "in 10 min")
    assert _countdown(html, on_track.number) == ("normal", "On track", "in 50 min")
    # Rendered in the merchant's time zone, with the times the script ticks on from.
    row = _row(html, warning.number)
    assert 'data-due="2026-11-23T11:20:00+08:00"' in row
    assert 'data-warn="2026-11-23T11:05:00+08:00"' in row
    assert 'title="Due 2026-11-23 11:20"' in row
    assert 'data-escalated="1"' in _row(html, escalated.number)
    assert 'id="countdown-formats"' in html
    assert "/static/js/countdown.js" in html


def test_a_ticket_without_a_deadline_shows_no_countdown(client, agent, merchant):
    ticket = TicketFactory.create(merchant=merchant)

    response = _login(client, agent).get(reverse("dashboard:queue"))

    row = _row(response.content.decode(), ticket.number)
    assert "countdown" not in row
    assert '<td data-label="Next deadline" class="queue__deadline"><span class="muted">—</span></td>' in row


def test_countdown_words(client):
    from tickets.templatetags.sla_tags import business_duration, countdown_text

    due = shanghai(23, 12)

    assert countdown_text(due, due - timedelta(minutes=42, seconds=59)) == "in 42 min"
    assert countdown_text(due, due + timedelta(hours=3, minutes=5, seconds=10)) == "3 h 5 min overdue"
    assert countdown_text(due, due) == "0 min overdue"
    assert countdown_text(due, due - timedelta(days=2, hours=1, minutes=30)) == "in 2 d 1 h"
    assert countdown_text(due, due - timedelta(hours=2)) == "in 2 h"
    assert [business_duration(m) for m in (45, 60, 90, 1080, 2000, None)] == [
        "45 min",
        "1 h",
        "1 h 30 min",
        "18 h",
        "33 h 20 min",
        "—",
    ]


def test_the_countdown_script_is_served_without_a_build_step():
    from django.contrib.staticfiles import finders

    path = finders.find("js/countdown.js")

    assert path is not None
    with open(path, encoding="utf-8") as script:
        source = script.read()
    assert "setInterval(tick, 30000)" in source
    assert "data-due" in source
    assert "http" not in source  # nothing fetched from a CDN


# --- sorting by the next deadline -----------------------------------------------------------------


def _with_deadline(merchant, due_at: datetime | None, **fields) -> Ticket:
    ticket = TicketFactory.create(merchant=merchant, **fields)
    Ticket.objects.filter(pk=ticket.pk).update(next_deadline_at=due_at)
    ticket.refresh_from_db()
    return ticket


def test_sorting_by_next_deadline_puts_the_soonest_first_ties_by_id_and_none_last(client, agent, merchant):
    soon = shanghai(23, 11)
    undated_first = _with_deadline(merchant, None, priority=40)
    later = _with_deadline(merchant, soon + timedelta(hours=3))
    tie_first = _with_deadline(merchant, soon)
    tie_second = _with_deadline(merchant, soon)
    overdue = _with_deadline(merchant, soon - timedelta(days=1), priority=10)
    undated_second = _with_deadline(merchant, None)
    _with_deadline(merchant, soon - timedelta(days=2), status=TicketStatus.CLOSED)

    with travel(shanghai(23, 10)):
        response = _login(client, agent).get(reverse("dashboard:queue"), {"sort": "deadline"})
        attention = client.get(reverse("dashboard:queue"))

    assert _queue_numbers(response) == [
        overdue.number,
        tie_first.number,
        tie_second.number,
        later.number,
        undated_first.number,
        undated_second.number,
    ]
    assert response.context["sort"] == QueueSort.DEADLINE
    assert 'aria-sort="ascending"' in response.content.decode()
    assert _queue_numbers(attention)[0] == undated_first.number  # urgent first when sorted by attention
    assert _queue_numbers(attention)[-1] == overdue.number  # and low priority last


def test_the_deadline_sort_pages_by_keyset_forwards_and_back_through_ties_and_nulls(client, agent, merchant):
    base = shanghai(23, 11)
    for i in range(120):
        # Pairs share a due time; every fifth ticket has none.
        _with_deadline(merchant, None if i % 5 == 0 else base + timedelta(minutes=i // 2))
    expected = [
        number
        for number, _due, _pk in sorted(
            Ticket.objects.filter(merchant=merchant).values_list("number", "next_deadline_at", "pk"),
            key=lambda row: (row[1] is None, row[1] or base, row[2]),
        )
    ]
    queue = reverse("dashboard:queue")
    _login(client, agent)

    first = client.get(queue, {"sort": "deadline"})
    second = client.get(queue, {"sort": "deadline", "after": first.context["next_cursor"]})
    third = client.get(queue, {"sort": "deadline", "after": second.context["next_cursor"]})
    back = client.get(queue, {"sort": "deadline", "before": third.context["previous_cursor"]})
    back_to_first = client.get(queue, {"sort": "deadline", "before": back.context["previous_cursor"]})

    assert _queue_numbers(first) + _queue_numbers(second) + _queue_numbers(third) == expected
    assert [len(_queue_numbers(page)) for page in (first, second, third)] == [QUEUE_PAGE_SIZE, QUEUE_PAGE_SIZE, 20]
    assert third.context["next_cursor"] is None
    assert _queue_numbers(back) == _queue_numbers(second)
    assert _queue_numbers(back_to_first) == _queue_numbers(first)
    assert back_to_first.context["previous_cursor"] is None
    assert f"sort=deadline&amp;after={first.context['next_cursor']}" in first.content.decode()


def test_the_cursor_carries_its_sort_and_one_of_the_other_sort_shows_the_first_page(client, agent, merchant):
    tickets = [_with_deadline(merchant, shanghai(23, 11) + timedelta(minutes=i)) for i in range(QUEUE_PAGE_SIZE + 5)]
    deadline_key = QueueKey.of(tickets[3], QueueSort.DEADLINE)
    attention_key = QueueKey.of(tickets[3], QueueSort.ATTENTION)
    undated_key = QueueKey(sort=QueueSort.DEADLINE, next_deadline_at=None, id=7)

    _login(client, agent)
    crossed = client.get(reverse("dashboard:queue"), {"sort": "deadline", "after": encode_queue_key(attention_key)})
    kept = client.get(reverse("dashboard:queue"), {"sort": "deadline", "after": encode_queue_key(deadline_key)})

    assert decode_queue_key(encode_queue_key(deadline_key)) == deadline_key
    assert decode_queue_key(encode_queue_key(attention_key)) == attention_key
    assert decode_queue_key(encode_queue_key(undated_key)) == undated_key
    assert _queue_numbers(crossed)[0] == tickets[0].number
    assert crossed.context["previous_cursor"] is None
    assert _queue_numbers(kept)[0] == tickets[4].number


def _fill_queue_with_deadlines(merchant, count: int, assignee) -> None:
    store = StoreFactory.create(merchant=merchant)
    for i in range(count):
        order = OrderFactory.create(merchant=merchant, store=store)
        ticket = TicketFactory.create(
            merchant=merchant, customer=order.customer, order=order, assignee=assignee if i % 2 else None
        )
        Ticket.objects.filter(pk=ticket.pk).update(
            next_deadline_at=None if i % 3 == 0 else MONDAY_10 + timedelta(minutes=i), escalation_level=i % 4 == 1
        )


# session, user, the memberships (the one worked under and the switcher's list, one query), the staff
# filter, one page, the saved views (their counts are one more statement when there are any), the
# teams a view may be shared with
QUEUE_QUERIES = 7


@pytest.mark.parametrize("sort", ["deadline", "attention"])
@pytest.mark.parametrize("count", [10, 100])
def test_the_queue_costs_the_same_queries_at_10_and_at_100_tickets_in_either_sort(
    client, merchant, agent, count, sort, django_assert_num_queries
):
    _fill_queue_with_deadlines(merchant, count, agent)
    _login(client, agent)

    with django_assert_num_queries(QUEUE_QUERIES):
        response = client.get(reverse("dashboard:queue"), {"status": "all", "sort": sort})

    assert response.status_code == 200
    assert len(response.context["tickets"]) == min(count, QUEUE_PAGE_SIZE)


# --- the ticket's SLA panel -----------------------------------------------------------------------


def test_the_sla_panel_shows_each_clock_with_exact_elapsed_business_time_and_its_pauses(client, agent, order, policy):
    with travel(MONDAY_10):
        ticket = _create(order)
    with travel(shanghai(23, 10, 20)):
        ticket_reply(ticket=ticket, actor=agent, body="A photo please?", status=TicketStatus.WAITING_CUSTOMER)
    # The customer answers on Tuesday at 09:30: resolution resumes, next response starts.
    with travel(shanghai(24, 9, 30)):
        ticket_customer_message(ticket=ticket, customer=order.customer, body="Here it is.")

    with travel(shanghai(24, 11)):
        response = _login(client, agent).get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))

    clocks = response.context["sla_clocks"]
    assert [(c.target, c.outcome, c.deadline.target_minutes, c.elapsed_minutes) for c in clocks] == [
        ("first_response", "met", 60, 20),  # 10:00 → 10:20
        ("next_response", "pending", 120, 90),  # Tuesday 09:30 → 11:00
        # Monday 10:00–18:00 and Tuesday 09:00–11:00 are 600 business minutes; the pause took
        # 490 of them (Monday 10:20–18:00 and Tuesday 09:00–09:30).
        ("resolution", "pending", 1080, 110),
    ]
    resolution = clocks[2]
    assert [(p.paused_at, p.resumed_at, p.reason) for p in resolution.pauses] == [
        (shanghai(23, 10, 20), shanghai(24, 9, 30), "waiting_customer")
    ]
    html = response.content.decode()
    panel = html[html.index('id="sla-title"') : html.index('id="remind-title"')]
    assert "<strong>Standard</strong>" in panel
    assert panel.count('class="sla-clock__elapsed"') == 3
    assert "20 min of business time" in panel
    assert "1 h 30 min of business time" in panel
    assert "1 h 50 min of business time" in panel
    assert '<dd class="sla-clock__target">18 h</dd>' in panel
    assert '<dd class="sla-clock__target">2 h</dd>' in panel
    assert "2026-11-23 10:20</time> – <time" in panel
    assert "2026-11-24 09:30</time> · Waiting on customer" in panel
    # Resolution: 20 minutes ran on Monday, the other 1,060 from Tuesday 09:30 (510 that day,
    # 540 on Wednesday, 10 on Thursday).
    assert resolution.deadline.due_at == shanghai(26, 9, 10)
    assert "2026-11-26 09:10" in panel


def test_a_paused_clock_shows_the_time_it_has_left(client, agent, order, policy):
    with travel(MONDAY_10):
        ticket = _create(order)
    with travel(shanghai(23, 10, 30)):
        ticket_reply(ticket=ticket, actor=agent, body="Which size?", status=TicketStatus.WAITING_CUSTOMER)

    with travel(shanghai(24, 15)):
        response = _login(client, agent).get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))

    resolution = response.context["sla_clocks"][-1]
    assert (resolution.outcome, resolution.elapsed_minutes, resolution.remaining_minutes) == ("paused", 30, 1050)
    html = response.content.decode()
    assert "17 h 30 min" in html  # time left
    assert "still paused" in html


def test_the_sla_panel_shows_a_breach_and_how_late_the_answer_came(client, agent, order, policy):
    with travel(MONDAY_10):
        ticket = _create(order)
    with travel(shanghai(23, 11, 0, 30)):
        deadlines_sweep()
    with travel(shanghai(23, 11, 10)):
        while_late = _login(client, agent).get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))
    with travel(shanghai(23, 11, 30)):
        ticket_reply(ticket=ticket, actor=agent, body="Sorry for the wait.")
        answered = client.get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))

    late_clock = while_late.context["sla_clocks"][0]
    assert (late_clock.target, late_clock.outcome, late_clock.elapsed_minutes, late_clock.late_minutes) == (
        "first_response",
        "breached",
        60,
        10,
    )
    assert "10 min so far" in while_late.content.decode()
    first = answered.context["sla_clocks"][0]
    assert (first.outcome, first.late_minutes, first.breach.met_at) == ("breached", 30, shanghai(23, 11, 30))
    assert "30 min (answered 2026-11-23 11:30)" in answered.content.decode()


def test_a_ticket_without_a_policy_says_so(client, agent, order):
    with travel(MONDAY_10):
        ticket = _create(order)

    response = _login(client, agent).get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))

    assert response.context["sla_clocks"] == []
    assert "No SLA policy" in response.content.decode()


# session, user, memberships; the ticket with what its boxes list beside it; order lines; the timers
# (clocks with their breaches and pauses, my reminder, a pending close), the calendar's hours and
# days; the timeline with each message's attachments.
SLA_TICKET_PAGE_QUERIES = 9


@pytest.mark.parametrize("rounds", [1, 4])
def test_the_ticket_page_costs_the_same_queries_however_many_clocks_and_pauses(
    client, agent, order, policy, rounds, django_assert_num_queries
):
    with travel(MONDAY_10):
        ticket = _create(order)
    for i in range(rounds):
        with travel(MONDAY_10 + timedelta(minutes=10 * i + 5)):
            ticket_reply(ticket=ticket, actor=agent, body=f"Question {i}", status=TicketStatus.WAITING_CUSTOMER)
        with travel(MONDAY_10 + timedelta(minutes=10 * i + 10)):
            ticket_customer_message(ticket=ticket, customer=order.customer, body=f"Answer {i}")
    _login(client, agent)

    with travel(shanghai(23, 14)), django_assert_num_queries(SLA_TICKET_PAGE_QUERIES):
        response = client.get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))

    clocks = response.context["sla_clocks"]
    assert [c.target for c in clocks] == ["first_response"] + ["next_response"] * rounds + ["resolution"]
    assert len(clocks[-1].pauses) == rounds
    # Newest first within a target.
    starts = [c.deadline.started_at for c in clocks if c.target == "next_response"]
    assert starts == sorted(starts, reverse=True)


# --- "remind me" ----------------------------------------------------------------------------------


def test_remind_me_sets_a_reminder_at_a_local_time_and_cancel_takes_it_back(client, agent, order, policy):
    with travel(MONDAY_10):
        ticket = _create(order)
        _login(client, agent)
        url = reverse("dashboard:ticket_remind", kwargs={"number": ticket.number})

        response = client.post(url, {"remind_at": "2026-11-23T15:30", "note": "Call the courier"}, follow=True)

        reminder = Deadline.objects.get(ticket=ticket, kind=REMINDER_KIND)
        assert (reminder.state, reminder.key, reminder.user_id, reminder.due_at, reminder.payload) == (
            "pending",
            str(agent.pk),
            agent.pk,
            shanghai(23, 15, 30),  # 15:30 in Shanghai, the merchant's time zone
            {"note": "Call the courier"},
        )
        assert flash_messages(response) == ["Reminder set."]
        assert response.context["reminder"] == reminder
        html = response.content.decode()
        assert "You will be reminded at 2026-11-23 15:30." in html
        assert "Call the courier" in html

        cancelled = client.post(
            reverse("dashboard:ticket_remind_cancel", kwargs={"number": ticket.number}), follow=True
        )

    reminder.refresh_from_db()
    assert reminder.state == "cancelled"
    assert flash_messages(cancelled) == ["Reminder cancelled."]
    assert cancelled.context["reminder"] is None
    assert "You will be reminded" not in cancelled.content.decode()


def test_a_reminder_in_the_past_is_refused_with_the_message_and_nothing_is_created(client, agent, order):
    with travel(MONDAY_10):
        ticket = _create(order)
        _login(client, agent)

        response = client.post(
            reverse("dashboard:ticket_remind", kwargs={"number": ticket.number}),
            {"remind_at": "2026-11-23T09:59", "note": "Too late"},
            follow=True,
        )

    assert flash_messages(response) == ["Pick a time in the future."]
    assert Deadline.objects.filter(ticket=ticket).count() == 0
    assert TicketEvent.objects.filter(ticket=ticket, verb="reminder_set").count() == 0


def test_a_reminder_without_a_time_is_refused_on_the_page(client, agent, order):
    with travel(MONDAY_10):
        ticket = _create(order)

    response = _login(client, agent).post(
        reverse("dashboard:ticket_remind", kwargs={"number": ticket.number}), {"remind_at": "", "note": "x"}
    )

    assert response.status_code == 400
    assert response.context["remind_form"].errors == {"remind_at": ["This field is required."]}
    assert Deadline.objects.filter(ticket=ticket, kind=REMINDER_KIND).count() == 0


def test_the_page_shows_only_my_own_reminder(client, agent, supervisor, order):
    with travel(MONDAY_10):
        ticket = _create(order)
        ticket_reminder_set(ticket=ticket, actor=supervisor, remind_at=shanghai(23, 16), note="Mine")

        response = _login(client, agent).get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))
        cancelled = client.post(reverse("dashboard:ticket_remind_cancel", kwargs={"number": ticket.number}))

    assert response.context["reminder"] is None
    assert cancelled.status_code == 302
    assert Deadline.objects.get(ticket=ticket, kind=REMINDER_KIND).state == "pending"


def test_another_merchants_staff_cannot_set_or_cancel_a_reminder(client, agent, order):
    with travel(MONDAY_10):
        ticket = _create(order)
        ticket_reminder_set(ticket=ticket, actor=agent, remind_at=shanghai(23, 16))
        outsider = MembershipFactory.create(role=Membership.Role.SUPERVISOR).user
        _login(client, outsider)

        set_response = client.post(
            reverse("dashboard:ticket_remind", kwargs={"number": ticket.number}), {"remind_at": "2026-11-23T17:00"}
        )
        cancel_response = client.post(reverse("dashboard:ticket_remind_cancel", kwargs={"number": ticket.number}))

    assert (set_response.status_code, cancel_response.status_code) == (404, 404)
    assert list(Deadline.objects.filter(ticket=ticket, kind=REMINDER_KIND).values_list("state", "key")) == [
        ("pending", str(agent.pk))
    ]


# --- the SLA report -------------------------------------------------------------------------------


@pytest.fixture
def vip_policy(merchant, desk):
    return SlaPolicy.objects.create(
        merchant=merchant, name="VIP", position=5, match_customer_tiers=["vip"], first_response_minutes=30
    )


@pytest.fixture
def sla_history(order, merchant, agent, policy, vip_policy):
    """Monday on the desk: two answered in time, one answered late, one VIP never answered, one
    cancelled (which counts for nothing)."""
    vip = CustomerFactory.create(merchant=merchant, tier="vip")
    with travel(MONDAY_10):
        in_time = _create(order, subject="In time")
        late = _create(order, subject="Late")
        resolved = _create(order, subject="Resolved")
        cancelled = _create(order, subject="Cancelled")
        vip_ticket = _create(order, customer=vip, order=None, subject="VIP")
    with travel(shanghai(23, 10, 20)):
        ticket_reply(ticket=in_time, actor=agent, body="On it.")
    with travel(shanghai(23, 10, 30)):
        ticket_reply(ticket=resolved, actor=agent, body="Fixed.", status=TicketStatus.RESOLVED)
    with travel(shanghai(23, 10, 30, 30)):
        deadlines_sweep()  # the VIP's 30 minutes are up
    with travel(shanghai(23, 10, 40)):
        ticket_change_status(ticket=cancelled, actor=agent, status=TicketStatus.CANCELLED)
    with travel(shanghai(23, 11, 0, 30)):
        deadlines_sweep()  # the late one's hour is up
    with travel(shanghai(23, 11, 30)):
        ticket_reply(ticket=late, actor=agent, body="Sorry for the wait.")
    return {"in_time": in_time, "late": late, "resolved": resolved, "cancelled": cancelled, "vip": vip_ticket}


def _report_rows(response) -> list[tuple]:
    return [
        (row.policy_name, row.target, row.ended, row.met, row.breached, row.attainment_percent)
        for row in response.context["report"].rows
    ]


def test_the_report_counts_met_and_breached_clocks_per_policy_and_target(client, supervisor, sla_history):
    with travel(shanghai(24, 12)):
        response = _login(client, supervisor).get(reverse("dashboard:sla_report"))

    assert response.status_code == 200
    assert (response.context["first_day"].isoformat(), response.context["last_day"].isoformat()) == (
        "2026-10-26",
        "2026-11-24",
    )
    assert _report_rows(response) == [
        ("VIP", "first_response", 1, 0, 1, Decimal("0.0")),
        ("Standard", "first_response", 3, 2, 1, Decimal("66.7")),
        ("Standard", "next_response", 0, 0, 0, None),
        ("Standard", "resolution", 1, 1, 0, Decimal("100.0")),
    ]
    totals = [(r.target, r.ended, r.met, r.breached, r.attainment_percent) for r in response.context["report"].totals]
    assert totals == [
        ("first_response", 4, 2, 2, Decimal("50.0")),
        ("next_response", 0, 0, 0, None),
        ("resolution", 1, 1, 0, Decimal("100.0")),
    ]
    breaches = response.context["breaches"]
    assert [(b.ticket_id, b.target, b.due_at, b.breached_at, b.late_minutes, b.policy.name) for b in breaches] == [
        # Breached at the due minute, not when the sweep noticed (thirty seconds later).
        (sla_history["late"].pk, "first_response", shanghai(23, 11), shanghai(23, 11), 30, "Standard"),
        (sla_history["vip"].pk, "first_response", shanghai(23, 10, 30), shanghai(23, 10, 30), None, "VIP"),
    ]
    html = response.content.decode()
    assert "66.7%" in html
    assert f'href="{reverse("dashboard:ticket", kwargs={"number": sla_history["late"].number})}"' in html
    assert "2026-11-23 11:00</time>" in html  # due, in the merchant's time zone
    assert "not answered yet" in html


def test_the_report_period_is_whole_days_in_the_merchants_time_zone(client, supervisor, sla_history):
    _login(client, supervisor)
    with travel(shanghai(24, 12)):
        sunday = client.get(reverse("dashboard:sla_report"), {"start": "2026-11-22", "end": "2026-11-22"})
        monday = client.get(reverse("dashboard:sla_report"), {"start": "2026-11-23", "end": "2026-11-23"})

    assert [row[2:5] for row in _report_rows(sunday)] == [(0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0)]
    assert sunday.context["breaches"] == []
    assert "No breach in this period." in sunday.content.decode()
    assert [row[2] for row in _report_rows(monday)] == [1, 3, 0, 1]
    assert len(monday.context["breaches"]) == 2


def test_a_period_that_ends_before_it_starts_is_refused_and_the_default_shown(client, supervisor, sla_history):
    with travel(shanghai(24, 12)):
        response = _login(client, supervisor).get(
            reverse("dashboard:sla_report"), {"start": "2026-11-24", "end": "2026-11-01"}
        )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["The period ends before it starts."]
    assert response.context["first_day"].isoformat() == "2026-10-26"
    assert len(response.context["breaches"]) == 2


def test_the_breach_list_pages_by_keyset_through_breaches_of_one_instant(client, supervisor, merchant, order, policy):
    with travel(MONDAY_10):
        tickets = [_create(order, subject=f"Case {i}") for i in range(5)]
    with travel(shanghai(23, 11, 0, 30)):
        deadlines_sweep()  # five breaches at one instant: the id breaks the tie
    newest_first = list(SlaBreach.objects.filter(merchant=merchant).order_by("-id").values_list("pk", flat=True))
    day = {"merchant": merchant, "start": shanghai(23, 0), "end": shanghai(24, 0), "size": 2}

    first = sla_breaches_page(**day)
    second = sla_breaches_page(**day, after=first.next_key)
    third = sla_breaches_page(**day, after=second.next_key)
    with travel(shanghai(24, 12)):
        page = _login(client, supervisor).get(
            reverse("dashboard:sla_report"), {"after": encode_breach_key(first.next_key)}
        )

    assert len(newest_first) == len(tickets)
    assert [[b.pk for b in p.breaches] for p in (first, second, third)] == [
        newest_first[:2],
        newest_first[2:4],
        newest_first[4:],
    ]
    assert third.next_key is None
    assert [b.pk for b in page.context["breaches"]] == newest_first[2:]
    assert page.context["is_later_page"] is True
    assert decode_breach_key("garbage") is None


def test_agents_may_not_see_the_report_nor_its_link(client, agent, supervisor, sla_history):
    with travel(shanghai(24, 12)):
        refused = _login(client, agent).get(reverse("dashboard:sla_report"))
        queue_for_agent = client.get(reverse("dashboard:queue"))
        queue_for_supervisor = _login(client, supervisor).get(reverse("dashboard:queue"))

    assert refused.status_code == 403
    assert refused.templates[0].name == "dashboard/forbidden.html"
    assert "Only supervisors and merchant admins can see this page." in refused.content.decode()
    report_link = f'href="{reverse("dashboard:sla_report")}"'
    assert report_link not in queue_for_agent.content.decode()
    assert report_link in queue_for_supervisor.content.decode()


def test_the_report_needs_a_login(client):
    response = client.get(reverse("dashboard:sla_report"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dashboard:login"))


def test_another_merchants_supervisor_sees_none_of_these_breaches(client, sla_history):
    other_order = OrderFactory.create()
    SlaPolicy.objects.create(merchant=other_order.merchant, name="Theirs", position=1, first_response_minutes=15)
    with travel(MONDAY_10):
        theirs = _create(other_order, subject="Their case")
    with travel(shanghai(23, 12)):
        deadlines_sweep()
    outsider = MembershipFactory.create(merchant=other_order.merchant, role=Membership.Role.MERCHANT_ADMIN).user

    with travel(shanghai(24, 12)):
        response = _login(client, outsider).get(reverse("dashboard:sla_report"))

    assert _report_rows(response) == [("Theirs", "first_response", 1, 0, 1, Decimal("0.0"))]
    assert [breach.ticket_id for breach in response.context["breaches"]] == [theirs.pk]
    html = response.content.decode()
    assert "Standard" not in html
    assert "VIP" not in html


REPORT_QUERIES = 6  # session, user, the memberships (with the switcher's), the counts, the policies, breaches


def test_the_report_costs_a_fixed_number_of_queries(client, supervisor, sla_history, django_assert_num_queries):
    _login(client, supervisor)

    with travel(shanghai(24, 12)), django_assert_num_queries(REPORT_QUERIES):
        response = client.get(reverse("dashboard:sla_report"))

    assert response.status_code == 200
    assert len(response.context["breaches"]) == 2


# --- the countdown, live in a browser -------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_countdown_ticks_on_in_the_browser_into_warning_then_breached(live_server, browser):
    merchant = MerchantFactory.create(default_language="en")
    agent = MembershipFactory.create(merchant=merchant, role=Membership.Role.AGENT).user
    ticket = TicketFactory.create(merchant=merchant)
    now = timezone.now()
    deadline_schedule(
        ticket=ticket,
        kind="sla.first_response",
        due_at=now + timedelta(minutes=10, seconds=30),
        warn_at=now + timedelta(minutes=5, seconds=30),
    )
    page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 900})
    page.clock.install(time=now)
    page.goto(f"{live_server.url}/dashboard/login/")
    page.fill("input[name=username]", agent.username)
    page.fill("input[name=password]", "pass-word-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    clock = page.locator(f"tr:has(a:text-is('{ticket.number}')) .countdown")

    before = (clock.get_attribute("class"), clock.locator(".countdown__text").inner_text())
    page.clock.run_for("06:00")
    warned = (clock.get_attribute("class"), clock.locator(".countdown__text").inner_text())
    warned_badge = clock.locator(".countdown__badge").inner_text()
    page.clock.run_for("07:00")
    breached = (clock.get_attribute("class"), clock.locator(".countdown__text").inner_text())

    assert before == ("countdown countdown--normal", "in 10 min")
    assert warned == ("countdown countdown--warning", "in 4 min")
    assert warned_badge.lower() == "due soon"
    assert breached == ("countdown countdown--breached", "2 min overdue")


def test_the_sla_panel_escapes_the_policy_name_and_the_reminder_note(client, agent, order, policy):
    # Given a policy and a reminder note that carry markup
    policy.name = '<script>alert("policy")</script>'
    policy.save(update_fields=["name"])
    with travel(MONDAY_10):
        ticket = _create(order)
        ticket_reminder_set(
            ticket=ticket, actor=agent, remind_at=shanghai(23, 15, 30), note="<img src=x onerror=alert(1)>"
        )

        # When the agent opens the page
        response = _login(client, agent).get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))

    # Then both read as text, never as markup
    html = response.content.decode()
    panel = html[html.index('id="sla-title"') : html.index("</section>", html.index('id="remind-title"'))]
    assert "<strong>&lt;script&gt;alert(&quot;policy&quot;)&lt;/script&gt;</strong>" in panel
    assert '<br><span class="muted">&lt;img src=x onerror=alert(1)&gt;</span>' in panel
    assert "<script>" not in panel
    assert "<img" not in panel
    assert "You will be reminded at 2026-11-23 15:30." in panel


def test_the_sla_panel_speaks_chinese(client, agent, order, policy):
    # Given a clock breached ten minutes ago
    with travel(MONDAY_10):
        ticket = _create(order)
    with travel(shanghai(23, 11, 0, 30)):
        deadlines_sweep()

    # When a Chinese-speaking agent opens the page
    with travel(shanghai(23, 11, 10)):
        response = _login(client, agent).get(
            reverse("dashboard:ticket", kwargs={"number": ticket.number}), headers={"accept-language": "zh-hans"}
        )

    # Then the panel's words are the Chinese ones
    html = response.content.decode()
    panel = html[html.index('id="sla-title"') : html.index("</section>", html.index('id="remind-title"'))]
    assert 'id="sla-title">SLA</h2>' in panel
    assert "<strong>首次响应</strong>" in panel
    assert "<dt>超时时长</dt>" in panel
    assert "<dt>已用时间</dt>" in panel
    assert '<h2 id="remind-title">提醒我</h2>' in panel
    assert "Target" not in panel
    assert "Remind me" not in panel
