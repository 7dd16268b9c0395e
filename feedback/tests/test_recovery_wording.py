"""A recovery case opens with the system's internal note of why (the rating), or the words of the
staff member who took the call: never as a message of the customer's. Its subject and its note
are kept as keys and parameters, so each reader reads them in their own language; a case opened
before keys were kept still shows its stored text."""

from datetime import timedelta

import pytest
from django.urls import reverse

from feedback.models import CallResult, FollowUp, RecoveryCase, Survey
from feedback.services import followup_mark_due, followup_record_call, survey_respond, survey_send
from feedback.tests.builders import open_case, resolve
from feedback.tests.factories import FollowUpRuleFactory
from tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _answered_low(world, *, comment="Nobody called me back") -> RecoveryCase:
    ticket = open_case(world)
    resolve(world, ticket)
    survey = survey_send(survey_id=Survey.objects.get(ticket=ticket).pk)
    survey_respond(survey=survey, score=2, comment=comment)
    return RecoveryCase.objects.select_related("recovery_ticket", "original_ticket").get()


def _page(client, user, ticket: Ticket, language: str) -> str:
    client.force_login(user)
    client.cookies["aftersales_language"] = language
    response = client.get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))
    assert response.status_code == 200
    return response.content.decode()


def _portal_page(client, world, ticket: Ticket, language: str) -> str:
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
    client.cookies["aftersales_language"] = language
    response = client.get(
        reverse("portal:ticket", kwargs={"merchant_slug": world.merchant.slug, "number": ticket.number})
    )
    assert response.status_code == 200
    return response.content.decode()


def test_a_rating_opens_the_recovery_case_with_an_internal_note_of_the_system(world):
    # Given a customer who reads Chinese, at a merchant whose staff read English
    world.customer.language = "zh-hans"
    world.customer.save(update_fields=["language"])

    # When their low rating opens a recovery case
    recovery = _answered_low(world)

    # Then the case's first message is an internal note nobody typed, not the customer's words
    case = recovery.recovery_ticket
    message = case.messages.get()
    original = recovery.original_ticket.number
    assert (message.kind, message.author_customer_id, message.author_user_id) == (Message.Kind.NOTE, None, None)
    assert message.body == f"Rating of {original}: 2 of 5.\nComment: Nobody called me back"
    assert message.system_body == {
        "key": "feedback.recovery_rating_note",
        "params": {"number": original, "score": 2, "scale": 5, "comment": "Nobody called me back"},
    }
    # the subject is stored in the customer's language, with its key
    assert case.subject == f"关于您的请求 {original} 的跟进"
    assert case.system_subject == {"key": "feedback.recovery_subject", "params": {"number": original}}
    assert case.last_customer_message_at is None
    # the case was opened by the system (public, without the note); the note is internal
    events = list(
        TicketEvent.objects.filter(ticket=case)
        .order_by("pk")
        .values_list("verb", "actor_user_id", "actor_customer_id", "is_public", "message_id")
    )
    assert events[:2] == [
        ("created", None, None, True, None),
        ("note", None, None, False, message.pk),
    ]


def test_a_follow_up_call_opens_the_recovery_case_with_the_callers_note(world):
    # Given a follow-up call due on a resolved case
    FollowUpRuleFactory(merchant=world.merchant, name="Two days after")
    ticket = open_case(world)
    resolve(world, ticket)
    followup = followup_mark_due(followup_id=FollowUp.objects.get(ticket=ticket).pk)

    # When the agent records an unhappy customer
    followup_record_call(followup=followup, actor=world.agent, result=CallResult.UNSATISFIED, note="Still leaking")

    # Then the recovery case opens with the agent's own note, by the agent
    case = RecoveryCase.objects.get().recovery_ticket
    message = case.messages.get()
    assert (message.kind, message.author_user_id, message.author_customer_id, message.body, message.system_body) == (
        Message.Kind.NOTE,
        world.agent.pk,
        None,
        "Still leaking",
        {},
    )
    created = TicketEvent.objects.get(ticket=case, verb="created")
    assert (created.actor_user_id, created.actor_customer_id) == (world.agent.pk, None)


def test_the_staff_page_shows_the_recovery_note_as_the_systems_internal_entry_in_each_language(client, world):
    # Given a recovery case opened by a rating
    recovery = _answered_low(world)
    case, original = recovery.recovery_ticket, recovery.original_ticket.number

    # When a supervisor reads it in English, then in Chinese
    english = _page(client, world.supervisor, case, "en")
    chinese = _page(client, world.supervisor, case, "zh-hans")

    # Then it is the system's internal note, in the reader's language, never a customer's message
    assert f'<h1><span class="ticket-number">{case.number}</span> Following up on your request {original}</h1>' in (
        english
    )
    assert f"Rating of {original}: 2 of 5.<br>Comment: Nobody called me back" in english
    assert f'<h1><span class="ticket-number">{case.number}</span> 关于您的请求 {original} 的跟进</h1>' in chinese
    assert f"{original} 的评分：2 分（满分 5 分）。<br>评论：Nobody called me back" in chinese
    assert '<li class="event event--note event--message event--internal">' in english
    assert "event--customer" not in english
    assert '<span class="event__actor">System</span>\n    <span class="event__what">added an internal note</span>' in (
        english
    )
    assert '<span class="event__actor">系统</span>' in chinese


def test_the_customer_reads_that_the_shop_opened_the_recovery_case_and_never_its_note(client, world):
    # Given a recovery case opened by a rating
    recovery = _answered_low(world)
    case, original = recovery.recovery_ticket, recovery.original_ticket.number

    # When the customer opens it in the portal, in English and in Chinese
    english = _portal_page(client, world, case, "en")
    chinese = _portal_page(client, world, case, "zh-hans")

    # Then the shop opened it, in their language, and the staff's note is not there
    assert f"<h1>Following up on your request {original}</h1>" in english
    assert f"{world.merchant.name} opened this request" in english
    assert "You opened this request" not in english
    assert "Rating of" not in english
    assert f"<h1>关于您的请求 {original} 的跟进</h1>" in chinese
    assert f"{world.merchant.name} 发起了此申请" in chinese
    assert "评分" not in chinese.split('id="timeline-title"')[1]


def test_a_case_opened_before_keys_were_kept_shows_its_stored_subject_and_note(client, world):
    # Given a recovery case as older versions stored it: text only, in one language
    recovery = _answered_low(world)
    case = recovery.recovery_ticket
    Ticket.objects.filter(pk=case.pk).update(subject="关于您的请求 RT-000001 的跟进", system_subject={})
    Message.objects.filter(ticket=case).update(body="RT-000001 的评分：1 分（满分 5 分）。", system_body={})

    # When an English-speaking supervisor reads it
    english = _page(client, world.supervisor, case, "en")

    # Then the stored text shows as it was written
    assert f'<span class="ticket-number">{case.number}</span> 关于您的请求 RT-000001 的跟进</h1>' in english
    assert "RT-000001 的评分：1 分（满分 5 分）。" in english


def test_a_key_no_longer_known_or_parameters_that_do_not_fit_show_the_stored_text(world):
    recovery = _answered_low(world)
    case = recovery.recovery_ticket

    case.system_subject = {"key": "feedback.no_such_text", "params": {}}
    unknown = case.display_subject
    case.system_subject = {"key": "feedback.recovery_subject", "params": {"other": "x"}}
    unfit = case.display_subject
    case.system_subject = {"key": "feedback.recovery_subject", "params": ["not", "a", "mapping"]}
    not_a_mapping = case.display_subject

    assert unknown == unfit == not_a_mapping == case.subject


def test_recovery_cases_opened_before_keys_were_kept_get_their_subject_key(world):
    import importlib

    from django.apps import apps

    # Given an older recovery case whose stored subject is the system's, in Chinese
    recovery = _answered_low(world)
    case, original = recovery.recovery_ticket, recovery.original_ticket.number
    Ticket.objects.filter(pk=case.pk).update(subject=f"关于您的请求 {original} 的跟进", system_subject={})

    # When the migration runs
    importlib.import_module("feedback.migrations.0003_recovery_subject_keys").forwards(apps, None)

    # Then it has its key, and its first message is left as written
    case.refresh_from_db()
    assert case.system_subject == {"key": "feedback.recovery_subject", "params": {"number": original}}
    assert case.messages.get().body == f"Rating of {original}: 2 of 5.\nComment: Nobody called me back"


def test_the_recovery_queue_says_which_case_it_came_from_in_each_language(client, world):
    # Given an open recovery case
    recovery = _answered_low(world)
    original = recovery.original_ticket.number
    link = f'<a href="{reverse("dashboard:ticket", kwargs={"number": original})}">{original}</a>'
    client.force_login(world.supervisor)

    # When the supervisor reads the queue in Chinese and in English
    client.cookies["aftersales_language"] = "zh-hans"
    chinese = client.get(reverse("dashboard:feedback_recovery")).content.decode()
    client.cookies["aftersales_language"] = "en"
    english = client.get(reverse("dashboard:feedback_recovery")).content.decode()

    # Then it came "from" the case, not from a sender (发件人, the mail word)
    assert f"· 满意度评分低 · 源自 {link}" in chinese
    assert "发件人" not in chinese
    assert f"· Low satisfaction rating · from {link}" in english


def test_the_recovery_queue_marks_a_case_past_its_due_time_as_overdue(client, world):
    # Given an open recovery case, read before and after its due time has passed
    recovery = _answered_low(world)
    client.force_login(world.supervisor)
    client.cookies["aftersales_language"] = "en"
    on_time = client.get(reverse("dashboard:feedback_recovery")).content.decode()
    RecoveryCase.objects.filter(pk=recovery.pk).update(due_at=recovery.due_at - timedelta(hours=25))

    # When the supervisor reads the queue again, in English and in Chinese
    english = client.get(reverse("dashboard:feedback_recovery")).content.decode()
    client.cookies["aftersales_language"] = "zh-hans"
    chinese = client.get(reverse("dashboard:feedback_recovery")).content.decode()

    # Then only the late reading says it is overdue
    assert "data-overdue" not in on_time
    assert '<span class="badge badge--escalated" data-overdue>Overdue</span>' in english
    assert '<span class="badge badge--escalated" data-overdue>已逾期</span>' in chinese
