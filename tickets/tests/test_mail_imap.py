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
from tickets.models import Attachment, Email, EmailDisposition, FetchOutcome, Mailbox, Message, Ticket
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
def test_a_fetch_that_dies_midway_loses_nothing_and_doubles_nothing(imap, monkeypatch):
    # Given five messages, fetched two per batch, and a fetch that dies after storing the second
    # (in the second batch: the first is committed, the second rolls back whole)
    monkeypatch.setattr("tickets.services.mail.FETCH_CHUNK", 2)
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


# --- a fetched chunk is received in one transaction (issue 12) ----------------------------------


def _originals_named(ticket: Ticket) -> list[str]:
    return list(ticket.attachments.filter(original_name="original.eml").values_list("message__kind", flat=True))


@pytest.mark.django_db
def test_a_reply_fetched_in_the_same_batch_as_its_first_message_threads_onto_its_case(imap):
    # Given a new request and the customer's follow-up to it, waiting together
    mailbox = _mailbox(imap)
    imap.deliver(raw_mail(sender="li.wei@example.com", subject="Kettle", message_id="<b1@example.com>"))
    imap.deliver(
        raw_mail(
            sender="li.wei@example.com",
            subject="Re: Kettle",
            text="Here is the photo.",
            in_reply_to="<b1@example.com>",
            message_id="<b2@example.com>",
        )
    )

    # When one fetch receives both in one batch
    result = mailbox_fetch(mailbox_id=mailbox.pk)

    # Then the second is threaded onto the case the first opened, each with its event and original
    assert (result.fetched, result.stored, result.refused) == (2, 2, 0)
    ticket = Ticket.objects.get()
    assert list(Email.objects.filter(direction="in").order_by("id").values_list("message_id", "disposition")) == [
        ("<b1@example.com>", EmailDisposition.NEW_TICKET),
        ("<b2@example.com>", EmailDisposition.THREADED),
    ]
    assert list(ticket.messages.order_by("id").values_list("body", flat=True)) == [
        "The kettle leaks from the bottom.",
        "Here is the photo.",
    ]
    assert list(ticket.events.order_by("id").values_list("verb", flat=True)) == ["created", "customer_message"]
    assert _originals_named(ticket) == [Message.Kind.CUSTOMER, Message.Kind.CUSTOMER]
    assert Notification.objects.filter(ticket=ticket, template="ticket_created", channel="email").count() == 1
    assert _flags(imap) == {1: (b"\\Seen",), 2: (b"\\Seen",)}
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 2


@pytest.mark.django_db
def test_the_same_message_twice_in_one_batch_is_stored_once(imap):
    mailbox = _mailbox(imap)
    raw = raw_mail(sender="li.wei@example.com", message_id="<twice@example.com>")
    imap.deliver(raw)
    imap.deliver(raw)

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    assert (result.fetched, result.stored, result.refused) == (2, 2, 0)
    assert (Email.objects.filter(direction="in").count(), Ticket.objects.count(), Message.objects.count()) == (1, 1, 1)
    assert Email.objects.get(direction="in").imap_uid == 1
    assert _flags(imap) == {1: (b"\\Seen",), 2: (b"\\Seen",)}


@pytest.mark.django_db
def test_a_reply_to_a_closed_case_in_a_batch_opens_a_follow_up_whose_notice_is_threaded(imap):
    # Given a closed case opened by mail, then the customer's answer to it and a stranger's request
    mailbox = _mailbox(imap)
    mail_receive(mailbox=mailbox, raw=raw_mail(message_id="<old@example.com>"))
    closed = Ticket.objects.get()
    Ticket.objects.filter(pk=closed.pk).update(status="closed")
    imap.deliver(raw_mail(in_reply_to="<old@example.com>", text="It broke again.", message_id="<again@example.com>"))
    imap.deliver(raw_mail(sender="eve@example.net", message_id="<eve@example.com>"))

    # When they are fetched (the follow-up's notice is read back: the batch is received one by one)
    result = mailbox_fetch(mailbox_id=mailbox.pk)

    # Then the answer opened a follow-up whose acknowledgement answers it, and the other a case
    assert (result.fetched, result.stored, result.refused) == (2, 2, 0)
    again = Email.objects.get(message_id="<again@example.com>")
    assert again.disposition == EmailDisposition.NEW_TICKET
    assert again.ticket != closed
    assert again.ticket.messages.get().body == "It broke again."
    notice = Notification.objects.get(ticket=again.ticket, template="ticket_created", channel="email")
    assert notice.context["email_headers"]["In-Reply-To"] == "<again@example.com>"
    assert Email.objects.get(ticket=again.ticket, direction="out").in_reply_to == "<again@example.com>"
    assert Email.objects.get(message_id="<eve@example.com>").disposition == EmailDisposition.NEW_TICKET
    assert Ticket.objects.count() == 3
    assert _flags(imap) == {1: (b"\\Seen",), 2: (b"\\Seen",)}


@pytest.mark.django_db
def test_a_batch_rolled_back_leaves_no_original_on_disk(imap, settings, tmp_path):
    # Given private files in a directory of their own, and three messages, the last unreadable
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    mailbox = _mailbox(imap)
    for n in range(3):
        imap.deliver(raw_mail(sender=f"buyer{n}@example.com", message_id=f"<disk-{n}@example.com>"))

    def breaks_on_the_third(**kwargs):
        if kwargs["imap_uid"] == 3:
            raise ValueError("unreadable")
        return mail_receive(**kwargs)

    # When the batch fails on its third message and is received again one by one
    result = mailbox_fetch(mailbox_id=mailbox.pk, receive=breaks_on_the_third)

    # Then only the originals of the two stored messages are on disk
    assert (result.fetched, result.stored, result.refused) == (3, 2, 1)
    named = set(Attachment.objects.values_list("file", flat=True))
    on_disk = {path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file()}
    assert len(named) == 2
    assert on_disk == named


@pytest.mark.django_db
def test_a_known_sender_over_the_hourly_limit_within_one_batch_is_held(imap):
    # Given a customer who may send two messages an hour, one already received, and two more waiting
    mailbox = _mailbox(imap, sender_hourly_limit=2)
    mail_receive(mailbox=mailbox, raw=raw_mail(sender="li.wei@example.com", message_id="<h0@example.com>"))
    for n in (1, 2):
        imap.deliver(raw_mail(sender="li.wei@example.com", subject=f"Again {n}", message_id=f"<h{n}@example.com>"))

    # When both are fetched in one batch
    result = mailbox_fetch(mailbox_id=mailbox.pk)

    # Then the first is a case, the second is held: the one stored earlier in the batch counts
    assert (result.fetched, result.stored, result.refused) == (2, 2, 0)
    assert list(Email.objects.filter(direction="in").order_by("id").values_list("message_id", "disposition")) == [
        ("<h0@example.com>", EmailDisposition.NEW_TICKET),
        ("<h1@example.com>", EmailDisposition.NEW_TICKET),
        ("<h2@example.com>", EmailDisposition.RATE_LIMITED),
    ]
    assert Ticket.objects.count() == 2


# Committed rows, as in the single message's pin (test_mail_receive): configuration from the cache.
@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("races")
def test_a_fetched_batch_of_new_cases_costs_six_statements_a_message(imap):
    from django.test.utils import CaptureQueriesContext

    from aftersales.services.notifications import notifications_deferred

    # Given a mailbox already fetched once (its counters exist), and four new requests
    mailbox = _mailbox(imap)
    imap.deliver(raw_mail(sender="first@example.com", message_id="<warm@example.com>"))
    with notifications_deferred():
        mailbox_fetch(mailbox_id=mailbox.pk)
    for n in range(4):
        imap.deliver(raw_mail(sender=f"buyer{n}@example.com", message_id=f"<pin-{n}@example.com>"))

    # When they are fetched
    with notifications_deferred(), CaptureQueriesContext(connection) as queries:  # the send is not ours
        result = mailbox_fetch(mailbox_id=mailbox.pk)

    # Then one transaction: per batch, the lock with the watermark, the same ids, the customers,
    # the senders' counts for the hourly limit, and one insert each of the events, the notices
    # and the originals; per message, the customer
    # added, the number bumped and read back, the ticket, its message, both e-mails' rows (one
    # insert). Before: 12 statements and a transaction a message.
    assert result.stored == 4
    statements = [q["sql"] for q in queries.captured_queries]
    listing = "\n".join(s[:80] for s in statements)
    start = next(
        n for n, sql in enumerate(statements) if sql.startswith('UPDATE "tickets_mailbox" SET "imap_last_uid"')
    )
    end = statements.index("COMMIT", start)
    assert statements[start - 1] == "BEGIN", listing
    assert end - start == 4 + 4 * 6 + 3, listing
    assert [sql.split(" (")[0] for sql in statements[end - 3 : end]] == [
        'INSERT INTO "tickets_ticketevent"',
        'INSERT INTO "aftersales_notification"',
        'INSERT INTO "tickets_attachment"',
    ], listing
    assert statements.count("COMMIT") == 3, listing  # the watermark's check, the batch, the outcome
