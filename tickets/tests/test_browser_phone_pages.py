"""Support pages on a 390-pixel phone, in a real browser (Debian's Chromium driven by Playwright),
where the layout is the point: a report's figures on the screen, a list of boxes under its caption."""

import re

import pytest

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, OrderFactory, StoreFactory
from tickets.models import TicketKind
from tickets.services import ticket_create

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PHONE = {"width": 390, "height": 844}


def _supervisor_on_a_phone(browser, live_server, merchant):
    supervisor = MembershipFactory(merchant=merchant, role=Membership.Role.SUPERVISOR).user
    supervisor.set_password("pass-word-123")
    supervisor.save()
    page = browser.new_page(locale="en-US", viewport=PHONE)
    page.goto(f"{live_server.url}/dashboard/login/")
    page.fill("input[name=username]", supervisor.username)
    page.fill("input[name=password]", "pass-word-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    return page


def test_the_complaint_reports_figures_are_on_a_phones_screen(live_server, browser):
    # Given a store with 8 orders, 2 of them complained about
    store = StoreFactory(name="Tmall flagship")
    orders = [OrderFactory(merchant=store.merchant, store=store) for _ in range(8)]
    for order in orders[:2]:
        ticket_create(
            merchant=order.merchant,
            kind=TicketKind.COMPLAINT,
            subject="Late courier",
            body="Three days late.",
            customer=order.customer,
            channel="portal",
            order=order,
        )
    page = _supervisor_on_a_phone(browser, live_server, store.merchant)

    # When the supervisor opens the complaints report on a phone
    page.goto(f"{live_server.url}/dashboard/reports/complaints/")

    # Then the store's rate is on the screen, not scrolled off beside a 640-pixel table
    rate = page.locator("#complaint-rate-stores tbody tr td").last
    assert rate.inner_text() == "250.00"
    box = rate.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]


def test_a_routing_rules_boxes_sit_under_their_caption_on_a_phone(live_server, browser):
    merchant = OrderFactory().merchant
    page = _supervisor_on_a_phone(browser, live_server, merchant)

    page.goto(f"{live_server.url}/dashboard/routing/")

    # The caption "Kinds" is above its first box, not squeezed between the boxes and the help
    caption = page.locator("#id_match_kinds_caption").bounding_box()
    first_box = page.locator("#id_match_kinds_0").bounding_box()
    assert caption is not None
    assert first_box is not None
    assert caption["y"] + caption["height"] <= first_box["y"]
    assert abs(caption["x"] - first_box["x"]) < 8
