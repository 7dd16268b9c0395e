"""Outgoing webhooks: an event becomes one outbox row per endpoint that wants it.

The row is written in the caller's transaction, so an event is delivered exactly when the change
it reports commits; the outbox worker signs and POSTs it, retrying with backoff
(``aftersales.services.notifications``).
"""

from typing import TYPE_CHECKING, Any

from django.utils import timezone

from aftersales.config_cache import config_cached
from aftersales.models import Merchant, Notification, WebhookEndpoint
from aftersales.services.notifications import notification_queue

if TYPE_CHECKING:
    from tickets.models import Ticket


def webhook_event_queue(
    *, merchant: Merchant | int, event: str, data: dict[str, Any], ticket: "Ticket | None" = None
) -> list[Notification]:
    """Queue ``event`` for each active endpoint of the merchant that wants it (none: no row)."""
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    active = config_cached(
        "webhook_endpoints",
        lambda: list(WebhookEndpoint.objects.filter(merchant_id=merchant_id, is_active=True).only("url", "events")),
        merchant_id=merchant_id,
    )
    endpoints = [endpoint for endpoint in active if endpoint.wants(event)]
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
