"""Which terms apply to an order line: the merchant's first matching rule, over the legal floor.

The floor is the 7-day no-reason return of Chinese e-commerce law, counted from the day after
delivery in the merchant's time zone: delivered on the 1st, the last day is the 8th, and the
window closes at midnight after it. Categories the law excepts (and the merchant marks) get no
floor; a reason that is the merchant's responsibility (a defect, a wrong item) carries no fee.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from aftersales.models import Customer, OrderLine
from returns.models import Resolution, Responsibility, ReturnPolicy, ReturnReason, ReturnRule, ReturnShippingPayer

NO_RULE_RESOLUTIONS = [Resolution.REFUND.value]


@dataclass(frozen=True)
class LineTerms:
    eligible: bool
    refusal: str
    returnable_quantity: int
    window_days: int
    window_ends_at: datetime | None
    legal_floor_applies: bool
    rule: str
    allowed_resolutions: list[str] = field(default_factory=list)
    restocking_fee_percent: Decimal = Decimal("0")
    photos_required: bool = False
    auto_approve: bool = False
    quick_refund: bool = False
    # "customer" or "merchant": whoever pays for the parcel's way back (ReturnShippingPayer).
    return_shipping_paid_by: str = ReturnShippingPayer.CUSTOMER.value

    @property
    def merchant_pays_return_shipping(self) -> bool:
        return self.return_shipping_paid_by == ReturnShippingPayer.MERCHANT

    def snapshot(self) -> dict[str, Any]:
        """What is stored on the return: the terms as they were promised."""
        return {
            "window_days": self.window_days,
            "window_ends_at": self.window_ends_at.isoformat() if self.window_ends_at else None,
            "legal_floor_applies": self.legal_floor_applies,
            "rule": self.rule,
            "allowed_resolutions": list(self.allowed_resolutions),
            "restocking_fee_percent": str(self.restocking_fee_percent.quantize(Decimal("0.01"))),
            "photos_required": self.photos_required,
            "auto_approve": self.auto_approve,
            "quick_refund": self.quick_refund,
            "return_shipping_paid_by": self.return_shipping_paid_by,
        }


def window_ends_at(delivered_at: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The first instant after a window of ``days`` days counted from the day after delivery."""
    delivered_on = delivered_at.astimezone(zone).date()
    return datetime.combine(delivered_on + timedelta(days=days + 1), time(0), tzinfo=zone)


def days_since_delivery(delivered_at: datetime, now: datetime, zone: ZoneInfo) -> int:
    """Whole days after delivery, in the merchant's time zone: the day after delivery is day 1."""
    return (now.astimezone(zone).date() - delivered_at.astimezone(zone).date()).days


def _matches(
    rule: ReturnRule, line: OrderLine, reason: ReturnReason, customer: Customer, store_id: int, days: int
) -> bool:
    product = line.product
    return (
        (rule.min_days_since_delivery is None or days >= rule.min_days_since_delivery)
        and (rule.max_days_since_delivery is None or days <= rule.max_days_since_delivery)
        and (not rule.match_categories or product.category in rule.match_categories)
        and (not rule.match_skus or line.sku in rule.match_skus)
        and (not rule.match_store_ids or store_id in rule.match_store_ids)
        and (not rule.match_customer_tiers or customer.tier in rule.match_customer_tiers)
        and (not rule.match_reason_codes or reason.code in rule.match_reason_codes)
        and (rule.min_unit_price is None or line.unit_price >= rule.min_unit_price)
        and (rule.max_unit_price is None or line.unit_price <= rule.max_unit_price)
    )


def line_terms(
    *,
    policy: ReturnPolicy | None,
    rules: list[ReturnRule],
    line: OrderLine,
    reason: ReturnReason,
    customer: Customer,
    now: datetime,
) -> LineTerms:
    """The terms for returning units of ``line`` now, for ``reason``. ``rules`` are the policy's
    active rules in position order (read once by the caller for all lines)."""
    order = line.order
    returnable = line.quantity - line.quantity_requested
    zone = ZoneInfo(order.merchant.timezone)
    if order.delivered_at is None:
        # Not delivered yet: only a refund-only claim, bounded by what was ordered.
        return LineTerms(
            eligible=returnable > 0,
            refusal="" if returnable > 0 else _("Every unit of this item is already in a request."),
            returnable_quantity=returnable,
            window_days=0,
            window_ends_at=None,
            legal_floor_applies=False,
            rule="",
            allowed_resolutions=[Resolution.REFUND_ONLY.value],
        )
    days_after = days_since_delivery(order.delivered_at, now, zone)
    rule = next((rule for rule in rules if _matches(rule, line, reason, customer, order.store_id, days_after)), None)
    merchants_fault = reason.responsibility == Responsibility.MERCHANT
    payer = rule.return_shipping_paid_by if rule else ReturnShippingPayer.BY_REASON
    if payer == ReturnShippingPayer.BY_REASON:
        payer = ReturnShippingPayer.MERCHANT if merchants_fault else ReturnShippingPayer.CUSTOMER
    excepted = policy is not None and line.product.category in policy.excepted_categories
    floor_days = 0 if excepted else (policy.legal_floor_days if policy else 7)
    rule_days = rule.window_days if rule and (line.product.returnable or merchants_fault) else 0
    days = max(rule_days, floor_days)
    floor_decides = floor_days > 0 and floor_days >= rule_days
    ends_at = window_ends_at(order.delivered_at, days, zone)
    resolutions = list(rule.allowed_resolutions) if rule else list(NO_RULE_RESOLUTIONS)
    if floor_decides and Resolution.REFUND not in resolutions:
        resolutions.insert(0, Resolution.REFUND.value)
    fee = Decimal("0") if (merchants_fault or floor_decides or rule is None) else rule.restocking_fee_percent
    if returnable <= 0:
        refusal = _("Every unit of this item is already in a request.")
    elif days == 0:
        refusal = _("This item cannot be returned.")
    elif now >= ends_at:
        refusal = _("The return window for this item has closed.")
    else:
        refusal = ""
    return LineTerms(
        eligible=not refusal,
        refusal=refusal,
        returnable_quantity=max(returnable, 0),
        window_days=days,
        window_ends_at=ends_at if days else None,
        legal_floor_applies=floor_decides,
        rule=rule.name if rule else "",
        allowed_resolutions=resolutions,
        restocking_fee_percent=fee,
        photos_required=bool(rule and rule.photos_required),
        auto_approve=bool(rule and rule.auto_approve),
        quick_refund=bool(rule and rule.quick_refund),
        return_shipping_paid_by=str(payer),
    )


def active_rules(policy: ReturnPolicy | None) -> list[ReturnRule]:
    return list(policy.rules.filter(is_active=True).order_by("position")) if policy else []
