"""The language a customer uses the portal in is remembered on them, and every message to them is
in it: the code, the request's acknowledgement, each later step. Without one, the merchant's."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.models import Customer, Merchant, Notification
from aftersales.tests.builders import sign_in
from returns.services import return_request_approve
from returns.tests.builders import choose, confirm, submitted_return

pytestmark = pytest.mark.usefixtures("private_storage", "day_ten")


@pytest.fixture
def chinese_shop(shop):
    Merchant.objects.filter(pk=shop.pk).update(default_language="zh-hans")
    shop.refresh_from_db()
    return shop


def languages_of(template: str) -> set[str]:
    """The languages of the rows of ``template`` (one row per channel the customer is reached on)."""
    rows = list(Notification.objects.filter(template=template).values_list("language", flat=True))
    assert rows, f"no {template} was written"
    return set(rows)


def test_an_english_customer_of_a_chinese_shop_gets_the_code_and_the_return_mails_in_english(
    client, chinese_shop, order, shoes, reasons, django_capture_on_commit_callbacks
):
    # Given a customer of a Chinese shop who never said which language they read, in an English portal
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert Customer.objects.get(pk=order.customer_id).language == ""

    # When they prove their order and send a return
    sign_in(client, django_capture_on_commit_callbacks, order)
    review = choose(client, order, {shoes: 1}, reasons["changed_mind"])
    confirm(client, order, review)
    return_request = order.return_requests.get()
    return_request_approve(return_request=return_request, actor=None)

    # Then the customer is remembered as English, and the code and every message since are in English
    assert Customer.objects.get(pk=order.customer_id).language == "en"
    assert languages_of("portal_code") == {"en"}
    assert languages_of("ticket_created") == {"en"}
    assert languages_of("return_approved") == {"en"}


def test_switching_the_portal_to_chinese_moves_the_next_messages_to_chinese(
    client, shop, order, shoes, reasons, django_capture_on_commit_callbacks
):
    # Given a customer who proved their order in English
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    sign_in(client, django_capture_on_commit_callbacks, order)
    assert Customer.objects.get(pk=order.customer_id).language == "en"

    # When they switch the portal to Chinese and send a return
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    review = choose(client, order, {shoes: 1}, reasons["changed_mind"])
    confirm(client, order, review)

    # Then they are remembered as Chinese, and the acknowledgement is in Chinese
    assert Customer.objects.get(pk=order.customer_id).language == "zh-hans"
    assert languages_of("ticket_created") == {"zh-hans"}


def test_a_page_in_the_remembered_language_writes_nothing_to_the_customer(
    client, shop, order, django_capture_on_commit_callbacks
):
    # Given a customer remembered as English
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    sign_in(client, django_capture_on_commit_callbacks, order)
    order_page = reverse("portal:order", args=[shop.slug, order.pk])

    # When they open their order again in English
    with CaptureQueriesContext(connection) as queries:
        page = client.get(order_page)

    # Then nothing about the customer is written
    assert page.status_code == 200
    customers = Customer._meta.db_table
    assert [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'UPDATE "{customers}"')] == []


def test_a_customer_who_never_used_the_portal_is_written_to_in_the_shops_language(chinese_shop, order, reasons):
    # Given a customer with no remembered language (the shop opened the return for them)

    # When a return is submitted and approved
    return_request = submitted_return(order, order.lines.get(line_number="1"), reasons["changed_mind"], quantity=1)
    return_request_approve(return_request=return_request, actor=None)

    # Then the messages are in the shop's language
    assert languages_of("ticket_created") == {"zh-hans"}
    assert languages_of("return_approved") == {"zh-hans"}
