"""A customer and an agent, in a real browser (Debian's Chromium driven by Playwright)."""

import re
from pathlib import Path

import pytest
from django.core import mail

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, OrderFactory, OrderLineFactory
from tickets.models import Message, Ticket, TicketStatus

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def _code_from_last_mail() -> str:
    # The code stands alone on its line; the order number in the text has digits too.
    found = re.search(r"^\s*(\d{6})\s*$", str(mail.outbox[-1].body), re.MULTILINE)
    assert found is not None, "no code in the last mail"
    return found.group(1)


def test_a_customer_opens_a_request_in_the_portal_and_an_agent_replies_in_the_dashboard(
    live_server, browser, tmp_path, png_upload
):
    merchant = MerchantFactory(slug="trailhead", name="Trailhead Outfitters", default_language="en")
    order = OrderFactory(merchant=merchant, external_number="TH-100200", customer__email="lin@example.com")
    OrderLineFactory(order=order, name="Two-person tent", quantity=1)
    agent = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT, user__username="mei").user
    photo = tmp_path / "pole.png"
    photo.write_bytes(png_upload().read())
    ARTIFACTS.mkdir(exist_ok=True)

    # The customer proves the order with a code sent to the e-mail on it.
    customer = browser.new_page(locale="en-US", viewport={"width": 390, "height": 844})
    customer.goto(f"{live_server.url}/portal/trailhead/")
    customer.fill("input[name=order_number]", "TH-100200")
    customer.fill("input[name=contact]", "lin@example.com")
    customer.get_by_role("button", name="Send me a code").click()
    customer.wait_for_url(re.compile(r"/portal/trailhead/verify/"))
    assert mail.outbox[-1].to == ["lin@example.com"]
    customer.fill("input[name=code]", _code_from_last_mail())
    customer.get_by_role("button", name="Confirm").click()

    # …and opens a support request with a photo.
    customer.get_by_role("link", name="Open a new request").first.click()
    customer.fill("input[name=subject]", "Tent pole snapped")
    customer.fill("textarea[name=description]", "One pole broke on the first night.")
    customer.set_input_files("input[name=photos]", str(photo))
    customer.get_by_role("button", name="Send request").click()
    customer.wait_for_url(re.compile(r"/portal/trailhead/tickets/SUP-000001/"))
    assert customer.get_by_text("Tent pole snapped").first.is_visible()
    customer.screenshot(path=str(ARTIFACTS / "portal-ticket.png"), full_page=True)

    ticket = Ticket.objects.get(merchant=merchant)
    assert (ticket.number, ticket.status, ticket.channel, ticket.order_id) == ("SUP-000001", "new", "portal", order.pk)
    assert ticket.attachments.count() == 1

    # The agent sees it at the top of the queue and replies.
    staff = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 900})
    staff.goto(f"{live_server.url}/dashboard/login/")
    staff.fill("input[name=username]", agent.username)
    staff.fill("input[name=password]", "pass-word-123")
    staff.get_by_role("button", name="Log in").click()
    staff.wait_for_url(re.compile(r"/dashboard/$"))
    staff.get_by_role("link", name="SUP-000001").first.click()
    staff.wait_for_url(re.compile(r"/dashboard/tickets/SUP-000001/"))
    assert staff.get_by_text("One pole broke on the first night.").first.is_visible()
    reply = staff.locator("form", has=staff.get_by_role("button", name="Send reply"))
    reply.locator("textarea[name=body]").fill("A new pole is on its way, tracking to follow.")
    reply.get_by_role("button", name="Send reply").click()
    staff.wait_for_load_state()
    assert staff.get_by_text("A new pole is on its way, tracking to follow.").first.is_visible()
    staff.screenshot(path=str(ARTIFACTS / "dashboard-ticket.png"), full_page=True)

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert list(ticket.messages.values_list("kind", flat=True)) == [Message.Kind.CUSTOMER, Message.Kind.REPLY]

    # The customer sees the reply on their timeline.
    customer.reload()
    assert customer.get_by_text("A new pole is on its way, tracking to follow.").first.is_visible()
