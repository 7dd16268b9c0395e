"""Template filters of the returns pages."""

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
