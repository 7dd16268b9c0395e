"""Lists said in the page's language: "a, b, c" in English, "a、b、c" in Chinese."""

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.translation import pgettext

register = template.Library()


@register.filter
def listing(values: Iterable[Any] | None) -> str:
    """The items joined by the language's list separator (autoescaped like any value)."""
    return pgettext("list separator", ", ").join(str(value) for value in values or ())
