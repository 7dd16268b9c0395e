from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from aftersales.models import Customer, Merchant


def customer_get_or_create(
    *,
    merchant: Merchant,
    email: str = "",
    phone: str = "",
    name: str = "",
    tier: str | None = None,
    wechat_openid: str = "",
) -> Customer:
    """Find the merchant's customer by e-mail, then by phone; create one if neither is known.
    A WeChat OpenID given is kept (the shop's latest word on it replaces an older one).

    Two requests for the same new customer race on the unique constraints: the loser's insert
    fails inside a savepoint and it reads the winner's row.
    """
    email = email.strip().lower()
    for attempt in range(2):
        customer = None
        if email:
            customer = Customer.objects.filter(merchant=merchant, email=email).first()
        if customer is None and phone:
            customer = Customer.objects.filter(merchant=merchant, phone=phone).first()
        if customer is not None:
            return _customer_fill_blanks(
                customer, email=email, phone=phone, name=name, tier=tier, wechat_openid=wechat_openid
            )
        try:
            with transaction.atomic():
                return Customer.objects.create(
                    merchant=merchant,
                    email=email,
                    phone=phone,
                    name=name,
                    tier=tier or Customer.Tier.REGULAR,
                    wechat_openid=wechat_openid,
                )
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _customer_fill_blanks(
    customer: Customer, *, email: str, phone: str, name: str, tier: str | None, wechat_openid: str = ""
) -> Customer:
    changed = []
    if (
        email
        and not customer.email
        and not Customer.objects.filter(merchant_id=customer.merchant_id, email=email).exists()
    ):
        customer.email = email
        changed.append("email")
    if (
        phone
        and not customer.phone
        and not Customer.objects.filter(merchant_id=customer.merchant_id, phone=phone).exists()
    ):
        customer.phone = phone
        changed.append("phone")
    if name and not customer.name:
        customer.name = name
        changed.append("name")
    if tier and tier != customer.tier:
        customer.tier = tier
        changed.append("tier")
    if wechat_openid and wechat_openid != customer.wechat_openid:
        customer.wechat_openid = wechat_openid
        changed.append("wechat_openid")
    if changed:
        customer.save(update_fields=[*changed, "updated_at"])
    return customer


def customers_language_remember(*, merchant: Merchant, customer_ids: Sequence[int], language: str) -> int:
    """Remember the language a customer used the portal in, so that every message to them is in
    it; return how many customers changed. A language the product does not ship is ignored.

    A conditional update: nothing is written when the language is already the one remembered."""
    if language not in {code for code, _name in settings.LANGUAGES} or not customer_ids:
        return 0
    return (
        Customer.objects.filter(merchant=merchant, pk__in=customer_ids)
        .exclude(language=language)
        .update(language=language, updated_at=timezone.now())
    )
