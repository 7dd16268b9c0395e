"""Concurrent answers and calls on PostgreSQL, each thread with its own connection: one
recovery case per survey, and never more calls than a follow-up's attempts."""

import pytest

from feedback.models import (
    CallResult,
    FollowUp,
    FollowUpCall,
    FollowUpOutcome,
    FollowUpStatus,
    RecoveryCase,
    Survey,
    SurveyStatus,
)
from feedback.services import followup_mark_due, followup_record_call, survey_respond, survey_send
from feedback.tests.builders import make_world, open_case, race, resolve
from feedback.tests.factories import FollowUpRuleFactory
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("races")]


def test_twenty_low_ratings_posted_at_once_open_one_recovery_case():
    world = make_world()
    ticket = open_case(world)
    resolve(world, ticket)
    survey = survey_send(survey_id=Survey.objects.get(ticket=ticket).pk)
    tickets_before = Ticket.objects.count()

    outcomes = race(20, lambda: survey_respond(survey=survey, score=1, comment="Too slow"))

    assert outcomes == ["ok"] * 20
    survey.refresh_from_db()
    assert (survey.status, survey.answer_count) == (SurveyStatus.ANSWERED, 20)
    assert RecoveryCase.objects.count() == 1
    assert Ticket.objects.count() == tickets_before + 1


def test_ten_not_reached_calls_at_once_stop_at_the_rules_three_attempts():
    world = make_world()
    FollowUpRuleFactory(merchant=world.merchant, max_attempts=3)
    ticket = open_case(world)
    resolve(world, ticket)
    followup = followup_mark_due(followup_id=FollowUp.objects.get(ticket=ticket).pk)

    outcomes = race(
        10, lambda: followup_record_call(followup=followup, actor=world.agent, result=CallResult.NOT_REACHED)
    )

    assert outcomes == ["followup_done"] * 7 + ["ok"] * 3
    followup.refresh_from_db()
    assert (followup.status, followup.attempts, followup.outcome) == (
        FollowUpStatus.DONE,
        3,
        FollowUpOutcome.UNREACHABLE,
    )
    assert FollowUpCall.objects.count() == 3
