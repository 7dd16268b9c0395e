"""``bench support``, part ``mail``: e-mail ingest from a real IMAP server, per worker process.

A Dovecot of its own (``aftersales.tests.servers.imap_server``: Debian's dovecot-imapd, a config
and maildir in a temporary directory) is filled by IMAP APPEND with ``--mail-messages`` messages: new requests
from distinct customers, replies threaded by In-Reply-To onto earlier ones, HTML mail with
scripts and remote images to sanitise, auto-replies and bounces to ignore. Then this one process
fetches them all the way beat's task does (``mailbox_fetch``: IMAP fetch, parse, thread,
sanitise, store, event; a transaction per fetched batch, its watermark in it and the \\Seen flags
after its commit) and the rate is messages per second of that wall time. After, it checks: every
message is one row (0 lost), a second fetch and a fetch from UID 0 store nothing again (0 doubled).

Outbox rows are written as in production; they are not handed to a broker (``notifications_deferred``),
so the run needs no Celery worker. Target (issue 12): at least 100 messages/s, 0 lost, 0 doubled.
Writes the merchant ``bench-support-mail``; each run's messages are new.
"""

import itertools
import os
import time
import uuid
from collections.abc import Callable

from django.core.management.base import CommandError, CommandParser
from django.db import connection
from imapclient import IMAPClient

from aftersales.bench.output import Measurements
from aftersales.models import Customer, Merchant
from aftersales.services.notifications import notifications_deferred
from tickets.models import Email, EmailDisposition, ImapSecurity, Mailbox, Message, Ticket
from tickets.services.mail import mailbox_fetch

HELP = "E-mail ingest from a real Dovecot."
SLUG = "bench-support-mail"
TARGET_PER_SECOND = 100.0
DOVECOT = "/usr/sbin/dovecot"


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--mail-messages", type=int, default=2000, help="Messages to ingest (default 2,000).")


def _message(*, n: int, run: str, in_reply_to: str = "", kind: str = "new") -> tuple[str, bytes]:
    message_id = f"<{run}.{n}@bench.example.com>"
    sender = f"buyer-{run}-{n if kind != 'reply' else n - 1}@example.com"
    headers = [
        f"From: Buyer {n} <{sender}>",
        "To: support@bench.example.com",
        f"Message-ID: {message_id}",
        "Date: Sun, 06 Dec 2026 10:00:00 +0800",
        "MIME-Version: 1.0",
    ]
    if kind == "reply":
        headers += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}", f"Subject: Re: Order {n - 1}"]
    else:
        headers.append(f"Subject: Order {n}: the kettle leaks / 水壶漏水")
    if kind == "auto":
        headers.append("Auto-Submitted: auto-replied")
    if kind == "html":
        headers.append("Content-Type: text/html; charset=utf-8")
        body = (
            f"<p>Order {n}: the <b>kettle</b> leaks.</p><script>steal()</script>"
            '<img src="https://tracker.example/p.gif"><p>水壶底部漏水。</p>'
        )
    else:
        headers.append("Content-Type: text/plain; charset=utf-8")
        body = f"Order {n}: the kettle leaks from the bottom.\n水壶底部漏水，请处理。\n\n-- \nBuyer {n}\n"
        if kind == "reply":
            body = "Here is the photo you asked for.\n\nOn Monday, Support wrote:\n> Please send a photo.\n"
    raw = ("\r\n".join(headers) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()
    return message_id, raw


def _mailbox(merchant: Merchant, server) -> Mailbox:
    mailbox, _ = Mailbox.objects.update_or_create(
        merchant=merchant,
        address="support@bench.example.com",
        defaults={
            "name": "Bench",
            "is_default": True,
            "imap_host": server.host,
            "imap_port": server.port,
            "imap_security": ImapSecurity.NONE,
            "imap_username": server.username,
            "imap_password": server.password,
            "imap_uid_validity": None,
            "imap_last_uid": 0,
            "sender_hourly_limit": 10_000,
        },
    )
    return mailbox


def run(options: dict, *, out: Measurements, log: Callable[[str], None]) -> None:
    count = options["mail_messages"]
    if count < 10:
        raise CommandError("--mail-messages must be at least 10.")
    if not os.access(DOVECOT, os.X_OK):
        raise CommandError(f"{DOVECOT} is missing: apt-get install dovecot-imapd")
    from aftersales.tests.servers import imap_server  # a dev tool: the bench's own IMAP server

    merchant, _ = Merchant.objects.get_or_create(slug=SLUG, defaults={"name": "Bench support mail"})
    run_id = uuid.uuid4().hex[:10]
    expected = {"new": 0, "reply": 0, "html": 0, "auto": 0}
    ids: list[str] = []
    with imap_server() as server:
        mailbox = _mailbox(merchant, server)
        log(f"[mail] appending {count} messages to the INBOX of Dovecot on port {server.port}")
        # APPEND, not files dropped in new/: the server numbers appended messages in order, so a
        # reply always has a higher UID than the message it answers, as when mail arrives.
        client = IMAPClient(server.host, port=server.port, ssl=False)
        client.login(server.username, server.password)
        previous = ""
        for n in range(count):
            # Of every 20: 12 new, 5 replies to the message before, 2 HTML, 1 auto-reply.
            slot = n % 20
            kind = "new" if slot < 12 else "reply" if slot < 17 else "html" if slot < 19 else "auto"
            if kind == "reply" and not previous:
                kind = "new"
            message_id, raw = _message(n=n, run=run_id, in_reply_to=previous, kind=kind)
            client.append("INBOX", raw)
            expected[kind] += 1
            ids.append(message_id)
            previous = message_id if kind in ("new", "html") else ""
        client.logout()
        tickets_before = Ticket.objects.filter(merchant=merchant).count()
        messages_before = Message.objects.filter(merchant=merchant).count()

        log(f"[mail] fetching {count} messages in one process")
        # As autovacuum would have by now (it may be off, as on the machines the benches run on):
        # the tables the fetch reads grow by each run's rows, and unanalysed they are planned as
        # empty (the hourly limit's count scanned every row of the mailbox).
        with connection.cursor() as cursor:
            tables = ", ".join(model._meta.db_table for model in (Email, Ticket, Message, Customer))
            cursor.execute(f"ANALYZE {tables}")
        statements = itertools.count()

        def count_statement(execute, sql, params, many, context):
            next(statements)
            return execute(sql, params, many, context)

        started = time.perf_counter()
        cpu_started = time.process_time()
        with notifications_deferred(), connection.execute_wrapper(count_statement):
            result = mailbox_fetch(mailbox_id=mailbox.pk, limit=count + 10)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        if result.error:
            raise CommandError(f"fetch failed: {result.error}")

        stored = Email.objects.filter(mailbox=mailbox, message_id__in=ids).count()
        lost = count - stored
        with notifications_deferred():
            again = mailbox_fetch(mailbox_id=mailbox.pk, limit=count + 10)
            Mailbox.objects.filter(pk=mailbox.pk).update(imap_last_uid=0)
            from_zero = mailbox_fetch(mailbox_id=mailbox.pk, limit=count + 10)
        doubled = Email.objects.filter(mailbox=mailbox, message_id__in=ids).count() - stored
        new_tickets = Ticket.objects.filter(merchant=merchant).count() - tickets_before
        new_messages = Message.objects.filter(merchant=merchant).count() - messages_before
        ignored = Email.objects.filter(
            mailbox=mailbox, message_id__in=ids, disposition=EmailDisposition.AUTO_REPLY
        ).count()

    # The verdict is on the figure printed: 99.96 messages/s prints as 100.0, which meets 100.
    rate = round(count / elapsed, 1)
    out.emit(
        "ingest_rate",
        rate,
        "messages/s",
        messages=count,
        seconds=round(elapsed, 2),
        cpu_seconds_this_process=round(cpu, 2),
        # What this process alone could do with a core to itself (the database's share aside).
        cpu_bound_ceiling=round(count / cpu, 1) if cpu else None,
        cpu_ms_per_message=round(cpu * 1000 / count, 2),
        statements_per_message=round(next(statements) / count, 2),
        load_average_1min=round(os.getloadavg()[0], 2),
        cores=os.cpu_count(),
        processes=1,
        target=TARGET_PER_SECOND,
        met=rate >= TARGET_PER_SECOND,
    )
    out.emit("ingest_lost", lost, "messages", messages=count, target=0, met=lost == 0)
    out.emit(
        "ingest_doubled",
        doubled,
        "messages",
        refetched_after=again.fetched,
        refetched_from_uid_0=from_zero.fetched,
        target=0,
        met=doubled == 0,
    )
    out.emit(
        "ingest_outcome",
        new_tickets,
        "tickets",
        messages_stored=new_messages,
        expected_tickets=expected["new"] + expected["html"],
        expected_messages=expected["new"] + expected["html"] + expected["reply"],
        auto_replies_ignored=ignored,
        expected_auto_replies=expected["auto"],
    )
