"""The mailbox pages (merchant admins only, each merchant its own), the phone-call box on the
ticket page, and the inbound webhook that providers post mail to."""

import json

import pytest
from django.urls import reverse

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from tickets.models import Email, EmailDisposition, Mailbox, Message, PhoneCall, Ticket, TicketEvent
from tickets.services.mail import mail_receive
from tickets.tests.factories import MailboxFactory
from tickets.tests.mailbuilders import raw_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_member(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.MERCHANT_ADMIN).user


@pytest.fixture
def admin_client(client, admin_member):
    client.force_login(admin_member)
    return client


def _form(**overrides):
    values = {
        "name": "Support",
        "address": "Support@Shop.test",
        "is_active": "on",
        "is_default": "on",
        "imap_host": "imap.shop.test",
        "imap_port": "993",
        "imap_security": "ssl",
        "imap_username": "support@shop.test",
        "imap_password": "s3cret",
        "imap_folder": "INBOX",
        "sender_hourly_limit": "20",
    }
    values.update(overrides)
    return values


def test_a_merchant_admin_adds_a_mailbox_and_its_password_is_never_shown_back(admin_client, merchant):
    response = admin_client.post(reverse("dashboard:mailbox_new"), _form())

    mailbox = Mailbox.objects.get(merchant=merchant)
    assert response.status_code == 302
    assert (mailbox.address, mailbox.imap_password, mailbox.is_default) == ("support@shop.test", "s3cret", True)
    page = admin_client.get(reverse("dashboard:mailbox", args=[mailbox.pk]))
    assert page.status_code == 200
    assert "s3cret" not in page.content.decode()
    assert mailbox.inbound_token in page.content.decode()


def test_saving_with_an_empty_password_keeps_the_stored_one(admin_client, merchant):
    mailbox = MailboxFactory(merchant=merchant, imap_password="kept", imap_host="imap.shop.test")

    response = admin_client.post(
        reverse("dashboard:mailbox", args=[mailbox.pk]), _form(address=mailbox.address, imap_password="", name="Desk")
    )

    mailbox.refresh_from_db()
    assert response.status_code == 302
    assert (mailbox.name, mailbox.imap_password) == ("Desk", "kept")


def test_a_second_mailbox_at_the_same_address_is_refused_with_a_message(admin_client, merchant):
    MailboxFactory(merchant=merchant, address="support@shop.test")

    response = admin_client.post(reverse("dashboard:mailbox_new"), _form())

    assert response.status_code == 400
    assert "already has a mailbox for support@shop.test" in response.content.decode()
    assert Mailbox.objects.filter(merchant=merchant).count() == 1


def test_a_new_reply_to_address_takes_over_from_the_old(admin_client, merchant):
    old = MailboxFactory(merchant=merchant, address="old@shop.test", is_default=True)

    admin_client.post(reverse("dashboard:mailbox_new"), _form(address="new@shop.test"))

    old.refresh_from_db()
    assert old.is_default is False
    assert Mailbox.objects.get(merchant=merchant, is_default=True).address == "new@shop.test"


def test_an_agent_cannot_see_or_change_mailboxes(client, agent, merchant):
    mailbox = MailboxFactory(merchant=merchant)
    client.force_login(agent)

    listing = client.get(reverse("dashboard:mailboxes"))
    change = client.post(reverse("dashboard:mailbox", args=[mailbox.pk]), _form(name="Hijacked"))

    assert (listing.status_code, change.status_code) == (403, 403)
    mailbox.refresh_from_db()
    assert mailbox.name == "Support"


def test_one_merchants_admin_never_sees_another_merchants_mailbox(admin_client, merchant):
    mine = MailboxFactory(merchant=merchant, address="mine@shop.test")
    theirs = MailboxFactory(merchant=MerchantFactory(), address="theirs@other.test")
    mail_receive(mailbox=theirs, raw=raw_mail(subject="Their secret"))

    listing = admin_client.get(reverse("dashboard:mailboxes"))
    detail = admin_client.get(reverse("dashboard:mailbox", args=[theirs.pk]))
    test = admin_client.post(reverse("dashboard:mailbox_test", args=[theirs.pk]))

    assert [box.pk for box in listing.context["mailboxes"]] == [mine.pk]
    assert "theirs@other.test" not in listing.content.decode()
    assert (detail.status_code, test.status_code) == (404, 404)


def test_the_mailbox_page_lists_what_came_in_and_the_last_error(admin_client, merchant):
    mailbox = MailboxFactory(
        merchant=merchant, imap_host="imap.shop.test", imap_username="u", last_error="LOGIN failed"
    )
    mail_receive(mailbox=mailbox, raw=raw_mail(subject="Kettle"))
    mail_receive(mailbox=mailbox, raw=raw_mail(sender="MAILER-DAEMON@mx.test", subject="Undelivered"))

    page = admin_client.get(reverse("dashboard:mailbox", args=[mailbox.pk]))

    assert [email.disposition for email in page.context["emails"]] == [
        EmailDisposition.BOUNCE,
        EmailDisposition.NEW_TICKET,
    ]
    assert "LOGIN failed" in page.content.decode()


def test_testing_an_unreachable_mailbox_shows_why(admin_client, merchant):
    mailbox = MailboxFactory(merchant=merchant, imap_host="127.0.0.1", imap_port=1, imap_username="u")

    response = admin_client.post(reverse("dashboard:mailbox_test", args=[mailbox.pk]), follow=True)

    assert "The mailbox could not be reached" in response.content.decode()


# --- phone calls ---------------------------------------------------------------------------------


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def test_an_agent_logs_a_call_and_only_staff_see_it(agent_client, agent, make_ticket):
    ticket = make_ticket()

    response = agent_client.post(
        reverse("dashboard:ticket_phone_call", args=[ticket.number]),
        {"direction": "in", "minutes": "4", "seconds": "05", "summary": "Customer confirmed the address."},
    )

    call = PhoneCall.objects.get(ticket=ticket)
    assert response.status_code == 302
    assert (call.direction, call.duration_seconds, call.entered_by) == ("in", 245, agent)
    assert (call.message.kind, call.message.body) == (Message.Kind.PHONE, "Customer confirmed the address.")
    event = TicketEvent.objects.get(ticket=ticket, verb="phone_call")
    assert (event.is_public, event.data["duration"]) == (False, "4:05")
    page = agent_client.get(reverse("dashboard:ticket", args=[ticket.number]))
    assert "Customer confirmed the address." in page.content.decode()
    assert "duration 4:05" in page.content.decode()


def test_a_call_without_a_summary_is_refused_and_nothing_is_logged(agent_client, make_ticket):
    ticket = make_ticket()
    events = TicketEvent.objects.filter(ticket=ticket).count()

    response = agent_client.post(
        reverse("dashboard:ticket_phone_call", args=[ticket.number]),
        {"direction": "in", "minutes": "1", "seconds": "0", "summary": " "},
        follow=True,
    )

    assert response.status_code == 200
    assert PhoneCall.objects.count() == 0
    assert TicketEvent.objects.filter(ticket=ticket).count() == events


def test_the_customer_never_sees_a_call_summary(make_ticket, agent):
    from tickets.selectors import ticket_messages, ticket_timeline
    from tickets.services.calls import ticket_phone_call_log

    ticket = make_ticket()
    ticket_phone_call_log(ticket=ticket, actor=agent, direction="out", duration_seconds=30, summary="Internal words")

    assert "Internal words" not in [message.body for message in ticket_messages(ticket=ticket, public_only=True)]
    assert all(event.verb != "phone_call" for event in ticket_timeline(ticket=ticket, public_only=True))


def test_staff_of_another_merchant_cannot_log_a_call_on_a_ticket(client, make_ticket):
    ticket = make_ticket()
    client.force_login(MembershipFactory(merchant=MerchantFactory()).user)

    response = client.post(
        reverse("dashboard:ticket_phone_call", args=[ticket.number]),
        {"direction": "in", "minutes": "1", "seconds": "0", "summary": "x"},
    )

    assert response.status_code == 404
    assert PhoneCall.objects.count() == 0


# --- the inbound webhook -------------------------------------------------------------------------


def test_raw_mime_posted_to_the_webhook_becomes_a_case_once(client, merchant):
    mailbox = MailboxFactory(merchant=merchant)
    url = reverse("mail_inbound", args=[mailbox.inbound_token])
    raw = raw_mail(message_id="<hook-1@example.com>")

    first = client.post(url, data=raw, content_type="message/rfc822")
    second = client.post(url, data=raw, content_type="message/rfc822")

    assert (first.status_code, second.status_code) == (200, 200)
    assert (Email.objects.filter(direction="in").count(), Ticket.objects.filter(merchant=merchant).count()) == (1, 1)


def test_a_postmark_post_is_read_through_anymail(client, merchant):
    mailbox = MailboxFactory(merchant=merchant)
    raw = raw_mail(message_id="<pm-1@example.com>", subject="Postmark says hi").decode()
    payload = {"RawEmail": raw, "Headers": [], "FromFull": {"Email": "li.wei@example.com"}}

    response = client.post(
        reverse("mail_inbound", args=[mailbox.inbound_token]) + "?provider=postmark",
        data=json.dumps(payload),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert Ticket.objects.get(merchant=merchant).subject == "Postmark says hi"


def test_a_sendgrid_raw_post_is_read_through_anymail(client, merchant):
    mailbox = MailboxFactory(merchant=merchant)
    raw = raw_mail(message_id="<sg-1@example.com>", subject="SendGrid says hi").decode()

    response = client.post(
        reverse("mail_inbound", args=[mailbox.inbound_token]) + "?provider=sendgrid",
        data={"email": raw, "envelope": json.dumps({"from": "li.wei@example.com", "to": ["support@shop.test"]})},
    )

    assert response.status_code == 200
    assert Ticket.objects.get(merchant=merchant).subject == "SendGrid says hi"


def test_a_wrong_token_is_a_404_and_garbage_a_400(client, merchant):
    mailbox = MailboxFactory(merchant=merchant)

    wrong = client.post(reverse("mail_inbound", args=["nope"]), data=raw_mail(), content_type="message/rfc822")
    garbage = client.post(
        reverse("mail_inbound", args=[mailbox.inbound_token]) + "?provider=postmark",
        data="not json",
        content_type="application/json",
    )
    empty = client.post(reverse("mail_inbound", args=[mailbox.inbound_token]), data=b"", content_type="message/rfc822")

    assert (wrong.status_code, garbage.status_code, empty.status_code) == (404, 400, 400)
    assert Email.objects.filter(direction="in").count() == 0


# --- phone calls through the API -----------------------------------------------------------------


@pytest.fixture
def api_client(merchant):
    from rest_framework.test import APIClient

    from aftersales.tests.factories import api_key_for

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(merchant)[1]}")
    return client


def test_an_integration_logs_a_call_and_reads_it_back(api_client, make_ticket):
    ticket = make_ticket()
    url = reverse("api:ticket-calls", kwargs={"number": ticket.number})

    created = api_client.post(url, {"direction": "out", "duration_seconds": 125, "summary": "Booked a pickup."})
    listed = api_client.get(url)

    assert created.status_code == 201
    assert (created.json()["duration_seconds"], created.json()["summary"]) == (125, "Booked a pickup.")
    assert [row["summary"] for row in listed.json()] == ["Booked a pickup."]
    assert Message.objects.get(ticket=ticket, kind=Message.Kind.PHONE).body == "Booked a pickup."


def test_a_call_with_no_summary_is_a_400_and_logs_nothing(api_client, make_ticket):
    ticket = make_ticket()

    response = api_client.post(
        reverse("api:ticket-calls", kwargs={"number": ticket.number}),
        {"direction": "in", "duration_seconds": 10, "summary": "   "},
    )

    assert response.status_code == 400
    assert PhoneCall.objects.count() == 0


def test_another_merchants_key_cannot_see_or_log_calls(make_ticket):
    from rest_framework.test import APIClient

    from aftersales.tests.factories import api_key_for

    ticket = make_ticket()
    outsider = APIClient()
    outsider.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(MerchantFactory())[1]}")
    url = reverse("api:ticket-calls", kwargs={"number": ticket.number})

    listed = outsider.get(url)
    created = outsider.post(url, {"direction": "in", "duration_seconds": 10, "summary": "x"})

    assert (listed.status_code, created.status_code) == (404, 404)
    assert PhoneCall.objects.count() == 0
