"""The customer's case page says where a return stands in the return's words: right after
approval the move is the customer's (send the items back), not a reply nobody asked for."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from aftersales.tests.factories import MembershipFactory
from returns.services import return_request_approve, return_request_create
from returns.tests.builders import submitted_return, ticket_url
from tickets.models import TicketStatus
from tickets.services import ticket_change_status, ticket_create, ticket_reply

pytestmark = pytest.mark.usefixtures("private_storage", "day_ten")

HEAD = re.compile(r'<section class="card ticket-head">(.*?)</section>', re.S)


def head_of(page) -> str:
    found = HEAD.search(page.content.decode())
    assert found is not None
    return " ".join(found.group(1).split())


@pytest.fixture
def agent(shop):
    return MembershipFactory(merchant=shop, role="agent").user


def test_right_after_approval_the_page_asks_for_the_parcel_not_for_a_reply(signed_in, order, shoes, reasons, agent):
    # Given a return the shop has just approved, with nothing asked of the customer in a message
    return_request = submitted_return(order, shoes, reasons["changed_mind"])
    return_request_approve(return_request=return_request, actor=agent)

    # When the customer opens it
    page = signed_in.get(ticket_url(return_request.ticket))

    # Then its head says the next step is sending the items back, and nowhere a reply is awaited
    head = head_of(page)
    assert "Approved: send the items back" in head
    assert "Choose below how to send the items back." in head
    assert "Waiting for your reply" not in page.content.decode()


def test_an_approved_refund_only_claim_says_the_shop_is_settling_it(signed_in, order, shoes, reasons, agent, shop):
    shop.return_policy.rules.update(allowed_resolutions=["refund", "refund_only"])
    return_request = return_request_create(
        order=order,
        customer=order.customer,
        lines=[(shoes, 1)],
        reason=reasons["changed_mind"],
        resolution="refund_only",
    )
    return_request_approve(return_request=return_request, actor=agent)

    page = signed_in.get(ticket_url(return_request.ticket))

    head = head_of(page)
    assert "Approved" in head
    assert "is settling it" in head
    assert "Waiting for your reply" not in page.content.decode()


def test_a_support_case_waiting_on_the_customer_still_asks_for_a_reply(signed_in, order, agent):
    with translation.override("en"):
        ticket = ticket_create(
            merchant=order.merchant,
            kind="support",
            subject="Lace",
            body="Broke.",
            customer=order.customer,
            order=order,
            channel="portal",
        )
    ticket_reply(ticket=ticket, actor=agent, body="Which lace?")
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.WAITING_CUSTOMER)

    page = signed_in.get(ticket_url(ticket))

    assert "Waiting for your reply" in head_of(page)


def test_the_order_page_says_the_move_is_the_customers_without_claiming_a_reply_is_awaited(
    signed_in, order, shoes, reasons, agent
):
    return_request = submitted_return(order, shoes, reasons["changed_mind"])
    return_request_approve(return_request=return_request, actor=agent)

    page = signed_in.get(reverse("portal:order", args=[order.merchant.slug, order.pk])).content.decode()

    assert "Waiting for you" in page
    assert "Waiting for your reply" not in page
