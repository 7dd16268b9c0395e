"""On a phone (390×844) the address to send the parcel to takes the card's whole width, not a
narrow column beside the method. Looked at in Chromium; the screenshot is kept in test-artifacts."""

from pathlib import Path

import pytest

from aftersales.notifications.links import case_link_url
from aftersales.tests.factories import MembershipFactory
from returns.services import return_request_approve, return_shipping_choose
from returns.tests.builders import portal_order, submitted_return

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ADDRESS = "Trail Gear Returns, Building 7, Room 1203\n88 Harbour Road, Beilun District, Ningbo 315800"

pytestmark = [
    pytest.mark.usefixtures("private_storage"),
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_the_return_address_takes_the_whole_card_on_a_phone(live_server, browser, shop, policy, reasons, settings):
    # Given an approved return the customer chose to drop off, and its case link (it opens the case)
    policy.return_address = ADDRESS
    policy.save(update_fields=["return_address"])
    order = portal_order(shop)
    agent = MembershipFactory(merchant=shop, role="agent").user
    return_request = submitted_return(order, order.lines.get(line_number="1"), reasons["changed_mind"], quantity=1)
    return_request_approve(return_request=return_request, actor=agent)
    return_shipping_choose(return_request=return_request, method="drop_off", customer=order.customer)
    settings.SITE_URL = live_server.url
    link = case_link_url(shop.slug, return_request.ticket_id)

    # When the customer opens it on a phone
    page = browser.new_page(locale="en-US", viewport={"width": 390, "height": 844})
    page.goto(link)
    address = page.locator(".return-box__shipment .return-address")
    address.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "portal-return-address-phone.png"), full_page=True)

    # Then the address runs across the whole list, on as few lines as the width allows
    address_box = address.bounding_box()
    list_box = page.locator(".return-box__shipment").bounding_box()
    assert address_box is not None
    assert list_box is not None
    assert address_box["width"] >= 0.95 * list_box["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
