"""Outgoing mail of a case: the threading headers and reply-to a public reply goes out with.

The reply itself is an outbox row (``tickets.notify.notify_customer``); this records the
Message-ID it will carry, so that the customer's answer (In-Reply-To that id) threads back onto
the case, and gives the outbox the headers to send it with. Called inside the reply's transaction.
"""

import secrets
from typing import Any

from django.conf import settings
from django.db.models import F, Func, JSONField, Value

from aftersales.models import Notification
from tickets.models import Email, EmailDirection, EmailDisposition, Mailbox, Message, Ticket
from tickets.notify import customer_deliveries

# How many earlier ids a References header carries: enough for any client to thread, and short.
MAX_REFERENCES = 20


def reply_address(merchant_id: int) -> str:
    """Where customers' answers go: the merchant's default active mailbox, else none (the outbox
    then falls back to the merchant's support address)."""
    mailbox = (
        Mailbox.objects.filter(merchant_id=merchant_id, is_active=True)
        .order_by("-is_default", "id")
        .values_list("address", flat=True)
        .first()
    )
    return mailbox or ""


def _domain(address: str) -> str:
    if "@" in address:
        return address.rpartition("@")[2]
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">") or "aftersales.localhost"


def mail_reply_thread(*, ticket: Ticket, message: Message, subject: str = "") -> dict[str, Any]:
    """The context an outgoing reply needs to thread: ``email_headers`` (Message-ID, In-Reply-To,
    References) and ``reply_to``. Records the outgoing message's id on the case."""
    reply_to = reply_address(ticket.merchant_id)
    earlier = list(
        Email.objects.filter(merchant_id=ticket.merchant_id, ticket=ticket)
        .order_by("-created_at", "-id")
        .values_list("message_id", "direction")[:MAX_REFERENCES]
    )
    earlier.reverse()
    references = [message_id for message_id, _direction in earlier]
    last_received = next(
        (message_id for message_id, direction in reversed(earlier) if direction == EmailDirection.INBOUND), ""
    )
    in_reply_to = last_received or (references[-1] if references else "")
    message_id = f"<{ticket.number}.{message.pk}.{secrets.token_hex(8)}@{_domain(reply_to)}>"
    Email.objects.create(
        merchant_id=ticket.merchant_id,
        direction=EmailDirection.OUTBOUND,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=" ".join(references),
        sender=reply_to,
        recipient=ticket.customer.email,
        subject=subject[:200],
        disposition=EmailDisposition.SENT,
        ticket=ticket,
        ticket_message=message,
    )
    headers = {"Message-ID": message_id}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
    if references:
        headers["References"] = " ".join(references)
    context: dict[str, Any] = {"email_headers": headers}
    if reply_to:
        context["reply_to"] = reply_to
    return context


def mail_acknowledgement_thread(*, ticket: Ticket, message: Message, received_id: str) -> None:
    """The acknowledgement of a case opened by e-mail (``ticket_created``, already in the outbox in
    this transaction) answers the customer's message: it goes out In-Reply-To it, from our
    reply-to address, so it sits in the customer's thread, and an answer to it threads back."""
    reply_to = reply_address(ticket.merchant_id)
    message_id = f"<{ticket.number}.{message.pk}.ack.{secrets.token_hex(8)}@{_domain(reply_to)}>"
    extra: dict[str, Any] = {
        "email_headers": {"Message-ID": message_id, "In-Reply-To": received_id, "References": received_id}
    }
    if reply_to:
        extra["reply_to"] = reply_to
    written = Notification.objects.filter(
        ticket=ticket, template="ticket_created", channel=Notification.Channel.EMAIL
    ).update(context=Func(F("context"), Value(extra, output_field=JSONField()), function="", arg_joiner=" || "))
    if written:
        Email.objects.create(
            merchant_id=ticket.merchant_id,
            direction=EmailDirection.OUTBOUND,
            message_id=message_id,
            in_reply_to=received_id,
            references=received_id,
            sender=reply_to,
            recipient=ticket.customer.email,
            subject=ticket.subject[:200],
            disposition=EmailDisposition.SENT,
            ticket=ticket,
        )


def mail_acknowledgement(
    *, ticket: Ticket, message: Message, received_id: str, reply_to: str
) -> tuple[dict[str, Any], Email | None]:
    """The same threading as ``mail_acknowledgement_thread``, for a case opened by e-mail whose
    ``ticket_created`` notice is not written yet: what its context carries besides, and the
    outgoing e-mail's row to save (unsaved; None when the customer is not told by e-mail), so the
    notice is written once, complete, and the row goes with the received one in one insert.
    ``reply_to`` is ``reply_address`` of the merchant, read once by a caller that opens many."""
    message_id = f"<{ticket.number}.{message.pk}.ack.{secrets.token_hex(8)}@{_domain(reply_to)}>"
    extra: dict[str, Any] = {
        "email_headers": {"Message-ID": message_id, "In-Reply-To": received_id, "References": received_id}
    }
    if reply_to:
        extra["reply_to"] = reply_to
    by_email = any(
        channel == Notification.Channel.EMAIL
        for channel, _address in customer_deliveries(ticket.customer, ticket.merchant)
    )
    if not by_email:
        return extra, None
    row = Email(
        merchant_id=ticket.merchant_id,
        direction=EmailDirection.OUTBOUND,
        message_id=message_id,
        in_reply_to=received_id,
        references=received_id,
        sender=reply_to,
        recipient=ticket.customer.email,
        subject=ticket.subject[:200],
        disposition=EmailDisposition.SENT,
        ticket=ticket,
    )
    return extra, row
