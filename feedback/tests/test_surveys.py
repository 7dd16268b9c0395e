"""The satisfaction survey of a resolved case: scheduled at resolution, sent by the real sweep
after the merchant's delay in the customer's language, once per case, throttled per customer,
reminded once, and attributed to who served the case when it resolved."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from aftersales.models import Deadline, Membership, Notification
from aftersales.tests.factories import MembershipFactory
from feedback import contributors
from feedback.deadline_kinds import SURVEY_REMINDER, SURVEY_SEND
from feedback.models import Survey, SurveyStatus
from feedback.services import survey_respond
from feedback.tests.builders import open_case, resolve, sweep_at
from feedback.tests.factories import SurveySettingsFactory
from feedback.timeline import FeedbackVerb
from tickets.models import TicketEvent, TicketStatus
from tickets.services import ticket_assign, ticket_change_status, ticket_customer_message, ticket_set_tags

pytestmark = pytest.mark.django_db
# Monday 10:00 in Shanghai.
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _survey(ticket) -> Survey:
    return Survey.objects.get(ticket=ticket)


def _invites(ticket, template="survey_invite") -> list[Notification]:
    return list(Notification.objects.filter(ticket=ticket, template=template).order_by("channel"))


def test_the_survey_goes_out_by_the_sweep_exactly_at_the_merchants_delay_in_the_customers_language(world):
    # Given a customer who reads Chinese, and a merchant that waits 24 hours
    world.customer.language = "zh-hans"
    world.customer.save(update_fields=["language"])
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        ticket = open_case(world)
    resolve(world, ticket, at=T0)
    survey = _survey(ticket)
    assert survey.status == SurveyStatus.SCHEDULED
    assert Deadline.objects.get(ticket=ticket, kind=SURVEY_SEND).due_at == T0 + timedelta(hours=24)

    # When the sweep runs a second before the delay is over, then nothing is sent
    assert sweep_at(T0 + timedelta(hours=24) - SECOND).handled == 0
    assert _survey(ticket).status == SurveyStatus.SCHEDULED
    assert _invites(ticket) == []

    # When it runs at the delay, then the survey is sent on both channels, in Chinese, with its link
    assert sweep_at(T0 + timedelta(hours=24)).fired == 1
    survey = _survey(ticket)
    assert survey.status == SurveyStatus.SENT
    assert survey.sent_at == T0 + timedelta(hours=24)
    assert survey.expires_at == T0 + timedelta(hours=24, days=28)
    invites = _invites(ticket)
    assert [(n.channel, n.recipient, n.language) for n in invites] == [
        ("email", world.customer.email, "zh-hans"),
        ("sms", world.customer.phone, "zh-hans"),
    ]
    assert f"/portal/{world.merchant.slug}/survey/" in invites[0].context["survey_url"]
    # And the one reminder waits 72 hours
    assert Deadline.objects.get(ticket=ticket, kind=SURVEY_REMINDER).due_at == T0 + timedelta(hours=96)


def test_the_merchants_delay_is_its_own(world):
    SurveySettingsFactory(merchant=world.merchant, csat_delay_hours=2)
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        ticket = open_case(world)
    resolve(world, ticket, at=T0)

    assert sweep_at(T0 + timedelta(hours=2) - SECOND).handled == 0
    assert sweep_at(T0 + timedelta(hours=2)).fired == 1
    assert _survey(ticket).status == SurveyStatus.SENT


def test_a_case_reopened_before_the_survey_went_out_gets_none_until_it_resolves_again(world):
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        ticket = open_case(world)
    resolve(world, ticket, at=T0)
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        ticket_customer_message(ticket=ticket, customer=world.customer, body="It broke again.")

    assert _survey(ticket).status == SurveyStatus.CANCELLED
    assert sweep_at(T0 + timedelta(hours=30)).handled == 0
    assert _invites(ticket) == []

    # Resolved again: scheduled again from the new resolution, and sent once
    resolve(world, ticket, at=T0 + timedelta(hours=40))
    assert sweep_at(T0 + timedelta(hours=64)).fired == 1
    assert _survey(ticket).status == SurveyStatus.SENT
    assert len(_invites(ticket)) == 2
    assert Survey.objects.filter(ticket=ticket).count() == 1


def test_a_case_resolved_twice_after_its_survey_went_out_gets_no_second_survey(world):
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        ticket = open_case(world)
    resolve(world, ticket, at=T0)
    sweep_at(T0 + timedelta(hours=24))
    with time_machine.travel(T0 + timedelta(hours=25), tick=False):
        ticket_customer_message(ticket=ticket, customer=world.customer, body="One more thing.")
    resolve(world, ticket, at=T0 + timedelta(hours=26))

    assert sweep_at(T0 + timedelta(hours=60)).handled == 0
    assert Survey.objects.filter(ticket=ticket).count() == 1
    assert len(_invites(ticket)) == 2  # the first sending's two channels, nothing more


def test_a_cancelled_case_gets_no_survey(world):
    ticket = open_case(world)
    ticket_change_status(ticket=ticket, actor=world.agent, status=TicketStatus.CANCELLED)

    assert Survey.objects.filter(ticket=ticket).exists() is False
    assert Deadline.objects.filter(ticket=ticket, kind=SURVEY_SEND).exists() is False


def test_a_case_tagged_spam_is_recorded_as_not_sent_and_the_customer_hears_nothing(world):
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        ticket = open_case(world)
        ticket_set_tags(ticket=ticket, actor=world.agent, names=["Spam"])
    resolve(world, ticket, at=T0)

    sweep_at(T0 + timedelta(hours=24))

    survey = _survey(ticket)
    assert (survey.status, survey.skip_reason, survey.sent_at) == (SurveyStatus.SKIPPED, "excluded_tag", None)
    assert _invites(ticket) == []


def test_a_customer_surveyed_within_the_throttle_window_gets_no_second_survey(world):
    # Given a customer who was sent a survey 10 days ago, and a merchant throttling at 14 days
    SurveySettingsFactory(merchant=world.merchant, csat_throttle_days=14)
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        first = open_case(world)
    resolve(world, first, at=T0)
    sweep_at(T0 + timedelta(hours=24))
    with time_machine.travel(T0 + timedelta(days=9), tick=False):
        second = open_case(world)
    resolve(world, second, at=T0 + timedelta(days=10))

    # When the second survey falls due 11 days after the first went out
    sweep_at(T0 + timedelta(days=11))

    # Then it is recorded as throttled and nothing goes to the customer
    survey = _survey(second)
    assert (survey.status, survey.skip_reason) == (SurveyStatus.SKIPPED, "throttled")
    assert _invites(second) == []
    assert TicketEvent.objects.filter(ticket=second, verb=FeedbackVerb.SURVEY_SKIPPED).count() == 1


def test_a_customer_past_the_throttle_window_is_surveyed_again(world):
    SurveySettingsFactory(merchant=world.merchant, csat_throttle_days=14)
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        first = open_case(world)
    resolve(world, first, at=T0)
    sweep_at(T0 + timedelta(hours=24))
    with time_machine.travel(T0 + timedelta(days=14), tick=False):
        second = open_case(world)
    # The first went out at T0 + 1 day: the second falls due a second past 14 days after it.
    resolve(world, second, at=T0 + timedelta(days=14) + SECOND)

    sweep_at(T0 + timedelta(days=15) + SECOND)

    assert _survey(second).status == SurveyStatus.SENT
    assert len(_invites(second)) == 2


def test_the_rating_is_attributed_to_who_served_the_case_when_it_resolved(world):
    # Given a case worked by the agent of the front-line team, with a technician on site
    technician = MembershipFactory(merchant=world.merchant, role=Membership.Role.TECHNICIAN).user
    contributors.register_contributor("test-visit", lambda ticket: {"technician": technician})
    try:
        with time_machine.travel(T0 - timedelta(hours=1), tick=False):
            ticket = open_case(world)
        resolve(world, ticket, at=T0)
        # When the case is handed to another agent after it resolved
        with time_machine.travel(T0 + timedelta(hours=1), tick=False):
            ticket_assign(ticket=ticket, actor=world.supervisor, assignee=world.other_agent, team=None)
        sweep_at(T0 + timedelta(hours=24))
    finally:
        contributors.unregister_contributor("test-visit")

    # Then the survey still names who served it at resolution
    survey = _survey(ticket)
    assert (survey.agent, survey.team, survey.technician) == (world.agent, world.team, technician)
    assert survey.resolved_at == T0


def test_a_technician_named_by_a_contributor_who_is_not_the_merchants_staff_is_not_credited(world):
    stranger = MembershipFactory(role=Membership.Role.TECHNICIAN).user
    contributors.register_contributor("test-visit", lambda ticket: {"technician": stranger})
    try:
        ticket = open_case(world)
        resolve(world, ticket)
    finally:
        contributors.unregister_contributor("test-visit")

    assert _survey(ticket).technician is None


def test_one_reminder_goes_to_a_customer_who_has_not_answered_and_none_after_an_answer(world):
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        quiet_case = open_case(world)
        answered_case = open_case(world, assign=False)
    SurveySettingsFactory(merchant=world.merchant, csat_throttle_days=0)
    resolve(world, quiet_case, at=T0)
    resolve(world, answered_case, at=T0)
    sweep_at(T0 + timedelta(hours=24))
    with time_machine.travel(T0 + timedelta(hours=30), tick=False):
        survey_respond(survey=_survey(answered_case), score=5)

    assert sweep_at(T0 + timedelta(hours=96) - SECOND).handled == 0
    sweep_at(T0 + timedelta(hours=96))
    sweep_at(T0 + timedelta(days=20))

    assert len(_invites(quiet_case, "survey_reminder")) == 2  # e-mail and SMS, once
    assert _survey(quiet_case).reminded_at == T0 + timedelta(hours=96)
    assert _invites(answered_case, "survey_reminder") == []


def test_a_case_another_app_excludes_such_as_a_merged_one_gets_no_survey(world):
    merged = open_case(world)
    kept = open_case(world, assign=False)
    contributors.register_survey_exclusion("test-merge", lambda ticket: "merged" if ticket.pk == merged.pk else None)
    SurveySettingsFactory(merchant=world.merchant, csat_throttle_days=0)
    try:
        resolve(world, merged, at=T0)
        resolve(world, kept, at=T0)
        sweep_at(T0 + timedelta(hours=24))
    finally:
        contributors.unregister_survey_exclusion("test-merge")

    assert (_survey(merged).status, _survey(merged).skip_reason) == (SurveyStatus.SKIPPED, "merged")
    assert _survey(kept).status == SurveyStatus.SENT
    assert _invites(merged) == []
