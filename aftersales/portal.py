"""The portal session: which of a merchant's orders this browser has proved it owns."""

import functools
import time

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect
from django.utils import translation

from aftersales.models import Customer, Merchant, Order
from aftersales.services.customers import customers_language_remember

PORTAL_SESSION_KEY = "aftersales_portal"
PENDING_CHALLENGE_KEY = "aftersales_portal_challenge"


def portal_grant(request, *, merchant: Merchant, order: Order) -> None:
    """Remember a verified order. The session key is rotated so that a planted id gains nothing."""
    grants = request.session.get(PORTAL_SESSION_KEY, {})
    grant = grants.get(str(merchant.pk)) or {"order_ids": [], "customer_ids": []}
    if order.pk not in grant["order_ids"]:
        grant["order_ids"].append(order.pk)
    if order.customer_id not in grant["customer_ids"]:
        grant["customer_ids"].append(order.customer_id)
    grant["expires_at"] = time.time() + settings.PORTAL_SESSION_AGE_SECONDS
    grants[str(merchant.pk)] = grant
    request.session.cycle_key()
    request.session[PORTAL_SESSION_KEY] = grants
    request.session.pop(PENDING_CHALLENGE_KEY, None)
    portal_language_remember(request, merchant)


def portal_language_remember(request, merchant: Merchant) -> None:
    """The customers of this session are written to in the language they use the portal in.

    The grant notes the language last remembered, so a page in the same language writes nothing;
    a switch of language (or a newly proved order) updates the customers once."""
    grant = portal_grant_for(request, merchant)
    language = translation.get_language()
    if grant is None or not language:
        return
    known = grant.get("language_customers")
    if grant.get("language") == language and known == grant["customer_ids"]:
        return
    customers_language_remember(merchant=merchant, customer_ids=grant["customer_ids"], language=language)
    grants = request.session[PORTAL_SESSION_KEY]
    grants[str(merchant.pk)] = {**grant, "language": language, "language_customers": list(grant["customer_ids"])}
    request.session[PORTAL_SESSION_KEY] = grants


def portal_grant_for(request, merchant: Merchant) -> dict | None:
    grant = request.session.get(PORTAL_SESSION_KEY, {}).get(str(merchant.pk))
    if not grant or grant.get("expires_at", 0) < time.time():
        return None
    return grant


def portal_order_ids(request, merchant: Merchant) -> list[int]:
    grant = portal_grant_for(request, merchant)
    return list(grant["order_ids"]) if grant else []


def portal_customers(request, merchant: Merchant):
    grant = portal_grant_for(request, merchant)
    ids = grant["customer_ids"] if grant else []
    return Customer.objects.filter(merchant=merchant, pk__in=ids)


def portal_revoke(request, merchant: Merchant) -> None:
    grants = request.session.get(PORTAL_SESSION_KEY, {})
    grants.pop(str(merchant.pk), None)
    request.session[PORTAL_SESSION_KEY] = grants


def portal_merchant_required(view):
    """The merchant named in the URL must exist; it is ``request.merchant`` (set by middleware)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if getattr(request, "merchant", None) is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def portal_verified_required(view):
    """A page that needs at least one verified order; otherwise back to the lookup form."""

    @functools.wraps(view)
    @portal_merchant_required
    def wrapper(request, *args, **kwargs):
        if not portal_order_ids(request, request.merchant):
            return redirect("portal:home", merchant_slug=request.merchant.slug)
        portal_language_remember(request, request.merchant)
        return view(request, *args, **kwargs)

    return wrapper
