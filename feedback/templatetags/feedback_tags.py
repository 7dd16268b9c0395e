"""Template filters of the KPI pages."""

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext as _

from feedback import reasons

register = template.Library()

MINUTES_PER_HOUR = 60
MINUTES_PER_DAY = 1440


@register.filter
def minutes_display(minutes: Decimal | None) -> str:
    """A duration for people: "42 min", "5.5 h", "3.2 d"; a dash for none."""
    if minutes is None:
        return "—"
    value = float(minutes)
    if value < MINUTES_PER_HOUR:
        return _("%(n)s min") % {"n": round(value)}
    if value < MINUTES_PER_DAY:
        return _("%(n)s h") % {"n": round(value / MINUTES_PER_HOUR, 1)}
    return _("%(n)s d") % {"n": round(value / MINUTES_PER_DAY, 1)}


@register.filter
def percent_display(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


@register.filter
def rate_percent(value: Decimal | None) -> str:
    """A rate kept as a fraction (0.0312) as a percentage with two decimals (3.12%)."""
    return "—" if value is None else f"{value * 100:.2f}%"


@register.filter
def survey_reasons(survey: Any) -> list[str]:
    """A survey's picked reasons by their labels, never their codes."""
    return reasons.reason_labels(survey.ticket.kind, survey.reasons)
