"""A return's deadlines, fired by the real sweep at the edges of their due times."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from aftersales import timers as timer_registry
from aftersales.exceptions import TransitionNotAllowed
from aftersales.models import Deadline, Notification
from aftersales.services.deadlines import deadlines_sweep
from returns import timers
from returns.models import Refund, ReturnRequest, ReturnStatus
from returns.selectors import return_clocks
from returns.services import (
    return_request_approve,
    return_request_inspect,
    return_request_revise,
    return_shipping_choose,
    return_tracking_add,
)
from returns.tests.builders import counters, drive, inspect_all, make_world, submit
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db
S = ReturnStatus
# Monday 10:00 in Shanghai.
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _deadline(return_request, kind) -> Deadline:
    return Deadline.objects.get(ticket_id=return_request.ticket_id, kind=kind)


def _status(return_request) -> str:
    return ReturnRequest.objects.get(pk=return_request.pk).status


def _ticket_status(return_request) -> str:
    return ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk).ticket.status


def _events(return_request, verb) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket_id=return_request.ticket_id, verb=verb).order_by("id"))


def _sweep_at(instant: datetime):
    with time_machine.travel(instant, tick=False):
        return deadlines_sweep()


def test_the_returns_app_registers_its_four_kinds_with_who_faces_them():
    kinds = {kind: timer_registry.handler_for(kind) for kind in timers.RETURN_TIMER_KINDS}

    assert {kind: registered.staff_facing for kind, registered in kinds.items()} == {
        "return.merchant_response": True,
        "return.customer_ship": False,
        "return.confirm_receipt": True,
        "return.revise": False,
    }


# --- merchant response ---------------------------------------------------------------------------


def test_a_request_the_merchant_leaves_unanswered_for_48_hours_is_approved():
    with time_machine.travel(T0, tick=False):
        world = make_world()
        return_request = submit(world)
    deadline = _deadline(return_request, timers.MERCHANT_RESPONSE)
    assert deadline.due_at == T0 + timedelta(hours=48)
    # Staff-facing: the queue sorts by it.
    assert ReturnRequest.objects.get(pk=return_request.pk).ticket.next_deadline_at == T0 + timedelta(hours=48)

    quiet = _sweep_at(T0 + timedelta(hours=48) - SECOND)
    assert (quiet.fired, _status(return_request)) == (0, S.SUBMITTED)

    fired = _sweep_at(T0 + timedelta(hours=48))

    assert fired.fired == 1
    assert _status(return_request) == S.APPROVED
    assert _deadline(return_request, timers.MERCHANT_RESPONSE).state == Deadline.State.FIRED
    approved = _events(return_request, "return_approved")
    assert [(event.actor_user_id, event.is_public, event.data["note"]) for event in approved] == [
        (None, True, "Approved: the merchant did not answer in time.")
    ]
    # The customer's clock starts from the approval.
    ship = _deadline(return_request, timers.CUSTOMER_SHIP)
    assert ship.due_at == T0 + timedelta(hours=48, days=7)
    assert approved[0].data["ship_by"] == ship.due_at.isoformat()
    assert _ticket_status(return_request) == "waiting_customer"


def test_an_answer_in_time_meets_the_merchant_response_deadline_and_the_sweep_does_nothing():
    with time_machine.travel(T0, tick=False):
        world = make_world()
        return_request = submit(world)
    with time_machine.travel(T0 + timedelta(hours=47), tick=False):
        return_request_approve(return_request=return_request, actor=world.agent)

    result = _sweep_at(T0 + timedelta(hours=49))

    deadline = _deadline(return_request, timers.MERCHANT_RESPONSE)
    assert (deadline.state, deadline.met_at) == (Deadline.State.MET, T0 + timedelta(hours=47))
    assert result.fired == 0
    assert len(_events(return_request, "return_approved")) == 1


# --- customer ship-by -------------------------------------------------------------------------------


def test_the_customer_is_reminded_two_days_before_ship_by_and_the_return_expires_after_it():
    with time_machine.travel(T0, tick=False):
        world = make_world()
        return_request = drive(world, submit(world), S.APPROVED)
        return_shipping_choose(return_request=return_request, method="drop_off", customer=world.customer)
    due = T0 + timedelta(days=7)
    deadline = _deadline(return_request, timers.CUSTOMER_SHIP)
    assert (deadline.due_at, deadline.warn_at) == (due, T0 + timedelta(days=5))
    # Customer-facing: it stays out of the staff queue's next deadline.
    assert ReturnRequest.objects.get(pk=return_request.pk).ticket.next_deadline_at is None

    assert _sweep_at(T0 + timedelta(days=5) - SECOND).handled == 0
    warned = _sweep_at(T0 + timedelta(days=5))

    assert (warned.warned, warned.fired) == (1, 0)
    reminders = _events(return_request, "return_ship_reminder")
    assert [(event.is_public, event.data["ship_by"]) for event in reminders] == [(True, due.isoformat())]
    reminder = Notification.objects.get(
        ticket_id=return_request.ticket_id, template="return_ship_reminder", channel="email"
    )
    assert (reminder.recipient, reminder.context["ship_by"]) == (world.customer.email, "2026-03-09 10:00")
    assert _status(return_request) == S.AWAITING_SHIPMENT

    assert _sweep_at(due - SECOND).handled == 0
    expired = _sweep_at(due)

    assert expired.fired == 1
    assert _status(return_request) == S.EXPIRED
    assert _ticket_status(return_request) == "cancelled"
    assert _deadline(return_request, timers.CUSTOMER_SHIP).state == Deadline.State.FIRED
    # Its units may be returned again.
    assert counters(world.order) == [(0, 0, 0), (0, 0, 0)]
    assert [event.is_public for event in _events(return_request, "return_expired")] == [True]
    expiry = Notification.objects.filter(ticket_id=return_request.ticket_id, template="return_expired")
    assert sorted(expiry.values_list("channel", flat=True)) == ["email", "sms"]


def test_an_approved_return_with_no_shipping_choice_expires_too():
    with time_machine.travel(T0, tick=False):
        world = make_world()
        return_request = drive(world, submit(world), S.APPROVED)

    _sweep_at(T0 + timedelta(days=7))

    assert _status(return_request) == S.EXPIRED
    assert counters(world.order) == [(0, 0, 0), (0, 0, 0)]


def test_a_parcel_on_its_way_before_ship_by_meets_it_and_nothing_expires():
    with time_machine.travel(T0, tick=False):
        world = make_world()
        return_request = drive(world, submit(world), S.AWAITING_SHIPMENT)
    with time_machine.travel(T0 + timedelta(days=7) - SECOND, tick=False):
        return_tracking_add(return_request=return_request, carrier="SF", tracking_number="SF1", customer=world.customer)

    result = _sweep_at(T0 + timedelta(days=8))

    assert result.handled == 0
    assert _status(return_request) == S.IN_TRANSIT
    assert _deadline(return_request, timers.CUSTOMER_SHIP).state == Deadline.State.MET
    assert _events(return_request, "return_ship_reminder") == []


# --- confirm receipt ----------------------------------------------------------------------------


def test_a_parcel_not_inspected_within_72_hours_is_accepted_as_requested_and_handed_to_the_ledger(
    django_capture_on_commit_callbacks,
):
    with time_machine.travel(T0, tick=False):
        world = make_world()
        return_request = drive(world, submit(world), S.RECEIVED)
    assert _deadline(return_request, timers.CONFIRM_RECEIPT).due_at == T0 + timedelta(hours=72)

    assert _sweep_at(T0 + timedelta(hours=72) - SECOND).handled == 0
    with django_capture_on_commit_callbacks(execute=True):
        fired = _sweep_at(T0 + timedelta(hours=72))

    assert fired.fired == 1
    assert _status(return_request) == S.SETTLING
    assert counters(world.order) == [(2, 2, 2), (1, 1, 1)]
    assert list(return_request.lines.order_by("pk").values_list("quantity_accepted", "quantity_rejected")) == [
        (2, 0),
        (1, 0),
    ]
    # The real ledger settled it after the sweep's commit: one refund of what was requested.
    refunds = list(Refund.objects.filter(return_request=return_request).values_list("amount", "granted_by"))
    assert refunds == [(sum((line.refund_amount for line in return_request.lines.all()), Decimal("0")), None)]
    assert [event.is_public for event in _events(return_request, "return_accepted_uninspected")] == [True]


def test_an_inspection_in_time_meets_the_confirm_receipt_deadline():
    with time_machine.travel(T0, tick=False):
        world = make_world()
        return_request = drive(world, submit(world), S.RECEIVED)
    with time_machine.travel(T0 + timedelta(hours=71), tick=False):
        return_request_inspect(return_request=return_request, actor=world.warehouse, lines=inspect_all(return_request))

    result = _sweep_at(T0 + timedelta(hours=73))

    assert result.handled == 0
    assert _status(return_request) == S.INSPECTED
    assert _deadline(return_request, timers.CONFIRM_RECEIPT).state == Deadline.State.MET


# --- revise after rejection -----------------------------------------------------------------------


def test_a_rejection_not_revised_within_72_hours_becomes_final():
    with time_machine.travel(T0, tick=False):
        world = make_world()
        return_request = drive(world, submit(world), S.REJECTED)
    revise = _deadline(return_request, timers.REVISE)
    assert revise.due_at == T0 + timedelta(hours=72)
    rejected = _events(return_request, "return_rejected")
    assert [(event.is_public, event.data["revise_by"]) for event in rejected] == [(True, revise.due_at.isoformat())]

    assert _sweep_at(T0 + timedelta(hours=72) - SECOND).handled == 0
    fired = _sweep_at(T0 + timedelta(hours=72))

    assert fired.fired == 1
    assert _status(return_request) == S.REJECTED
    assert _ticket_status(return_request) == "resolved"
    assert [event.is_public for event in _events(return_request, "return_rejection_final")] == [True]
    with (
        time_machine.travel(T0 + timedelta(hours=72, seconds=1), tick=False),
        pytest.raises(TransitionNotAllowed) as late,
    ):
        return_request_revise(return_request=return_request, customer=world.customer, note="Too late?")
    assert late.value.code == "revise_window_closed"
    assert _status(return_request) == S.REJECTED


def test_a_revision_in_the_last_second_is_accepted_and_the_revise_deadline_is_met():
    with time_machine.travel(T0, tick=False):
        world = make_world()
        return_request = drive(world, submit(world), S.REJECTED)
    with time_machine.travel(T0 + timedelta(hours=72) - SECOND, tick=False):
        return_request_revise(return_request=return_request, customer=world.customer, note="Please look again.")

    result = _sweep_at(T0 + timedelta(hours=73))

    assert result.handled == 0
    assert _status(return_request) == S.SUBMITTED
    assert _deadline(return_request, timers.REVISE).state == Deadline.State.MET
    # The merchant's clock restarted from the revision.
    restarted = Deadline.objects.filter(ticket_id=return_request.ticket_id, kind=timers.MERCHANT_RESPONSE)
    assert list(restarted.order_by("id").values_list("state", "due_at")) == [
        (Deadline.State.MET, T0 + timedelta(hours=48)),
        (Deadline.State.PENDING, T0 + timedelta(hours=72 + 48) - SECOND),
    ]


def test_a_late_staff_answer_leaves_the_deadline_to_fire_as_a_breach_and_the_handler_does_nothing():
    with time_machine.travel(T0, tick=False):
        world = make_world()
        return_request = submit(world)
    with time_machine.travel(T0 + timedelta(hours=49), tick=False):
        return_request_approve(return_request=return_request, actor=world.agent)

    result = _sweep_at(T0 + timedelta(hours=49, minutes=1))

    assert result.fired == 1
    assert _deadline(return_request, timers.MERCHANT_RESPONSE).state == Deadline.State.FIRED
    assert _status(return_request) == S.APPROVED
    assert len(_events(return_request, "return_approved")) == 1


def test_the_ticket_shows_every_return_clock_with_its_label():
    with time_machine.travel(T0, tick=False):
        world = make_world()
        return_request = drive(world, submit(world), S.APPROVED)

    clocks = return_clocks(ticket=return_request.ticket)

    assert [(clock.label, clock.deadline.state, clock.customer_facing) for clock in clocks] == [
        ("Merchant response", Deadline.State.MET, False),
        ("Customer ships by", Deadline.State.PENDING, True),
    ]
