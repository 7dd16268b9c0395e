"""Follow-up calls (回访): scheduled by the merchant's rules on the timers engine, due in the queue
by the real sweep, retried when the customer is not reached up to the rule's attempts, and each
outcome followed through (a recovery case, a new case)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from aftersales.exceptions import InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Deadline, Membership
from aftersales.tests.factories import MembershipFactory
from feedback.deadline_kinds import FOLLOWUP_VISIT
from feedback.models import (
    CallResult,
    FollowUp,
    FollowUpCall,
    FollowUpOutcome,
    FollowUpStatus,
    FollowUpTrigger,
    RecoveryCase,
    RecoveryTrigger,
)
from feedback.selectors import followup_queue
from feedback.services import followup_record_call, followups_trigger
from feedback.tests.builders import open_case, resolve, sweep_at
from feedback.tests.factories import FollowUpRuleFactory
from tickets.models import Ticket, TicketKind

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _call(followup, actor, result, at, **kwargs):
    with time_machine.travel(at, tick=False):
        return followup_record_call(followup=followup, actor=actor, result=result, **kwargs)


@pytest.fixture
def due_followup(world):
    FollowUpRuleFactory(merchant=world.merchant, delay_hours=48, max_attempts=3, retry_hours=24)
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        ticket = open_case(world)
    resolve(world, ticket, at=T0)
    sweep_at(T0 + timedelta(hours=48))
    return FollowUp.objects.get(ticket=ticket)


def test_a_rule_schedules_the_call_and_the_sweep_puts_it_in_the_queue_at_its_time(world):
    FollowUpRuleFactory(merchant=world.merchant, delay_hours=48)
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        ticket = open_case(world)
    resolve(world, ticket, at=T0)
    followup = FollowUp.objects.get(ticket=ticket)
    assert (followup.status, followup.due_at) == (FollowUpStatus.SCHEDULED, T0 + timedelta(hours=48))

    sweep_at(T0 + timedelta(hours=48) - SECOND)
    assert FollowUp.objects.get(pk=followup.pk).status == FollowUpStatus.SCHEDULED
    with time_machine.travel(T0 + timedelta(hours=48) - SECOND, tick=False):
        assert followup_queue(merchant_id=world.merchant.pk) == []

    sweep_at(T0 + timedelta(hours=48))
    assert FollowUp.objects.get(pk=followup.pk).status == FollowUpStatus.DUE
    assert [f.pk for f in followup_queue(merchant_id=world.merchant.pk)] == [followup.pk]


def test_a_complaint_rule_fires_only_for_complaints(world):
    FollowUpRuleFactory(merchant=world.merchant, trigger=FollowUpTrigger.COMPLAINT_CLOSED, delay_hours=168)
    support = open_case(world)
    complaint = open_case(world, kind=TicketKind.COMPLAINT)

    resolve(world, support)
    resolve(world, complaint)

    assert list(FollowUp.objects.values_list("ticket_id", flat=True)) == [complaint.pk]


def test_an_inactive_rule_schedules_nothing(world):
    FollowUpRuleFactory(merchant=world.merchant, is_active=False)
    ticket = open_case(world)

    resolve(world, ticket)

    assert FollowUp.objects.count() == 0


def test_a_trigger_delivered_twice_schedules_one_call(world):
    FollowUpRuleFactory(merchant=world.merchant, trigger=FollowUpTrigger.REPAIR_DONE, delay_hours=48)
    ticket = open_case(world, kind=TicketKind.REPAIR)

    first = followups_trigger(ticket=ticket, trigger=FollowUpTrigger.REPAIR_DONE, source_key="repair:7")
    again = followups_trigger(ticket=ticket, trigger=FollowUpTrigger.REPAIR_DONE, source_key="repair:7")

    assert (len(first), again) == (1, [])
    assert FollowUp.objects.count() == 1
    assert Deadline.objects.filter(kind=FOLLOWUP_VISIT, ticket=ticket).count() == 1


def test_a_customer_not_reached_is_called_again_after_the_rules_interval_up_to_its_attempts(world, due_followup):
    # First attempt: not reached, so the call comes back 24 hours later
    at = T0 + timedelta(hours=50)
    followup = _call(due_followup, world.agent, CallResult.NOT_REACHED, at)
    assert (followup.status, followup.attempts, followup.due_at) == (
        FollowUpStatus.RETRY,
        1,
        at + timedelta(hours=24),
    )
    sweep_at(at + timedelta(hours=24) - SECOND)
    assert FollowUp.objects.get(pk=followup.pk).status == FollowUpStatus.RETRY
    sweep_at(at + timedelta(hours=24))
    assert FollowUp.objects.get(pk=followup.pk).status == FollowUpStatus.DUE

    # Second attempt: not reached again
    followup = _call(followup, world.agent, CallResult.NOT_REACHED, at + timedelta(hours=25))
    assert (followup.status, followup.attempts) == (FollowUpStatus.RETRY, 2)
    sweep_at(at + timedelta(hours=49))

    # Third and last attempt: given up as unreachable, the clock stopped
    followup = _call(followup, world.agent, CallResult.NOT_REACHED, at + timedelta(hours=50))
    assert (followup.status, followup.attempts, followup.outcome) == (
        FollowUpStatus.DONE,
        3,
        FollowUpOutcome.UNREACHABLE,
    )
    assert FollowUpCall.objects.filter(followup=followup).count() == 3
    assert not Deadline.objects.filter(kind=FOLLOWUP_VISIT, state__in=Deadline.OPEN_STATES).exists()
    with pytest.raises(TransitionNotAllowed):
        _call(followup, world.agent, CallResult.SATISFIED, at + timedelta(hours=51))
    assert FollowUpCall.objects.filter(followup=followup).count() == 3


def test_a_satisfied_customer_closes_the_follow_up(world, due_followup):
    followup = _call(due_followup, world.agent, CallResult.SATISFIED, T0 + timedelta(hours=49), note="All good")

    assert (followup.status, followup.outcome, followup.completed_by) == (
        FollowUpStatus.DONE,
        FollowUpOutcome.SATISFIED,
        world.agent,
    )
    assert RecoveryCase.objects.count() == 0


def test_an_unsatisfied_customer_opens_a_recovery_case(world, due_followup):
    followup = _call(due_followup, world.agent, CallResult.UNSATISFIED, T0 + timedelta(hours=49), note="Still wobbles")

    recovery = RecoveryCase.objects.get()
    assert (recovery.followup_id, recovery.trigger, recovery.original_ticket_id) == (
        followup.pk,
        RecoveryTrigger.FOLLOWUP_UNSATISFIED,
        followup.ticket_id,
    )
    assert recovery.recovery_ticket.assignee == world.supervisor


def test_a_new_problem_opens_a_new_case_for_the_customer(world, due_followup):
    before = Ticket.objects.count()

    followup = _call(
        due_followup,
        world.agent,
        CallResult.NEW_PROBLEM,
        T0 + timedelta(hours=49),
        note="The zip broke too",
        new_case_subject="Broken zip",
    )

    assert Ticket.objects.count() == before + 1
    new_case = followup.new_ticket
    assert (new_case.subject, new_case.customer_id, new_case.channel, new_case.assignee) == (
        "Broken zip",
        world.customer.pk,
        "phone",
        world.agent,
    )
    assert followup.outcome == FollowUpOutcome.NEW_PROBLEM


def test_an_unsatisfied_call_without_a_note_is_refused_and_changes_nothing(world, due_followup):
    with pytest.raises(InvalidInput):
        _call(due_followup, world.agent, CallResult.UNSATISFIED, T0 + timedelta(hours=49))

    followup = FollowUp.objects.get(pk=due_followup.pk)
    assert (followup.status, followup.attempts) == (FollowUpStatus.DUE, 0)
    assert FollowUpCall.objects.count() == 0
    assert RecoveryCase.objects.count() == 0


def test_a_technician_makes_no_follow_up_calls(world, due_followup):
    technician = MembershipFactory(merchant=world.merchant, role=Membership.Role.TECHNICIAN).user

    with pytest.raises(PermissionRefused):
        _call(due_followup, technician, CallResult.SATISFIED, T0 + timedelta(hours=49))

    assert FollowUp.objects.get(pk=due_followup.pk).attempts == 0


@pytest.mark.parametrize(("min_amount", "expected"), [(Decimal("579.99"), 1), (Decimal("580.00"), 0)])
def test_a_refund_rule_schedules_a_call_when_a_return_settles_with_a_paid_refund_over_its_amount(min_amount, expected):
    # Given a return refunded 580.00, and a rule for refunds over an amount
    from returns.models import RefundExecution, ReturnStatus
    from returns.services import refund_confirm_manual, return_request_settle
    from returns.tests.builders import approved_return, settlement_setup

    setup = settlement_setup()
    FollowUpRuleFactory(
        merchant=setup["merchant"], trigger=FollowUpTrigger.REFUND_OVER, min_amount=min_amount, delay_hours=24
    )
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    return_request_settle(return_request=return_request, actor=setup["supervisor"])

    # When the payout is confirmed and the return completes (its case resolves)
    refund_confirm_manual(execution=RefundExecution.objects.get(), actor=setup["supervisor"], reference="RF-1")

    # Then a call is scheduled only when the refund is over the rule's amount
    followups = list(FollowUp.objects.filter(ticket_id=return_request.ticket_id, rule__trigger="refund_over"))
    assert len(followups) == expected
    if expected:
        assert followups[0].source_key.startswith("refund:")
