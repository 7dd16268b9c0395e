"""Signed links a customer answers a quote with from the message itself (e-mail, SMS, WeChat),
without signing in to the portal: the token names the quote, is signed with the site's secret and
expires with the quote. Opening the link shows the quote; only a POST records the answer."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from repairs.models import RepairQuote

SALT = "repairs.quote-answer"


def quote_token(quote: RepairQuote) -> str:
    return signing.dumps({"quote": quote.pk, "merchant": quote.merchant_id}, salt=SALT, compress=True)


def quote_from_token(token: str, *, merchant_id: int) -> int | None:
    """The quote id a token names, or None when it is forged, for another merchant, or older than
    any quote can be valid (the quote's own validity is checked by the service)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=60 * 60 * 24 * 366)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("merchant") != merchant_id or not isinstance(data.get("quote"), int):
        return None
    return int(data["quote"])


def quote_link(quote: RepairQuote, merchant_slug: str) -> str:
    return settings.SITE_URL + reverse(
        "portal:repair_quote_link", kwargs={"merchant_slug": merchant_slug, "token": quote_token(quote)}
    )
