"""Customer access to the portal: an order number plus the contact on the order, proved by a
one-time code sent to that contact. Codes are stored hashed, expire, allow a few attempts, and
are rate-limited per order (strictly, by the hour) and per client address (a burst limit over a few
minutes, since an office or a campus NAT puts many customers behind one address)."""

import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.exceptions import InvalidInput, RateLimited
from aftersales.models import Merchant, Notification, Order, PortalChallenge
from aftersales.phones import mask_email, mask_phone, try_normalize_phone
from aftersales.services.notifications import notification_queue

CODE_DIGITS = 6


def _code_hash(code: str, salt: str) -> str:
    # Keyed with SECRET_KEY: a leaked table alone does not let anyone try the million codes offline.
    digest = salted_hmac("aftersales.portal.code", f"{salt}:{code}", algorithm="sha256").hexdigest()
    return f"{salt}${digest}"


def _code_matches(code: str, stored: str) -> bool:
    salt, _sep, _digest = stored.partition("$")
    return hmac.compare_digest(_code_hash(code, salt), stored)


def _client_lookups_exceeded(client_ip: str | None) -> bool:
    """Every lookup, found or not, counts against the client address, so guessing contacts is slow.

    The address is shared by everyone behind one office or campus NAT, so this is a burst limit
    over a short window (PORTAL_CODES_PER_CLIENT per PORTAL_CODES_CLIENT_WINDOW_SECONDS) rather
    than an hour's lock-out; each order stays limited by the hour in portal_challenge_start.
    Windows are fixed buckets of the clock, so a refused address waits at most one window.
    """
    if not client_ip:
        return False
    window: int = settings.PORTAL_CODES_CLIENT_WINDOW_SECONDS
    bucket = int(timezone.now().timestamp()) // window
    key = f"portal:lookups:{client_ip}:{window}:{bucket}"
    cache.add(key, 0, timeout=window)
    try:
        count: int = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    limit: int = settings.PORTAL_CODES_PER_CLIENT
    return count > limit


def portal_find_order(*, merchant: Merchant, order_number: str, contact: str) -> tuple[Order, str, str] | None:
    """The merchant's order with that number whose e-mail or phone is the contact given."""
    contact = contact.strip()
    number = order_number.strip()
    if not number or not contact:
        return None
    if "@" in contact:
        email = contact.lower()
        match = Q(contact_email=email) | Q(customer__email=email)
        channel, destination = PortalChallenge.Channel.EMAIL, email
    else:
        phone = try_normalize_phone(contact)
        if phone is None:
            return None
        match = Q(contact_phone=phone) | Q(customer__phone=phone)
        channel, destination = PortalChallenge.Channel.SMS, phone
    order = (
        Order.objects.filter(merchant=merchant, external_number=number)
        .filter(match)
        .select_related("customer")
        .order_by("-placed_at")
        .first()
    )
    return (order, channel, destination) if order else None


def portal_challenge_start(
    *, merchant: Merchant, order_number: str, contact: str, client_ip: str | None, language: str | None = None
) -> tuple[PortalChallenge, str]:
    """Send a one-time code to the contact on the order; return the challenge and the masked contact.

    ``language``: the one the portal is used in, for the code's message; otherwise the customer's
    remembered one. It is not remembered on the customer until the code proves the order."""
    if _client_lookups_exceeded(client_ip):
        raise RateLimited
    found = portal_find_order(merchant=merchant, order_number=order_number, contact=contact)
    if found is None:
        # One answer for "no such order" and "not your contact", so neither can be probed.
        raise InvalidInput(
            _("We could not find an order with that number and contact. Check both and try again."),
            code="order_not_found",
        )
    order, channel, destination = found
    now = timezone.now()
    with transaction.atomic():
        # Lock the order so that two simultaneous requests cannot both slip under the limit.
        Order.objects.select_for_update().filter(pk=order.pk).first()
        recent = PortalChallenge.objects.filter(order=order, created_at__gte=now - timedelta(hours=1)).count()
        if recent >= settings.PORTAL_CODES_PER_ORDER_PER_HOUR:
            raise RateLimited(_("Too many codes were requested for this order. Please try again in an hour."))
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        challenge = PortalChallenge.objects.create(
            merchant=merchant,
            order=order,
            channel=channel,
            destination=destination,
            code_hash=_code_hash(code, secrets.token_hex(8)),
            client_ip=client_ip,
            expires_at=now + timedelta(seconds=settings.PORTAL_CODE_TTL_SECONDS),
        )
        notification_queue(
            merchant=merchant,
            channel=Notification.Channel.EMAIL
            if channel == PortalChallenge.Channel.EMAIL
            else Notification.Channel.SMS,
            recipient=destination,
            template="portal_code",
            context={
                "code": code,
                "merchant_name": merchant.name,
                "order_number": order.external_number,
                "minutes": settings.PORTAL_CODE_TTL_SECONDS // 60,
            },
            language=language or order.customer.language or None,
        )
    masked = mask_email(destination) if channel == PortalChallenge.Channel.EMAIL else mask_phone(destination)
    return challenge, masked


def portal_challenge_verify(*, merchant: Merchant, challenge_id: int, code: str) -> Order:
    """Check a code. A wrong code uses up an attempt; that count is the only trace a refusal leaves."""
    refusal = None
    with transaction.atomic():
        challenge = (
            PortalChallenge.objects.select_for_update()
            .select_related("order")
            .filter(merchant=merchant, pk=challenge_id)
            .first()
        )
        if challenge is None or challenge.verified_at is not None:
            # Nothing was written yet: refused at once.
            raise InvalidInput(_("This code has already been used. Request a new one."), code="code_used")
        if challenge.expires_at <= timezone.now():
            refusal = InvalidInput(_("This code has expired. Request a new one."), code="code_expired")
        elif challenge.attempts >= settings.PORTAL_CODE_MAX_ATTEMPTS:
            refusal = InvalidInput(_("Too many wrong codes. Request a new one."), code="too_many_attempts")
        elif not _code_matches(code.strip(), challenge.code_hash):
            challenge.attempts += 1
            challenge.save(update_fields=["attempts", "updated_at"])
            left = settings.PORTAL_CODE_MAX_ATTEMPTS - challenge.attempts
            refusal = InvalidInput(
                ngettext(
                    "That code is not right. %(left)s attempt left.",
                    "That code is not right. %(left)s attempts left.",
                    left,
                )
                % {"left": left}
                if left
                else _("Too many wrong codes. Request a new one."),
                code="code_wrong" if left else "too_many_attempts",
            )
        else:
            challenge.verified_at = timezone.now()
            challenge.save(update_fields=["verified_at", "updated_at"])
    # Raised after the block, so that the attempt count above is committed with the refusal.
    if refusal is not None:
        raise refusal
    return challenge.order
