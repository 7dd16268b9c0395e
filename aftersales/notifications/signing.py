"""How an outgoing webhook is framed and signed: pure functions, no database.

The outbox worker (``aftersales.services.notifications``) signs and sends with these; the
service that queues events (``aftersales.services.webhooks``) and a receiver's documentation use
the same names, so neither service module imports the other for them.
"""

import hashlib
import hmac
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

SIGNATURE_HEADER = "X-Aftersales-Signature"
EVENT_HEADER = "X-Aftersales-Event"
DELIVERY_HEADER = "X-Aftersales-Delivery"


def webhook_body(payload: dict[str, Any]) -> bytes:
    """The bytes that are sent and signed; the same payload always gives the same bytes."""
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True).encode()


def webhook_signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: what a receiver recomputes over the raw body to trust a delivery."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
