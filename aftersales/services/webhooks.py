"""Outgoing webhooks: an event becomes one outbox row per endpoint that wants it.

The row is written in the caller's transaction, so an event is delivered exactly when the change
it reports commits; the outbox worker signs and POSTs it, retrying with backoff
(``aftersales.services.notifications``).
"""

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from aftersales.models import Merchant, Notification, WebhookEndpoint
from aftersales.services.notifications import notification_queue

if TYPE_CHECKING:
    from tickets.models import Ticket

SIGNATURE_HEADER = "X-Aftersales-Signature"
EVENT_HEADER = "X-Aftersales-Event"
DELIVERY_HEADER = "X-Aftersales-Delivery"


def webhook_body(payload: dict[str, Any]) -> bytes:
    """The bytes that are sent and signed; the same payload always gives the same bytes."""
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True).encode()


def webhook_signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: what a receiver recomputes over the raw body to trust a delivery."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_event_queue(
    *, merchant: Merchant | int, event: str, data: dict[str, Any], ticket: "Ticket | None" = None
) -> list[Notification]:
    """Queue ``event`` for each active endpoint of the merchant that wants it (none: no row)."""
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(merchant_id=merchant_id, is_active=True).only("url", "events")
        if endpoint.wants(event)
    ]
    if not endpoints:
        return []
    if isinstance(merchant, int):
        merchant = Merchant.objects.get(pk=merchant_id)
    payload = {"event": event, "occurred_at": timezone.now().isoformat(), "data": data}
    return [
        notification_queue(
            merchant=merchant,
            channel=Notification.Channel.WEBHOOK,
            recipient=endpoint.url,
            template=event,
            context=payload,
            ticket=ticket,
        )
        for endpoint in endpoints
    ]
