"""The queue's filters apply when one changes, with no "Filter" click, in a real browser
(Debian's Chromium driven by Playwright); the button is there only for a browser without script."""

import re

import pytest

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory
from tickets.models import TicketStatus
from tickets.services import ticket_change_status

pytestmark = [
    pytest.mark.usefixtures("private_storage"),
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_choosing_a_status_filters_the_queue_at_once(live_server, browser, make_ticket):
    # Given two tickets, one waiting on the customer, and an agent on the queue
    waiting, other = make_ticket(subject="Waiting one"), make_ticket(subject="Other one")
    agent = MembershipFactory(merchant=waiting.merchant, role=Membership.Role.AGENT).user
    agent.set_password("pass-word-123")
    agent.save()
    ticket_change_status(ticket=waiting, actor=agent, status=TicketStatus.WAITING_CUSTOMER)
    page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/dashboard/login/")
    page.fill("input[name=username]", agent.username)
    page.fill("input[name=password]", "pass-word-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    assert not page.locator("[data-filter-button]").is_visible()

    # When the agent picks a status, and clicks nothing else
    page.select_option("select[name=status]", TicketStatus.WAITING_CUSTOMER)
    page.wait_for_url(re.compile(r"status=waiting_customer"))

    # Then the queue holds only the waiting ticket
    numbers = page.locator("a.ticket-number").all_inner_texts()
    assert numbers == [waiting.number]
    assert other.number not in numbers
