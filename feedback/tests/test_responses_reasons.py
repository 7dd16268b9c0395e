"""The responses page names the reasons a customer picked by their labels, in the reader's
language (it showed the codes: "fast", "friendly", "solved")."""

import pytest
from django.urls import reverse

from feedback.models import Survey
from feedback.services import survey_respond, survey_send
from feedback.tests.builders import open_case, resolve

pytestmark = pytest.mark.django_db


def test_the_responses_page_shows_the_picked_reasons_by_their_chinese_labels(client, world):
    # Given a satisfaction survey answered with two reasons
    ticket = open_case(world)
    resolve(world, ticket)
    survey = survey_send(survey_id=Survey.objects.get(ticket=ticket).pk)
    survey_respond(survey=survey, score=5, reasons=["fast", "solved"])
    client.force_login(world.supervisor)

    # When a Chinese-speaking supervisor opens the responses
    page = client.get(reverse("dashboard:feedback_responses"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()

    # Then the reasons read as the customer saw them, joined the Chinese way
    assert '<td data-label="原因">响应迅速、问题已解决</td>' in page
