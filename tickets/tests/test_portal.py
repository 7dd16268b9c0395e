"""The customer portal's pages: proving an order, then following and opening requests on it."""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aftersales.models import Notification, PortalChallenge
from aftersales.portal import PENDING_CHALLENGE_KEY, PORTAL_SESSION_KEY
from aftersales.tests.builders import code_from_outbox, request_code, sign_in
from aftersales.tests.factories import (
    MembershipFactory,
    MerchantFactory,
    OrderFactory,
    OrderLineFactory,
)
from tickets.models import Attachment, Message, Ticket, TicketChannel, TicketKind, TicketStatus
from tickets.services import (
    ticket_change_status,
    ticket_create,
    ticket_note,
    ticket_reply,
)

# Uploaded files go to a folder of each test's own.
pytestmark = pytest.mark.usefixtures("private_storage")


# --- helpers and fixtures ------------------------------------------------------------------------


@pytest.fixture
def shop(db):
    return MerchantFactory(name="Trail Gear", slug="trail-gear", default_language="en")


@pytest.fixture
def tent_order(shop):
    order = OrderFactory(
        merchant=shop,
        external_number="TG-1001",
        customer__email="lin@example.com",
        customer__phone="+8613800138000",
        customer__name="Lin Wei",
    )
    OrderLineFactory(order=order, line_number="1", name="Alpine Tent 2P", quantity=1)
    OrderLineFactory(order=order, line_number="2", name="Tent Footprint", quantity=2)
    return order


@pytest.fixture
def agent(shop):
    return MembershipFactory(merchant=shop).user


def open_ticket(order, **overrides):
    values = {
        "merchant": order.merchant,
        "kind": TicketKind.SUPPORT,
        "subject": "Zip is broken",
        "body": "The door zip came off on the first night.",
        "customer": order.customer,
        "channel": TicketChannel.PORTAL,
        "order": order,
    }
    values.update(overrides)
    return ticket_create(**values)


# --- choosing the shop ---------------------------------------------------------------------------


def test_index_redirects_to_the_only_active_shop(client, shop):
    MerchantFactory(slug="closed-shop", is_active=False)

    response = client.get(reverse("portal:index"))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home", args=["trail-gear"])


def test_index_asks_for_a_shop_code_and_never_lists_the_shops(client, shop):
    MerchantFactory(name="River Kayaks", slug="river-kayaks")

    page = client.get(reverse("portal:index"))
    found = client.get(reverse("portal:index"), {"shop": "River-Kayaks"})
    unknown = client.get(reverse("portal:index"), {"shop": "no-such-shop"})

    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="shop"' in body
    assert "trail-gear" not in body
    assert "river-kayaks" not in body
    assert "River Kayaks" not in body
    assert found.status_code == 302
    assert found["Location"] == reverse("portal:home", args=["river-kayaks"])
    assert unknown.status_code == 200
    assert "We do not know this shop code." in unknown.content.decode()


def test_an_unknown_or_inactive_shop_is_not_found(client, db):
    MerchantFactory(slug="closed-shop", is_active=False)

    assert client.get(reverse("portal:home", args=["closed-shop"])).status_code == 404
    assert client.get(reverse("portal:home", args=["nobody"])).status_code == 404


# --- the whole way through -----------------------------------------------------------------------


def test_customer_proves_an_order_opens_a_request_with_a_photo_and_replies(
    client, tent_order, django_capture_on_commit_callbacks, private_storage, png_upload, png_bytes
):
    shop = tent_order.merchant
    tent, _footprint = tent_order.lines.order_by("line_number")

    # Given the lookup form, when the customer gives the order number and their e-mail
    page = client.get(reverse("portal:home", args=[shop.slug]))
    assert page.status_code == 200
    assert 'name="order_number"' in page.content.decode()
    response = request_code(client, django_capture_on_commit_callbacks, shop, " TG-1001 ", "Lin@Example.com")

    # then a code goes to that e-mail, and the code page says where it went, masked
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:verify", args=[shop.slug])
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lin@example.com"]
    assert "TG-1001" in mail.outbox[0].subject
    challenge = PortalChallenge.objects.get()
    assert challenge.order == tent_order
    assert challenge.client_ip == "10.0.0.1"
    assert client.session[PENDING_CHALLENGE_KEY] == challenge.pk
    assert PORTAL_SESSION_KEY not in client.session
    verify_page = client.get(response["Location"])
    assert "l***@example.com" in verify_page.content.decode()
    assert "lin@example.com" not in verify_page.content.decode()

    # when they type the code in, then the session is rotated and sees the order
    key_before = client.session.session_key
    response = client.post(reverse("portal:verify", args=[shop.slug]), {"code": code_from_outbox()})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:order", args=[shop.slug, tent_order.pk])
    session = client.session
    assert session.session_key != key_before
    assert session[PORTAL_SESSION_KEY][str(shop.pk)]["order_ids"] == [tent_order.pk]
    assert session[PORTAL_SESSION_KEY][str(shop.pk)]["customer_ids"] == [tent_order.customer_id]
    assert PENDING_CHALLENGE_KEY not in session
    challenge.refresh_from_db()
    assert challenge.verified_at is not None
    order_page = client.get(response["Location"]).content.decode()
    assert "Order TG-1001" in order_page
    assert "Alpine Tent 2P" in order_page
    assert "Tent Footprint" in order_page
    assert "No requests for this order yet." in order_page

    # when they open a request about the tent, with a real PNG photo
    new_url = reverse("portal:ticket_new", args=[shop.slug, tent_order.pk])
    assert client.get(new_url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            new_url,
            {
                "kind": TicketKind.SUPPORT,
                "order_lines": [tent.pk],
                "subject": "Zip is broken",
                "description": "The door zip came off on the first night.",
                "photos": [png_upload("broken-zip.png")],
            },
        )

    # then the request exists as the customer's, on the portal channel, with the photo
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:ticket", args=[shop.slug, ticket.number])
    assert ticket.number == "SUP-000001"
    assert (ticket.kind, ticket.channel, ticket.status) == (TicketKind.SUPPORT, TicketChannel.PORTAL, TicketStatus.NEW)
    assert (ticket.merchant, ticket.customer, ticket.order) == (shop, tent_order.customer, tent_order)
    assert list(ticket.order_lines.all()) == [tent]
    attachment = Attachment.objects.get()
    assert (attachment.ticket, attachment.content_type, attachment.original_name) == (
        ticket,
        "image/png",
        "broken-zip.png",
    )
    assert attachment.uploaded_by_customer == tent_order.customer
    assert len([path for path in private_storage.rglob("*") if path.is_file()]) == 1

    # and the ticket page shows it with the success message
    page = client.get(response["Location"]).content.decode()
    assert "Your request SUP-000001 has been sent" in page
    assert "Zip is broken" in page
    assert "The door zip came off on the first night." in page
    assert "Received" in page
    attachment_url = reverse("portal:attachment", args=[shop.slug, attachment.pk])
    assert attachment_url in page
    download = client.get(attachment_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == png_bytes()

    # when they reply, then the message is on the ticket and its page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:ticket", args=[shop.slug, ticket.number]),
            {"body": "Here is another angle.", "photos": [png_upload("angle.png")]},
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:ticket", args=[shop.slug, ticket.number]) + "#latest"
    reply = Message.objects.filter(ticket=ticket).order_by("-id").first()
    assert (reply.kind, reply.body, reply.author_customer) == (
        Message.Kind.CUSTOMER,
        "Here is another angle.",
        tent_order.customer,
    )
    assert reply.attachments.count() == 1
    assert Message.objects.filter(ticket=ticket).count() == 2
    page = client.get(reverse("portal:ticket", args=[shop.slug, ticket.number])).content.decode()
    assert "Here is another angle." in page
    assert "angle.png" in page

    # and the home page lists the order with its request
    home = client.get(reverse("portal:home", args=[shop.slug])).content.decode()
    assert "Order TG-1001" in home
    assert "SUP-000001" in home
    assert "Zip is broken" in home


def test_lookup_by_phone_sends_the_code_by_text_message(client, tent_order, django_capture_on_commit_callbacks):
    response = request_code(client, django_capture_on_commit_callbacks, tent_order.merchant, "TG-1001", "138 0013 8000")

    assert response.status_code == 302
    notification = Notification.objects.get(template="portal_code")
    assert (notification.channel, notification.recipient) == (Notification.Channel.SMS, "+8613800138000")
    assert notification.state == Notification.State.SENT
    assert mail.outbox == []
    page = client.get(response["Location"]).content.decode()
    assert "by text message" in page
    assert "+86138****8000" in page


def test_lookup_of_an_unknown_order_shows_the_message_and_sends_nothing(
    client, tent_order, django_capture_on_commit_callbacks
):
    response = request_code(
        client, django_capture_on_commit_callbacks, tent_order.merchant, "TG-9999", "lin@example.com"
    )

    assert response.status_code == 200
    assert "We could not find an order with that number and contact." in response.content.decode()
    assert PortalChallenge.objects.count() == 0
    assert Notification.objects.count() == 0
    assert mail.outbox == []
    assert PENDING_CHALLENGE_KEY not in client.session


def test_code_page_without_a_pending_code_goes_back_to_the_lookup(client, shop):
    response = client.get(reverse("portal:verify", args=[shop.slug]))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home", args=[shop.slug])


def test_a_code_that_is_not_six_digits_is_refused_without_using_an_attempt(
    client, tent_order, django_capture_on_commit_callbacks
):
    request_code(client, django_capture_on_commit_callbacks, tent_order.merchant, "TG-1001", "lin@example.com")

    response = client.post(reverse("portal:verify", args=[tent_order.merchant.slug]), {"code": "12ab"})

    assert response.status_code == 200
    assert "Enter the 6 digits of the code." in response.content.decode()
    assert PortalChallenge.objects.get().attempts == 0
    assert PORTAL_SESSION_KEY not in client.session


def test_a_pasted_code_with_a_space_is_accepted(client, tent_order, django_capture_on_commit_callbacks):
    request_code(client, django_capture_on_commit_callbacks, tent_order.merchant, "TG-1001", "lin@example.com")
    code = code_from_outbox()

    response = client.post(
        reverse("portal:verify", args=[tent_order.merchant.slug]), {"code": f"{code[:3]} {code[3:]}"}
    )

    assert response.status_code == 302
    assert client.session[PORTAL_SESSION_KEY][str(tent_order.merchant_id)]["order_ids"] == [tent_order.pk]


# --- opening requests ----------------------------------------------------------------------------


def test_a_file_whose_content_is_not_what_its_name_says_is_refused_and_nothing_is_created(
    client, tent_order, django_capture_on_commit_callbacks, private_storage
):
    sign_in(client, django_capture_on_commit_callbacks, tent_order)
    notifications_before = Notification.objects.count()
    fake = SimpleUploadedFile("receipt.png", b"%PDF-1.4 this is not a picture", content_type="image/png")

    response = client.post(
        reverse("portal:ticket_new", args=[tent_order.merchant.slug, tent_order.pk]),
        {
            "kind": TicketKind.COMPLAINT,
            "subject": "Late delivery",
            "description": "It came a week late.",
            "photos": [fake],
        },
    )

    assert response.status_code == 200
    assert "receipt.png is not the kind of file its name says." in response.content.decode()
    assert Ticket.objects.count() == 0
    assert Message.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert Notification.objects.count() == notifications_before
    assert [path for path in private_storage.rglob("*") if path.is_file()] == []


def test_the_portal_only_offers_support_complaint_and_inquiry(client, tent_order, django_capture_on_commit_callbacks):
    sign_in(client, django_capture_on_commit_callbacks, tent_order)
    url = reverse("portal:ticket_new", args=[tent_order.merchant.slug, tent_order.pk])

    page = client.get(url).content.decode()
    response = client.post(url, {"kind": TicketKind.RETURN, "subject": "Return it", "description": "Too small."})

    assert set(re.findall(r'name="kind" value="([a-z_]+)"', page)) == {"support", "complaint", "inquiry"}
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert Ticket.objects.count() == 0


def test_order_lines_of_another_order_cannot_be_picked(client, tent_order, django_capture_on_commit_callbacks):
    other_line = OrderLineFactory(order=OrderFactory(merchant=tent_order.merchant, customer=tent_order.customer))
    sign_in(client, django_capture_on_commit_callbacks, tent_order)

    response = client.post(
        reverse("portal:ticket_new", args=[tent_order.merchant.slug, tent_order.pk]),
        {"kind": TicketKind.SUPPORT, "order_lines": [other_line.pk], "subject": "Hm", "description": "Hm."},
    )

    assert response.status_code == 200
    assert Ticket.objects.count() == 0


def test_an_empty_subject_is_shown_on_its_field(client, tent_order, django_capture_on_commit_callbacks):
    sign_in(client, django_capture_on_commit_callbacks, tent_order)

    response = client.post(
        reverse("portal:ticket_new", args=[tent_order.merchant.slug, tent_order.pk]),
        {"kind": TicketKind.INQUIRY, "subject": "   ", "description": "When does it ship?"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["subject"]
    assert Ticket.objects.count() == 0


# --- following a request -------------------------------------------------------------------------


def test_the_ticket_page_shows_staff_replies_and_never_an_internal_note(
    client, tent_order, agent, django_capture_on_commit_callbacks, png_upload
):
    ticket = open_ticket(tent_order)
    ticket_reply(ticket=ticket, actor=agent, body="Sorry about that! A new zip is on its way.")
    note = ticket_note(
        ticket=ticket, actor=agent, body="Customer is on the watch list, check photos.", files=[png_upload("note.png")]
    )
    note_attachment = note.attachments.get()
    sign_in(client, django_capture_on_commit_callbacks, tent_order)

    page = client.get(reverse("portal:ticket", args=[tent_order.merchant.slug, ticket.number])).content.decode()
    attachment = client.get(reverse("portal:attachment", args=[tent_order.merchant.slug, note_attachment.pk]))

    assert "Sorry about that! A new zip is on its way." in page
    assert "Trail Gear replied" in page
    assert "watch list" not in page
    assert "note.png" not in page
    assert reverse("portal:attachment", args=[tent_order.merchant.slug, note_attachment.pk]) not in page
    assert "In progress" in page
    assert attachment.status_code == 404


def test_status_is_told_in_plain_words_and_a_reply_hands_the_move_back(
    client, tent_order, agent, django_capture_on_commit_callbacks
):
    ticket = open_ticket(tent_order)
    ticket_reply(ticket=ticket, actor=agent, body="Could you send a photo of the label?")
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.WAITING_CUSTOMER)
    sign_in(client, django_capture_on_commit_callbacks, tent_order)
    url = reverse("portal:ticket", args=[tent_order.merchant.slug, ticket.number])

    before = client.get(url).content.decode()
    client.post(url, {"body": "Here it is."})

    assert "Waiting for your reply" in before
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert "In progress" in client.get(url).content.decode()


def test_a_cancelled_request_takes_no_more_messages(client, tent_order, agent, django_capture_on_commit_callbacks):
    ticket = open_ticket(tent_order)
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.CANCELLED)
    sign_in(client, django_capture_on_commit_callbacks, tent_order)
    url = reverse("portal:ticket", args=[tent_order.merchant.slug, ticket.number])

    page = client.get(url).content.decode()
    response = client.post(url, {"body": "Hello?"})

    assert "This request takes no more messages." in page
    assert 'name="body"' not in page
    assert response.status_code == 302
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_home_lists_the_verified_orders_with_their_requests_in_few_queries(
    client, tent_order, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    for n in range(3):
        open_ticket(tent_order, subject=f"Question {n}")
    sign_in(client, django_capture_on_commit_callbacks, tent_order)

    with django_assert_max_num_queries(6):
        response = client.get(reverse("portal:home", args=[tent_order.merchant.slug]))

    page = response.content.decode()
    assert [number for number in ("SUP-000001", "SUP-000002", "SUP-000003") if number in page] == [
        "SUP-000001",
        "SUP-000002",
        "SUP-000003",
    ]
    assert "Open a new request" in page


def test_every_portal_page_has_the_language_switcher(client, tent_order, django_capture_on_commit_callbacks):
    ticket = open_ticket(tent_order)
    slug = tent_order.merchant.slug
    MerchantFactory(slug="second-shop")
    pages = [client.get(reverse("portal:index")), client.get(reverse("portal:home", args=[slug]))]
    request_code(client, django_capture_on_commit_callbacks, tent_order.merchant, "TG-1001", "lin@example.com")
    pages.append(client.get(reverse("portal:verify", args=[slug])))
    client.post(reverse("portal:verify", args=[slug]), {"code": code_from_outbox()})
    pages.extend(
        client.get(url)
        for url in (
            reverse("portal:home", args=[slug]),
            reverse("portal:order", args=[slug, tent_order.pk]),
            reverse("portal:ticket_new", args=[slug, tent_order.pk]),
            reverse("portal:ticket", args=[slug, ticket.number]),
        )
    )

    assert [page.status_code for page in pages] == [200] * 7
    assert all('action="/i18n/setlang/"' in page.content.decode() for page in pages)


def test_the_portal_speaks_the_language_picked_in_the_switcher(client, tent_order):
    client.cookies["aftersales_language"] = "zh-hans"

    page = client.get(reverse("portal:home", args=[tent_order.merchant.slug]))

    assert page["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in page.content.decode()


def test_sign_out_forgets_this_shops_orders(client, tent_order, django_capture_on_commit_callbacks):
    sign_in(client, django_capture_on_commit_callbacks, tent_order)
    slug = tent_order.merchant.slug

    refused = client.get(reverse("portal:logout", args=[slug]))
    response = client.post(reverse("portal:logout", args=[slug]))

    assert refused.status_code == 405
    assert response.status_code == 302
    assert client.session[PORTAL_SESSION_KEY] == {}
    order_page = client.get(reverse("portal:order", args=[slug, tent_order.pk]))
    assert order_page.status_code == 302
    assert order_page["Location"] == reverse("portal:home", args=[slug])
