"""Low scores open a recovery case, linked to the original, assigned to a supervisor, due within
the merchant's recovery time; its outcome is recorded by a supervisor."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from aftersales.exceptions import PermissionRefused, TransitionNotAllowed
from aftersales.models import Deadline, Notification
from feedback.deadline_kinds import RECOVERY_DUE
from feedback.models import RecoveryCase, RecoveryStatus, RecoveryTrigger, Survey
from feedback.services import recovery_close, survey_respond, survey_send
from feedback.tests.builders import open_case, resolve, sweep_at
from feedback.tests.factories import SurveySettingsFactory
from feedback.timeline import FeedbackVerb
from tickets.models import Ticket, TicketEvent, TicketPriority

pytestmark = pytest.mark.django_db


def _sent(world) -> Survey:
    ticket = open_case(world)
    resolve(world, ticket)
    return survey_send(survey_id=Survey.objects.get(ticket=ticket).pk)


def test_a_rating_at_the_merchants_threshold_opens_a_recovery_case_for_a_supervisor(world):
    survey = _sent(world)
    before = Ticket.objects.count()

    survey_respond(survey=survey, score=2, comment="Nobody called me back")

    recovery = RecoveryCase.objects.get()
    assert Ticket.objects.count() == before + 1
    assert (recovery.original_ticket_id, recovery.survey_id, recovery.trigger, recovery.status) == (
        survey.ticket_id,
        survey.pk,
        RecoveryTrigger.LOW_CSAT,
        RecoveryStatus.OPEN,
    )
    case = recovery.recovery_ticket
    assert (case.assignee, case.priority, case.customer_id) == (
        world.supervisor,
        TicketPriority.HIGH,
        world.customer.pk,
    )
    assert "Nobody called me back" in case.messages.get().body
    deadline = Deadline.objects.get(ticket=case, kind=RECOVERY_DUE)
    assert deadline.due_at == recovery.due_at
    assert recovery.due_at - recovery.created_at == pytest.approx(timedelta(hours=24), abs=timedelta(seconds=5))
    assert TicketEvent.objects.filter(ticket=survey.ticket, verb=FeedbackVerb.RECOVERY_OPENED).count() == 1
    assert Notification.objects.filter(template="recovery_opened", recipient=world.supervisor.email).count() == 1
    # and the customer, who asked for nothing, is not told "we have received your request"
    assert sorted(Notification.objects.filter(ticket=case).values_list("template", "recipient")) == [
        ("recovery_opened", world.supervisor.email),
        ("ticket_assigned", world.supervisor.email),
    ]


def test_a_rating_above_the_threshold_opens_nothing(world):
    SurveySettingsFactory(merchant=world.merchant, low_score_threshold=1)
    survey = _sent(world)

    survey_respond(survey=survey, score=2)

    assert RecoveryCase.objects.count() == 0


def test_a_complaint_word_in_a_good_rating_opens_a_recovery_case(world):
    SurveySettingsFactory(merchant=world.merchant, complaint_keywords=["投诉", "lawyer"])
    survey = _sent(world)

    survey_respond(survey=survey, score=4, comment="Fine, but I will 投诉 about the courier")

    assert RecoveryCase.objects.get().trigger == RecoveryTrigger.COMPLAINT_KEYWORD


def test_changing_a_low_rating_again_opens_no_second_recovery_case(world):
    survey = _sent(world)
    survey_respond(survey=survey, score=1)

    survey_respond(survey=survey, score=2)

    assert RecoveryCase.objects.count() == 1


def test_an_nps_detractor_opens_a_recovery_case_and_a_passive_does_not(world):
    SurveySettingsFactory(merchant=world.merchant, nps_enabled=True, nps_delay_days=30)
    ticket = open_case(world)
    resolve(world, ticket)
    sweep_at(timezone.now() + timedelta(days=30, seconds=1))
    nps = Survey.objects.get(kind="nps")

    survey_respond(survey=nps, score=6)

    assert RecoveryCase.objects.get().trigger == RecoveryTrigger.NPS_DETRACTOR


def test_the_supervisor_records_the_outcome_and_the_due_clock_stops(world):
    survey = _sent(world)
    survey_respond(survey=survey, score=1)
    recovery = RecoveryCase.objects.get()

    recovery_close(
        recovery=recovery, actor=world.supervisor, reached=True, resolved=True, compensated=True, note="Voucher 50"
    )

    recovery.refresh_from_db()
    assert (recovery.status, recovery.reached, recovery.resolved, recovery.compensated, recovery.outcome_note) == (
        RecoveryStatus.CLOSED,
        True,
        True,
        True,
        "Voucher 50",
    )
    assert Deadline.objects.get(ticket=recovery.recovery_ticket, kind=RECOVERY_DUE).state == Deadline.State.MET


def test_an_agent_cannot_close_a_recovery_case_and_nothing_changes(world):
    survey = _sent(world)
    survey_respond(survey=survey, score=1)
    recovery = RecoveryCase.objects.get()

    with pytest.raises(PermissionRefused):
        recovery_close(recovery=recovery, actor=world.agent, reached=True, resolved=False, compensated=False)

    recovery.refresh_from_db()
    assert (recovery.status, recovery.reached, recovery.closed_at) == (RecoveryStatus.OPEN, None, None)
    assert TicketEvent.objects.filter(verb=FeedbackVerb.RECOVERY_CLOSED).count() == 0


def test_a_closed_recovery_case_cannot_be_closed_twice(world):
    survey = _sent(world)
    survey_respond(survey=survey, score=1)
    recovery = RecoveryCase.objects.get()
    recovery_close(recovery=recovery, actor=world.supervisor, reached=False, resolved=False, compensated=False)

    with pytest.raises(TransitionNotAllowed):
        recovery_close(recovery=recovery, actor=world.supervisor, reached=True, resolved=True, compensated=True)

    assert RecoveryCase.objects.get().reached is False


def test_an_open_recovery_case_past_its_due_time_goes_back_to_its_supervisor(world):
    survey = _sent(world)
    survey_respond(survey=survey, score=1)
    recovery = RecoveryCase.objects.get()

    assert sweep_at(recovery.due_at - timedelta(seconds=1)).handled == 0
    sweep_at(recovery.due_at)

    assert TicketEvent.objects.filter(ticket=recovery.recovery_ticket, verb=FeedbackVerb.RECOVERY_OVERDUE).count() == 1
    assert Notification.objects.filter(template="recovery_overdue", recipient=world.supervisor.email).count() == 1


def test_resolving_the_recovery_case_sends_the_customer_no_survey_about_it(world):
    from tickets.services import ticket_change_status

    survey = _sent(world)
    survey_respond(survey=survey, score=1)
    recovery = RecoveryCase.objects.get()

    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        ticket_change_status(ticket=recovery.recovery_ticket, actor=world.supervisor, status="resolved")

    assert Survey.objects.filter(ticket=recovery.recovery_ticket).exists() is False
