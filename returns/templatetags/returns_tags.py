"""Template filters of the returns pages."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import template

from returns.variants import price_difference_text, variant_attributes_text

register = template.Library()


@register.filter
def price_difference(amount, currency: str) -> str:
    """``{{ amount|price_difference:currency }}``: "+20.00 CNY", "−15.00 CNY" or "same price"."""
    return price_difference_text(amount, currency)


@register.filter
def variant_attributes(attributes) -> str:
    """``{{ product.variant_attributes|variant_attributes }}``: "Size: M, Colour: red"."""
    return variant_attributes_text(attributes if isinstance(attributes, dict) else {})


@register.filter
def utc_offset(moment: datetime, zone_name: str) -> str:
    """``{{ deadline.due_at|utc_offset:merchant.timezone }}``: "UTC+8", "UTC+5:30", "UTC-3" — what
    a customer reads, where "Asia/Shanghai" is a database key."""
    offset = moment.astimezone(ZoneInfo(zone_name)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
