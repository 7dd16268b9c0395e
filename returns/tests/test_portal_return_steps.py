"""The customer's next steps on a return, from its ticket page: how the parcel goes back (drop-off,
home pickup in a slot, a store), the tracking number, the deadlines they must meet, and after a
rejection a revision or a supervisor's review; the return's progress in plain words. Each step
is one service; each refusal shows its message and changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.models import Deadline, Notification, OrderLine
from aftersales.tests.factories import MembershipFactory
from returns.models import ReturnRequest, ReturnShipment, ReturnStatus, ShippingMethod
from returns.services import (
    LineInspection,
    return_request_approve,
    return_request_inspect,
    return_request_receive,
    return_request_reject,
    return_shipping_choose,
    return_tracking_add,
)
from returns.tests.builders import portal_order, submitted_return, ticket_url
from returns.timers import CUSTOMER_SHIP, REVISE
from tickets.models import Attachment, Message, TicketEvent, TicketStatus

# The portal return pages' world (returns/tests/conftest.py): a shop in Shanghai, its policy and
# reasons, a signed-in customer, on 20 November at noon in Shanghai.
pytestmark = pytest.mark.usefixtures("private_storage", "day_ten")

# 18:00 UTC on 20 November is 02:00 on the 21st in Shanghai: the dates shown must be Shanghai's.
LATE_EVENING_UTC = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def step_url(name, return_request):
    return reverse(f"portal:return_{name}", args=[return_request.merchant.slug, return_request.ticket.number])


@pytest.fixture
def staff(shop):
    return {
        "agent": MembershipFactory(merchant=shop, role="agent").user,
        "supervisor": MembershipFactory(merchant=shop, role="supervisor").user,
        "warehouse": MembershipFactory(merchant=shop, role="warehouse").user,
    }


@pytest.fixture
def approved(order, shoes, reasons, staff):
    return_request = submitted_return(order, shoes, reasons["changed_mind"])
    return return_request_approve(return_request=return_request, actor=staff["agent"])


@pytest.fixture
def rejected(order, shoes, reasons, staff):
    return_request = submitted_return(order, shoes, reasons["changed_mind"])
    return return_request_reject(return_request=return_request, actor=staff["agent"], reason="The soles are worn.")


def state(return_request):
    """Everything a step may write, to prove a refusal wrote nothing."""
    return_request = ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk)
    return (
        return_request.status,
        return_request.resolution,
        return_request.escalated_at,
        return_request.ticket.status,
        TicketEvent.objects.count(),
        Notification.objects.count(),
        Message.objects.count(),
        Attachment.objects.count(),
        sorted(ReturnShipment.objects.values_list("return_request_id", "method", "carrier", "tracking_number")),
        sorted(Deadline.objects.values_list("kind", "state")),
        sorted(OrderLine.objects.values_list("pk", "quantity_requested")),
    )


def refreshed(return_request):
    return ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk)


def public_events(return_request, verb):
    return TicketEvent.objects.filter(ticket=return_request.ticket, verb=verb, is_public=True)


# --- how will you send it back ------------------------------------------------------------------


def test_drop_off_then_tracking_moves_the_return_on_and_the_page_follows(signed_in, approved, order):
    # Given an approved return, its page asks how it goes back and shows the shop's address
    page = signed_in.get(ticket_url(approved.ticket)).content.decode()
    assert page.count("How will you send it back?") == 1  # the question, under "Sending it back"
    assert "88 Harbour Road, Ningbo" in page
    assert step_url("ship", approved) in page
    assert "Add your tracking number" not in page

    # When the customer picks a drop-off
    response = signed_in.post(step_url("ship", approved), {"method": "drop_off"})

    # then the return awaits the parcel, the address is kept on the shipment, the customer is told
    assert response.status_code == 302
    assert response["Location"].startswith(ticket_url(approved.ticket))
    return_request = refreshed(approved)
    assert return_request.status == ReturnStatus.AWAITING_SHIPMENT
    assert return_request.ticket.status == TicketStatus.WAITING_CUSTOMER
    shipment = ReturnShipment.objects.get()
    assert (shipment.method, shipment.return_address) == (
        ShippingMethod.DROP_OFF,
        "Trail Gear Returns\n88 Harbour Road, Ningbo",
    )
    event = public_events(approved, "return_shipping_chosen").get()
    assert event.actor_customer == order.customer
    instructions = Notification.objects.filter(template="return_ship_instructions")
    assert sorted(instructions.values_list("channel", "recipient")) == [
        (Notification.Channel.EMAIL, order.customer.email),
        (Notification.Channel.SMS, order.customer.phone),
    ]
    page = signed_in.get(ticket_url(approved.ticket)).content.decode()
    assert "Drop-off with a carrier" in page
    assert "Add your tracking number" in page
    assert "How will you send it back?" not in page

    # when they add the tracking number, with spaces and in lower case
    response = signed_in.post(
        step_url("tracking", approved), {"carrier": "SF Express", "tracking_number": "sf 123 456"}
    )

    # then the parcel is on its way: the ship-by deadline is met and the carrier has the move
    assert response.status_code == 302
    return_request = refreshed(approved)
    assert return_request.status == ReturnStatus.IN_TRANSIT
    assert return_request.ticket.status == TicketStatus.WAITING_THIRD_PARTY
    shipment.refresh_from_db()
    assert (shipment.carrier, shipment.tracking_number) == ("SF Express", "SF123456")
    assert Deadline.objects.get(ticket=approved.ticket, kind=CUSTOMER_SHIP).state == Deadline.State.MET
    assert public_events(approved, "return_in_transit").get().actor_customer == order.customer
    page = signed_in.get(ticket_url(approved.ticket)).content.decode()
    assert "You sent the parcel" in page
    assert "SF Express SF123456" in page
    assert "Add your tracking number" not in page
    assert "Send the items back by" not in page


def test_home_pickup_keeps_the_slot_in_the_shops_time_zone(signed_in, approved):
    response = signed_in.post(
        step_url("ship", approved),
        {
            "method": "pickup",
            "pickup_address": "5 Lake Road, Hangzhou",
            "pickup_date": "2026-11-22",
            "pickup_window": "09-12",
        },
    )

    assert response.status_code == 302
    shipment = ReturnShipment.objects.get()
    assert shipment.method == ShippingMethod.PICKUP
    assert shipment.pickup_address == "5 Lake Road, Hangzhou"
    # 09:00–12:00 in Shanghai is 01:00–04:00 UTC
    assert (shipment.pickup_slot_start, shipment.pickup_slot_end) == (
        datetime(2026, 11, 22, 1, 0, tzinfo=UTC),
        datetime(2026, 11, 22, 4, 0, tzinfo=UTC),
    )
    assert refreshed(approved).status == ReturnStatus.AWAITING_SHIPMENT
    assert Notification.objects.filter(template="return_ship_instructions").count() == 2  # e-mail and SMS
    page = signed_in.get(ticket_url(approved.ticket)).content.decode()
    assert "Home pickup" in page
    assert "5 Lake Road, Hangzhou" in page
    assert "09:00–12:00" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"method": "pickup", "pickup_date": "2026-11-22", "pickup_window": "09-12"}, "Give the address"),
        (
            {
                "method": "pickup",
                "pickup_address": "5 Lake Road",
                "pickup_date": "2026-11-19",
                "pickup_window": "09-12",
            },
            "Pick a day from today on.",
        ),
        ({"method": "pickup", "pickup_address": "5 Lake Road", "pickup_date": "2026-11-22"}, "Pick a pickup time."),
        # 20 November, 09:00–12:00 in Shanghai has begun: it is noon there
        (
            {
                "method": "pickup",
                "pickup_address": "5 Lake Road",
                "pickup_date": "2026-11-20",
                "pickup_window": "09-12",
            },
            "Pick a pickup time slot in the future.",
        ),
        (
            {
                "method": "pickup",
                "pickup_address": "5 Lake Road",
                "pickup_date": "2026-12-20",
                "pickup_window": "09-12",
            },
            "the last day to send the parcel",
        ),
        ({"method": "by_pigeon"}, "Select a valid choice."),
    ],
)
def test_a_pickup_that_cannot_be_booked_is_refused_with_nothing_written(signed_in, approved, data, message):
    before = state(approved)

    response = signed_in.post(step_url("ship", approved), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert state(approved) == before


def test_hand_in_at_a_store_needs_no_tracking_number(signed_in, approved, order):
    page = signed_in.get(ticket_url(approved.ticket)).content.decode()
    assert f'value="{order.store.name}"' in page

    signed_in.post(step_url("ship", approved), {"method": "in_store", "store_location": "Ningbo Tianyi Square"})

    shipment = ReturnShipment.objects.get()
    assert (shipment.method, shipment.store_location, shipment.return_address) == (
        ShippingMethod.IN_STORE,
        "Ningbo Tianyi Square",
        "",
    )
    page = signed_in.get(ticket_url(approved.ticket)).content.decode()
    assert "Hand it in at" in page
    assert "Ningbo Tianyi Square" in page
    assert "Add your tracking number" not in page
    # The parcel never travels, so "Sent back" is not a stage of this return
    assert "Sent back" not in page
    before = state(approved)

    response = signed_in.post(step_url("tracking", approved), {"carrier": "SF", "tracking_number": "SF1"}, follow=True)

    assert "This parcel is handed in at a store; it needs no tracking number." in response.content.decode()
    assert state(approved) == before


def test_choosing_how_to_send_before_approval_is_refused_with_nothing_written(signed_in, order, shoes, reasons):
    return_request = submitted_return(order, shoes, reasons["changed_mind"])
    assert "How will you send it back?" not in signed_in.get(ticket_url(return_request.ticket)).content.decode()
    before = state(return_request)

    response = signed_in.post(step_url("ship", return_request), {"method": "drop_off"}, follow=True)

    assert "A return that is Submitted cannot become Awaiting shipment." in response.content.decode()
    assert state(return_request) == before


def test_a_tracking_number_already_on_another_return_is_refused_with_nothing_written(
    signed_in, shop, approved, reasons, staff
):
    other_order = portal_order(shop, number="TG-3003", email="zhao@example.com")
    other = submitted_return(other_order, other_order.lines.get(line_number="1"), reasons["changed_mind"])
    return_request_approve(return_request=other, actor=staff["agent"])
    return_shipping_choose(return_request=other, method="drop_off", customer=other_order.customer)
    return_tracking_add(
        return_request=other, carrier="SF Express", tracking_number="SF777", customer=other_order.customer
    )
    signed_in.post(step_url("ship", approved), {"method": "drop_off"})
    before = state(approved)

    response = signed_in.post(step_url("tracking", approved), {"carrier": "SF Express", "tracking_number": "sf777"})

    assert response.status_code == 200
    assert "This tracking number is already on another return." in response.content.decode()
    assert state(approved) == before
    assert refreshed(approved).status == ReturnStatus.AWAITING_SHIPMENT


def test_tracking_before_choosing_how_to_send_is_refused(signed_in, order, shoes, reasons):
    return_request = submitted_return(order, shoes, reasons["changed_mind"])
    before = state(return_request)

    response = signed_in.post(
        step_url("tracking", return_request), {"carrier": "SF", "tracking_number": "SF1"}, follow=True
    )

    assert "A return that is Submitted cannot become In transit." in response.content.decode()
    assert state(return_request) == before


# --- deadlines ----------------------------------------------------------------------------------


def test_the_ship_by_deadline_is_shown_in_the_shops_time_zone(signed_in, order, shoes, reasons, staff, day_ten):
    day_ten.move_to(LATE_EVENING_UTC)
    return_request = submitted_return(order, shoes, reasons["changed_mind"])
    return_request_approve(return_request=return_request, actor=staff["agent"])
    due = Deadline.objects.get(ticket=return_request.ticket, kind=CUSTOMER_SHIP).due_at
    assert due == LATE_EVENING_UTC + timedelta(days=7)  # 02:00 on 28 November in Shanghai

    page = signed_in.get(ticket_url(return_request.ticket)).content.decode()

    assert "Send the items back by" in page
    assert "Nov. 28, 2026" in page
    # with the shop's offset from UTC, not its time zone's database key ("Asia/Shanghai")
    assert "(UTC+8)" in page
    assert "Asia/Shanghai" not in page
    # The shop's own deadline to answer is not the customer's business
    assert "Merchant response" not in page
    # and in Chinese the brackets are full-width, from the translation
    chinese = signed_in.get(ticket_url(return_request.ticket), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "（UTC+8）" in chinese


# --- after a rejection --------------------------------------------------------------------------


def test_a_rejected_return_offers_a_revision_and_a_review_until_the_revise_deadline(signed_in, rejected):
    page = signed_in.get(ticket_url(rejected.ticket)).content.decode()

    assert "The soles are worn." in page
    assert "Revise your request" in page
    assert step_url("revise", rejected) in page
    assert "Ask a supervisor to review" in page
    assert step_url("escalate", rejected) in page
    # 72 hours after noon on 20 November in Shanghai
    assert "Revise your request or ask for a review by" in page
    assert "Nov. 23, 2026" in page


def test_revising_sends_the_request_again_with_the_message_photo_and_new_resolution(
    signed_in, rejected, order, png_upload
):
    response = signed_in.post(
        step_url("revise", rejected),
        {
            "description": "The soles were worn when they arrived; see the photo.",
            "resolution": "store_credit",
            "photos": [png_upload("soles.png")],
        },
    )

    assert response.status_code == 302
    return_request = refreshed(rejected)
    assert (return_request.status, return_request.resolution, return_request.rejection_reason) == (
        ReturnStatus.SUBMITTED,
        "store_credit",
        "",
    )
    assert return_request.ticket.status == TicketStatus.OPEN
    message = Message.objects.filter(ticket=rejected.ticket, kind=Message.Kind.CUSTOMER).latest("id")
    assert message.body == "The soles were worn when they arrived; see the photo."
    assert list(message.attachments.values_list("original_name", flat=True)) == ["soles.png"]
    assert public_events(rejected, "return_revised").get().actor_customer == order.customer
    assert Deadline.objects.get(ticket=rejected.ticket, kind=REVISE).state == Deadline.State.MET
    assert Deadline.objects.filter(ticket=rejected.ticket, kind="return.merchant_response").count() == 2
    page = signed_in.get(ticket_url(rejected.ticket)).content.decode()
    assert "You revised your request" in page
    assert "Revise your request or ask for a review by" not in page
    assert step_url("revise", rejected) not in page


def test_a_resolution_the_promised_terms_do_not_allow_is_refused_with_nothing_written(signed_in, rejected):
    before = state(rejected)

    response = signed_in.post(step_url("revise", rejected), {"description": "Please.", "resolution": "keep_item"})

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert state(rejected) == before


def test_revising_or_escalating_after_the_revise_deadline_is_refused_with_nothing_written(
    signed_in, policy, order, shoes, reasons, staff, day_ten
):
    policy.revise_hours = 2
    policy.save(update_fields=["revise_hours"])
    rejected = submitted_return(order, shoes, reasons["changed_mind"])
    return_request_reject(return_request=rejected, actor=staff["agent"], reason="The soles are worn.")
    day_ten.shift(timedelta(hours=2))  # the revise deadline, to the second; the sweep has not run yet
    assert Deadline.objects.get(ticket=rejected.ticket, kind=REVISE).state == Deadline.State.PENDING
    page = signed_in.get(ticket_url(rejected.ticket)).content.decode()
    assert step_url("revise", rejected) not in page
    before = state(rejected)

    revised = signed_in.post(
        step_url("revise", rejected), {"description": "Late.", "resolution": "refund"}, follow=True
    )
    escalated = signed_in.post(step_url("escalate", rejected), {"note": "Late."}, follow=True)

    assert "The time to revise this return has passed." in revised.content.decode()
    assert "The time to revise this return has passed." in escalated.content.decode()
    assert state(rejected) == before


def test_escalating_hands_the_decision_to_a_supervisor_once(signed_in, rejected, order, staff):
    response = signed_in.post(step_url("escalate", rejected), {"note": "The soles were worn on arrival."})

    assert response.status_code == 302
    return_request = refreshed(rejected)
    assert return_request.status == ReturnStatus.ESCALATED
    assert return_request.escalated_at == datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
    assert return_request.ticket.status == TicketStatus.OPEN
    event = public_events(rejected, "return_escalated").get()
    assert (event.actor_customer, event.data) == (order.customer, {"note": "The soles were worn on arrival."})
    told = Notification.objects.get(template="return_escalated")
    assert told.recipient_user == staff["supervisor"]
    page = signed_in.get(ticket_url(rejected.ticket)).content.decode()
    assert "You asked a supervisor to review the decision" in page
    assert "With a supervisor" in page
    assert step_url("escalate", rejected) not in page
    before = state(rejected)

    again = signed_in.post(step_url("escalate", rejected), {"note": "Again."}, follow=True)

    assert "A return that is Escalated to a supervisor cannot become Escalated to a supervisor." in (
        again.content.decode()
    )
    assert state(rejected) == before


def test_an_escalation_needs_a_reason(signed_in, rejected):
    before = state(rejected)

    response = signed_in.post(step_url("escalate", rejected), {"note": "  "})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert state(rejected) == before


# --- whose return -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "data"),
    [
        ("ship", {"method": "drop_off"}),
        ("tracking", {"carrier": "SF", "tracking_number": "SF9"}),
        ("revise", {"description": "Mine now.", "resolution": "refund"}),
        ("escalate", {"note": "Mine now."}),
    ],
)
def test_another_customers_return_is_not_found(signed_in, shop, reasons, staff, step, data):
    other_order = portal_order(shop, number="TG-2002", email="zhao@example.com")
    other = submitted_return(other_order, other_order.lines.get(line_number="1"), reasons["changed_mind"])
    if step in ("ship", "tracking"):
        return_request_approve(return_request=other, actor=staff["agent"])
        if step == "tracking":
            return_shipping_choose(return_request=other, method="drop_off", customer=other_order.customer)
    else:
        return_request_reject(return_request=other, actor=staff["agent"], reason="No.")
    before = state(other)

    assert signed_in.get(step_url(step, other)).status_code == 404
    assert signed_in.post(step_url(step, other), data).status_code == 404
    assert state(other) == before


# --- progress -----------------------------------------------------------------------------------


def test_progress_reads_in_plain_words_from_submitted_to_checked(signed_in, approved, staff, day_ten):
    page = signed_in.get(ticket_url(approved.ticket)).content.decode()
    assert page.count("return-progress__step--done") == 2  # submitted, approved
    assert 'return-progress__step--current" aria-current="step">\n        Sent back' in page

    return_shipping_choose(return_request=approved, method="drop_off", customer=approved.customer)
    return_tracking_add(return_request=approved, carrier="SF", tracking_number="SF42", customer=approved.customer)
    day_ten.shift(timedelta(hours=2))
    return_request_receive(return_request=approved, actor=staff["warehouse"])
    return_request_inspect(
        return_request=approved,
        actor=staff["warehouse"],
        lines=[
            LineInspection(
                return_line_id=line.pk, accepted=line.quantity, rejected=0, grade="good", disposition="restock"
            )
            for line in approved.lines.all()
        ],
    )

    page = signed_in.get(ticket_url(approved.ticket)).content.decode()
    for label in ("Submitted", "Approved", "Sent back", "Received by the shop", "Checked", "Refunded"):
        assert label in page
    assert page.count("return-progress__step--done") == 5
    assert 'return-progress__step--current" aria-current="step">\n        Refunded' in page
    assert "The shop received your parcel" in page
    assert "The shop checked the items" in page


def test_an_approval_by_policy_is_said_in_the_customers_language_whatever_it_was_stored_in(
    signed_in, order, shoes, reasons
):
    # Given a return approved by policy while English was active (the note is stored translated)
    return_request = submitted_return(order, shoes, reasons["changed_mind"])
    with translation.override("en"):
        return_request_approve(return_request=return_request, actor=None, note=_("Approved by policy."))

    # When the customer reads it in Chinese
    page = signed_in.get(ticket_url(return_request.ticket), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()

    # Then the step says it in Chinese
    assert '<span class="return-box__step-note">已按政策自动同意。</span>' in page
    assert "Approved by policy." not in page


def test_a_rejected_returns_progress_marks_no_stage_as_under_way(signed_in, rejected):
    page = signed_in.get(ticket_url(rejected.ticket)).content.decode()

    # "Approved" marked current read as if the shop had approved it
    assert '<li class="return-progress__step">\n        Approved\n      </li>' in page
    assert 'aria-current="step"' not in page
