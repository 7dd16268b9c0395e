"""What an e-mail provider's inbound webhook posts, as the raw message ``mail_receive`` takes.

Providers post mail in their own shapes; ``django-anymail``'s inbound views normalise them into
one ``AnymailInboundMessage`` (a standard ``email.message.Message``). We use their parsing only:
the credential is the secret token in our URL (one per mailbox, which also says which merchant's
mailbox it is), so anymail's own shared-secret check and its ``inbound`` signal are not used.

- ``raw``: the body is the message itself (``Content-Type: message/rfc822``), or a form field
  ``email`` / ``body-mime`` holding it;
- ``postmark``, ``mailgun``, ``sendgrid``, ``mailjet``, ``sparkpost``: that provider's inbound
  payload, parsed by anymail.
"""

import warnings
from typing import Any

from anymail.exceptions import AnymailError, AnymailInsecureWebhookWarning, AnymailNotSupportedWarning
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.mailjet import MailjetInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from anymail.webhooks.sparkpost import SparkPostInboundWebhookView
from django.http import HttpRequest

# The largest message accepted through a webhook (attachments included).
MAX_INBOUND_BYTES = 30 * 1024 * 1024

PROVIDER_VIEWS: dict[str, tuple[type, dict[str, Any]]] = {
    "postmark": (PostmarkInboundWebhookView, {}),
    # Mailgun's signature check is anymail's validate_request, which we do not call.
    "mailgun": (MailgunInboundWebhookView, {"webhook_signing_key": "unused"}),
    "sendgrid": (SendGridInboundWebhookView, {}),
    "mailjet": (MailjetInboundWebhookView, {}),
    "sparkpost": (SparkPostInboundWebhookView, {}),
}
PROVIDERS = ("raw", *PROVIDER_VIEWS)


class InboundRefused(ValueError):
    """The post holds no message we can read."""


def raw_mime_of(request: HttpRequest) -> bytes:
    provider = (request.GET.get("provider") or "raw").lower()
    if int(request.headers.get("Content-Length") or 0) > MAX_INBOUND_BYTES:
        raise InboundRefused("message too large")
    if provider == "raw":
        return _raw(request)
    if provider not in PROVIDER_VIEWS:
        raise InboundRefused(f"unknown provider {provider!r}; one of {', '.join(PROVIDERS)}")
    view_class, options = PROVIDER_VIEWS[provider]
    with warnings.catch_warnings():
        # Our URL's token is the credential (see the module's docstring); SendGrid is still parsed.
        warnings.simplefilter("ignore", AnymailInsecureWebhookWarning)
        warnings.simplefilter("ignore", AnymailNotSupportedWarning)
        view = view_class(webhook_secret=["unused:unused"], **options)
    try:
        events = view.parse_events(request)
    except (AnymailError, KeyError, ValueError, TypeError) as exc:
        raise InboundRefused(f"not a {provider} inbound post: {exc}") from exc
    if not events or events[0].message is None:
        raise InboundRefused(f"no message in the {provider} post")
    raw: bytes = events[0].message.as_bytes()
    return raw


def _raw(request: HttpRequest) -> bytes:
    if request.content_type in ("message/rfc822", "application/octet-stream", "text/plain"):
        body = request.body
    else:
        text = request.POST.get("email") or request.POST.get("body-mime") or ""
        upload = request.FILES.get("email") or request.FILES.get("message")
        body = upload.read() if upload is not None else text.encode("utf-8", errors="surrogateescape")
    if not body.strip():
        raise InboundRefused("empty message")
    return body
