"""The dashboard's feedback pages, the portal's rating box and the API: each shows one merchant's
rows only, and another merchant's row is a 404 that changes nothing."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, api_key_for
from feedback.models import CallResult, FollowUp, FollowUpStatus, RecoveryCase, RecoveryStatus, Survey, SurveySettings
from feedback.services import followup_mark_due, survey_respond, survey_send
from feedback.tests.builders import make_world, open_case, resolve
from feedback.tests.factories import FollowUpRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(world):
    """A merchant with an answered low survey (so a recovery case) and a follow-up due."""
    FollowUpRuleFactory(merchant=world.merchant, name="Two days after")
    ticket = open_case(world)
    resolve(world, ticket)
    survey = survey_send(survey_id=Survey.objects.get(ticket=ticket).pk)
    survey_respond(survey=survey, score=1, comment="Terrible wait")
    followup = followup_mark_due(followup_id=FollowUp.objects.get(ticket=ticket).pk)
    return world, ticket, survey, followup


@pytest.fixture
def outsider():
    """Another merchant's supervisor, with rows of its own."""
    other = make_world()
    ticket = open_case(other)
    resolve(other, ticket)
    survey = survey_send(survey_id=Survey.objects.get(ticket=ticket).pk)
    survey_respond(survey=survey, score=5, comment="Other shop, all good")
    return other


def test_the_responses_page_lists_this_merchants_answers_and_scores_only(client, shop, outsider):
    world, _ticket, survey, _followup = shop
    client.force_login(world.supervisor)

    response = client.get(reverse("dashboard:feedback_responses"))

    assert response.status_code == 200
    assert f'data-survey="{survey.pk}"' in response.text
    assert "Terrible wait" in response.text
    assert "Other shop, all good" not in response.text
    assert response.context["agents"][0].user_id == world.agent.pk
    assert [score.ratings for score in response.context["agents"]] == [1]


def test_the_recovery_queue_shows_this_merchants_cases_and_another_merchant_cannot_close_them(client, shop, outsider):
    world, _ticket, _survey, _followup = shop
    recovery = RecoveryCase.objects.get(merchant=world.merchant)
    client.force_login(outsider.supervisor)

    queue = client.get(reverse("dashboard:feedback_recovery"))
    closing = client.post(
        reverse("dashboard:feedback_recovery_close", args=[recovery.pk]), {"reached": "on", "resolved": "on"}
    )

    assert f'data-recovery="{recovery.pk}"' not in queue.text
    assert closing.status_code == 404
    recovery.refresh_from_db()
    assert (recovery.status, recovery.reached) == (RecoveryStatus.OPEN, None)


def test_a_supervisor_closes_a_recovery_case_from_the_queue(client, shop):
    world, _ticket, _survey, _followup = shop
    recovery = RecoveryCase.objects.get()
    client.force_login(world.supervisor)

    response = client.post(
        reverse("dashboard:feedback_recovery_close", args=[recovery.pk]),
        {"reached": "on", "resolved": "on", "note": "Apologised, sent a voucher"},
    )

    assert response.status_code == 302
    recovery.refresh_from_db()
    assert (recovery.status, recovery.reached, recovery.resolved, recovery.compensated) == (
        RecoveryStatus.CLOSED,
        True,
        True,
        False,
    )


def test_the_follow_up_queue_and_page_show_the_script_history_and_contact_for_this_merchant_only(
    client, shop, outsider
):
    world, ticket, _survey, followup = shop
    client.force_login(world.agent)

    queue = client.get(reverse("dashboard:feedback_followups"))
    page = client.get(reverse("dashboard:feedback_followup", args=[followup.pk]))

    assert f'data-followup="{followup.pk}"' in queue.text
    assert page.status_code == 200
    assert "Ask whether the problem is solved for good." in page.text
    assert f'href="tel:{world.customer.phone}"' in page.text
    assert ticket.number in page.text

    client.force_login(outsider.agent)
    assert f'data-followup="{followup.pk}"' not in client.get(reverse("dashboard:feedback_followups")).text
    assert client.get(reverse("dashboard:feedback_followup", args=[followup.pk])).status_code == 404
    posted = client.post(reverse("dashboard:feedback_followup", args=[followup.pk]), {"result": "satisfied"})
    assert posted.status_code == 404
    assert FollowUp.objects.get(pk=followup.pk).attempts == 0


def test_an_agent_records_a_call_from_the_follow_up_page(client, shop):
    world, _ticket, _survey, followup = shop
    client.force_login(world.agent)

    response = client.post(
        reverse("dashboard:feedback_followup", args=[followup.pk]), {"result": CallResult.NOT_REACHED}
    )

    assert response.status_code == 302
    followup.refresh_from_db()
    assert (followup.status, followup.attempts) == (FollowUpStatus.RETRY, 1)


def test_the_settings_page_is_for_supervisors_and_saves_the_merchants_own_settings(client, shop, outsider):
    world, _ticket, _survey, _followup = shop
    client.force_login(world.agent)
    assert client.get(reverse("dashboard:feedback_settings")).status_code == 403

    client.force_login(world.supervisor)
    response = client.post(
        reverse("dashboard:feedback_settings"),
        {
            "settings-csat_enabled": "on",
            "settings-csat_delay_hours": "6",
            "settings-csat_throttle_days": "7",
            "settings-link_valid_days": "14",
            "settings-reminder_after_hours": "48",
            "settings-low_score_threshold": "3",
            "settings-complaint_keywords": "投诉，律师\nlawyer",
            "settings-excluded_tags": "spam",
            "settings-recovery_due_hours": "8",
            "settings-nps_delay_days": "30",
            "settings-nps_throttle_days": "90",
        },
    )

    assert response.status_code == 302
    saved = SurveySettings.objects.get(merchant=world.merchant)
    assert (saved.csat_delay_hours, saved.low_score_threshold, saved.complaint_keywords) == (
        6,
        3,
        ["投诉", "律师", "lawyer"],
    )
    assert SurveySettings.objects.filter(merchant=outsider.merchant).exists() is False


def test_a_bad_setting_is_refused_with_a_message_and_saves_nothing(client, shop):
    world, _ticket, _survey, _followup = shop
    client.force_login(world.supervisor)

    response = client.post(
        reverse("dashboard:feedback_settings"),
        {"settings-csat_delay_hours": "-1", "settings-low_score_threshold": "5", "settings-link_valid_days": "0"},
    )

    assert response.status_code == 400
    assert SurveySettings.objects.filter(merchant=world.merchant).exists() is False


def test_another_merchants_rule_page_is_a_404(client, shop, outsider):
    _world, _ticket, _survey, followup = shop
    client.force_login(outsider.supervisor)

    assert client.get(reverse("dashboard:feedback_rule", args=[followup.rule_id])).status_code == 404
    posted = client.post(reverse("dashboard:feedback_rule", args=[followup.rule_id]), {"rule-name": "Hijacked"})
    assert posted.status_code == 404
    assert FollowUp.objects.get(pk=followup.pk).rule.name == "Two days after"


def test_a_technician_is_not_shown_feedback_pages(client, shop):
    world, _ticket, _survey, _followup = shop
    technician = MembershipFactory(merchant=world.merchant, role=Membership.Role.TECHNICIAN).user
    client.force_login(technician)

    for name in ("feedback_responses", "feedback_recovery", "feedback_followups", "feedback_settings"):
        assert client.get(reverse(f"dashboard:{name}")).status_code == 403


def test_the_api_lists_this_merchants_responses_and_follow_ups_only(shop, outsider):
    world, ticket, survey, followup = shop
    _key, full_key = api_key_for(world.merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")

    responses = client.get(reverse("api:feedback-response-list")).json()["results"]
    followups = client.get(reverse("api:feedback-followup-list")).json()["results"]

    assert [(row["id"], row["ticket"], row["score"], row["agent"]) for row in responses] == [
        (survey.pk, ticket.number, 1, world.agent.pk)
    ]
    assert [(row["id"], row["status"]) for row in followups] == [(followup.pk, "due")]


def test_the_api_records_a_call_and_refuses_another_merchants_follow_up(shop, outsider):
    world, _ticket, _survey, followup = shop
    _key, outsider_key = api_key_for(outsider.merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {outsider_key}")
    url = reverse("api:feedback-followup-call", args=[followup.pk])

    assert client.post(url, {"result": "satisfied"}, format="json").status_code == 404
    assert FollowUp.objects.get(pk=followup.pk).attempts == 0

    _key, own_key = api_key_for(world.merchant)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {own_key}")
    refused = client.post(url, {"result": "unsatisfied"}, format="json")
    done = client.post(url, {"result": "satisfied", "note": "Happy now"}, format="json")

    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "note_required")
    assert (done.status_code, done.json()["status"], done.json()["outcome"]) == (200, "done", "satisfied")


def _portal_session(client, world) -> None:
    import time

    from aftersales.portal import PORTAL_SESSION_KEY

    session = client.session
    session[PORTAL_SESSION_KEY] = {
        str(world.merchant.pk): {
            "order_ids": [world.order.pk],
            "customer_ids": [world.customer.pk],
            "expires_at": time.time() + 3600,
        }
    }
    session.save()


def test_the_customer_rates_from_the_case_page_in_the_portal_and_can_change_it(client, world):
    ticket = open_case(world)
    resolve(world, ticket)
    survey = survey_send(survey_id=Survey.objects.get(ticket=ticket).pk)
    _portal_session(client, world)
    page_url = reverse("portal:ticket", kwargs={"merchant_slug": world.merchant.slug, "number": ticket.number})
    rate_url = reverse("portal:ticket_survey", kwargs={"merchant_slug": world.merchant.slug, "number": ticket.number})

    page = client.get(page_url)
    assert page.status_code == 200
    assert rate_url in page.text
    assert Survey.objects.get(pk=survey.pk).score is None  # showing the box records nothing

    client.post(rate_url, {"score": "3", "reasons": ["slow"]})
    client.post(rate_url, {"score": "4"})

    survey.refresh_from_db()
    assert (survey.score, survey.reasons, survey.answer_count) == (4, [], 2)
    assert "You rated this request 4 of 5." in client.get(page_url).text


def test_another_merchants_portal_session_cannot_rate_the_case(client, world):
    ticket = open_case(world)
    resolve(world, ticket)
    survey = survey_send(survey_id=Survey.objects.get(ticket=ticket).pk)
    other = make_world()
    _portal_session(client, other)

    response = client.post(
        reverse("portal:ticket_survey", kwargs={"merchant_slug": other.merchant.slug, "number": ticket.number}),
        {"score": "1"},
    )

    assert response.status_code == 404
    assert Survey.objects.get(pk=survey.pk).score is None


def test_a_technicians_session_gets_no_feedback_from_the_api(shop):
    world, _ticket, _survey, followup = shop
    technician = MembershipFactory(merchant=world.merchant, role=Membership.Role.TECHNICIAN).user
    client = APIClient()
    client.force_login(technician)

    listed = client.get(reverse("api:feedback-response-list"))
    called = client.post(reverse("api:feedback-followup-call", args=[followup.pk]), {"result": "satisfied"})

    assert (listed.status_code, called.status_code) == (403, 403)
    assert FollowUp.objects.get(pk=followup.pk).attempts == 0


def test_the_staff_ticket_page_shows_the_survey_and_who_it_is_attributed_to(client, shop):
    world, ticket, survey, _followup = shop
    client.force_login(world.agent)

    page = client.get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))

    assert page.status_code == 200
    assert 'id="survey-box-title"' in page.text
    assert "1 / 5" in page.text
    assert str(world.agent) in page.text
    assert page.context["ticket_survey"].pk == survey.pk


def _csv_rows(response) -> list[list[str]]:
    import csv
    import io

    body = b"".join(response.streaming_content).decode()
    assert body.startswith("\ufeff")  # the byte-order mark Excel needs for Chinese text
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_responses_export_holds_every_answer_of_this_merchant_with_its_filters(client, shop, outsider):
    world, ticket, _survey, _followup = shop
    client.force_login(world.supervisor)

    everything = _csv_rows(client.get(reverse("dashboard:feedback_responses"), {"export": "csv"}))
    scored_zero_or_less = _csv_rows(
        client.get(reverse("dashboard:feedback_responses"), {"export": "csv", "score_at_most": "0"})
    )
    page = client.get(reverse("dashboard:feedback_responses"))

    assert everything[0][:7] == ["Answered", "Kind", "Score", "Ease (CES)", "Reasons", "Comment", "Case"]
    assert [(row[1], row[2], row[5], row[6]) for row in everything[1:]] == [
        ("Satisfaction (CSAT)", "1", "Terrible wait", ticket.number)
    ]
    assert everything[1][8] == str(world.agent)
    assert scored_zero_or_less[1:] == []
    assert ("csv", "export=csv") in page.context["export_links"]


def test_the_follow_up_and_recovery_exports_hold_this_merchants_rows_only(client, shop, outsider):
    world, ticket, _survey, followup = shop
    recovery = RecoveryCase.objects.get(merchant=world.merchant)
    client.force_login(world.supervisor)

    calls = _csv_rows(client.get(reverse("dashboard:feedback_followups"), {"export": "csv"}))
    cases = _csv_rows(client.get(reverse("dashboard:feedback_recovery"), {"export": "csv"}))
    closed = _csv_rows(client.get(reverse("dashboard:feedback_recovery"), {"export": "csv", "status": "closed"}))

    assert calls[0][:4] == ["Call at", "Status", "Rule", "Case"]
    assert [(row[1], row[2], row[3], row[6]) for row in calls[1:]] == [
        ("To call", "Two days after", ticket.number, "0")
    ]
    assert cases[0][:5] == ["Due", "Status", "Why", "Recovery case", "Original case"]
    assert [(row[1], row[2], row[3], row[4]) for row in cases[1:]] == [
        ("Open", "Low satisfaction rating", recovery.recovery_ticket.number, ticket.number)
    ]
    assert closed[1:] == []
    assert followup.status == FollowUpStatus.DUE


def test_the_feedback_exports_are_refused_to_a_role_that_may_not_see_feedback(client, shop):
    world, _ticket, _survey, _followup = shop
    technician = MembershipFactory(merchant=world.merchant, role=Membership.Role.TECHNICIAN).user
    client.force_login(technician)

    answers = [
        client.get(reverse(name), {"export": "csv"}).status_code
        for name in ("dashboard:feedback_responses", "dashboard:feedback_followups", "dashboard:feedback_recovery")
    ]

    assert answers == [403, 403, 403]


def test_the_follow_up_rules_active_column_reads_switched_on_in_chinese(client, shop):
    # Given a supervisor whose merchant has a follow-up rule switched on
    world, _ticket, _survey, _followup = shop
    client.force_login(world.supervisor)

    # When they open the feedback settings in Chinese
    response = client.get(reverse("dashboard:feedback_settings"), HTTP_ACCEPT_LANGUAGE="zh-CN")

    # Then the column reads 启用 (switched on), as on the macros, rules and mailboxes lists,
    # not 进行中 (under way), the tickets' "Active"
    assert response.status_code == 200
    assert response.text.count("启用") == 2
    assert "进行中" not in response.text
