"""The customer's return box when the shop declared the parcel lost: the step in their words, never
the staff's note."""

import re

import pytest

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory
from returns.services import (
    return_parcel_declare_lost,
    return_request_approve,
    return_shipping_choose,
    return_tracking_add,
)
from returns.tests.builders import submitted_return, ticket_url

# The portal return pages' world (returns/tests/conftest.py): a shop in Shanghai, its policy and
# reasons, a signed-in customer, on 20 November at noon in Shanghai.
pytestmark = pytest.mark.usefixtures("private_storage", "day_ten")


@pytest.fixture
def lost_return(order, shoes, reasons):
    supervisor = MembershipFactory(merchant=order.merchant, role=Membership.Role.SUPERVISOR).user
    customer = order.customer
    return_request = submitted_return(order, shoes, reasons["changed_mind"])
    return_request_approve(return_request=return_request, actor=supervisor)
    return_shipping_choose(return_request=return_request, method="drop_off", customer=customer)
    return_tracking_add(return_request=return_request, carrier="SF Express", tracking_number="SF777", customer=customer)
    return return_parcel_declare_lost(
        return_request=return_request, actor=supervisor, note="Carrier ticket 5561, internal"
    )


def test_the_customers_timeline_shows_the_lost_step_after_the_parcel_was_sent(signed_in, lost_return):
    page = signed_in.get(ticket_url(lost_return.ticket)).content.decode()

    sent = page.index("You sent the parcel")
    lost = page.index("The parcel was lost in transit; we are settling your return anyway")
    assert sent < lost
    assert "Being settled" in page
    assert "Carrier ticket 5561" not in page
    assert "claim" not in page.lower()


def test_before_the_parcel_is_declared_lost_the_step_is_not_there(signed_in, order, shoes, reasons):
    return_request = submitted_return(order, shoes, reasons["changed_mind"])

    page = signed_in.get(ticket_url(return_request.ticket)).content.decode()

    assert "You sent the return request" in page
    assert "lost in transit" not in page


def test_the_progress_tracker_skips_received_and_checked_for_a_lost_parcel(signed_in, lost_return):
    page = signed_in.get(ticket_url(lost_return.ticket)).content.decode()

    tracker = page[page.index("return-progress--tracker") : page.index("</ol>", page.index("return-progress--tracker"))]
    labels = re.findall(r'<li class="return-progress__step[^"]*"[^>]*>\s*([^<]+?)\s*(?:<time|</li>)', tracker)
    assert labels == ["Submitted", "Approved", "Sent back", "Lost in transit, settled anyway", "Refunded"]
    current = re.findall(r'return-progress__step--current" aria-current="step">\s*([^<]+?)\s*</li>', tracker)
    assert current == ["Refunded"]
    assert "Received by the shop" not in tracker
