"""E-mail against real servers: Dovecot for IMAP (aftersales.tests.servers.imap_server) and
aiosmtpd for SMTP. A mail in becomes a case; the reply goes out with threading headers; the
customer's answer threads back. Fetching is exactly-once with two fetchers and across a fetch that
dies midway."""

import threading

import pytest
from django.db import connection
from imapclient import IMAPClient

from aftersales.models import Notification
from aftersales.services.notifications import notification_send
from aftersales.tests.factories import MembershipFactory
from aftersales.tests.servers import imap_server, smtp_server
from tickets.models import Email, EmailDisposition, FetchOutcome, Mailbox, Message, Ticket
from tickets.services import ticket_reply
from tickets.services.mail import mail_receive, mailbox_fetch
from tickets.tests.factories import MailboxFactory
from tickets.tests.mailbuilders import raw_mail

pytestmark = pytest.mark.xdist_group("processes")


@pytest.fixture
def imap():
    with imap_server() as server:
        yield server


@pytest.fixture
def smtp(settings):
    with smtp_server() as (port, received):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield received


def _mailbox(imap, **overrides):
    values = {
        "address": "support@shop.test",
        "imap_host": imap.host,
        "imap_port": imap.port,
        "imap_username": imap.username,
        "imap_password": imap.password,
    }
    values.update(overrides)
    return MailboxFactory(**values)


def _flags(imap) -> dict[int, tuple[bytes, ...]]:
    client = IMAPClient(imap.host, port=imap.port, ssl=False)
    try:
        client.login(imap.username, imap.password)
        client.select_folder("INBOX", readonly=True)
        return {uid: data[b"FLAGS"] for uid, data in client.fetch(client.search("ALL"), ["FLAGS"]).items()}
    finally:
        client.logout()


@pytest.mark.django_db
def test_a_mail_in_a_reply_out_and_the_answer_threaded_back(imap, smtp, django_capture_on_commit_callbacks):
    # Given a merchant's mailbox on the IMAP server, and a customer who reads Chinese
    mailbox = _mailbox(imap)
    agent = MembershipFactory(merchant=mailbox.merchant).user
    imap.deliver(raw_mail(sender="Li Wei <li.wei@example.com>", subject="水壶漏水", message_id="<q1@example.com>"))

    # When the mailbox is fetched
    result = mailbox_fetch(mailbox_id=mailbox.pk)

    # Then the mail is a case, and marked read on the server
    assert (result.fetched, result.stored, result.error) == (1, 1, "")
    ticket = Ticket.objects.get(merchant=mailbox.merchant)
    assert (ticket.subject, ticket.customer.email) == ("水壶漏水", "li.wei@example.com")
    assert _flags(imap) == {1: (b"\\Seen",)}
    mailbox.refresh_from_db()
    assert (mailbox.last_fetch_outcome, mailbox.last_fetch_count, mailbox.imap_last_uid) == (FetchOutcome.OK, 1, 1)
    ticket.customer.language = "zh-hans"
    ticket.customer.save()

    # And the acknowledgement goes out in the customer's thread
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            notification_id=Notification.objects.get(ticket=ticket, template="ticket_created", channel="email").pk
        )
    [ack] = [message for message in smtp if message["To"] == "li.wei@example.com"]
    assert (ack["In-Reply-To"], ack["References"], ack["Reply-To"]) == ("<q1@example.com>",) * 2 + (
        "support@shop.test",
    )
    assert ack["Message-ID"] == Email.objects.get(ticket=ticket, direction="out").message_id

    # When an agent replies
    smtp.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, actor=agent, body="请发一张照片。\n<b>谢谢</b>")

    # Then the reply arrives by SMTP with threading headers, reply-to, text and HTML, in Chinese
    [sent] = [message for message in smtp if message["To"] == "li.wei@example.com"]
    ours = Email.objects.get(ticket=ticket, direction="out", ticket_message__isnull=False)
    assert sent["Message-ID"] == ours.message_id
    assert ours.message_id.startswith(f"<{ticket.number}.")
    assert sent["In-Reply-To"] == "<q1@example.com>"
    assert sent["References"] == f"<q1@example.com> {ack['Message-ID']}"
    assert sent["Reply-To"] == "support@shop.test"
    assert sent["Subject"] == f"您的售后申请 {ticket.number} 有新回复"
    text = sent.get_body(preferencelist=("plain",)).get_content()
    html = sent.get_body(preferencelist=("html",)).get_content()
    assert "请发一张照片。" in text
    assert "请发一张照片。<br>&lt;b&gt;谢谢&lt;/b&gt;" in html

    # When the customer answers that reply, and the mailbox is fetched again
    imap.deliver(
        raw_mail(
            sender="li.wei@example.com",
            subject=f"回复：{sent['Subject']}",
            text="照片在附件。\n\n在 2026年12月6日，客服 <support@shop.test> 写道：\n> 请发一张照片。",
            in_reply_to=sent["Message-ID"],
            references=f"<q1@example.com> {sent['Message-ID']}",
            message_id="<q2@example.com>",
        )
    )
    second = mailbox_fetch(mailbox_id=mailbox.pk)

    # Then it is threaded onto the case, without the quoted reply; and the next reply refers to both
    assert (second.fetched, second.stored) == (1, 1)
    assert Ticket.objects.count() == 1
    assert list(ticket.messages.values_list("kind", "body")) == [
        (Message.Kind.CUSTOMER, "The kettle leaks from the bottom."),
        (Message.Kind.REPLY, "请发一张照片。\n<b>谢谢</b>"),
        (Message.Kind.CUSTOMER, "照片在附件。"),
    ]
    assert Email.objects.get(message_id="<q2@example.com>").disposition == EmailDisposition.THREADED
    smtp.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, actor=agent, body="收到。")
    [again] = [message for message in smtp if message["To"] == "li.wei@example.com"]
    assert again["In-Reply-To"] == "<q2@example.com>"
    assert again["References"] == f"<q1@example.com> {ack['Message-ID']} {ours.message_id} <q2@example.com>"


@pytest.mark.django_db
def test_a_fetch_with_a_wrong_password_records_the_error_and_stores_nothing(imap):
    mailbox = _mailbox(imap, imap_password="wrong")
    imap.deliver(raw_mail())

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    mailbox.refresh_from_db()
    assert result.stored == 0
    assert mailbox.last_fetch_outcome == FetchOutcome.FAILED
    assert "authentication failed" in mailbox.last_error.lower()
    assert Ticket.objects.count() == 0


@pytest.mark.django_db
def test_the_password_is_encrypted_at_rest(imap):
    mailbox = _mailbox(imap)

    with connection.cursor() as cursor:
        cursor.execute("SELECT imap_password FROM tickets_mailbox WHERE id = %s", [mailbox.pk])
        [stored] = cursor.fetchone()

    assert imap.password not in stored
    assert Mailbox.objects.get(pk=mailbox.pk).imap_password == imap.password


class Stop(BaseException):
    """The worker killed between two messages: not an error the fetch could catch."""


@pytest.mark.django_db
def test_a_fetch_that_dies_midway_loses_nothing_and_doubles_nothing(imap):
    # Given five messages, and a fetch that dies after storing the second
    mailbox = _mailbox(imap)
    for n in range(5):
        imap.deliver(raw_mail(subject=f"Question {n}", message_id=f"<crash-{n}@example.com>"))
    calls = []

    def dies_on_the_third(**kwargs):
        calls.append(kwargs["imap_uid"])
        if len(calls) == 3:
            raise Stop
        return mail_receive(**kwargs)

    # When it dies
    with pytest.raises(Stop):
        mailbox_fetch(mailbox_id=mailbox.pk, receive=dies_on_the_third)

    # Then the two stored are stored, watermarked and marked read; the rest untouched
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 2
    assert Ticket.objects.count() == 2
    assert _flags(imap) == {1: (b"\\Seen",), 2: (b"\\Seen",), 3: (), 4: (), 5: ()}

    # When the next fetch runs
    result = mailbox_fetch(mailbox_id=mailbox.pk)

    # Then it takes the other three, and every message is stored exactly once
    assert (result.fetched, result.stored) == (3, 3)
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [f"Question {n}" for n in range(5)]
    assert Email.objects.filter(direction="in").count() == 5
    assert set(_flags(imap).values()) == {(b"\\Seen",)}


@pytest.mark.django_db
def test_a_message_fetched_again_after_the_server_renumbers_is_not_doubled(imap):
    mailbox = _mailbox(imap)
    imap.deliver(raw_mail(message_id="<renumbered@example.com>"))
    mailbox_fetch(mailbox_id=mailbox.pk)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_uid_validity=1, imap_last_uid=0)

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert result.fetched == 1
    assert (Email.objects.filter(direction="in").count(), Ticket.objects.count(), Message.objects.count()) == (1, 1, 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("races")
def test_two_fetchers_at_once_store_each_message_once(imap):
    # Given twenty messages waiting
    mailbox = _mailbox(imap)
    for n in range(20):
        imap.deliver(raw_mail(sender=f"buyer{n}@example.com", message_id=f"<race-{n}@example.com>"))
    barrier = threading.Barrier(2)
    results = []

    def fetch():
        try:
            barrier.wait()
            results.append(mailbox_fetch(mailbox_id=mailbox.pk))
        finally:
            connection.close()

    # When two fetchers run at the same moment
    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then each message is one e-mail row, one case and one message
    assert [result.error for result in results] == ["", ""]
    assert sum(result.fetched for result in results) >= 20
    assert (Email.objects.filter(direction="in").count(), Ticket.objects.count(), Message.objects.count()) == (
        20,
        20,
        20,
    )
    assert set(_flags(imap).values()) == {(b"\\Seen",)}


@pytest.mark.django_db
def test_a_message_that_cannot_be_received_is_refused_and_the_rest_go_on(imap):
    # Given three messages, the second of which breaks receiving
    mailbox = _mailbox(imap)
    for n in range(3):
        imap.deliver(raw_mail(subject=f"Question {n}", message_id=f"<poison-{n}@example.com>"))

    def breaks_on_the_second(**kwargs):
        if kwargs["imap_uid"] == 2:
            raise ValueError("unreadable")
        return mail_receive(**kwargs)

    # When the mailbox is fetched
    result = mailbox_fetch(mailbox_id=mailbox.pk, receive=breaks_on_the_second)

    # Then the other two are cases, the second is recorded as refused with why and left unread
    assert (result.fetched, result.stored, result.refused, result.error) == (3, 2, 1, "")
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Question 0", "Question 2"]
    refused = Email.objects.get(message_id="<poison-1@example.com>")
    assert (refused.disposition, refused.note) == (EmailDisposition.REFUSED, "could not be received: unreadable")
    assert _flags(imap) == {1: (b"\\Seen",), 2: (), 3: (b"\\Seen",)}
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 3
