"""The notifications outbox: rows are written in the caller's transaction and sent after commit.

Nothing is sent inside a request. A row that the broker loses is still in the table and is picked
up by the periodic flush, so the record of what must be sent is PostgreSQL, not the broker.
"""

import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from email.message import Message
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from aftersales import bulk
from aftersales.compiled import CompiledRead
from aftersales.enqueue import enqueue, enqueue_on_commit
from aftersales.models import Merchant, Notification, WebhookEndpoint
from aftersales.notifications.backends import get_sms_backend, get_wechat_backend
from aftersales.notifications.links import case_link_url
from aftersales.notifications.rendering import render_notification, render_notification_html
from aftersales.notifications.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    webhook_body,
    webhook_signature,
)
from aftersales.outbound import AddressRefused, GuardedHTTPHandler, GuardedHTTPSHandler, check_url

if TYPE_CHECKING:
    from aftersales.models import User
    from tickets.models import Ticket

logger = logging.getLogger("aftersales.notifications")

# Context a template needs only to be sent: gone from the row once it is sent or given up on, so
# no operator reading the outbox sees a customer's one-time code.
SEND_ONLY_CONTEXT = {"portal_code": ("code",)}

# A claimed row whose worker died is claimable again after this long.
CLAIM_TIMEOUT = timedelta(minutes=5)


_dispatch_deferred: ContextVar[bool] = ContextVar("notifications_dispatch_deferred", default=False)


@contextmanager
def notifications_deferred() -> Iterator[None]:
    """Inside this block rows are written but not handed to a worker at commit; the periodic flush
    sends them. For bulk jobs (imports, the demo builder) that need no broker while they run."""
    token = _dispatch_deferred.set(True)
    try:
        yield
    finally:
        _dispatch_deferred.reset(token)


_batch: ContextVar[list[Notification] | None] = ContextVar("notifications_batch", default=None)


@contextmanager
def notifications_batched() -> Iterator[None]:
    """Inside this block (which must sit inside a transaction) the rows written are handed to the
    worker as one task at commit rather than one task each. For jobs that write many at once."""
    queued: list[Notification] = []
    token = _batch.set(queued)
    try:
        yield
    finally:
        _batch.reset(token)
    # Rows dropped by a rolled-back savepoint have no key, or a key the worker will not find.
    ids = [notification.pk for notification in queued if notification.pk is not None]
    if ids and not _dispatch_deferred.get():
        from aftersales.tasks import notifications_send_many

        enqueue_on_commit(notifications_send_many, ids)


def notification_queue(
    *,
    merchant: Merchant,
    channel: str,
    recipient: str,
    template: str,
    context: dict[str, Any],
    language: str | None = None,
    ticket: "Ticket | None" = None,
    recipient_user: "User | None" = None,
) -> Notification:
    """Write an outbox row and ask a worker to send it once the caller's transaction commits."""
    [notification] = notifications_queue(
        merchant=merchant,
        deliveries=[(channel, recipient)],
        template=template,
        context=context,
        language=language,
        ticket=ticket,
        recipient_user=recipient_user,
    )
    return notification


def notifications_queue(
    *,
    merchant: Merchant,
    deliveries: Sequence[tuple[str, str]],
    template: str,
    context: dict[str, Any],
    language: str | None = None,
    ticket: "Ticket | None" = None,
    recipient_user: "User | None" = None,
) -> list[Notification]:
    """One message on several channels: a row per ``(channel, recipient)``, written in one
    statement and handed to the worker as one task at commit. Nothing is written for none."""
    if not deliveries:
        return []
    now = timezone.now()
    language = language or merchant.default_language
    notifications = bulk.insert_many(
        [
            Notification(
                merchant=merchant,
                channel=channel,
                recipient=recipient,
                recipient_user=recipient_user,
                template=template,
                context=context,
                language=language,
                ticket=ticket,
                next_attempt_at=now,
            )
            for channel, recipient in deliveries
        ]
    )
    _dispatch_after_commit(notifications)
    return notifications


def _dispatch_after_commit(notifications: list[Notification]) -> None:
    batch = _batch.get()
    if batch is not None:
        batch.extend(notifications)
        return
    if _dispatch_deferred.get():
        return
    from aftersales.tasks import notification_send, notifications_send_many

    # The keys are read at commit: inside ``bulk_inserts()`` the rows get them when the block ends.
    if len(notifications) == 1:
        transaction.on_commit(lambda: enqueue(notification_send, notifications[0].pk))
    else:
        transaction.on_commit(lambda: enqueue(notifications_send_many, [n.pk for n in notifications]))


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def _pending_notification_lock_query(*, shape: None, notification_id: int, now: datetime) -> QuerySet[Notification]:
    return (
        Notification.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(pk=notification_id, state=Notification.State.PENDING, next_attempt_at__lte=now)
        .select_related("merchant")
    )


# Built and compiled once per process (aftersales.compiled): a worker runs it for every message,
# and compiling it (the merchant's columns beside the row's) cost more than the rest of the send
# but the rendering.
_PENDING_NOTIFICATION_LOCK = CompiledRead(
    _pending_notification_lock_query, params={"notification_id": int, "now": datetime}
)


def notification_send(*, notification_id: int) -> Notification | None:
    """Send one notification. Safe to call twice: only one caller claims a pending row.

    It talks to another system, so it never runs inside a caller's transaction, and it holds no
    lock and no transaction while it does: the claim (the row locked, skipping one another
    sender holds; marked sending, its attempt counted) and the outcome are each committed in a
    durable transaction of their own, and the delivery runs between them. A sender that dies
    mid-send leaves the row ``sending`` with its attempt counted; the flush reclaims it."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        taken = _PENDING_NOTIFICATION_LOCK.rows(shape=None, notification_id=notification_id, now=now)
        if not taken:
            return None
        notification = taken[0]
        notification.state = Notification.State.SENDING
        notification.attempts += 1  # under the row's lock
        notification.claimed_at = now
        notification.save(update_fields=["state", "attempts", "claimed_at"])
    try:
        _deliver(notification)
    except AddressRefused as refused:
        # Retrying would be refused again: park it at once, saying why, for an operator to see.
        logger.warning("notification %s parked: %s", notification.pk, refused)
        notification.last_error = f"{type(refused).__name__}: {refused}"[:2000]
        notification.state = Notification.State.FAILED
        fields = ["state", "last_error", "updated_at", *_forget_send_only(notification)]
    except Exception as exc:  # noqa: BLE001 — any failure of a backend is retried, then parked
        logger.warning("notification %s failed (attempt %s): %s", notification.pk, notification.attempts, exc)
        notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        fields = ["state", "next_attempt_at", "last_error", "updated_at"]
        if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            notification.state = Notification.State.FAILED
            fields += _forget_send_only(notification)
        else:
            notification.state = Notification.State.PENDING
            notification.next_attempt_at = timezone.now() + _backoff(notification.attempts)
    else:
        notification.state = Notification.State.SENT
        notification.sent_at = timezone.now()
        notification.last_error = ""
        fields = ["state", "sent_at", "last_error", "updated_at", *_forget_send_only(notification)]
    with transaction.atomic(durable=True):
        notification.save(update_fields=fields)
    return notification


def _forget_send_only(notification: Notification) -> list[str]:
    """Drop the context only sending needed (a one-time code); the fields to save."""
    keys = SEND_ONLY_CONTEXT.get(notification.template, ())
    if not any(key in notification.context for key in keys):
        return []
    notification.context = {key: value for key, value in notification.context.items() if key not in keys}
    return ["context"]


# Seconds a receiver has to answer a webhook before the attempt counts as failed.
WEBHOOK_TIMEOUT = 10


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook answers where it was sent: a redirect is a failed delivery, not a new target."""

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Message, newurl: str
    ) -> None:
        return None


# Connects only to public addresses unless OUTBOUND_ALLOW_PRIVATE_ADDRESSES (aftersales.outbound).
_webhook_opener = urllib.request.build_opener(_NoRedirect, GuardedHTTPHandler, GuardedHTTPSHandler)


def _deliver_webhook(notification: Notification) -> None:
    """POST the payload, signed with the endpoint's secret. Anything but a 2xx raises, so the
    outbox retries with backoff; the receiver tells retries apart by the delivery id."""
    endpoint = WebhookEndpoint.objects.filter(
        merchant_id=notification.merchant_id, url=notification.recipient, is_active=True
    ).first()
    if endpoint is None:
        raise LookupError(f"no active webhook endpoint at {notification.recipient}")
    # Before anything is sent: the name may resolve elsewhere than when the endpoint was saved.
    check_url(notification.recipient)
    body = webhook_body(notification.context)
    # http(s) only: the endpoint row it was found by holds that (check webhookendpoint_http_url).
    request = urllib.request.Request(  # noqa: S310
        notification.recipient,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Aftersales-Webhooks/1",
            SIGNATURE_HEADER: webhook_signature(endpoint.secret, body),
            EVENT_HEADER: notification.template,
            DELIVERY_HEADER: str(notification.pk),
        },
    )
    try:
        with _webhook_opener.open(request, timeout=WEBHOOK_TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        error.close()
        raise RuntimeError(f"webhook answered {error.code}") from None
    if not 200 <= status < 300:
        raise RuntimeError(f"webhook answered {status}")


# The headers a row's context may set on its e-mail (a case's reply threads in the customer's client).
THREADING_HEADERS = ("Message-ID", "In-Reply-To", "References")


def _threading_headers(context: dict[str, Any]) -> dict[str, str]:
    given = context.get("email_headers") or {}
    return {name: str(given[name]) for name in THREADING_HEADERS if given.get(name)}


def _send_context(notification: Notification) -> dict[str, Any]:
    """The context as sent: a customer's message about a case links to that case with a signed,
    expiring link made now (``aftersales.notifications.links``), where the row keeps the portal's
    address; so the outbox holds no key to a case, and the link's age runs from the sending."""
    context: dict[str, Any] = notification.context
    if notification.ticket_id is not None and notification.recipient_user_id is None and "portal_url" in context:
        context = {**context, "portal_url": case_link_url(notification.merchant.slug, notification.ticket_id)}
    return context


def _deliver(notification: Notification) -> None:
    if notification.channel == Notification.Channel.WEBHOOK:
        _deliver_webhook(notification)
        return
    context = _send_context(notification)
    rendered = render_notification(notification.template, context, notification.language)
    if notification.channel == Notification.Channel.EMAIL:
        reply_to = notification.context.get("reply_to") or notification.merchant.support_email
        message = EmailMultiAlternatives(
            subject=rendered.subject,
            body=rendered.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.recipient],
            reply_to=[reply_to] if reply_to else None,
            headers={"X-Aftersales-Notification": str(notification.pk), **_threading_headers(notification.context)},
        )
        html = render_notification_html(notification.template, context, notification.language)
        if html is not None:
            message.attach_alternative(html, "text/html")
        message.send(fail_silently=False)
    elif notification.channel == Notification.Channel.SMS:
        get_sms_backend().send(notification.recipient, rendered.short)
    elif notification.channel == Notification.Channel.WECHAT:
        get_wechat_backend().send(notification.recipient, rendered.short)
    else:
        raise ValueError(f"no sender for channel {notification.channel!r}")


def notifications_due_ids(*, limit: int = 500) -> list[int]:
    """Pending rows that are due, and rows stuck in 'sending' by a worker that died."""
    now = timezone.now()
    Notification.objects.filter(state=Notification.State.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT).update(
        state=Notification.State.PENDING, next_attempt_at=now
    )
    return list(
        Notification.objects.filter(state=Notification.State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


# How long one flush keeps taking batches; a flush that overlaps the next one is harmless (each
# row is claimed by one sender).
FLUSH_BUDGET_SECONDS = 50.0


def notifications_flush_due() -> int:
    """Send what is due, batch after batch until nothing is: the number of rows tried."""
    started = time.monotonic()
    tried = 0
    while time.monotonic() - started < FLUSH_BUDGET_SECONDS:
        ids = notifications_due_ids()
        for notification_id in ids:
            notification_send(notification_id=notification_id)
        tried += len(ids)
        if not ids:
            break
    return tried


def notifications_retry(*, notification_ids: list[int]) -> int:
    """Put failed notifications back in the queue with a fresh set of attempts; return how many.

    Only failed rows move: a row that is pending, sending or sent is left as it is, so retrying
    twice, or retrying a row a worker is sending, never sends it twice.
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update()
            .filter(pk__in=notification_ids, state=Notification.State.FAILED)
            # Their code is gone (and long expired): the customer asks for a new one.
            .exclude(template__in=SEND_ONLY_CONTEXT)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(
            state=Notification.State.PENDING, attempts=0, next_attempt_at=now, claimed_at=None, updated_at=now
        )
        from aftersales.tasks import notification_send

        for notification_id in ids:
            enqueue_on_commit(notification_send, notification_id)
    return len(ids)
