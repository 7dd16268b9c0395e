"""The link in a message to the customer opens their case: signed for that case and that purpose,
expiring; a valid one lets the browser see the order as a code would, an expired one asks for a
new code for that order, and anything else opens nothing."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone
from django.utils.http import int_to_base36

from aftersales.models import Notification
from aftersales.notifications.links import case_link_token
from aftersales.portal import portal_order_ids
from aftersales.tests.builders import flash_messages
from aftersales.tests.factories import MerchantFactory, OrderFactory

pytestmark = pytest.mark.usefixtures("private_storage")

LINK = re.compile(r"https?://\S+/portal/\S+/case/\S+/")


@pytest.fixture
def sent_case(make_ticket, django_capture_on_commit_callbacks):
    """A case whose acknowledgement e-mail was sent (the worker runs eagerly at commit)."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        return make_ticket()


def link_in_mail() -> str:
    [message] = [m for m in mail.outbox if "case/" in str(m.body)]
    found = LINK.search(str(message.body))
    assert found is not None
    return found.group(0).removeprefix(settings.SITE_URL)


def case_page(ticket) -> str:
    return reverse("portal:ticket", args=[ticket.merchant.slug, ticket.number])


def sees(client, ticket) -> bool:
    request = type("Request", (), {"session": client.session})()
    return ticket.order_id in portal_order_ids(request, ticket.merchant)


def test_the_link_in_the_mail_opens_the_case_without_a_code(client, sent_case):
    # Given the link of the acknowledgement, opened in a browser that never proved the order
    link = link_in_mail()

    # When the customer follows it
    response = client.get(link)

    # Then they are on their case, and the browser now sees that order
    assert response.status_code == 302
    assert response["Location"] == case_page(sent_case)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert sent_case.number in page.content.decode()
    assert sees(client, sent_case)


def test_the_outbox_keeps_the_portals_address_not_a_key_to_the_case(sent_case):
    rows = Notification.objects.filter(ticket=sent_case, template="ticket_created")

    assert rows.exists()
    for row in rows:
        assert row.context["portal_url"] == settings.SITE_URL + reverse("portal:home", args=[sent_case.merchant.slug])
        assert "case/" not in str(row.context)


def test_an_expired_link_asks_for_a_new_code_for_that_order_and_grants_nothing(client, sent_case):
    link = link_in_mail()

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.PORTAL_CASE_LINK_MAX_AGE_SECONDS + 60)):
        response = client.get(link, follow=True)

    assert response.redirect_chain[0][0] == (
        reverse("portal:home", args=[sent_case.merchant.slug]) + f"?lookup=1&order={sent_case.order.external_number}"
    )
    assert flash_messages(response) == ["This link has expired. We will send you a new code to see your request."]
    assert f'value="{sent_case.order.external_number}"' in response.content.decode()
    assert not sees(client, sent_case)


def test_the_last_second_of_a_link_still_opens_the_case(client, sent_case):
    # The link's age counts from the second it was signed (whole seconds, in the token), so the
    # last second is taken from the token, not from the clock when the test reads it.
    link = link_in_mail()
    signed_at = signing.b62_decode(link.rstrip("/").rsplit("/", 1)[1].split(":")[1])
    last_second = datetime.fromtimestamp(signed_at + settings.PORTAL_CASE_LINK_MAX_AGE_SECONDS, tz=UTC)

    with time_machine.travel(last_second, tick=False):
        response = client.get(link)

    assert response["Location"] == case_page(sent_case)
    assert sees(client, sent_case)


def test_an_expired_link_in_a_browser_that_already_sees_the_order_goes_to_the_case(client, sent_case):
    # Given a browser that sees the order (through the fresh link), and a link of the same case
    # made longer ago than a link lasts
    client.get(link_in_mail())
    age = timedelta(seconds=settings.PORTAL_CASE_LINK_MAX_AGE_SECONDS + 60)
    with time_machine.travel(timezone.now() - age):
        old_link = reverse("portal:case_link", args=[sent_case.merchant.slug, case_link_token(sent_case.pk)])

    # When the old link is followed
    response = client.get(old_link)

    # Then no code is asked for: the browser already sees the case
    assert response["Location"] == case_page(sent_case)


@pytest.mark.parametrize(
    "forge",
    [
        lambda ticket: case_link_token(ticket.pk)[:-2] + "xx",  # tampered
        lambda ticket: signing.dumps(ticket.pk),  # signed for another purpose
        lambda ticket: signing.dumps(ticket.pk, salt="aftersales.survey"),
        lambda ticket: "not-a-token",
    ],
)
def test_a_link_not_made_for_a_case_opens_nothing(client, sent_case, forge):
    url = reverse("portal:case_link", args=[sent_case.merchant.slug, forge(sent_case)])

    response = client.get(url, follow=True)

    assert response.status_code == 200
    assert flash_messages(response) == ["This link is not valid. Enter your order number to see your requests."]
    assert not sees(client, sent_case)


def test_a_link_to_one_shops_case_opens_nothing_at_another_shop(client, sent_case):
    other = MerchantFactory()
    OrderFactory(merchant=other)
    url = reverse("portal:case_link", args=[other.slug, case_link_token(sent_case.pk)])

    response = client.get(url, follow=True)

    assert flash_messages(response) == ["This link is not valid. Enter your order number to see your requests."]
    assert not sees(client, sent_case)
    assert client.session.get("aftersales_portal", {}).get(str(other.pk)) is None


def test_the_token_is_short_enough_for_an_sms_and_a_long_form_link_sent_before_still_opens(client, sent_case):
    # Given the token of today's links and a link of the long form, made by signing.dumps
    token = case_link_token(sent_case.pk)
    long_form = signing.dumps(sent_case.pk, salt="aftersales.portal.case-link")

    # When the customer follows the long-form link
    response = client.get(reverse("portal:case_link", args=[sent_case.merchant.slug, long_form]))

    # Then it opens the case, and the new token is 34 characters where the long form was 40 or more
    assert response.status_code == 302
    assert response["Location"] == case_page(sent_case)
    assert len(token) == len(int_to_base36(sent_case.pk)) + 1 + 6 + 1 + 22
    assert len(long_form) > len(token) + 15


def test_a_short_token_with_its_signature_cut_or_its_case_changed_opens_nothing(client, sent_case):
    token = case_link_token(sent_case.pk)
    value, stamp, signature = token.split(":")
    forged = [
        f"{int_to_base36(sent_case.pk + 1)}:{stamp}:{signature}",  # another case, same signature
        f"{value}:{stamp}:{signature[:-1]}",  # one character short
        f"{value}:{stamp}:{signature}A",  # one character more
    ]

    for token in forged:
        response = client.get(reverse("portal:case_link", args=[sent_case.merchant.slug, token]), follow=True)
        assert flash_messages(response) == ["This link is not valid. Enter your order number to see your requests."]
    assert not sees(client, sent_case)
