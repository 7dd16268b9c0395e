"""E-mail in.

A received message is stored exactly once per mailbox (Message-ID unique per mailbox, checked
under the mailbox's row lock and held by a constraint), then threaded: by In-Reply-To and
References onto the case one of our own messages belongs to, then by a case number in the
subject (only the case's own customer may thread that way: a number is easy to guess), else it
opens a case for the customer found by address, or a new one. Bounces and auto-replies open
nothing and are never answered; a sender over the hourly limit is held.

IMAP is polled (beat, every minute) rather than held open with IDLE: IDLE needs a connection per
mailbox kept by a long-lived process, which Celery's workers are not; a minute is well within any
e-mail response target. The UID watermark moves in the same transaction as the messages it
covers, and the ``\\Seen`` flag is set on the server only after that commit: a fetch killed
midway resumes after its last committed batch, and a message is never marked read unstored.
A fetch receives each IMAP chunk of messages in one transaction (``MailBatch``); a chunk that
fails anywhere is rolled back whole and received again one message per transaction, so one
unreadable message is refused on its own and the rest still go in.
"""

import hashlib
import imaplib
import logging
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from aftersales import bulk
from aftersales.exceptions import InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Customer, Membership, Merchant, User
from aftersales.services.staff import staff_membership_required
from tickets.attachments import checked_upload
from tickets.mail_errors import connection_problem, fetch_problem
from tickets.mailparse import Noise, ParsedMail, parse_mail, ticket_number_in
from tickets.models import (
    Attachment,
    Email,
    EmailDirection,
    EmailDisposition,
    FetchOutcome,
    ImapSecurity,
    Mailbox,
    Message,
    Ticket,
    TicketChannel,
    TicketKind,
)
from tickets.services.mail_out import mail_acknowledgement, mail_acknowledgement_thread, reply_address
from tickets.services.tickets import MAX_BODY_LENGTH, ticket_customer_message, ticket_open

logger = logging.getLogger(__name__)

# Messages fetched per IMAP round trip and received in one transaction (``MailBatch``).
FETCH_CHUNK = 50
# Messages one fetch takes at most: the next beat tick takes the rest.
FETCH_LIMIT = 500
IMAP_TIMEOUT = 30
ORIGINAL_NAME = "original.eml"

Disposition = EmailDisposition


# --- mailboxes ----------------------------------------------------------------------------------


def _merchant_admin_required(*, actor: User, merchant_id: int) -> None:
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if membership.role != Membership.Role.MERCHANT_ADMIN:
        raise PermissionRefused(_("Only a merchant admin may change mailboxes."))


MAILBOX_FIELDS = (
    "name",
    "address",
    "is_active",
    "is_default",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_folder",
    "sender_hourly_limit",
)


def _mailbox_check(merchant_id: int, values: dict[str, object], *, exclude_pk: int | None = None) -> None:
    address = str(values.get("address") or "").strip().lower()
    if not address or "@" not in address:
        raise InvalidInput(_("Enter the mailbox's e-mail address."), code="invalid_address", extra={"field": "address"})
    values["address"] = address
    taken = Mailbox.objects.filter(merchant_id=merchant_id, address=address)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise InvalidInput(
            _("This merchant already has a mailbox for %(address)s.") % {"address": address},
            code="mailbox_exists",
            extra={"field": "address"},
        )
    if values.get("imap_security") not in ImapSecurity.values:
        raise InvalidInput(_("Unknown IMAP security."), code="invalid_security", extra={"field": "imap_security"})
    port = values.get("imap_port")
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidInput(_("Enter a port from 1 to 65535."), code="invalid_port", extra={"field": "imap_port"})


def mailbox_save(
    *, merchant: Merchant, actor: User, values: dict[str, object], password: str = "", mailbox: Mailbox | None = None
) -> Mailbox:
    """Create (``mailbox`` None) or change a mailbox. An empty ``password`` keeps the stored one.
    Making a mailbox the reply-to address takes that from the merchant's previous one."""
    _merchant_admin_required(actor=actor, merchant_id=merchant.pk)
    values = {key: values[key] for key in MAILBOX_FIELDS if key in values}
    with transaction.atomic():
        if mailbox is not None:
            mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk, merchant=merchant)
            if mailbox.removed_at is not None:
                raise TransitionNotAllowed(
                    _("This mailbox is removed; restore it to change it."), code="mailbox_removed"
                )
        if mailbox is None:
            blank = Mailbox(merchant=merchant)
            current = {key: getattr(blank, key) for key in MAILBOX_FIELDS}
        else:
            current = {key: getattr(mailbox, key) for key in MAILBOX_FIELDS}
        merged = {**current, **values}
        _mailbox_check(merchant.pk, merged, exclude_pk=mailbox.pk if mailbox else None)
        if merged.get("is_default"):
            others = Mailbox.objects.filter(merchant=merchant, is_default=True)
            if mailbox is not None:
                others = others.exclude(pk=mailbox.pk)
            others.update(is_default=False, updated_at=timezone.now())
        target = mailbox or Mailbox(merchant=merchant)
        for key in MAILBOX_FIELDS:
            setattr(target, key, merged[key])
        if password:
            target.imap_password = password
        if mailbox is None:
            target.save()
        else:
            # A new server or user starts a new watermark: the old UIDs name other messages.
            if current["imap_host"] != target.imap_host or current["imap_username"] != target.imap_username:
                target.imap_uid_validity = None
                target.imap_last_uid = 0
            target.save()
    return target


def _connect(mailbox: Mailbox) -> IMAPClient:
    context = ssl.create_default_context()
    client = IMAPClient(
        mailbox.imap_host,
        port=mailbox.imap_port,
        ssl=mailbox.imap_security == ImapSecurity.SSL,
        ssl_context=context,
        timeout=IMAP_TIMEOUT,
    )
    try:
        if mailbox.imap_security == ImapSecurity.STARTTLS:
            client.starttls(context)
        client.login(mailbox.imap_username, mailbox.imap_password)
    except BaseException:
        _logout(client)
        raise
    return client


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except (IMAPClientError, OSError, imaplib.IMAP4.abort):
        client.shutdown()


CONNECTION_ERRORS = (IMAPClientError, OSError, socket.timeout, ssl.SSLError, imaplib.IMAP4.error)


def mailbox_test(*, mailbox: Mailbox, actor: User) -> int:
    """Log in and open the folder; return how many messages it holds, or refuse with the server's
    answer. Stores nothing but the outcome."""
    _merchant_admin_required(actor=actor, merchant_id=mailbox.merchant_id)
    if not mailbox.fetches_by_imap:
        raise InvalidInput(_("Set the IMAP server and user name first."), code="imap_not_set")
    try:
        client = _connect(mailbox)
        try:
            selected = client.select_folder(mailbox.imap_folder, readonly=True)
        finally:
            _logout(client)
    except CONNECTION_ERRORS as exc:
        code, message = connection_problem(exc, mailbox)
        raise InvalidInput(message, code=code) from exc
    return int(selected.get(b"EXISTS", 0))


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:500]


# --- receiving ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    parsed: ParsedMail
    files: list["UploadedFile[bytes]"]
    refused: list[str]


def _prepare(raw: bytes, *, file_limit: int) -> _Prepared:
    """Parse and check the files before any lock is taken: the slow part, outside the transaction."""
    parsed = parse_mail(raw)
    files: list[UploadedFile[bytes]] = []
    refused: list[str] = []
    for mail_file in parsed.files:
        if len(files) >= file_limit:
            refused.append(_("%(name)s: too many files") % {"name": mail_file.name})
            continue
        upload = SimpleUploadedFile(mail_file.name, mail_file.content, content_type=mail_file.content_type)
        try:
            stored, _content_type, _sha = checked_upload(upload)
        except InvalidInput as refusal:
            refused.append(str(refusal.message))
            continue
        files.append(stored)
    return _Prepared(parsed, files, refused)


@dataclass
class MailBatch:
    """The messages of one fetched chunk, received in one transaction (``_receive_batch``): the
    mailbox's lock and watermark are taken once for all of them, the rows a message would look
    up one by one are read once, and the timeline events, outbox rows and kept originals are
    written with one insert each when the batch ends (``aftersales.bulk``)."""

    # The merchant's received rows by Message-ID, read under the mailbox's lock, with the rows
    # this batch stores added as they are stored (so a message twice in one chunk is one row).
    same_id: dict[str, list[Email]]
    # Customers by address, for every sender of the chunk; those this batch adds are added.
    customers: dict[str, Customer]
    # Each sender's messages in the last hour that count towards the hourly limit, as of the
    # batch's start, with those this batch stores added.
    recent_by_sender: dict[str, int] = field(default_factory=dict)
    # Originals written to storage by this batch: removed again if it rolls back.
    original_files: list[str] = field(default_factory=list)


class _OwnTransactionNeeded(Exception):
    """A message whose handling reads back a row the batch has not written yet (a follow-up
    case's notice, ``mail_acknowledgement_thread``): the batch is received one by one instead."""


def _threaded_ticket(mailbox: Mailbox, parsed: ParsedMail, customer: Customer | None) -> Ticket | None:
    ids = parsed.thread_ids
    if ids:
        # The tickets come with their e-mails: one statement for the thread, not two.
        known = {
            row.message_id: row.ticket
            for row in Email.objects.filter(
                merchant_id=mailbox.merchant_id,
                message_id__in=ids,
                ticket__isnull=False,
                ticket__merchant_id=mailbox.merchant_id,
            ).select_related("ticket__customer", "ticket__merchant")
        }
        for message_id in ids:
            if message_id in known:
                return known[message_id]
    number = ticket_number_in(parsed.subject)
    if number and customer is not None:
        return (
            Ticket.objects.select_related("customer", "merchant")
            .filter(merchant_id=mailbox.merchant_id, number=number, customer=customer)
            .first()
        )
    return None


# What the hourly limit counts: a message that opened or joined a case.
COUNTED_DISPOSITIONS = (Disposition.NEW_TICKET, Disposition.THREADED)


def _recent(mailbox: Mailbox, now: datetime) -> "QuerySet[Email]":
    return Email.objects.filter(
        mailbox=mailbox,
        direction=EmailDirection.INBOUND,
        created_at__gte=now - timedelta(hours=1),
        disposition__in=COUNTED_DISPOSITIONS,
    )


def _over_limit(mailbox: Mailbox, sender: str, now: datetime, batch: MailBatch | None = None) -> bool:
    if batch is not None:
        return batch.recent_by_sender.get(sender, 0) >= mailbox.sender_hourly_limit
    return _recent(mailbox, now).filter(sender=sender).count() >= mailbox.sender_hourly_limit


def _keep_original(
    ticket: Ticket, message: Message, raw: bytes, customer: Customer, batch: MailBatch | None = None
) -> None:
    """The whole message as it came, beside what the timeline shows. Our own file, not an upload:
    it skips the upload checks and is served, like every attachment, sandboxed."""
    attachment = Attachment(
        merchant_id=ticket.merchant_id,
        ticket=ticket,
        message=message,
        original_name=ORIGINAL_NAME,
        content_type="message/rfc822",
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        uploaded_by_customer=customer,
    )
    attachment.file.save(ORIGINAL_NAME, ContentFile(raw), save=False)
    if batch is not None:
        if attachment.file.name:  # always, once saved
            batch.original_files.append(attachment.file.name)
        bulk.insert(attachment)  # with the batch's other originals, when it ends
        return
    try:
        attachment.save()
    except BaseException:
        attachment.file.delete(save=False)
        raise


def _body(parsed: ParsedMail, refused: Sequence[str]) -> str:
    body = parsed.visible_text.strip() or _("(The e-mail had no text.)")
    if refused:
        body += "\n\n" + _("Attachments not accepted: %(files)s") % {"files": "; ".join(refused)}
    return body[:MAX_BODY_LENGTH]


def mail_receive(
    *,
    mailbox: Mailbox,
    raw: bytes,
    imap_uid: int | None = None,
    own_addresses: frozenset[str] | None = None,
    asynchronous_commit: bool = False,
    reply_to: str | None = None,
    batch: MailBatch | None = None,
    prepared: _Prepared | None = None,
) -> Email:
    """Store one received message exactly once and thread it (see the module's docstring).

    Returns the message's row, the one already stored if it came before. With ``imap_uid``, the
    mailbox's watermark moves past it in the same transaction. ``own_addresses`` (the merchant's
    mailbox addresses) and ``reply_to`` (``reply_address``) may be given by a caller that
    receives many messages, to read them once;
    ``asynchronous_commit`` by one that has already turned ``synchronous_commit`` off for its
    session, to save a statement per message. With ``batch``, the message is one of a fetched
    chunk received in the caller's transaction (``_receive_batch``), which holds the mailbox's
    lock, has moved the watermark, and gives ``prepared``, ``own_addresses`` and ``reply_to``."""
    if prepared is None:
        prepared = _prepare(raw, file_limit=settings.ATTACHMENT_MAX_PER_MESSAGE)
    if batch is not None:
        # No savepoint: anything that fails here rolls the whole batch back (``_receive_batch``).
        with transaction.atomic(savepoint=False):
            return _store(mailbox, raw, prepared, imap_uid, own_addresses, reply_to, batch)
    with transaction.atomic():
        # One receiver per mailbox at a time: two fetchers of one mailbox queue on this row
        # lock, and the second finds the first's row below. Taking the lock also moves the
        # watermark, in one statement.
        locked = Mailbox.objects.filter(pk=mailbox.pk)
        if imap_uid is not None:
            # The server keeps the message until the watermark passes it, and the watermark
            # commits with the message: a commit lost in a database crash takes its watermark
            # with it, and the next fetch receives the message again. So this commit need not
            # wait for the disk. (Not so for a webhook: its 200 tells the provider to forget.)
            # A fetch sets this once for its whole session (``_asynchronous_commits``).
            if not asynchronous_commit:
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            locked.update(imap_last_uid=Greatest(F("imap_last_uid"), imap_uid), updated_at=timezone.now())
        else:
            locked.select_for_update().values_list("pk", flat=True).get()
        return _store(mailbox, raw, prepared, imap_uid, own_addresses, reply_to, None)


def _inbound_with_ids(merchant_id: int, message_ids: Sequence[str]) -> list[Email]:
    return list(
        Email.objects.filter(merchant_id=merchant_id, direction=EmailDirection.INBOUND, message_id__in=message_ids)
        .select_related("mailbox")
        .order_by("id")
    )


def _store(
    mailbox: Mailbox,
    raw: bytes,
    prepared: _Prepared,
    imap_uid: int | None,
    own_addresses: frozenset[str] | None,
    reply_to: str | None,
    batch: MailBatch | None,
) -> Email:
    """``mail_receive`` under the mailbox's lock, in its transaction."""
    parsed = prepared.parsed
    if batch is None:
        same_id = _inbound_with_ids(mailbox.merchant_id, [parsed.message_id])
    else:
        same_id = batch.same_id.setdefault(parsed.message_id, [])
    existing = next((row for row in same_id if row.mailbox_id == mailbox.pk), None)
    if existing is not None:
        return existing
    email_row = Email(
        merchant_id=mailbox.merchant_id,
        mailbox=mailbox,
        direction=EmailDirection.INBOUND,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to[0] if parsed.in_reply_to else "",
        references=" ".join(parsed.references),
        sender=parsed.sender[:254],
        recipient=mailbox.address,
        subject=parsed.subject,
        html=parsed.html,
        imap_uid=imap_uid,
    )
    if own_addresses is None:
        own_addresses = merchant_addresses(mailbox.merchant_id)
    elsewhere = next((row for row in same_id if row.ticket_id is not None), None)
    acknowledged = _dispose(
        mailbox,
        email_row,
        prepared,
        raw,
        own_addresses=own_addresses,
        elsewhere=elsewhere,
        reply_to=reply_to,
        batch=batch,
    )
    if acknowledged is not None:
        # Opened here, its notice written with the threading headers (``mail_acknowledgement``):
        # the acknowledgement's row goes in the same insert, after the received one (its
        # References list the customer's first).
        Email.objects.bulk_create([email_row, *acknowledged])
    else:
        if email_row.disposition == Disposition.NEW_TICKET and email_row.ticket and email_row.ticket_message:
            if batch is not None:
                # The follow-up's notice is among the batch's gathered rows, not in the table yet.
                raise _OwnTransactionNeeded
            email_row.save()
            # A follow-up case opened past the reopen window: its notice is already written.
            mail_acknowledgement_thread(
                ticket=email_row.ticket, message=email_row.ticket_message, received_id=parsed.message_id
            )
        else:
            email_row.save()
    if batch is not None:
        same_id.append(email_row)
        if email_row.disposition in COUNTED_DISPOSITIONS:
            batch.recent_by_sender[parsed.sender] = batch.recent_by_sender.get(parsed.sender, 0) + 1
    return email_row


def merchant_addresses(merchant_id: int) -> frozenset[str]:
    return frozenset(Mailbox.objects.filter(merchant_id=merchant_id).values_list("address", flat=True))


def _dispose(
    box: Mailbox,
    email_row: Email,
    prepared: _Prepared,
    raw: bytes,
    *,
    own_addresses: frozenset[str],
    elsewhere: Email | None,
    reply_to: str | None,
    batch: MailBatch | None,
) -> list[Email] | None:
    """Decide what the message is and do it. Returns the acknowledgement's rows to insert with the
    received one when it opened a case itself (``ticket_open``), else None."""
    parsed = prepared.parsed
    if parsed.noise == Noise.BOUNCE:
        email_row.disposition, email_row.note = Disposition.BOUNCE, parsed.noise_reason
        return None
    if parsed.noise == Noise.AUTO_REPLY:
        email_row.disposition, email_row.note = Disposition.AUTO_REPLY, parsed.noise_reason
        return None
    if not parsed.sender:
        email_row.disposition, email_row.note = Disposition.REFUSED, "no sender address"
        return None
    if parsed.sender in own_addresses:
        # Our own address writing to us: a forwarding loop, never a customer.
        email_row.disposition, email_row.note = Disposition.REFUSED, "sent from one of our own mailboxes"
        return None
    if elsewhere is not None:
        # The same message sent to two of the merchant's addresses: one case, one message.
        email_row.disposition, email_row.ticket = Disposition.THREADED, elsewhere.ticket
        email_row.note = f"already received at {elsewhere.mailbox.address if elsewhere.mailbox else '?'}"
        return None
    if batch is None:
        customer = Customer.objects.filter(merchant_id=box.merchant_id, email=parsed.sender).first()
    else:
        customer = batch.customers.get(parsed.sender)
    # A sender never seen has had no case opened or threaded: no need to count their messages.
    if customer is not None and _over_limit(box, parsed.sender, timezone.now(), batch):
        email_row.disposition = Disposition.RATE_LIMITED
        email_row.note = f"over {box.sender_hourly_limit} messages per hour"
        return None
    ticket = _threaded_ticket(box, parsed, customer)
    body = _body(parsed, prepared.refused)
    if ticket is not None:
        try:
            message = ticket_customer_message(ticket=ticket, customer=ticket.customer, body=body, files=prepared.files)
        except TransitionNotAllowed:
            ticket = None  # closed: the customer's new message opens a new case below
        else:
            # Past the merchant's reopen window the hub opens a linked follow-up case for the
            # message (tickets.services.closing): that is a new case, not a threaded one.
            disposition = Disposition.THREADED if message.ticket_id == ticket.pk else Disposition.NEW_TICKET
            email_row.disposition, email_row.ticket, email_row.ticket_message = disposition, message.ticket, message
            _keep_original(message.ticket, message, raw, ticket.customer, batch)
            return None
    if customer is None:
        # No savepoint: if the portal creates this customer at the same moment, the unique
        # constraint fails this whole message, which the next fetch receives again.
        customer = Customer.objects.create(merchant_id=box.merchant_id, email=parsed.sender, name=parsed.sender_name)
        if batch is not None:
            batch.customers[parsed.sender] = customer
    acknowledged: list[Email] = []
    sender_address = reply_address(box.merchant_id) if reply_to is None else reply_to

    def acknowledgement(ticket: Ticket, message: Message) -> dict[str, object]:
        extra, row = mail_acknowledgement(
            ticket=ticket, message=message, received_id=parsed.message_id, reply_to=sender_address
        )
        if row is not None:
            acknowledged.append(row)
        return extra

    ticket, message = ticket_open(
        merchant=box.merchant,
        kind=TicketKind.SUPPORT,
        subject=parsed.subject or _("(no subject)"),
        body=body,
        customer=customer,
        channel=TicketChannel.EMAIL,
        files=prepared.files,
        acknowledgement=acknowledgement,
    )
    email_row.disposition, email_row.ticket, email_row.ticket_message = Disposition.NEW_TICKET, ticket, message
    _keep_original(ticket, message, raw, customer, batch)
    return acknowledged


@dataclass
class FetchResult:
    fetched: int = 0
    stored: int = 0
    refused: int = 0
    error: str = ""  # redacted and bounded (``tickets.mail_errors.fetch_problem``)
    error_reason: str = ""  # a ``FetchErrorReason``


def mail_refuse(*, mailbox: Mailbox, raw: bytes, imap_uid: int, reason: str) -> Email:
    """A message ``mail_receive`` failed on: recorded as refused, with why, and passed by the
    watermark, so the mailbox moves on; the message stays on the server, unread."""
    try:
        message_id = parse_mail(raw).message_id
    except Exception:  # noqa: BLE001 — the id is all we want from a message that broke the parser
        message_id = f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"
    with transaction.atomic():
        Mailbox.objects.filter(pk=mailbox.pk).update(
            imap_last_uid=Greatest(F("imap_last_uid"), imap_uid), updated_at=timezone.now()
        )
        email_row, _created = Email.objects.get_or_create(
            mailbox=mailbox,
            direction=EmailDirection.INBOUND,
            message_id=message_id,
            defaults={
                "merchant_id": mailbox.merchant_id,
                "recipient": mailbox.address,
                "disposition": Disposition.REFUSED,
                "note": f"could not be received: {reason}"[:500],
                "imap_uid": imap_uid,
            },
        )
    return email_row


def mailbox_fetch(
    *, mailbox_id: int, limit: int = FETCH_LIMIT, receive: Callable[..., Email] | None = None
) -> FetchResult:
    """Fetch what is new in the mailbox's folder above the watermark, oldest first, and receive
    each message in a transaction of its own; mark those stored ``\\Seen`` after their commit.
    Records the outcome on the mailbox (the dashboard shows it). ``receive`` is the per-message
    step (``mail_receive``), replaceable by a test that stops a fetch midway."""
    receive = receive or mail_receive
    mailbox = Mailbox.objects.select_related("merchant").get(pk=mailbox_id)
    result = FetchResult()
    if not (mailbox.is_active and mailbox.fetches_by_imap):
        return result
    try:
        client = _connect(mailbox)
        try:
            _fetch_new(client, mailbox, limit, receive, result)
        finally:
            _logout(client)
    except CONNECTION_ERRORS as exc:
        # Never the exception's raw text: it may carry the credentials or the server's banner.
        reason, result.error = fetch_problem(exc, mailbox)
        result.error_reason = reason
        logger.warning("mailbox %s: fetch failed (%s): %s", mailbox.pk, reason, result.error)
    with transaction.atomic(durable=True):
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_fetch_at=timezone.now(),
            last_fetch_outcome=FetchOutcome.FAILED if result.error else FetchOutcome.OK,
            last_fetch_count=result.fetched,
            last_error_reason=result.error_reason,
            last_error=result.error,
            updated_at=timezone.now(),
        )
    return result


def _fetch_new(
    client: IMAPClient, mailbox: Mailbox, limit: int, receive: Callable[..., Email], result: FetchResult
) -> None:
    selected = client.select_folder(mailbox.imap_folder)
    validity = int(selected.get(b"UIDVALIDITY", 0))
    with transaction.atomic():
        box = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        if box.imap_uid_validity != validity:
            box.imap_uid_validity = validity
            box.imap_last_uid = 0
            box.save(update_fields=["imap_uid_validity", "imap_last_uid", "updated_at"])
        watermark = box.imap_last_uid
    # "n:*" always answers with the last message, even one below n: filter again.
    own_addresses = merchant_addresses(mailbox.merchant_id)
    reply_to = reply_address(mailbox.merchant_id)
    uids = sorted(uid for uid in client.search(["UID", f"{watermark + 1}:*"]) if uid > watermark)[:limit]
    with _asynchronous_commits():
        _receive_all(client, mailbox, uids, receive, result, own_addresses, reply_to)


@contextmanager
def _asynchronous_commits() -> Iterator[None]:
    """``synchronous_commit`` off for this connection while a fetch receives (why: ``mail_receive``),
    set once rather than once per message, and back to the server's setting after."""
    if connection.in_atomic_block:
        # Inside a caller's transaction (a test) a session setting would outlive nothing: each
        # message sets it for its own transaction as usual.
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except DatabaseError:
            # A connection that broke is closed and replaced; its settings go with it.
            logger.warning("could not reset synchronous_commit after a fetch", exc_info=True)


def _receive_all(
    client: IMAPClient,
    mailbox: Mailbox,
    uids: list[int],
    receive: Callable[..., Email],
    result: FetchResult,
    own_addresses: frozenset[str],
    reply_to: str,
) -> None:
    asynchronous = not connection.in_atomic_block
    for start in range(0, len(uids), FETCH_CHUNK):
        chunk = uids[start : start + FETCH_CHUNK]
        fetched = client.fetch(chunk, ["BODY.PEEK[]"])
        # Missing: expunged meanwhile.
        messages = [(uid, raw) for uid in chunk if (raw := fetched.get(uid, {}).get(b"BODY[]")) is not None]
        result.fetched += len(messages)
        stored: list[int] = []
        try:
            try:
                stored = _receive_batch(mailbox, messages, receive, own_addresses, reply_to)
            except CONNECTION_ERRORS:
                raise
            except Exception:
                # Every message of the batch is received again below, each on its own.
                logger.info(
                    "mailbox %s: a batch of %s was rolled back; receiving them one by one",
                    mailbox.pk,
                    len(messages),
                    exc_info=True,
                )
            else:
                result.stored += len(stored)
                continue
            for uid, raw in messages:
                try:
                    receive(
                        mailbox=mailbox,
                        raw=raw,
                        imap_uid=uid,
                        own_addresses=own_addresses,
                        asynchronous_commit=asynchronous,
                        reply_to=reply_to,
                    )
                except CONNECTION_ERRORS:
                    raise
                except Exception as exc:
                    logger.exception("mailbox %s: message UID %s could not be received", mailbox.pk, uid)
                    mail_refuse(mailbox=mailbox, raw=raw, imap_uid=uid, reason=_error_text(exc))
                    result.refused += 1
                    continue  # left unread on the server, for a person to look at
                stored.append(uid)
                result.stored += 1
        finally:
            # After the commits, and also for those committed before a failure.
            if stored:
                client.add_flags(stored, [b"\\Seen"])


def _receive_batch(
    mailbox: Mailbox,
    messages: list[tuple[int, bytes]],
    receive: Callable[..., Email],
    own_addresses: frozenset[str],
    reply_to: str,
) -> list[int]:
    """Receive a fetched chunk in one transaction (``MailBatch``) and return its UIDs, all
    committed; or raise, with nothing of it committed."""
    if not messages:
        return []
    file_limit = settings.ATTACHMENT_MAX_PER_MESSAGE
    # Parsed outside the transaction, as ``mail_receive`` does: the mailbox's lock is held for
    # the writes only.
    prepared = [(uid, raw, _prepare(raw, file_limit=file_limit)) for uid, raw in messages]
    senders = {item.parsed.sender for _uid, _raw, item in prepared if item.parsed.sender}
    batch: MailBatch | None = None
    try:
        with transaction.atomic():
            # The batch's lock on the mailbox and its watermark, in one statement: they commit
            # with every message below, or with none of them.
            Mailbox.objects.filter(pk=mailbox.pk).update(
                imap_last_uid=Greatest(F("imap_last_uid"), max(uid for uid, _raw in messages)),
                updated_at=timezone.now(),
            )
            # Read under the lock: a second fetcher of this mailbox finds the first's rows here.
            same_id: dict[str, list[Email]] = {}
            for row in _inbound_with_ids(mailbox.merchant_id, [item.parsed.message_id for _u, _r, item in prepared]):
                same_id.setdefault(row.message_id, []).append(row)
            customers = (
                {
                    customer.email: customer
                    for customer in Customer.objects.filter(merchant_id=mailbox.merchant_id, email__in=senders)
                }
                if senders
                else {}
            )
            recent_by_sender: dict[str, int] = (
                dict(
                    _recent(mailbox, timezone.now())
                    .filter(sender__in=senders)
                    .values_list("sender")
                    .annotate(count=Count("id"))
                    .values_list("sender", "count")
                )
                if senders
                else {}
            )
            batch = MailBatch(same_id=same_id, customers=customers, recent_by_sender=recent_by_sender)
            with bulk.bulk_inserts():
                for uid, raw, item in prepared:
                    receive(
                        mailbox=mailbox,
                        raw=raw,
                        imap_uid=uid,
                        own_addresses=own_addresses,
                        reply_to=reply_to,
                        batch=batch,
                        prepared=item,
                    )
    except BaseException:
        if batch is not None:
            for name in batch.original_files:
                Attachment._meta.get_field("file").storage.delete(name)
        raise
    return [uid for uid, _raw in messages]


def mailboxes_to_fetch() -> list[int]:
    return list(
        Mailbox.objects.filter(is_active=True)
        .exclude(imap_host="")
        .exclude(imap_username="")
        .values_list("pk", flat=True)
    )
