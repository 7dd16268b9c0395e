"""The signed survey link: a GET (a mail scanner following it) records nothing, the page's POST
records, a second POST changes the answer, an expired or tampered link is refused with a page."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from feedback.models import RecoveryCase, Survey, SurveyStatus
from feedback.services import survey_send
from feedback.tests.builders import link_path, open_case, resolve
from feedback.tests.factories import SurveySettingsFactory
from feedback.timeline import FeedbackVerb
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_survey(world) -> Survey:
    ticket = open_case(world)
    resolve(world, ticket)
    survey = Survey.objects.get(ticket=ticket)
    return survey_send(survey_id=survey.pk)


def _answer_events(survey) -> list[str]:
    return list(
        TicketEvent.objects.filter(
            ticket=survey.ticket, verb__in=[FeedbackVerb.SURVEY_ANSWERED, FeedbackVerb.SURVEY_CHANGED]
        ).values_list("verb", flat=True)
    )


def test_opening_the_link_records_nothing(client, sent_survey):
    response = client.get(link_path(sent_survey))
    client.get(link_path(sent_survey))
    client.head(link_path(sent_survey))

    assert response.status_code == 200
    assert 'name="score"' in response.text
    survey = Survey.objects.get(pk=sent_survey.pk)
    assert (survey.status, survey.score, survey.answered_at, survey.answer_count) == (SurveyStatus.SENT, None, None, 0)
    assert _answer_events(survey) == []


def test_the_pages_post_records_the_answer_and_a_second_post_changes_it(client, sent_survey):
    # When the customer posts 4 stars with a reason and a comment
    response = client.post(link_path(sent_survey), {"score": "4", "reasons": ["fast"], "comment": "Thanks"})

    # Then it is recorded
    assert response.status_code == 200
    assert "Thank you" in response.text
    survey = Survey.objects.get(pk=sent_survey.pk)
    assert (survey.status, survey.score, survey.reasons, survey.comment, survey.answer_count) == (
        SurveyStatus.ANSWERED,
        4,
        ["fast"],
        "Thanks",
        1,
    )
    first_answered_at = survey.answered_at

    # When they post again within the window
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        client.post(link_path(sent_survey), {"score": "5", "comment": ""})

    # Then the answer is changed, the first answer's time kept
    survey = Survey.objects.get(pk=sent_survey.pk)
    assert (survey.score, survey.reasons, survey.comment, survey.answer_count) == (5, [], "", 2)
    assert survey.answered_at == first_answered_at
    assert survey.changed_at > first_answered_at
    assert _answer_events(survey) == [FeedbackVerb.SURVEY_ANSWERED, FeedbackVerb.SURVEY_CHANGED]


def test_a_post_without_a_score_or_with_a_made_up_reason_is_refused_and_records_nothing(client, sent_survey):
    missing = client.post(link_path(sent_survey), {"comment": "no score"})
    unknown = client.post(link_path(sent_survey), {"score": "3", "reasons": ["bribe"]})
    out_of_range = client.post(link_path(sent_survey), {"score": "9"})

    assert (missing.status_code, unknown.status_code, out_of_range.status_code) == (400, 400, 400)
    survey = Survey.objects.get(pk=sent_survey.pk)
    assert (survey.status, survey.score, survey.answer_count) == (SurveyStatus.SENT, None, 0)


def test_an_expired_link_is_refused_with_a_page_and_records_nothing(client, sent_survey):
    path = link_path(sent_survey)
    with time_machine.travel(sent_survey.expires_at):
        opened = client.get(path)
        posted = client.post(path, {"score": "1", "comment": "awful"})

    assert (opened.status_code, posted.status_code) == (410, 410)
    assert "This survey has closed" in posted.text
    survey = Survey.objects.get(pk=sent_survey.pk)
    assert (survey.status, survey.score) == (SurveyStatus.SENT, None)
    assert RecoveryCase.objects.count() == 0


def test_the_last_second_of_the_window_still_records(client, sent_survey):
    with time_machine.travel(sent_survey.expires_at - timedelta(seconds=1), tick=False):
        response = client.post(link_path(sent_survey), {"score": "5"})

    assert response.status_code == 200
    assert Survey.objects.get(pk=sent_survey.pk).score == 5


def test_a_tampered_link_is_refused_with_a_page(client, sent_survey):
    path = link_path(sent_survey)
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = path.replace(token, token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"))

    opened = client.get(forged)
    posted = client.post(forged, {"score": "1"})
    garbage = client.get(f"/portal/{sent_survey.merchant.slug}/survey/not-a-token/")

    assert (opened.status_code, posted.status_code, garbage.status_code) == (404, 404, 404)
    assert "This survey link is not valid" in opened.text
    assert Survey.objects.get(pk=sent_survey.pk).score is None


def test_a_link_from_another_purpose_or_merchant_is_refused(client, sent_survey, world):
    from django.core import signing

    from aftersales.tests.factories import MerchantFactory

    other_salt = signing.TimestampSigner(salt="another.purpose").sign_object(
        {"s": sent_survey.pk, "n": str(sent_survey.nonce)}, compress=True
    )
    other_merchant = MerchantFactory()
    token = link_path(sent_survey).rstrip("/").rsplit("/", 1)[1]

    assert client.get(f"/portal/{world.merchant.slug}/survey/{other_salt}/").status_code == 404
    assert client.post(f"/portal/{other_merchant.slug}/survey/{token}/", {"score": "1"}).status_code == 404
    assert Survey.objects.get(pk=sent_survey.pk).score is None


def test_the_merchants_optional_ease_question_is_asked_and_recorded(client, world):
    SurveySettingsFactory(merchant=world.merchant, ces_enabled=True)
    ticket = open_case(world)
    resolve(world, ticket)
    survey = survey_send(survey_id=Survey.objects.get(ticket=ticket).pk)

    page = client.get(link_path(survey))
    client.post(link_path(survey), {"score": "4", "ces_score": "6"})

    assert 'name="ces_score"' in page.text
    assert Survey.objects.get(pk=survey.pk).ces_score == 6
