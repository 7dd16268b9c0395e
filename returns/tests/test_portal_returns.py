"""The customer's way to return items in the portal: choose units, a reason and a resolution;
review the estimate (nothing written); add photos and confirm; follow and cancel the return on
its ticket page. Access is the portal's: only orders the session proved."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, translation

from aftersales.config_cache import config_changed
from aftersales.models import Notification, OrderLine
from aftersales.tests.builders import sign_in
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from returns.forms.portal import reason_choices
from returns.models import ReturnLine, ReturnReason, ReturnRequest, ReturnStatus
from returns.selectors import return_reasons_active
from returns.services import return_request_reject
from returns.tests.builders import (
    START_PAGE_QUERIES,
    START_PAGE_QUERIES_CONFIG_KEPT,
    SUBMISSION_QUERIES,
    SUBMISSION_QUERIES_CONFIG_KEPT,
    change_choices,
    choices_on,
    choose,
    confirm,
    confirm_url,
    nothing_written_for,
    portal_order,
    sign_in_client,
    start_url,
    submission_key_on,
    submitted_return,
    ticket_url,
)
from tickets.models import Attachment, Ticket, TicketChannel, TicketEvent, TicketKind, TicketNumberCounter
from tickets.services import ticket_create

# Uploaded files go to a folder of each test's own.
pytestmark = pytest.mark.usefixtures("private_storage", "day_ten")

LAST_SECOND = datetime(2026, 12, 10, 15, 59, 59, tzinfo=UTC)
WINDOW_CLOSED = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)


def shown(day: date) -> str:
    with translation.override("en"):
        return formats.date_format(day, "DATE_FORMAT")


# --- the whole way through -----------------------------------------------------------------------


def test_customer_returns_one_of_two_units_with_a_photo_and_follows_it_on_the_ticket_page(
    signed_in, order, shoes, reasons, django_capture_on_commit_callbacks, png_upload
):
    client = signed_in
    socks = order.lines.get(line_number="2")

    # Given the verified order, its page links to the return
    order_page = client.get(reverse("portal:order", args=[order.merchant.slug, order.pk])).content.decode()
    assert start_url(order) in order_page
    assert "Return or exchange items" in order_page
    assert start_url(order) in client.get(reverse("portal:home", args=[order.merchant.slug])).content.decode()

    # when the customer opens it, each line says how many units can go back and until when
    page = client.get(start_url(order))
    assert page.status_code == 200
    body = page.content.decode()
    assert "2 units can be returned" in body
    assert "1 unit can be returned" in body
    assert f"until {shown(date(2026, 12, 10))}" in body
    assert '<optgroup label="Quality problem">' in body
    assert "Arrived damaged" in body
    assert "Changed my mind" in body
    assert "Old reason" not in body

    # when they choose 1 of the 2 pairs of shoes, changed their mind, want their money back
    response = choose(client, order, {shoes: 1, socks: 0}, reasons["changed_mind"], description="Half a size small.")

    # then the review shows the exact estimate: 580.00 paid for 2, 290.00 each, less 10 %
    assert response.status_code == 200
    review = response.content.decode()
    assert "261.00 CNY" in review
    assert "290.00 CNY" in review
    assert "29.00 CNY" in review
    assert "10% restocking fee" in review
    assert f"Return window until {shown(date(2026, 12, 10))}" in review
    assert "Half a size small." in review
    assert "88 Harbour Road, Ningbo" in review
    assert ReturnRequest.objects.count() == 0

    # when they add a photo and confirm
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client, order, response, photos=[png_upload("sole.png")])

    # then one return exists for exactly one unit, at the estimated amount, and the unit is held
    return_request = ReturnRequest.objects.get()
    ticket = return_request.ticket
    assert response.status_code == 302
    assert response["Location"] == ticket_url(ticket)
    assert (return_request.status, return_request.resolution, return_request.reason) == (
        ReturnStatus.SUBMITTED,
        "refund",
        reasons["changed_mind"],
    )
    assert return_request.reason_note == "Half a size small."
    assert (ticket.kind, ticket.channel, ticket.customer) == (TicketKind.RETURN, TicketChannel.PORTAL, order.customer)
    line = ReturnLine.objects.get()
    assert (line.order_line, line.quantity, line.unit_refund_amount) == (shoes, 1, Decimal("261.00"))
    assert OrderLine.objects.get(pk=shoes.pk).quantity_requested == 1
    assert OrderLine.objects.get(pk=socks.pk).quantity_requested == 0
    assert Attachment.objects.get().original_name == "sole.png"

    # and its ticket page shows the return box with the timeline of its steps
    page = client.get(response["Location"]).content.decode()
    assert f"Your return {ticket.number} has been sent" in page
    assert "Return details" in page
    assert "Sent to the shop" in page
    assert "Trail Runner 42" in page
    assert "× 1" in page
    assert "261.00 CNY" in page
    assert "Restocking fee 10%" in page
    assert f"Return window until {shown(date(2026, 12, 10))}" in page
    assert "You sent the return request" in page
    assert "return-box__step-note" not in page
    assert reverse("portal:return_cancel", args=[order.merchant.slug, ticket.number]) in page
    assert "Cancel this return" in page


def test_change_my_choices_brings_the_choices_back(signed_in, order, shoes, reasons):
    review = choose(
        signed_in, order, {shoes: 1}, reasons["changed_mind"], resolution="store_credit", description="Too small"
    )

    body = change_choices(signed_in, order, review).content.decode()

    assert f'name="quantity_{shoes.pk}" value="1"' in body
    assert f'<option value="{reasons["changed_mind"].pk}" selected>' in body
    checked = re.findall(r'<input type="radio" name="resolution" value="(\w+)"[^>]* checked>', body)
    assert checked == ["store_credit"]
    assert "Too small</textarea>" in body
    assert 'class="field__errors' not in body


# --- nothing is written before the customer confirms --------------------------------------------


def test_the_review_step_writes_nothing_not_even_the_session(signed_in, order, shoes, reasons):
    before = nothing_written_for(order)
    session_before = dict(signed_in.session)

    with CaptureQueriesContext(connection) as queries:
        review = choose(signed_in, order, {shoes: 2}, reasons["changed_mind"])

    assert review.status_code == 200
    assert "522.00 CNY" in review.content.decode()
    assert choices_on(review) == {
        f"quantity_{shoes.pk}": "2",
        "reason": str(reasons["changed_mind"].pk),
        "resolution": "refund",
    }
    writes = [query["sql"] for query in queries if query["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert nothing_written_for(order) == before
    assert dict(signed_in.session) == session_before


def test_the_review_without_choices_sends_the_customer_back_to_choose(signed_in, order, png_upload):
    before = nothing_written_for(order)

    response = signed_in.get(confirm_url(order))
    confirmed = signed_in.post(confirm_url(order), {"photos": [png_upload()]})

    assert response.status_code == 302
    assert response["Location"] == start_url(order)
    assert confirmed.status_code == 200
    assert "Enter how many units of which item you want to return." in confirmed.content.decode()
    assert nothing_written_for(order) == before


def test_choices_edited_by_hand_on_the_review_are_checked_again_at_confirm(
    signed_in, order, shoes, reasons, png_upload
):
    review = choose(signed_in, order, {shoes: 1}, reasons["changed_mind"])
    before = nothing_written_for(order)

    response = signed_in.post(
        confirm_url(order), {**choices_on(review), f"quantity_{shoes.pk}": "3", "photos": [png_upload()]}
    )

    assert response.status_code == 200
    assert "Something has changed since you chose" in response.content.decode()
    assert "At most 2 can be returned." in response.content.decode()
    assert nothing_written_for(order) == before


def test_confirming_the_same_review_twice_makes_one_return(
    signed_in, order, shoes, reasons, django_capture_on_commit_callbacks, png_upload
):
    # Given a review of 1 of the 2 pairs (a second return of 1 pair would be allowed)
    review = choose(signed_in, order, {shoes: 1}, reasons["changed_mind"])
    notifications = Notification.objects.count()

    # When its confirm is sent twice (a double click, or the browser sending the form again)
    with django_capture_on_commit_callbacks(execute=True):
        first = confirm(signed_in, order, review, photos=[png_upload()])
        second = confirm(signed_in, order, review, photos=[png_upload()])

    # Then both land on the one return the first made
    return_request = ReturnRequest.objects.get()
    assert (first.status_code, second.status_code) == (302, 302)
    assert first["Location"] == second["Location"] == ticket_url(return_request.ticket)
    assert OrderLine.objects.get(pk=shoes.pk).quantity_requested == 1
    assert (Ticket.objects.count(), Attachment.objects.count()) == (1, 1)
    told = Notification.objects.filter(ticket=return_request.ticket).count()
    assert told > 0
    assert Notification.objects.count() == notifications + told


def test_each_review_has_a_key_of_its_own_and_keeps_it_when_the_confirm_is_refused(signed_in, order, shoes, reasons):
    first = choose(signed_in, order, {shoes: 1}, reasons["damaged"])
    second = choose(signed_in, order, {shoes: 1}, reasons["damaged"])

    refused = confirm(signed_in, order, first)  # photos are required for damage

    assert submission_key_on(first) != submission_key_on(second)
    assert refused.status_code == 200
    assert submission_key_on(refused) == submission_key_on(first)


def test_a_malformed_submission_key_is_refused_with_nothing_written(signed_in, order, shoes, reasons, png_upload):
    review = choose(signed_in, order, {shoes: 1}, reasons["changed_mind"])
    before = nothing_written_for(order)

    response = signed_in.post(
        confirm_url(order), {**choices_on(review), "submission_key": "not a key!", "photos": [png_upload()]}
    )

    assert response.status_code == 200
    assert "This page is out of date; check your return and confirm it again." in response.content.decode()
    assert nothing_written_for(order) == before


# --- the policy on the form ----------------------------------------------------------------------


def test_a_closed_window_shows_the_line_as_not_returnable_and_submitting_it_is_refused(
    client, order, shoes, reasons, day_ten, django_capture_on_commit_callbacks
):
    day_ten.move_to(WINDOW_CLOSED)
    signed_in = sign_in_client(client, order, django_capture_on_commit_callbacks)
    before = nothing_written_for(order)

    page = signed_in.get(start_url(order)).content.decode()
    response = choose(signed_in, order, {shoes: 1}, reasons["changed_mind"])

    assert "The return window for this item has closed." in page
    assert f"The last day was {shown(date(2026, 12, 10))}." in page
    assert "Not returnable" in page
    assert "Nothing on this order can be returned now." in page
    # …and the page is no dead end: a request about the order, or back to it
    new_request = reverse("portal:ticket_new", args=[order.merchant.slug, order.pk])
    back = reverse("portal:order", args=[order.merchant.slug, order.pk])
    assert f'<a class="button button--primary" href="{new_request}">Open a new request</a>' in page
    assert f'<a class="button" href="{back}">Back to the order</a>' in page
    assert f'name="quantity_{shoes.pk}"' not in page
    assert response.status_code == 200
    assert "The return window for this item has closed." in response.content.decode()
    assert "Review your return" not in response.content.decode()
    assert nothing_written_for(order) == before


def test_a_window_that_closes_between_review_and_confirm_is_refused_with_nothing_created(
    client, order, shoes, reasons, day_ten, django_capture_on_commit_callbacks, png_upload
):
    day_ten.move_to(LAST_SECOND)
    signed_in = sign_in_client(client, order, django_capture_on_commit_callbacks)
    review = choose(signed_in, order, {shoes: 1}, reasons["changed_mind"])
    before = nothing_written_for(order)
    day_ten.move_to(WINDOW_CLOSED)

    response = confirm(signed_in, order, review, photos=[png_upload()])

    assert response.status_code == 200
    page = response.content.decode()
    assert "Something has changed since you chose" in page
    assert "Return or exchange items" in page
    assert "The return window for this item has closed." in page
    assert nothing_written_for(order) == before


def test_photos_required_by_the_rule_are_enforced_on_the_form(
    signed_in, order, shoes, reasons, django_capture_on_commit_callbacks, png_upload
):
    response = choose(signed_in, order, {shoes: 1}, reasons["damaged"], resolution="exchange")
    before = nothing_written_for(order)

    review = response.content.decode()
    refused = confirm(signed_in, order, response)

    # Damage is the shop's responsibility: no restocking fee, but photos are a must.
    assert "Required for this return." in review
    assert "290.00 CNY" in review
    assert "Value towards your exchange" in review
    assert refused.status_code == 200
    assert "Add at least one photo of the item; this return needs them." in refused.content.decode()
    assert nothing_written_for(order) == before

    with django_capture_on_commit_callbacks(execute=True):
        accepted = confirm(signed_in, order, refused, photos=[png_upload("scuff.png")])

    return_request = ReturnRequest.objects.get()
    assert accepted.status_code == 302
    assert (return_request.resolution, return_request.ticket.kind) == ("exchange", TicketKind.EXCHANGE)
    assert return_request.lines.get().unit_refund_amount == Decimal("290.00")


def test_a_refused_photo_appears_on_the_form_with_nothing_created(signed_in, order, shoes, reasons):
    review = choose(signed_in, order, {shoes: 1}, reasons["damaged"])
    before = nothing_written_for(order)

    response = confirm(
        signed_in, order, review, photos=[SimpleUploadedFile("scuff.png", b"not a picture", content_type="image/png")]
    )

    assert response.status_code == 200
    assert "scuff.png is not the kind of file its name says." in response.content.decode()
    assert nothing_written_for(order) == before


def test_a_resolution_the_rule_does_not_allow_for_that_reason_is_refused(signed_in, order, shoes, reasons):
    response = choose(signed_in, order, {shoes: 1}, reasons["damaged"], resolution="store_credit")

    assert response.status_code == 200
    assert (
        "For these items and this reason you can choose: Refund to the original payment, Exchange for another variant."
        in response.content.decode()
    )
    assert "Review your return" not in response.content.decode()


@pytest.mark.parametrize(
    ("quantities", "message"),
    [
        ({"shoes": 3}, "At most 2 can be returned."),
        ({"shoes": 0}, "Enter how many units of which item you want to return."),
        ({"shoes": -1}, "Ensure this value is greater than or equal to 0."),
    ],
)
def test_quantities_outside_what_can_be_returned_are_refused(signed_in, order, shoes, reasons, quantities, message):
    response = choose(signed_in, order, {shoes: quantities["shoes"]}, reasons["changed_mind"])

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Review your return" not in response.content.decode()


def test_reasons_are_grouped_by_parent_and_a_switched_off_parent_keeps_its_group_name(shop, reasons):
    fit = ReturnReason.objects.create(
        merchant=shop, code="fit", name="Size or fit", responsibility="customer", is_active=False, position=3
    )
    ReturnReason.objects.create(
        merchant=shop, code="too_small", name="Too small", responsibility="customer", parent=fit, position=4
    )

    choices = reason_choices(return_reasons_active(merchant=shop))

    assert [(label, [name for _pk, name in group]) for label, group in choices if isinstance(group, list)] == [
        ("Quality problem", ["Arrived damaged"]),
        ("Size or fit", ["Too small"]),
    ]
    assert [name for _pk, name in choices if not isinstance(name, list)] == ["Changed my mind"]


# --- access --------------------------------------------------------------------------------------


def test_another_customers_order_is_not_found(signed_in, shop, order, reasons, png_upload):
    other = portal_order(shop, number="TG-2002", email="zhao@example.com")
    other_shoes = other.lines.get(line_number="1")

    assert signed_in.get(start_url(other)).status_code == 404
    assert choose(signed_in, other, {other_shoes: 1}, reasons["changed_mind"]).status_code == 404
    assert signed_in.get(confirm_url(other)).status_code == 404
    assert signed_in.post(confirm_url(other), {"photos": [png_upload()]}).status_code == 404
    assert ReturnRequest.objects.count() == 0


def test_another_shops_portal_does_not_show_the_order(signed_in, order):
    MerchantFactory(slug="river-kayaks")

    response = signed_in.get(reverse("portal:return_start", args=["river-kayaks", order.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home", args=["river-kayaks"])


def test_a_session_without_a_verified_order_is_sent_to_the_lookup(client, order):
    response = client.get(start_url(order))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home", args=[order.merchant.slug])


# --- cancelling ----------------------------------------------------------------------------------


def test_cancel_from_the_portal_releases_the_units(signed_in, order, shoes, reasons):
    return_request = submitted_return(order, shoes, reasons["changed_mind"])
    ticket = return_request.ticket
    assert OrderLine.objects.get(pk=shoes.pk).quantity_requested == 2
    assert "Every unit of this item is already in a request." in signed_in.get(start_url(order)).content.decode()

    response = signed_in.post(reverse("portal:return_cancel", args=[order.merchant.slug, ticket.number]))

    assert response.status_code == 302
    assert response["Location"] == ticket_url(ticket)
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.CANCELLED
    assert OrderLine.objects.get(pk=shoes.pk).quantity_requested == 0
    assert (
        TicketEvent.objects.filter(ticket=ticket, verb="return_cancelled", actor_customer=order.customer).count() == 1
    )
    page = signed_in.get(response["Location"]).content.decode()
    assert "Your return has been cancelled." in page
    assert "This return was cancelled." in page
    assert "The return was cancelled" in page
    assert "Cancel this return" not in page
    assert "2 units can be returned" in signed_in.get(start_url(order)).content.decode()


def test_a_return_that_can_no_longer_be_cancelled_says_so_and_changes_nothing(signed_in, order, shoes, reasons):
    return_request = submitted_return(order, shoes, reasons["changed_mind"])
    cancel_url = reverse("portal:return_cancel", args=[order.merchant.slug, return_request.ticket.number])
    signed_in.post(cancel_url)
    events = TicketEvent.objects.count()

    response = signed_in.post(cancel_url, follow=True)

    assert "A return that is Cancelled cannot become Cancelled." in response.content.decode()
    assert TicketEvent.objects.count() == events
    assert OrderLine.objects.get(pk=shoes.pk).quantity_requested == 0


def test_another_customers_return_cannot_be_cancelled(signed_in, shop, order, reasons):
    other = portal_order(shop, number="TG-2002", email="zhao@example.com")
    return_request = submitted_return(other, other.lines.get(line_number="1"), reasons["changed_mind"])

    response = signed_in.post(reverse("portal:return_cancel", args=[shop.slug, return_request.ticket.number]))

    assert response.status_code == 404
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.SUBMITTED
    assert OrderLine.objects.get(pk=return_request.lines.get().order_line_id).quantity_requested == 2


def test_a_rejected_return_shows_why_and_cannot_be_cancelled(signed_in, order, shoes, reasons):
    return_request = submitted_return(order, shoes, reasons["changed_mind"])
    agent = MembershipFactory(merchant=order.merchant).user
    return_request_reject(return_request=return_request, actor=agent, reason="The soles are worn.")

    page = signed_in.get(ticket_url(return_request.ticket)).content.decode()

    assert "Declined" in page
    assert "The soles are worn." in page
    assert "The shop declined your return" in page
    assert "Cancel this return" not in page


def test_a_ticket_that_is_not_a_return_has_no_return_box(signed_in, order):
    ticket = ticket_create(
        merchant=order.merchant,
        kind=TicketKind.SUPPORT,
        subject="Laces",
        body="Where do I buy spare laces?",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
        order=order,
    )

    page = signed_in.get(ticket_url(ticket)).content.decode()

    assert "Laces" in page
    assert "Return details" not in page


# --- cost ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lines", [2, 10])
def test_the_start_page_costs_the_same_queries_for_2_and_10_lines(
    client, shop, policy, reasons, lines, django_capture_on_commit_callbacks, django_assert_num_queries
):
    order = portal_order(shop, lines=lines)
    sign_in(client, django_capture_on_commit_callbacks, order)

    with django_assert_num_queries(START_PAGE_QUERIES):
        response = client.get(start_url(order))

    assert response.status_code == 200
    assert response.content.decode().count('class="quantity-input"') == lines


def test_a_two_line_submission_costs_a_fixed_number_of_queries(
    client, shop, policy, reasons, django_capture_on_commit_callbacks, django_assert_num_queries, png_upload
):
    order = portal_order(shop, lines=2)
    sign_in(client, django_capture_on_commit_callbacks, order)
    lines = list(order.lines.order_by("pk"))
    review = choose(client, order, {lines[0]: 1, lines[1]: 1}, reasons["changed_mind"])
    assert review.status_code == 200

    # Not the merchant's first return: its number counter is there (the first one inserts it).
    TicketNumberCounter.objects.create(merchant=shop, prefix="RT", last_value=41)

    with django_assert_num_queries(SUBMISSION_QUERIES):
        response = confirm(client, order, review, photos=[png_upload()])

    assert response.status_code == 302
    return_request = ReturnRequest.objects.get(order=order)
    assert return_request.ticket.number == "RT-000042"
    assert sorted(return_request.lines.values_list("order_line_id", "quantity")) == [(lines[0].pk, 1), (lines[1].pk, 1)]
    assert sorted(OrderLine.objects.filter(order=order).values_list("pk", "quantity_requested")) == [
        (lines[0].pk, 1),
        (lines[1].pk, 1),
    ]


def _configuration_committed(merchant, capture):
    """What a commit of the shop's configuration does (the test's own transaction never commits):
    the version is bumped, and the process may keep what it reads from then on."""
    with capture(execute=True):
        config_changed([merchant.pk])


def test_with_the_configuration_kept_the_start_page_reads_the_session_and_the_order_only(
    client, shop, policy, reasons, django_capture_on_commit_callbacks, django_assert_num_queries
):
    order = portal_order(shop, lines=2)
    sign_in(client, django_capture_on_commit_callbacks, order)
    _configuration_committed(shop, django_capture_on_commit_callbacks)
    assert client.get(start_url(order)).status_code == 200  # the process reads and keeps it

    with django_assert_num_queries(START_PAGE_QUERIES_CONFIG_KEPT):
        response = client.get(start_url(order))

    assert response.status_code == 200
    assert response.content.decode().count('class="quantity-input"') == 2


def test_with_the_configuration_kept_a_two_line_submission_costs_fewer_queries(
    client, shop, policy, reasons, django_capture_on_commit_callbacks, django_assert_num_queries, png_upload
):
    # The process's first submission reads the configuration and keeps it
    first = portal_order(shop, number="TG-1000", email="wen@example.com", lines=2)
    order = portal_order(shop, lines=2)
    sign_in(client, django_capture_on_commit_callbacks, first)
    sign_in(client, django_capture_on_commit_callbacks, order)
    TicketNumberCounter.objects.create(merchant=shop, prefix="RT", last_value=41)
    _configuration_committed(shop, django_capture_on_commit_callbacks)
    first_lines = list(first.lines.order_by("pk"))
    first_review = choose(client, first, {first_lines[0]: 1}, reasons["changed_mind"])
    assert confirm(client, first, first_review, photos=[png_upload(color=(10, 200, 10))]).status_code == 302
    lines = list(order.lines.order_by("pk"))
    review = choose(client, order, {lines[0]: 1, lines[1]: 1}, reasons["changed_mind"])
    assert review.status_code == 200

    with django_assert_num_queries(SUBMISSION_QUERIES_CONFIG_KEPT):
        response = confirm(client, order, review, photos=[png_upload()])

    assert response.status_code == 302
    return_request = ReturnRequest.objects.get(order=order)
    assert return_request.ticket.number == "RT-000043"
    assert return_request.status == ReturnStatus.SUBMITTED
    assert sorted(return_request.lines.values_list("order_line_id", "quantity")) == [(lines[0].pk, 1), (lines[1].pk, 1)]
    assert list(
        TicketEvent.objects.filter(ticket=return_request.ticket).order_by("id").values_list("verb", flat=True)
    ) == ["created", "return_submitted"]
    # one acknowledgement per channel the customer has (e-mail, SMS), left pending for the flush
    assert sorted(
        Notification.objects.filter(ticket=return_request.ticket).values_list("template", "channel", "state")
    ) == [("ticket_created", "email", "pending"), ("ticket_created", "sms", "pending")]


@pytest.mark.parametrize(
    ("reason", "shown", "not_shown"),
    [
        ("damaged", "The shop pays the postage for this return", "You pay the postage"),
        ("changed_mind", "You pay the postage for sending the items back.", "The shop pays the postage"),
    ],
)
def test_the_review_says_who_pays_the_postage_back(signed_in, order, shoes, reasons, reason, shown, not_shown):
    body = choose(signed_in, order, {shoes: 1}, reasons[reason]).content.decode()

    assert shown in body
    assert not_shown not in body
