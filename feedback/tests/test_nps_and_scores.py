"""NPS on the merchant's cadence after the customer's latest case, throttled per customer; the
technician's ratings on the same link, and per-technician scores for dispatch."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from aftersales.models import Membership, Notification
from aftersales.tests.factories import MembershipFactory
from feedback import contributors
from feedback.models import Survey, SurveyKind, SurveyStatus
from feedback.selectors import agent_scores, technician_scores
from feedback.services import survey_respond, survey_send
from feedback.tests.builders import link_path, open_case, resolve, sweep_at
from feedback.tests.factories import SurveySettingsFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _nps(world) -> list[Survey]:
    return list(Survey.objects.filter(customer=world.customer, kind=SurveyKind.NPS).order_by("id"))


def test_nps_goes_out_30_days_after_the_customers_latest_case_not_after_each(world):
    SurveySettingsFactory(merchant=world.merchant, csat_enabled=False, nps_enabled=True, nps_delay_days=30)
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        first = open_case(world)
    resolve(world, first, at=T0)
    with time_machine.travel(T0 + timedelta(days=10), tick=False):
        second = open_case(world)
    resolve(world, second, at=T0 + timedelta(days=10))

    # Thirty days after the first case nothing goes: a later case restarted the clock
    sweep_at(T0 + timedelta(days=30))
    assert _nps(world) == []

    assert sweep_at(T0 + timedelta(days=40) - SECOND).handled == 0
    sweep_at(T0 + timedelta(days=40))
    [nps] = _nps(world)
    assert (nps.ticket_id, nps.status, nps.sent_at) == (second.pk, SurveyStatus.SENT, T0 + timedelta(days=40))
    assert Notification.objects.filter(template="nps_invite").count() == 2  # e-mail and SMS
    assert Survey.objects.filter(kind=SurveyKind.CSAT).count() == 0


def test_a_customer_asked_for_nps_within_the_throttle_window_is_not_asked_again(world):
    SurveySettingsFactory(
        merchant=world.merchant, csat_enabled=False, nps_enabled=True, nps_delay_days=30, nps_throttle_days=90
    )
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        first = open_case(world)
    resolve(world, first, at=T0)
    sweep_at(T0 + timedelta(days=30))
    with time_machine.travel(T0 + timedelta(days=40), tick=False):
        second = open_case(world)
    resolve(world, second, at=T0 + timedelta(days=40))

    sweep_at(T0 + timedelta(days=70))  # 40 days after the first NPS: inside 90
    assert len(_nps(world)) == 1

    with time_machine.travel(T0 + timedelta(days=130), tick=False):
        third = open_case(world)
    resolve(world, third, at=T0 + timedelta(days=130))
    sweep_at(T0 + timedelta(days=160))  # 130 days after the first NPS
    assert [survey.ticket_id for survey in _nps(world)] == [first.pk, third.pk]


def test_an_nps_answer_takes_0_to_10_and_no_reasons(client, world):
    SurveySettingsFactory(merchant=world.merchant, csat_enabled=False, nps_enabled=True, nps_delay_days=1)
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        ticket = open_case(world)
    resolve(world, ticket, at=T0)
    sweep_at(T0 + timedelta(days=1))
    [nps] = _nps(world)

    with time_machine.travel(T0 + timedelta(days=2)):
        page = client.get(link_path(nps))
        client.post(link_path(nps), {"score": "10", "reasons": ["fast"]})
        client.post(link_path(nps), {"score": "9"})

    assert 'value="0"' in page.text
    assert 'value="10"' in page.text
    assert 'name="reasons"' not in page.text
    nps.refresh_from_db()
    assert (nps.score, nps.reasons) == (9, [])


def test_technician_ratings_are_asked_on_the_same_link_and_scored_per_technician(client, world):
    technician = MembershipFactory(merchant=world.merchant, role=Membership.Role.TECHNICIAN).user
    SurveySettingsFactory(merchant=world.merchant, csat_throttle_days=0)
    contributors.register_contributor("test-visit", lambda ticket: {"technician": technician})
    try:
        visits = [open_case(world) for _ in range(2)]
        for ticket in visits:
            resolve(world, ticket)
    finally:
        contributors.unregister_contributor("test-visit")
    without_visit = open_case(world)
    resolve(world, without_visit)
    surveys = [survey_send(survey_id=Survey.objects.get(ticket=ticket).pk) for ticket in [*visits, without_visit]]

    page = client.get(link_path(surveys[0]))
    client.post(
        link_path(surveys[0]),
        {"score": "5", "technician_punctuality": "5", "technician_skill": "4", "technician_courtesy": "5"},
    )
    survey_respond(survey=surveys[1], score=3, technician_punctuality=2, technician_skill=4, technician_courtesy=4)
    survey_respond(survey=surveys[2], score=4, technician_punctuality=5)

    assert 'name="technician_punctuality"' in page.text
    [score] = technician_scores(merchant_id=world.merchant.pk)
    assert (score.user_id, score.ratings, score.average, score.punctuality, score.skill, score.courtesy) == (
        technician.pk,
        2,
        4.0,
        3.5,
        4.0,
        4.5,
    )
    # A case without a visit keeps no technician rating, whatever was posted
    assert Survey.objects.get(pk=surveys[2].pk).technician_punctuality is None
    assert [(s.user_id, s.ratings, s.average) for s in agent_scores(merchant_id=world.merchant.pk)] == [
        (world.agent.pk, 3, 4.0)
    ]
