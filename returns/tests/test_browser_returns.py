"""A return and exchange, end to end in a real browser (Debian's Chromium driven by Playwright):
the customer sends back one of two units for an exchange, staff approve, receive, inspect and ship
the replacement, and the customer follows every step on the ticket page."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from aftersales.models import Membership, OrderLine
from aftersales.tests.factories import (
    MembershipFactory,
    MerchantFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)
from returns.models import ReplacementShipment, ReturnPolicy, ReturnReason, ReturnRequest, ReturnStatus
from tickets.models import TicketEvent, TicketStatus

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.usefixtures("private_storage"),
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

# What the customer's progress list shows for an exchange, in order.
EXCHANGE_STAGES = ["Submitted", "Approved", "Sent back", "Received by the shop", "Checked", "Completed"]


def _code_from_last_mail() -> str:
    # The code stands alone on its line; the order number in the text has digits too.
    found = re.search(r"^\s*(\d{6})\s*$", str(mail.outbox[-1].body), re.MULTILINE)
    assert found is not None, "no code in the last mail"
    return found.group(1)


def _progress(page) -> list[tuple[str, bool]]:
    """The return box's progress list: each stage's label and whether it is marked done."""
    stages = page.locator("ol.return-progress--tracker > li")
    shown = []
    for index in range(stages.count()):
        stage = stages.nth(index)
        label = stage.evaluate("node => node.firstChild.textContent").strip()
        shown.append((label, "return-progress__step--done" in (stage.get_attribute("class") or "")))
    return shown


def _steps(page) -> list[str]:
    return [text.strip() for text in page.locator("ol.return-box__steps .return-box__step").all_inner_texts()]


def _submit(page, button) -> None:
    """Click a form's button and wait for the page its POST redirects to (often the same URL)."""
    with page.expect_navigation():
        button.click()


def _staff_action(page, label: str):
    """One of the return page's decision forms, by its accessible name."""
    return page.get_by_role("form", name=label)


def test_a_customer_exchanges_one_of_two_units_and_follows_each_step_while_staff_work_the_return(live_server, browser):
    # Given a shop whose policy lets footwear be exchanged (or refunded) within 30 days, with no fee
    merchant = MerchantFactory(slug="trail-gear", name="Trail Gear", default_language="en", timezone="Asia/Shanghai")
    policy = ReturnPolicy.objects.create(
        merchant=merchant, return_address="Trail Gear Returns\n88 Harbour Road, Ningbo"
    )
    policy.rules.create(
        position=1,
        name="Footwear: exchange or refund",
        match_categories=["footwear"],
        window_days=30,
        allowed_resolutions=["refund", "exchange"],
    )
    reason = ReturnReason.objects.create(
        merchant=merchant, code="wrong_size", name="Wrong size", responsibility="customer", position=0
    )
    # and an order delivered yesterday: two pairs of shoes at 300.00 with 20.00 off the line
    now = timezone.now()
    order = OrderFactory(
        merchant=merchant,
        external_number="TG-2001",
        customer__email="lin@example.com",
        placed_at=now - timedelta(days=4),
        shipped_at=now - timedelta(days=3),
        delivered_at=now - timedelta(days=1),
    )
    shoes = OrderLineFactory(
        order=order,
        line_number="1",
        product=ProductFactory(merchant=merchant, sku="TR-42", name="Trail Runner 42", category="footwear"),
        quantity=2,
        unit_price=Decimal("300.00"),
        discount_amount=Decimal("20.00"),
    )
    supervisor = MembershipFactory(merchant=merchant, role=Membership.Role.SUPERVISOR, user__username="mei").user
    ARTIFACTS.mkdir(exist_ok=True)

    # When the customer proves the order with the code sent to the e-mail on it
    customer = browser.new_page(locale="en-US", viewport={"width": 390, "height": 844})
    customer.goto(f"{live_server.url}/portal/trail-gear/")
    customer.fill("input[name=order_number]", "TG-2001")
    customer.fill("input[name=contact]", "lin@example.com")
    customer.get_by_role("button", name="Send me a code").click()
    customer.wait_for_url(re.compile(r"/portal/trail-gear/verify/"))
    assert mail.outbox[-1].to == ["lin@example.com"]
    customer.fill("input[name=code]", _code_from_last_mail())
    customer.get_by_role("button", name="Confirm").click()

    # and chooses to send back 1 of the 2 pairs for an exchange
    customer.get_by_role("link", name="Return or exchange items").first.click()
    customer.wait_for_url(re.compile(rf"/portal/trail-gear/orders/{order.pk}/return/$"))
    assert customer.locator(f"#line-{shoes.pk}").get_by_text("2 units can be returned").is_visible()
    customer.fill(f"input[name=quantity_{shoes.pk}]", "1")
    customer.select_option("select[name=reason]", str(reason.pk))
    customer.check("input[name=resolution][value=exchange]")
    customer.fill("textarea[name=description]", "Too small; size 43 please.")
    customer.get_by_role("button", name="Review my return").click()

    # then the review shows one unit worth 290.00 towards the exchange, with no restocking fee
    customer.get_by_role("heading", name="Review your return").wait_for()
    estimate = customer.locator(".return-estimate__line")
    assert estimate.count() == 1
    assert estimate.locator(".line__qty").inner_text().strip() == "× 1"
    assert estimate.locator(".line__amount").inner_text().strip() == "290.00 CNY"
    totals = customer.locator("dl.return-totals > div")
    assert [
        (row.locator("dt").inner_text().strip(), row.locator("dd").inner_text().strip()) for row in totals.all()
    ] == [
        ("Paid for these items", "290.00 CNY"),
        ("Restocking fees", "None"),
        ("Value towards your exchange", "290.00 CNY"),
    ]
    assert [text.strip() for text in customer.locator("dl.facts dd").all_inner_texts()] == [
        "Wrong size",
        "Exchange for another variant",
    ]
    assert OrderLine.objects.get(pk=shoes.pk).quantity_requested == 0  # nothing written before confirming

    # when they send it, they land on the case with the return box
    customer.get_by_role("button", name="Send my return").click()
    customer.wait_for_url(re.compile(r"/portal/trail-gear/tickets/[^/]+/"))
    return_request = ReturnRequest.objects.select_related("ticket").get(merchant=merchant)
    ticket = return_request.ticket
    assert (return_request.status, return_request.resolution) == (ReturnStatus.SUBMITTED, "exchange")
    assert list(return_request.lines.values_list("order_line_id", "quantity", "unit_refund_amount")) == [
        (shoes.pk, 1, Decimal("290.00"))
    ]
    assert customer.url.endswith(f"/portal/trail-gear/tickets/{ticket.number}/")
    assert _progress(customer)[0] == ("Submitted", True)
    assert [done for _label, done in _progress(customer)[1:]] == [False] * 5

    # When staff approve it in the dashboard
    staff = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 900})
    staff.goto(f"{live_server.url}/dashboard/login/")
    staff.fill("input[name=username]", supervisor.username)
    staff.fill("input[name=password]", "pass-word-123")
    staff.get_by_role("button", name="Log in").click()
    staff.wait_for_url(re.compile(r"/dashboard/$"))
    staff.goto(f"{live_server.url}/dashboard/returns/")
    staff.get_by_role("link", name=ticket.number).first.click()
    staff.wait_for_url(re.compile(rf"/dashboard/returns/{ticket.number}/$"))
    staff.fill("textarea[name=note]", "Size 43 is in stock.")
    _submit(staff, staff.get_by_role("button", name="Approve", exact=True))
    assert staff.get_by_text("Return approved.").is_visible()
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.APPROVED

    # then the customer is asked how they send it; they drop it off and add the tracking number
    customer.reload()
    assert _progress(customer)[1] == ("Approved", True)
    customer.check("input[name=method][value=drop_off]")
    _submit(customer, customer.get_by_role("button", name="Confirm how I send it"))
    assert customer.url.endswith(f"/portal/trail-gear/tickets/{ticket.number}/#return-box-title")
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.AWAITING_SHIPMENT
    customer.fill("input[name=carrier]", "SF Express")
    customer.fill("input[name=tracking_number]", "SF1234567890")
    _submit(customer, customer.get_by_role("button", name="Add the tracking number"))
    assert customer.locator(".return-box__shipment").get_by_text("SF Express SF1234567890").is_visible()
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.IN_TRANSIT
    assert [done for _label, done in _progress(customer)] == [True, True, True, False, False, False]

    # When staff receive the parcel, inspect it (the one unit accepted) and ship the replacement
    staff.reload()
    _submit(staff, _staff_action(staff, "Receive the parcel").get_by_role("button", name="Receive"))
    assert staff.get_by_text("Parcel received; inspect it next.").is_visible()
    return_line = return_request.lines.get()
    inspect = _staff_action(staff, "Inspect")
    inspect.locator(f"input[name=accepted_{return_line.pk}]").fill("1")
    inspect.locator(f"input[name=rejected_{return_line.pk}]").fill("0")
    inspect.locator(f"select[name=grade_{return_line.pk}]").select_option("as_new")
    inspect.locator(f"select[name=disposition_{return_line.pk}]").select_option("restock")
    _submit(staff, inspect.get_by_role("button", name="Record the inspection"))
    assert staff.get_by_text("Inspection recorded.").is_visible()
    # (the customer, meanwhile, sees the parcel received and checked; the exchange is what is left)
    customer.reload()
    assert [done for _label, done in _progress(customer)] == [True, True, True, True, True, False]
    assert customer.locator("ol.return-progress--tracker [aria-current=step]").inner_text().strip() == "Completed"
    replacement = _staff_action(staff, "Ship the replacement")
    replacement.locator("input[name=carrier]").fill("SF Express")
    replacement.locator("input[name=tracking_number]").fill("SF9876543210")
    _submit(staff, replacement.get_by_role("button", name="Replacement shipped"))
    assert staff.get_by_text("Replacement shipped.", exact=True).is_visible()
    assert staff.locator(".ticket-head").get_by_text("Completed").is_visible()
    staff.screenshot(path=str(ARTIFACTS / "dashboard-return-exchanged.png"), full_page=True)

    # Then the customer, reloading, sees every stage done and every step listed
    customer.reload()
    assert _progress(customer) == [(label, True) for label in EXCHANGE_STAGES]
    assert customer.locator("ol.return-progress--tracker [aria-current]").count() == 0
    assert _steps(customer) == [
        "You sent the return request",
        "The shop approved your return",
        "You chose how to send the items back",
        "You sent the parcel",
        "The shop received your parcel",
        "The shop checked the items",
        "The shop is settling your return",
        "Your replacement is on its way",
        "Your return is complete",
    ]
    assert customer.get_by_text("Size 43 is in stock.").first.is_visible()
    # the replacement's tracking number is on its step
    assert customer.get_by_text("SF Express SF9876543210").first.is_visible()
    customer.screenshot(path=str(ARTIFACTS / "portal-return-exchanged.png"), full_page=True)

    # and the books agree: one unit requested, received, accepted and exchanged
    return_request.refresh_from_db()
    ticket.refresh_from_db()
    assert return_request.status == ReturnStatus.COMPLETED
    assert ticket.status == TicketStatus.RESOLVED
    shoes.refresh_from_db()
    assert (
        shoes.quantity_requested,
        shoes.quantity_received,
        shoes.quantity_accepted,
        shoes.quantity_exchanged,
        shoes.quantity_refunded,
    ) == (1, 1, 1, 1, 0)
    assert list(
        ReplacementShipment.objects.values_list("return_request_id", "sku", "quantity", "carrier", "tracking_number")
    ) == [(return_request.pk, "TR-42", 1, "SF Express", "SF9876543210")]
    # the case's public timeline: the return's steps, with the case's status following them
    public_events = [
        (verb, data.get("to", "")) if verb == "status_changed" else (verb, "")
        for verb, data in TicketEvent.objects.filter(ticket=ticket, is_public=True)
        .order_by("created_at", "id")
        .values_list("verb", "data")
    ]
    assert public_events == [
        ("created", ""),
        ("return_submitted", ""),
        ("return_approved", ""),
        ("status_changed", TicketStatus.WAITING_CUSTOMER),
        ("return_shipping_chosen", ""),
        ("return_in_transit", ""),
        ("status_changed", TicketStatus.WAITING_THIRD_PARTY),
        ("return_received", ""),
        ("status_changed", TicketStatus.OPEN),
        ("return_inspected", ""),
        ("return_settling", ""),
        ("replacement_shipped", ""),
        ("return_completed", ""),
        ("status_changed", TicketStatus.RESOLVED),
    ]
